// Prometheus and Alertmanager as their containers run them: the real binaries, the
// stack's synthesized files (its config carrier's uploads) at their container paths, read-only, the
// data directory the only writable mount, and the root remounted read-only (`readOnly: true`), in a
// private mount namespace, as the images' user (nobody). Debian's binaries stand in for the
// images' /bin/prometheus and /bin/alertmanager.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { basicAuthorization, healthcheckWithoutCredential, PROMETHEUS_WEB, WEB_USERS } from "../../components/monitoring/webConfig";
import { freePortRange, processExited, terminateAndWaitSync, waitFor, type TrackedProcess } from "../../drills/harness/processes";
import { Workspace } from "../../drills/harness/workspace";
import { bindReadOnly, READ_ONLY_ROOT } from "../../drills/harness/containerRunner";
import { ALERTMANAGER_GATE_PATHS } from "../../components/monitoring/alertmanagerGate";
import { CONTAINER_HARDENING } from "../../components/base/hardening";
import { PLANTED, removePlanted, writeProbeScript } from "../helpers/writeProbe";
import type { SynthResult } from "../../scripts/lib/synth";
import { byName, synthOk, uploadsOf } from "../helpers/synth";

afterAll(removePlanted);

interface Server {
  /** The container resource whose synthesized files it reads. */
  resource: string;
  configRoot: string;
  /** Its volume, the one writable mount (none for the gate). */
  dataDir?: string;
  /** Its kind's tmpfs mounts (components/base/hardening.ts), writable on the read-only root. */
  tmpfs?: Record<string, string>;
  binary: string;
  /** The web user whose password file the server's own upload holds, and that file: what ready() logs in with. */
  client?: { user: string; passwordFile: string };
}

const PROMETHEUS: Server = {
  resource: "monitoring-prometheus-container",
  configRoot: "/etc/prometheus",
  dataDir: "/prometheus",
  binary: "prometheus",
  client: { user: WEB_USERS.prometheus, passwordFile: PROMETHEUS_WEB.clientPassword },
};
const ALERTMANAGER: Server = { resource: "monitoring-alertmanager-container", configRoot: "/etc/alertmanager", dataDir: "/alertmanager", binary: "prometheus-alertmanager" };
const GATE: Server = { resource: "monitoring-alertmanager-gate-container", configRoot: ALERTMANAGER_GATE_PATHS.configRoot, tmpfs: CONTAINER_HARDENING["alertmanager-gate"].tmpfs, binary: "nginx" };

