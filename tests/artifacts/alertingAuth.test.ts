// Alertmanager behind its gate, as the real binaries: Alertmanager on 127.0.0.1 with a web config
// that lists the gate alone, and the real nginx with the rendered gate files in front of it. A
// silence (the review's "720 h silence matching every alert") is refused without credentials,
// with a wrong password and with Prometheus's password; the operator's is accepted; the real
// Prometheus, with the rendered alerting block (basic auth from a password file), still delivers
// alerts through the gate. Every process bounded in time and killed by PID.
import { spawnSync } from "node:child_process";
import * as http from "node:http";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { requireValidStackConfig } from "../../components/validation/validate";
import { renderMonitoringFiles } from "../../components/monitoring/render";
import { healthcheckWithoutCredential, TLS_FILES, WEB_USERS } from "../../components/monitoring/webConfig";
import { ALERTMANAGER_GATE_PATHS, GATE_RATE, renderAlertmanagerGateConfig } from "../../components/monitoring/alertmanagerGate";
import { createCertificateAuthority, issueCertificate } from "../../drills/harness/certificates";
import { startGatedAlertmanager, type GatedAlertmanager, type GateUser } from "../../drills/harness/gatedAlertmanager";
import { freePortRange } from "../../drills/harness/processes";
import { Workspace } from "../../drills/harness/workspace";
import { readStackConfigFile } from "../../lib/stackFiles";
import { stackModel } from "../../components/topology/model";

const available = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
// Debian names the binary prometheus-alertmanager.
const haveTools = ["prometheus-alertmanager", "amtool", "promtool", "prometheus", "nginx"].every(available);

