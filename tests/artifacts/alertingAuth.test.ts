// Alertmanager behind the rendered web config, as the real binary: a silence (the review's "720 h
// silence matching every alert") without credentials is refused, with the operator's accepted; the
// real Prometheus, with the rendered alerting block (basic auth from a password file), still
// delivers alerts to it. Both processes bounded in time and killed by PID.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import bcrypt from "bcryptjs";
import YAML from "yaml";
import { requireValidStackConfig } from "../../components/validation/validate";
import { ALERTMANAGER_SECRET_FILES, HEARTBEAT_URL_PLACEHOLDER } from "../../components/monitoring/alertmanagerConfig";
import { renderMonitoringFiles } from "../../components/monitoring/render";
import { basicAuthorization, healthcheckWithoutCredential, renderWebConfig, WEB_USERS } from "../../components/monitoring/webConfig";
import { freePortRange } from "../../drills/harness/processes";
import { readStackConfigFile } from "../../lib/stackFiles";
import { stackModel } from "../../components/topology/model";

const available = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
// Debian names the binary prometheus-alertmanager.
const haveTools = available("prometheus-alertmanager") && available("amtool") && available("promtool") && available("prometheus");

(haveTools ? describe : describe.skip)("alerting endpoints behind the rendered web config (real alertmanager)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-am-auth-"));
  // bcrypt cost 10, as the random provider's bcryptHash.
  const passwords = { prometheus: "prom-Pass-1234567890abcdef", operator: "oper-Pass-1234567890abcdef" };
  const webConfig = path.join(dir, "web-config.yml");
  let alertmanager: ChildProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let url = "";

  const silence = () =>
    JSON.stringify({
      matchers: [{ name: "alertname", value: ".+", isRegex: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 720 * 3600 * 1000).toISOString(),
      createdBy: "attacker",
      comment: "silence everything for 720 h",
    });
  const post = (authorization?: string) =>
    fetch(`${url}/api/v2/silences`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(authorization ? { authorization: `Basic ${authorization}` } : {}) },
      body: silence(),
      signal: AbortSignal.timeout(5000),
    });

  // The inhibitor learns of posted alerts on its own subscription, after the POST has answered: a
  // query right away can see a source alert that mutes nothing yet. Query until the alerts not
  // inhibited are the expected ones (or 10 s pass), then the test asserts on the last answer.
  type ListedAlert = { labels: Record<string, string>; status: { inhibitedBy: string[] } };
  const postAndListOnceInhibited = async (fired: object[], filter: string, key: (alert: ListedAlert) => string, expected: string[]) => {
    const posted = await fetch(`${url}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Basic ${basicAuthorization(WEB_USERS.prometheus, passwords.prometheus)}` },
      body: JSON.stringify(fired),
      signal: AbortSignal.timeout(5000),
    });
    expect(posted.status).toBe(200);
    const operator = basicAuthorization(WEB_USERS.operator, passwords.operator);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const alerts = (await (
        await fetch(`${url}/api/v2/alerts?filter=${encodeURIComponent(filter)}`, { headers: { authorization: `Basic ${operator}` }, signal: AbortSignal.timeout(5000) })
      ).json()) as ListedAlert[];
      const notInhibited = alerts
        .filter((alert) => alert.status.inhibitedBy.length === 0)
        .map(key)
        .sort();
      if ((alerts.length === fired.length && JSON.stringify(notInhibited) === JSON.stringify(expected)) || Date.now() > deadline) return { alerts, notInhibited };
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  beforeAll(async () => {
    fs.writeFileSync(webConfig, renderWebConfig(Object.fromEntries(Object.entries(passwords).map(([user, pw]) => [user, bcrypt.hashSync(pw, 10)])), false));
    // The rendered alertmanager.yml, its secret files moved into the temp dir.
    const config = requireValidStackConfig(readStackConfigFile("dev").raw);
    let yml = renderMonitoringFiles(config, stackModel(config)).alertmanagerYml.replace(HEARTBEAT_URL_PLACEHOLDER, "http://127.0.0.1:9/heartbeat");
    for (const [key, file] of Object.entries(ALERTMANAGER_SECRET_FILES)) {
      const local = path.join(dir, key);
      fs.writeFileSync(local, key === "pagerdutyRoutingKey" ? "not-configured" : "http://127.0.0.1:9/x");
      yml = yml.replaceAll(file, local);
    }
    fs.writeFileSync(path.join(dir, "alertmanager.yml"), yml);
    const port = await freePortRange(1);
    url = `http://127.0.0.1:${port}`;
    alertmanager = spawn(
      "prometheus-alertmanager",
      [
        `--config.file=${path.join(dir, "alertmanager.yml")}`,
        `--storage.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--cluster.listen-address=",
        `--web.config.file=${webConfig}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    alertmanager.stderr!.on("data", (chunk) => (log += chunk));
    const prometheusAuthorization = basicAuthorization(WEB_USERS.prometheus, passwords.prometheus);
    for (const started = Date.now(); ; await new Promise((r) => setTimeout(r, 100))) {
      const ready = await fetch(`${url}/-/ready`, { headers: { authorization: `Basic ${prometheusAuthorization}` }, signal: AbortSignal.timeout(5000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
      // Generous: each check verifies a bcrypt hash, slow on a loaded 2-core host (seen over 10 s).
      if (Date.now() - started > 30000 || alertmanager.exitCode !== null) throw new Error(`alertmanager did not start within 30 s:\n${log}`);
    }
  }, 45000);

  afterAll(async () => {
    for (const child of [prometheus, alertmanager]) {
      if (child?.pid === undefined || child.exitCode !== null) continue;
      const exited = new Promise((r) => child.once("exit", r));
      process.kill(child.pid, "SIGKILL");
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("promtool accepts the rendered web config", () => {
    const check = spawnSync("promtool", ["check", "web-config", webConfig], { encoding: "utf8", timeout: 10000 });
    expect(`${check.stdout}${check.stderr}`).toContain("SUCCESS");
    expect(check.status).toBe(0);
  });

  it("refuses a silence without credentials (401) and with a wrong password", async () => {
    expect((await post()).status).toBe(401);
    expect((await post(basicAuthorization(WEB_USERS.operator, "wrong"))).status).toBe(401);
    // The unauthenticated read side is closed too: no listing of silences or alerts.
    expect((await fetch(`${url}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) })).status).toBe(401);
  });

  it("its healthcheck holds no credential, so it can neither silence nor post: healthy while Alertmanager answers (401), unhealthy where nothing does", async () => {
    const probe = (target: string) => spawnSync("sh", ["-c", healthcheckWithoutCredential(`${target}/-/healthy`)[3]], { encoding: "utf8", timeout: 10000 }).status;
    expect(healthcheckWithoutCredential(`${url}/-/healthy`).join(" ")).not.toMatch(/Authorization|password|secrets/i);
    expect(probe(url)).toBe(0);
    expect(probe(`http://127.0.0.1:${await freePortRange(1)}`)).not.toBe(0);
    // What it sends, Alertmanager refuses: the probe's only power is to learn the server is up.
    expect((await post()).status).toBe(401);
  });

  it("accepts the operator's silence, and amtool works with the operator's credentials only", async () => {
    const accepted = await post(basicAuthorization(WEB_USERS.operator, passwords.operator));
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toHaveProperty("silenceID");
    const amtool = (args: string[]) =>
      spawnSync("amtool", [`--alertmanager.url=${url}`, ...args, "silence", "add", "alertname=Test", "--duration=1h", "--comment=test"], { encoding: "utf8", timeout: 10000 });
    expect(amtool([]).status).not.toBe(0);
    const httpConfig = path.join(dir, "amtool-http.yml");
    fs.writeFileSync(httpConfig, `basic_auth:\n  username: ${WEB_USERS.operator}\n  password: ${passwords.operator}\n`);
    const withCredentials = amtool([`--http.config.file=${httpConfig}`]);
    expect(withCredentials.stderr).toBe("");
    expect(withCredentials.status).toBe(0);
  });

  it("Prometheus, with the rendered alerting block and its password file, delivers an alert to it", async () => {
    const config = requireValidStackConfig(readStackConfigFile("dev").raw);
    const alerting = YAML.parse(renderMonitoringFiles(config, stackModel(config)).prometheusYml).alerting;
    const passwordFile = path.join(dir, "prometheus-password");
    fs.writeFileSync(passwordFile, passwords.prometheus);
    expect(alerting.alertmanagers[0].basic_auth).toEqual({ username: WEB_USERS.prometheus, password_file: expect.any(String) });
    alerting.alertmanagers[0].basic_auth.password_file = passwordFile;
    alerting.alertmanagers[0].static_configs = [{ targets: [url.replace("http://", "")] }];
    fs.writeFileSync(path.join(dir, "rules.yml"), YAML.stringify({ groups: [{ name: "t", rules: [{ alert: "AuthProbe", expr: "vector(1)" }] }] }));
    fs.writeFileSync(path.join(dir, "prometheus.yml"), YAML.stringify({ global: { evaluation_interval: "1s" }, rule_files: [path.join(dir, "rules.yml")], alerting }));
    const port = await freePortRange(1);
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${path.join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(dir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // The first send can precede the discovery of the Alertmanager (dropped): resend soon.
        "--rules.alert.resend-delay=1s",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    prometheus.stderr!.on("data", (chunk) => (log += chunk));
    const operator = basicAuthorization(WEB_USERS.operator, passwords.operator);
    let names: string[] = [];
    for (const started = Date.now(); Date.now() - started < 15000 && !names.includes("AuthProbe"); await new Promise((r) => setTimeout(r, 250))) {
      const alerts = await fetch(`${url}/api/v2/alerts`, { headers: { authorization: `Basic ${operator}` }, signal: AbortSignal.timeout(2000) }).then(
        (r) => r.json() as Promise<Array<{ labels: Record<string, string> }>>,
        () => [],
      );
      names = alerts.map((a) => a.labels.alertname);
    }
    expect([names, names.includes("AuthProbe") ? "" : log]).toEqual([expect.arrayContaining(["AuthProbe"]), ""]);
  }, 30000);

  it("a host down pages once: the host's page mutes its own processes' alerts, not another host's; quorum lost mutes each sentinel's ticket", async () => {
    const alert = (alertname: string, severity: string, labels: Record<string, string> = {}) => ({
      labels: { alertname, severity, cluster: "veza-test", ...labels },
      startsAt: new Date().toISOString(),
    });
    // Host redis-c is down: its node, its sentinel, its node_exporter; the replication tickets its
    // node's loss causes elsewhere. redis-a's own RedisUnreachable is another failure.
    const fired = [
      alert("HostUnreachable", "page", { host: "redis-c" }),
      alert("RedisUnreachable", "page", { host: "redis-c", instance: "redis-2", job: "redis" }),
      alert("SentinelUnreachable", "ticket", { host: "redis-c", instance: "sentinel-2", job: "sentinel" }),
      alert("NodeExporterDown", "ticket", { host: "redis-c", instance: "redis-c", job: "node" }),
      alert("RedisReplicasMissing", "ticket", { host: "redis-a", instance: "redis-0", job: "redis" }),
      alert("SentinelQuorumAtRisk", "ticket", { host: "redis-a", instance: "sentinel-0", job: "sentinel", master_name: "veza-redis" }),
      alert("SentinelQuorumLost", "page", { host: "redis-a", instance: "sentinel-0", job: "sentinel", master_name: "veza-redis" }),
      alert("SentinelTilt", "ticket", { host: "redis-b", instance: "sentinel-1", job: "sentinel" }),
      alert("RedisUnreachable", "page", { host: "redis-b", instance: "redis-1", job: "redis" }),
      // Another cluster's node is not this cluster's consequence.
      alert("RedisReplicationBroken", "ticket", { host: "redis-x", instance: "redis-9", job: "redis", cluster: "veza-other" }),
    ];
    const expected = ["HostUnreachable@redis-c", "RedisReplicationBroken@redis-x", "RedisUnreachable@redis-b", "SentinelQuorumLost@redis-a"];
    const { alerts, notInhibited } = await postAndListOnceInhibited(fired, 'cluster=~"veza-(test|other)"', (alert) => `${alert.labels.alertname}@${alert.labels.host}`, expected);
    expect(notInhibited).toEqual(expected);
    expect(alerts).toHaveLength(fired.length);
  });

  it("one SLO burn reaches on-call once: the fastest tier firing mutes the slower tiers of that SLO, and only of that SLO", async () => {
    const prefix: Record<string, string> = { "api-availability": "ApiAvailability", "api-latency": "ApiLatency", "payment-success": "PaymentSuccess" };
    const burn = (tier: string, slo: string, severity: string) => ({ labels: { alertname: `${prefix[slo]}SLO${tier}`, slo, severity }, startsAt: new Date().toISOString() });
    // api-availability burns at all four tiers at once; api-latency at the three ticket tiers; payment-success only at the slowest.
    const fired = [
      ...["FastBurn:page", "SlowBurn:ticket", "DailyBurn:ticket", "ThreeDayBurn:ticket"].map((t) => burn(t.split(":")[0], "api-availability", t.split(":")[1])),
      ...["SlowBurn", "DailyBurn", "ThreeDayBurn"].map((tier) => burn(tier, "api-latency", "ticket")),
      burn("ThreeDayBurn", "payment-success", "ticket"),
    ];
    const expected = ["ApiAvailabilitySLOFastBurn", "ApiLatencySLOSlowBurn", "PaymentSuccessSLOThreeDayBurn"];
    const { alerts, notInhibited } = await postAndListOnceInhibited(fired, 'slo=~".+"', (alert) => alert.labels.alertname, expected);
    expect(notInhibited).toEqual(expected);
    expect(alerts).toHaveLength(fired.length);
  });
});
