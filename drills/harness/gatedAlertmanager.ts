// Alertmanager behind its gate, as the monitoring host runs them: the real prometheus-alertmanager
// on 127.0.0.1 with the stack's rendered alertmanager.yml and a web config that lists the gate
// alone, and Debian's nginx with the rendered gate files in front of it, as nobody (the gate
// image's user). The security drill's stolen Prometheus password tries to silence everything
// here; tests/artifacts/alertingAuth.test.ts checks every permission on the same pair.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import bcrypt from "bcryptjs";
import type { StackConfig } from "../../components/config/types";
import { ALERTMANAGER_SECRET_FILES, HEARTBEAT_URL_PLACEHOLDER } from "../../components/monitoring/alertmanagerConfig";
import { ALERTMANAGER_GATE_COMMAND, ALERTMANAGER_GATE_PATHS, renderAlertmanagerGateConfig, renderGateHtpasswd, renderGateUpstreamAuthorization } from "../../components/monitoring/alertmanagerGate";
import { renderMonitoringFiles } from "../../components/monitoring/render";
import { basicAuthorization, renderWebConfig, WEB_USERS } from "../../components/monitoring/webConfig";
import { stackModel } from "../../components/topology/model";
import { freePortRange, waitFor } from "./processes";
import type { Workspace } from "./workspace";

/** The gate image's user (components/images/alertmanagerGateImage.ts). */
const NOBODY = 65534;

export type GateUser = "prometheus" | "operator" | "alertmanagerGate";

export interface GatedAlertmanager {
  /** The gate: where every client goes. */
  url: string;
  /** Alertmanager itself, on the loopback. */
  direct: string;
  passwords: Record<GateUser, string>;
  /** The files as written: Alertmanager's web config, the gate's nginx.conf. */
  files: { webConfig: string; gateConfig: string };
  /** `Basic ...`'s value for a user (a wrong password when given). */
  authorization(user: GateUser, password?: string): string;
  /** The gate's stderr: its refusals. */
  gateLog(): string;
}

/** bcrypt at cost 10, as the random provider's bcryptHash, in Go's $2a$ form. */
const hash = (password: string) => bcrypt.hashSync(password, 10).replace(/^\$2b\$/, "$2a$");

/** Both servers started, ready, and tracked by the workspace (killed by PID at its cleanup). */
export async function startGatedAlertmanager(ws: Workspace, config: StackConfig): Promise<GatedAlertmanager> {
  const dir = ws.tempDir("gated-alertmanager");
  // nginx runs as nobody: it reads its files and writes its runtime dir.
  fs.chmodSync(dir, 0o755);
  const passwords = { prometheus: "", operator: "", alertmanagerGate: "" } as Record<GateUser, string>;
  for (const user of Object.keys(passwords) as GateUser[]) passwords[user] = randomBytes(16).toString("hex");
  const authorization = (user: GateUser, password = passwords[user]) => basicAuthorization(WEB_USERS[user], password);

  // The rendered alertmanager.yml, its secret files moved into the temp dir.
  let yml = renderMonitoringFiles(config, stackModel(config)).alertmanagerYml.replace(HEARTBEAT_URL_PLACEHOLDER, "http://127.0.0.1:9/heartbeat");
  for (const [key, file] of Object.entries(ALERTMANAGER_SECRET_FILES)) {
    const local = path.join(dir, key);
    fs.writeFileSync(local, key === "pagerdutyRoutingKey" ? "not-configured" : "http://127.0.0.1:9/x");
    yml = yml.replaceAll(file, local);
  }
  fs.writeFileSync(path.join(dir, "alertmanager.yml"), yml);
  const webConfig = path.join(dir, "web-config.yml");
  fs.writeFileSync(webConfig, renderWebConfig({ alertmanagerGate: hash(passwords.alertmanagerGate) }, false));
  const loopbackPort = await freePortRange(2);
  const gatePort = loopbackPort + 1;
  const direct = `http://127.0.0.1:${loopbackPort}`;
  const url = `http://127.0.0.1:${gatePort}`;
  const alertmanager = ws.processes.start(
    "alertmanager",
    "prometheus-alertmanager",
    [
      `--config.file=${path.join(dir, "alertmanager.yml")}`,
      `--storage.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${loopbackPort}`,
      "--cluster.listen-address=",
      `--web.config.file=${webConfig}`,
    ],
    path.join(dir, "alertmanager.log"),
  );
  const get = (target: string, credential?: string) =>
    fetch(target, { headers: credential ? { authorization: `Basic ${credential}` } : {}, signal: AbortSignal.timeout(5000) }).then(
      (r) => r.status,
      () => 0,
    );
  // Generous: each check verifies a bcrypt hash, slow on a loaded 2-core host (seen over 10 s).
  await waitFor(
    "alertmanager to be ready",
    async () => {
      if (alertmanager.child.exitCode !== null) throw new Error(`alertmanager exited:\n${fs.readFileSync(alertmanager.logFile, "utf8")}`);
      return (await get(`${direct}/-/ready`, authorization("alertmanagerGate"))) === 200;
    },
    30000,
    100,
  );

  // The gate's rendered files, at temp paths (the runtime dir first: the others are under /tmp too).
  const runtime = path.join(dir, "gate-run");
  fs.mkdirSync(runtime, { mode: 0o777 });
  fs.chmodSync(runtime, 0o777);
  const gateFiles = { config: path.join(dir, "nginx.conf"), htpasswd: path.join(dir, "htpasswd"), upstreamAuthorization: path.join(dir, "upstream-authorization.conf") };
  fs.writeFileSync(
    gateFiles.config,
    renderAlertmanagerGateConfig({ listenAddress: "127.0.0.1", listenPort: gatePort, loopbackPort, tls: false })
      .replaceAll(` ${ALERTMANAGER_GATE_PATHS.runtimeDir}/`, ` ${runtime}/`)
      .replaceAll(ALERTMANAGER_GATE_PATHS.htpasswd, gateFiles.htpasswd)
      .replaceAll(ALERTMANAGER_GATE_PATHS.upstreamAuthorization, gateFiles.upstreamAuthorization),
    { mode: 0o644 },
  );
  fs.writeFileSync(gateFiles.htpasswd, renderGateHtpasswd({ prometheus: hash(passwords.prometheus), operator: hash(passwords.operator) }), { mode: 0o644 });
  fs.writeFileSync(gateFiles.upstreamAuthorization, renderGateUpstreamAuthorization(WEB_USERS.alertmanagerGate, passwords.alertmanagerGate), { mode: 0o644 });
  const [command, ...args] = ALERTMANAGER_GATE_COMMAND.map((arg) => (arg === ALERTMANAGER_GATE_PATHS.config ? gateFiles.config : arg));
  // Its stderr a file (nginx writes its refusals there), as nobody.
  const gate = ws.processes.start("alertmanager-gate", command, args, path.join(dir, "gate.log"), NOBODY);
  // nginx's master must stop its workers itself: a SIGKILL would leave them listening.
  ws.processes.terminateFirst(gate);
  await waitFor(
    "the gate to answer /-/healthy",
    async () => {
      if (gate.child.exitCode !== null) throw new Error(`nginx exited:\n${fs.readFileSync(gate.logFile, "utf8")}`);
      return (await get(`${url}/-/healthy`)) === 200;
    },
    30000,
    100,
  );
  return { url, direct, passwords, files: { webConfig, gateConfig: gateFiles.config }, authorization, gateLog: () => fs.readFileSync(gate.logFile, "utf8") };
}
