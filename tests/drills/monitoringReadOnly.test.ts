// Prometheus and Alertmanager as their containers run them: the real binaries, the
// stack's synthesized files (its config carrier's uploads) at their container paths, read-only, the
// data directory the only writable mount, and the root remounted read-only (`readOnly: true`), in a
// private mount namespace, as the images' user (nobody). Debian's binaries stand in for the
// images' /bin/prometheus and /bin/alertmanager.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { basicAuthorization, healthcheckWithoutCredential, PROMETHEUS_WEB, WEB_USERS } from "../../components/monitoring/webConfig";
import { freePortRange, waitFor, type TrackedProcess } from "../../drills/harness/processes";
import { Workspace } from "../../drills/harness/workspace";
import { bindReadOnly, READ_ONLY_ROOT } from "../../drills/harness/containerRunner";
import { PLANTED, removePlanted, writeProbeScript } from "../helpers/writeProbe";
import type { SynthResult } from "../../scripts/lib/synth";
import { byName, synthOk, uploadsOf } from "../helpers/synth";

afterAll(removePlanted);

interface Server {
  /** The container resource whose synthesized files it reads. */
  resource: string;
  configRoot: string;
  dataDir: string;
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

describe("Prometheus and Alertmanager on a read-only root, their files read-only", () => {
  let ws: Workspace;
  let result: SynthResult;
  /** Each server's files as its config carrier's volume holds them (the unmasked synth: secrets included). */
  const filesDirs = new Map<Server, string>();
  beforeAll(async () => {
    ws = new Workspace("monitoring-read-only");
    result = await synthOk("dev");
    for (const server of [PROMETHEUS, ALERTMANAGER]) {
      ws.mountPoint(server.configRoot);
      ws.mountPoint(server.dataDir);
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
    const data = ws.tempDir(path.basename(server.dataDir));
    fs.chmodSync(data, 0o777);
    const mountAndRun = [
      ...bindReadOnly('"$1"', server.configRoot),
      `mount --bind "$2" ${server.dataDir}`,
      ...READ_ONLY_ROOT,
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
});