(haveTools ? describe : describe.skip)("Alertmanager behind its gate (real alertmanager and nginx)", () => {
  let ws: Workspace;
  let gated: GatedAlertmanager;
  /** The gate: where every client goes. */
  let url = "";
  const authorization = (user: GateUser, password?: string) => gated.authorization(user, password);

  const silence = () =>
    JSON.stringify({
      matchers: [{ name: "alertname", value: ".+", isRegex: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 720 * 3600 * 1000).toISOString(),
      createdBy: "attacker",
      comment: "silence everything for 720 h",
    });
  const request = (method: string, target: string, credential?: string, body?: string) =>
    fetch(target, {
      method,
      headers: { "content-type": "application/json", ...(credential ? { authorization: `Basic ${credential}` } : {}) },
      body,
      signal: AbortSignal.timeout(5000),
    });
  /** A request with its path as given (fetch would normalise it) and a chosen source address: its status. */
  const rawStatus = (options: http.RequestOptions) =>
    new Promise<number>((resolve, reject) => {
      const request = http.request({ host: "127.0.0.1", port: Number(new URL(url).port), ...options }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on("error", reject);
      request.end();
    });
  const post = (credential?: string, base = url) => request("POST", `${base}/api/v2/silences`, credential, silence());

  // The inhibitor learns of posted alerts on its own subscription, after the POST has answered: a
  // query right away can see a source alert that mutes nothing yet. Query until the alerts not
  // inhibited are the expected ones (or 10 s pass), then the test asserts on the last answer.
  type ListedAlert = { labels: Record<string, string>; status: { inhibitedBy: string[] } };
  const listAlerts = async (filter: string) => (await (await request("GET", `${url}/api/v2/alerts?filter=${encodeURIComponent(filter)}`, authorization("operator"))).json()) as ListedAlert[];
  const postAndListOnceInhibited = async (fired: object[], filter: string, key: (alert: ListedAlert) => string, expected: string[]) => {
    const posted = await request("POST", `${url}/api/v2/alerts`, authorization("prometheus"), JSON.stringify(fired));
    expect(posted.status).toBe(200);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const alerts = await listAlerts(filter);
      const notInhibited = alerts
        .filter((alert) => alert.status.inhibitedBy.length === 0)
        .map(key)
        .sort();
      if ((alerts.length === fired.length && JSON.stringify(notInhibited) === JSON.stringify(expected)) || Date.now() > deadline) return { alerts, notInhibited };
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  beforeAll(async () => {
    ws = new Workspace("alerting-auth");
    gated = await startGatedAlertmanager(ws, requireValidStackConfig(readStackConfigFile("dev").raw));
    url = gated.url;
  }, 90000);

  afterAll(async () => ws.cleanup());

  it("nginx accepts the rendered gate config, and promtool Alertmanager's web config", () => {
    const check = spawnSync("promtool", ["check", "web-config", gated.files.webConfig], { encoding: "utf8", timeout: 10000 });
    expect(`${check.stdout}${check.stderr}`).toContain("SUCCESS");
    expect(check.status).toBe(0);
    const nginx = spawnSync("nginx", ["-t", "-e", "stderr", "-c", gated.files.gateConfig], { encoding: "utf8", timeout: 10000 });
    expect(nginx.stderr).toContain("test is successful");
    // With monitoring.tls*: the HTTPS server block loads the certificate and key where they are mounted.
    const dir = ws.tempDir("gate-tls");
    const ca = createCertificateAuthority(path.join(dir, "ca"), "monitoring CA");
    const pair = issueCertificate(ca, { name: "monitoring", commonName: "monitoring", usage: "server", dnsNames: [], ipAddresses: ["127.0.0.1"] }, dir);
    const tlsConfig = path.join(dir, "nginx.conf");
    const rendered = renderAlertmanagerGateConfig({ listenAddress: "127.0.0.1", listenPort: 9093, loopbackPort: 9193, tls: true });
    expect(rendered).toContain("listen 127.0.0.1:9093 ssl;\n");
    const gateDir = path.dirname(gated.files.gateConfig);
    fs.writeFileSync(
      tlsConfig,
      rendered
        .replaceAll(` ${ALERTMANAGER_GATE_PATHS.runtimeDir}/`, ` ${dir}/`)
        .replaceAll(ALERTMANAGER_GATE_PATHS.htpasswd, path.join(gateDir, "htpasswd"))
        .replaceAll(ALERTMANAGER_GATE_PATHS.upstreamAuthorization, path.join(gateDir, "upstream-authorization.conf"))
        .replace(`ssl_certificate ${TLS_FILES.cert};`, `ssl_certificate ${pair.certFile};`)
        .replace(`ssl_certificate_key ${TLS_FILES.key};`, `ssl_certificate_key ${pair.keyFile};`),
    );
    expect(spawnSync("nginx", ["-t", "-e", "stderr", "-c", tlsConfig], { encoding: "utf8", timeout: 10000 }).stderr).toContain("test is successful");
  });

  it("refuses a silence without credentials (401), with a wrong password (401) and with Prometheus's password (403)", async () => {
    expect((await post()).status).toBe(401);
    expect((await post(authorization("operator", "wrong"))).status).toBe(401);
    expect((await post(authorization("prometheus"))).status).toBe(403);
    // The unauthenticated read side is closed too: no listing of silences or alerts.
    expect((await request("GET", `${url}/api/v2/alerts`)).status).toBe(401);
    expect((await request("GET", `${url}/api/v2/silences`)).status).toBe(401);
  });

  it("lets Prometheus's password post alerts and scrape metrics, and nothing else: no silence listed, created or expired, however the path is spelled", async () => {
    const prometheusCredential = authorization("prometheus");
    const alert = JSON.stringify([{ labels: { alertname: "GateProbe", severity: "ticket" }, startsAt: new Date().toISOString() }]);
    expect((await request("POST", `${url}/api/v2/alerts`, prometheusCredential, alert)).status).toBe(200);
    expect((await request("GET", `${url}/metrics`, prometheusCredential)).status).toBe(200);
    const operatorSilence = await post(authorization("operator"));
    const { silenceID } = (await operatorSilence.json()) as { silenceID: string };
    const refused = [
      ["GET", "/api/v2/silences"],
      ["GET", "/api/v2/alerts"],
      ["GET", "/api/v2/status"],
      ["DELETE", `/api/v2/silence/${silenceID}`],
      ["POST", "/api/v2/%73ilences"],
      ["POST", "/api/v2/alerts/../silences"],
      ["POST", "/api/v2//silences"],
      ["POST", "/api/v2/alerts?x=/silences"],
      ["POST", "/api/v1/silences"],
    ];
    const statuses = await Promise.all(
      refused.map(async ([method, target]) => `${method} ${target} ${(await request(method, `${url}${target}`, prometheusCredential, method === "POST" ? silence() : undefined)).status}`),
    );
    expect(statuses).toEqual(refused.map(([method, target]) => `${method} ${target} 403`));
    // The operator's silence is still there: the DELETE never reached Alertmanager.
    const listed = (await (await request("GET", `${url}/api/v2/silence/${silenceID}`, authorization("operator"))).json()) as { status: { state: string } };
    expect(listed.status.state).toBe("active");
    await request("DELETE", `${url}/api/v2/silence/${silenceID}`, authorization("operator"));
    // Each refusal is in the gate's log, with the request.
    expect(gated.gateLog()).toContain(`access forbidden by rule, client: 127.0.0.1, server: , request: "DELETE /api/v2/silence/${silenceID} HTTP/1.1"`);
  });

  it("what remains for Prometheus's password (the threat model's row): a firing alert posted as resolved shows resolved until Prometheus sends it again", async () => {
    const labels = { alertname: "ResolvedByPost", severity: "page", cluster: "veza-resolve" };
    const credential = authorization("prometheus");
    await request("POST", `${url}/api/v2/alerts`, credential, JSON.stringify([{ labels, startsAt: new Date(Date.now() - 60000).toISOString() }]));
    const active = async () => (await listAlerts('cluster="veza-resolve"')).length;
    expect(await active()).toBe(1);
    await request("POST", `${url}/api/v2/alerts`, credential, JSON.stringify([{ labels, startsAt: new Date(Date.now() - 60000).toISOString(), endsAt: new Date(Date.now() - 1000).toISOString() }]));
    expect(await active()).toBe(0);
  });

  it("Alertmanager itself, on the loopback, takes the gate's credential alone: Prometheus's and the operator's are refused there (401)", async () => {
    expect((await post(authorization("prometheus"), gated.direct)).status).toBe(401);
    expect((await post(authorization("operator"), gated.direct)).status).toBe(401);
    expect((await request("GET", `${gated.direct}/api/v2/status`, authorization("alertmanagerGate"))).status).toBe(200);
  });

  it("the healthchecks hold no credential: the gate's open /-/healthy answers 200 while Alertmanager does, refuses a POST, and Alertmanager's own takes its 401 as up", async () => {
    const probe = (command: string) => spawnSync("sh", ["-c", command], { encoding: "utf8", timeout: 10000 }).status;
    expect(probe(`wget -q -O /dev/null ${url}/-/healthy`)).toBe(0);
    expect((await request("POST", `${url}/-/healthy`)).status).toBe(403);
    expect(healthcheckWithoutCredential(`${gated.direct}/-/healthy`).join(" ")).not.toMatch(/Authorization|password|secrets/i);
    expect(probe(healthcheckWithoutCredential(`${gated.direct}/-/healthy`)[3])).toBe(0);
    expect(probe(healthcheckWithoutCredential(`http://127.0.0.1:${await freePortRange(1)}/-/healthy`)[3])).not.toBe(0);
  });

  it("the open /-/healthy answers its exact request URI only: an encoded path that normalises to it is refused, not passed on with the gate's credential", async () => {
    const raw = (target: string) => rawStatus({ path: target, method: "GET" });
    expect(await raw("/-/healthy")).toBe(200);
    expect(await raw("/api/v2/status%2F..%2F..%2F..%2F-%2Fhealthy")).toBe(403);
    expect(await raw("/-/healthy?x=1")).toBe(403);
  });

  it("limits wrong passwords per client address (429 before the bcrypt check), and never the monitoring host's own address", async () => {
    const wrongFrom = (localAddress: string) =>
      Promise.all(Array.from({ length: 60 }, () => rawStatus({ path: "/api/v2/silences", localAddress, headers: { authorization: `Basic ${authorization("operator", "wrong")}` } })));
    const count = (statuses: number[]) => statuses.reduce<Record<number, number>>((counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});
    // Another address: the burst is checked (401), the rest refused (429).
    const other = count(await wrongFrom("127.0.0.2"));
    expect(other[429]).toBeGreaterThan(0);
    expect(other[401]).toBeGreaterThanOrEqual(GATE_RATE.burst);
    // The gate's own address (where Prometheus and the healthcheck come from): every one checked.
    expect(count(await wrongFrom("127.0.0.1"))).toEqual({ 401: 60 });
  }, 60000);

  it("accepts the operator's silence through the gate, and amtool works with the operator's credentials only", async () => {
    const accepted = await post(authorization("operator"));
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toHaveProperty("silenceID");
    const amtool = (args: string[]) =>
      spawnSync("amtool", [`--alertmanager.url=${url}`, ...args, "silence", "add", "alertname=Test", "--duration=1h", "--comment=test"], { encoding: "utf8", timeout: 10000 });
    expect(amtool([]).status).not.toBe(0);
    const httpConfig = (user: "operator" | "prometheus") => {
      const file = path.join(ws.tempDir("amtool"), `${user}.yml`);
      fs.writeFileSync(file, `basic_auth:\n  username: ${WEB_USERS[user]}\n  password: ${gated.passwords[user]}\n`);
      return `--http.config.file=${file}`;
    };
    expect(amtool([httpConfig("prometheus")]).status).not.toBe(0);
    const withCredentials = amtool([httpConfig("operator")]);
    expect(withCredentials.stderr).toBe("");
    expect(withCredentials.status).toBe(0);
  });

  it("Prometheus, with the rendered alerting block and its password file, delivers an alert through the gate", async () => {
    const config = requireValidStackConfig(readStackConfigFile("dev").raw);
    const alerting = YAML.parse(renderMonitoringFiles(config, stackModel(config)).prometheusYml).alerting;
    const dir = ws.tempDir("prometheus");
    const passwordFile = path.join(dir, "prometheus-password");
    fs.writeFileSync(passwordFile, gated.passwords.prometheus);
    expect(alerting.alertmanagers[0].basic_auth).toEqual({ username: WEB_USERS.prometheus, password_file: expect.any(String) });
    alerting.alertmanagers[0].basic_auth.password_file = passwordFile;
    alerting.alertmanagers[0].static_configs = [{ targets: [url.replace("http://", "")] }];
    fs.writeFileSync(path.join(dir, "rules.yml"), YAML.stringify({ groups: [{ name: "t", rules: [{ alert: "AuthProbe", expr: "vector(1)" }] }] }));
    fs.writeFileSync(path.join(dir, "prometheus.yml"), YAML.stringify({ global: { evaluation_interval: "1s" }, rule_files: [path.join(dir, "rules.yml")], alerting }));
    const port = await freePortRange(1);
    const prometheus = ws.processes.start(
      "prometheus",
      "prometheus",
      [
        `--config.file=${path.join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(dir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // The first send can precede the discovery of the Alertmanager (dropped): resend soon.
        "--rules.alert.resend-delay=1s",
      ],
      path.join(dir, "prometheus.log"),
    );
    const operator = authorization("operator");
    let names: string[] = [];
    for (const started = Date.now(); Date.now() - started < 15000 && !names.includes("AuthProbe"); await new Promise((r) => setTimeout(r, 250))) {
      const alerts = await fetch(`${url}/api/v2/alerts`, { headers: { authorization: `Basic ${operator}` }, signal: AbortSignal.timeout(2000) }).then(
        (r) => r.json() as Promise<Array<{ labels: Record<string, string> }>>,
        () => [],
      );
      names = alerts.map((a) => a.labels.alertname);
    }
    expect([names, names.includes("AuthProbe") ? "" : fs.readFileSync(prometheus.logFile, "utf8")]).toEqual([expect.arrayContaining(["AuthProbe"]), ""]);
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

  it("a cause forged with Prometheus's password never mutes a page silently: labelled anything but a page it mutes nothing and tickets; as a page it mutes, and pages on-call itself", async () => {
    type Listed = { labels: Record<string, string>; status: { inhibitedBy: string[] }; receivers: Array<{ name: string }> };
    const alert = (alertname: string, severity: string) => ({ labels: { alertname, severity, cluster: "veza-forged", host: "redis-a" }, startsAt: new Date().toISOString() });
    const listed = async () => (await (await request("GET", `${url}/api/v2/alerts?filter=${encodeURIComponent('cluster="veza-forged"')}`, authorization("operator"))).json()) as Listed[];
    const post = async (fired: object[]) => expect((await request("POST", `${url}/api/v2/alerts`, authorization("prometheus"), JSON.stringify(fired))).status).toBe(200);
    const state = async () =>
      Object.fromEntries(
        (await listed()).map((a) => [`${a.labels.alertname}/${a.labels.severity}`, `${a.status.inhibitedBy.length > 0 ? "muted" : "notifies"} ${a.receivers.map((r) => r.name).join(",")}`]),
      );
    await post([alert("RedisUnreachable", "page"), alert("HostUnreachable", "heartbeat")]);
    // Give the inhibitor the time a real mute would take (it settles within 10 s in the tests above).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await state()).toEqual({ "RedisUnreachable/page": "notifies page-oncall", "HostUnreachable/heartbeat": "notifies ticket-oncall" });
    await post([alert("HostUnreachable", "page")]);
    const deadline = Date.now() + 10_000;
    while ((await state())["RedisUnreachable/page"] !== "muted page-oncall" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await state()).toMatchObject({ "RedisUnreachable/page": "muted page-oncall", "HostUnreachable/page": "notifies page-oncall" });
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