describe("Prometheus and Alertmanager on a read-only root, their files read-only", () => {
  let ws: Workspace;
  let result: SynthResult;
  /** Each server's files as its config carrier's volume holds them (the unmasked synth: secrets included). */
  const filesDirs = new Map<Server, string>();
  beforeAll(async () => {
    ws = new Workspace("monitoring-read-only");
    result = await synthOk("dev");
    for (const server of [PROMETHEUS, ALERTMANAGER, GATE]) {
      ws.mountPoint(server.configRoot);
      if (server.dataDir) ws.mountPoint(server.dataDir);
      const dir = ws.tempDir(`${path.basename(server.configRoot)}-files`);
      fs.chmodSync(dir, 0o755);
      for (const upload of uploadsOf(result.unmasked, byName(result.unmasked, server.resource))) {
        const target = path.join(dir, path.relative(server.configRoot, upload.file));
        fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
        // What the provider's tar gives: root-owned 0644 files.
        fs.writeFileSync(target, upload.content, { mode: 0o644 });
      }
      filesDirs.set(server, dir);
    }
  }, 120000);
  afterAll(async () => ws.cleanup());

  const inputsOf = (server: Server) => byName(result.unmasked, server.resource).inputs as { command?: string[]; entrypoints?: string[] };

  /** The server in its own mount namespace: files read-only at the config root, data writable, root read-only. */
  function start(server: Server, program: string[]): { process: TrackedProcess; data: string } {
    const files = filesDirs.get(server)!;
    const data = ws.tempDir(path.basename(server.dataDir ?? "no-data"));
    fs.chmodSync(data, 0o777);
    const mountAndRun = [
      ...bindReadOnly('"$1"', server.configRoot),
      ...(server.dataDir ? [`mount --bind "$2" ${server.dataDir}`] : []),
      ...READ_ONLY_ROOT,
      ...Object.entries(server.tmpfs ?? {}).map(([target, options]) => `mount -t tmpfs -o ${options} tmpfs ${target}`),
      // As the images run them: as nobody (65534), whose files and data must still be readable and writable.
      'shift 2; exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"',
    ].join(" && ");
    const log = path.join(ws.tempDir("logs"), `${server.binary}.log`);
    const process = ws.processes.start(server.binary, "unshare", ["--mount", "--propagation", "private", "sh", "-c", mountAndRun, "server", files, data, ...program], log);
    return { process, data };
  }

  async function ready(server: Server, port: number, tracked: TrackedProcess): Promise<void> {
    // Ready with the server's own client credential; Alertmanager's container holds none, so there
    // its healthcheck decides: as Docker runs it, without a credential.
    const client = server.client;
    const authorization = client
      ? basicAuthorization(client.user, fs.readFileSync(path.join(filesDirs.get(server)!, path.relative(server.configRoot, client.passwordFile)), "utf8").trim())
      : undefined;
    const healthcheck = healthcheckWithoutCredential(`http://127.0.0.1:${port}/-/healthy`)[3];
    await waitFor(
      `${server.binary} to be ready`,
      async () => {
        if (tracked.child.exitCode !== null) throw new Error(`${server.binary} exited:\n${fs.readFileSync(tracked.logFile, "utf8")}`);
        if (!authorization) return spawnSync("sh", ["-c", healthcheck], { timeout: 5000 }).status === 0;
        return fetch(`http://127.0.0.1:${port}/-/ready`, { headers: { authorization: `Basic ${authorization}` }, signal: AbortSignal.timeout(1000) }).then(
          (r) => r.status === 200,
          () => false,
        );
      },
      20000,
      200,
    );
  }

  /** The write probe inside the server's mount namespace, as root. */
  function tryWrites(tracked: TrackedProcess, paths: string[]): string[] {
    return execFileSync("nsenter", ["-t", String(tracked.pid), "-m", "sh", "-c", writeProbeScript(paths)], { encoding: "utf8" })
      .trim()
      .split("\n");
  }

  it("Prometheus starts with the declared command and answers ready; only its data directory takes a write", async () => {
    const port = await freePortRange(1);
    const command = inputsOf(PROMETHEUS).command!.map((arg) => arg.replace(/^--web\.listen-address=.*/, `--web.listen-address=127.0.0.1:${port}`));
    const { process } = start(PROMETHEUS, [PROMETHEUS.binary, ...command]);
    await ready(PROMETHEUS, port, process);
    expect(tryWrites(process, ["/etc/prometheus/prometheus.yml", PLANTED.bin, PLANTED.tmp, "/prometheus/written-by-test"])).toEqual([
      "/etc/prometheus/prometheus.yml refused",
      `${PLANTED.bin} refused`,
      `${PLANTED.tmp} refused`,
      "/prometheus/written-by-test written",
    ]);
    await ws.processes.kill9(process);
  }, 60000);

  it("Alertmanager's start script writes its config into the data volume and the server answers ready; nothing else takes a write", async () => {
    const port = await freePortRange(1);
    const [shell, flag, script] = inputsOf(ALERTMANAGER).entrypoints!;
    expect([shell, flag]).toEqual(["/bin/sh", "-c"]);
    const local = script.replace("exec /bin/alertmanager ", `exec ${ALERTMANAGER.binary} `).replace(/--web\.listen-address=\S+/, `--web.listen-address=127.0.0.1:${port}`);
    const { process, data } = start(ALERTMANAGER, ["sh", "-c", local]);
    await ready(ALERTMANAGER, port, process);
    expect(fs.readFileSync(path.join(data, "alertmanager.yml"), "utf8")).toContain("route:");
    expect(tryWrites(process, ["/etc/alertmanager/alertmanager.yml", PLANTED.bin, PLANTED.tmp])).toEqual([
      "/etc/alertmanager/alertmanager.yml refused",
      `${PLANTED.bin} refused`,
      `${PLANTED.tmp} refused`,
    ]);
    await ws.processes.kill9(process);
  }, 60000);

  it("Alertmanager's gate, from its files on a read-only root as nobody: Prometheus's password posts alerts to the Alertmanager behind it and its silence is refused; only its tmpfs takes a write", async () => {
    const alertmanagerPort = await freePortRange(2);
    const gatePort = alertmanagerPort + 1;
    const script = inputsOf(ALERTMANAGER).entrypoints![2];
    const local = script.replace("exec /bin/alertmanager ", `exec ${ALERTMANAGER.binary} `).replace(/--web\.listen-address=\S+/, `--web.listen-address=127.0.0.1:${alertmanagerPort}`);
    const alertmanager = start(ALERTMANAGER, ["sh", "-c", local]);
    await ready(ALERTMANAGER, alertmanagerPort, alertmanager.process);

    // The declared ports (9093 for the clients, 9193 for Alertmanager) become the test's.
    const gateConfig = path.join(filesDirs.get(GATE)!, path.relative(GATE.configRoot, ALERTMANAGER_GATE_PATHS.config));
    const declared = fs.readFileSync(gateConfig, "utf8");
    expect(declared).toContain("listen 127.0.0.1:9093;");
    expect(declared).toContain("proxy_pass http://127.0.0.1:9193;");
    fs.writeFileSync(
      gateConfig,
      declared.replace("listen 127.0.0.1:9093;", `listen 127.0.0.1:${gatePort};`).replaceAll("proxy_pass http://127.0.0.1:9193;", `proxy_pass http://127.0.0.1:${alertmanagerPort};`),
    );
    const gateInputs = byName(result.unmasked, GATE.resource).inputs as { entrypoints: string[]; healthcheck: { tests: string[] } };
    const gate = start(GATE, gateInputs.entrypoints);
    // Whatever fails below, the cleanup stops nginx with SIGTERM first (its workers with it).
    ws.processes.terminateFirst(gate.process);
    // Its declared healthcheck: 200 through the gate only once Alertmanager answers behind it.
    const [kind, ...healthcheck] = gateInputs.healthcheck.tests;
    expect(kind).toBe("CMD");
    const probe = healthcheck.map((arg) => arg.replace("127.0.0.1:9093", `127.0.0.1:${gatePort}`));
    await waitFor(
      "the gate's healthcheck",
      async () => {
        if (gate.process.child.exitCode !== null) throw new Error(`nginx exited:\n${fs.readFileSync(gate.process.logFile, "utf8")}`);
        return spawnSync(probe[0], probe.slice(1), { timeout: 5000 }).status === 0;
      },
      20000,
      200,
    );

    const prometheusPassword = fs.readFileSync(path.join(filesDirs.get(PROMETHEUS)!, path.relative(PROMETHEUS.configRoot, PROMETHEUS_WEB.clientPassword)), "utf8").trim();
    const asPrometheus = (target: string, body: string) =>
      fetch(`http://127.0.0.1:${gatePort}${target}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Basic ${basicAuthorization(WEB_USERS.prometheus, prometheusPassword)}` },
        body,
        signal: AbortSignal.timeout(5000),
      }).then((r) => r.status);
    const now = new Date();
    const silence = {
      matchers: [{ name: "alertname", value: ".+", isRegex: true }],
      startsAt: now.toISOString(),
      endsAt: new Date(now.getTime() + 3600000).toISOString(),
      createdBy: "x",
      comment: "x",
    };
    expect(await asPrometheus("/api/v2/alerts", JSON.stringify([{ labels: { alertname: "GateReadOnlyProbe" } }]))).toBe(200);
    expect(await asPrometheus("/api/v2/silences", JSON.stringify(silence))).toBe(403);

    expect(tryWrites(gate.process, [ALERTMANAGER_GATE_PATHS.config, PLANTED.bin, "/tmp/written-by-test"])).toEqual([
      `${ALERTMANAGER_GATE_PATHS.config} refused`,
      `${PLANTED.bin} refused`,
      "/tmp/written-by-test written",
    ]);
    // SIGTERM: nginx's master stops its workers (a SIGKILL would leave them running, owned by init).
    const workers = fs.readFileSync(`/proc/${gate.process.pid}/task/${gate.process.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    expect(workers).toHaveLength(2);
    terminateAndWaitSync(gate.process.pid);
    expect(workers.filter((pid) => !processExited(Number(pid)))).toEqual([]);
    await ws.processes.kill9(alertmanager.process);
  }, 60000);
});
