// The alert path as the stack runs it, for the drills: Debian's redis_exporter, one per Redis or
// Sentinel process, with the settings the stack gives its exporter containers (exporterEnv: user,
// password file, no CONFIG), and a Prometheus that scrapes them every second and evaluates the
// stack's rendered Redis rules. Each exporter runs on its target's host and Prometheus on its
// own, in the hosts' network namespaces when the drill has them (hostNetwork.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { renderMonitoringFiles } from "../../components/monitoring/render";
import { REDIS_JOB, RULE_FILE_NAMES, SENTINEL_JOB } from "../../components/monitoring/prometheusConfig";
import { exporterEnv, renderExporterPasswordFile } from "../../components/monitoring/redisExporter";
import type { StackConfig } from "../../components/config/types";
import type { ExporterPlacement } from "../../components/topology/ports";
import { waitFor, type ProcessGroup } from "./processes";

export interface AlertState {
  labels: { alertname: string; instance?: string };
  state: "pending" | "firing";
}

export interface AlertingInput {
  config: StackConfig;
  exporters: ExporterPlacement[];
  exporterPassword: string;
  dir: string;
  processes: ProcessGroup;
  prometheus: { address: string; port: number; hostName?: string };
  /** The network namespace (path) of a host, when the drill runs hosts as namespaces. */
  networkOf?: (hostName: string) => string;
}

export interface Alerting {
  alerts: () => Promise<AlertState[]>;
}

/** The exporter's settings as its flags (the containers set them by env); GOMAXPROCS stays a variable. */
const EXPORTER_FLAGS: Record<string, string> = {
  REDIS_ADDR: "redis.addr",
  REDIS_USER: "redis.user",
  REDIS_PASSWORD_FILE: "redis.password-file",
  REDIS_EXPORTER_CONFIG_COMMAND: "config-command",
  REDIS_EXPORTER_WEB_LISTEN_ADDRESS: "web.listen-address",
};

export const alertState = (alerts: AlertState[], name: string, instance?: string) =>
  alerts.find((a) => a.labels.alertname === name && (instance === undefined || a.labels.instance === instance))?.state;

export async function startAlerting(input: AlertingInput): Promise<Alerting> {
  const onHost = (hostName: string | undefined, command: string, args: string[]): [string, string[]] => {
    const network = hostName !== undefined ? input.networkOf?.(hostName) : undefined;
    return network ? ["nsenter", [`--net=${network}`, command, ...args]] : [command, args];
  };
  for (const exporter of input.exporters) {
    const passwordFile = path.join(input.dir, `${exporter.name}-passwords.json`);
    fs.writeFileSync(passwordFile, renderExporterPasswordFile(exporter, input.exporterPassword), { mode: 0o600 });
    const env = { ...exporterEnv(exporter), REDIS_PASSWORD_FILE: passwordFile };
    const flags = Object.entries(env).filter(([name]) => name in EXPORTER_FLAGS).map(([name, value]) => `--${EXPORTER_FLAGS[name]}=${value}`);
    const variables = Object.entries(env).filter(([name]) => !(name in EXPORTER_FLAGS)).map(([name, value]) => `${name}=${value}`);
    input.processes.start(exporter.name, ...onHost(exporter.host.name, "env", [...variables, "prometheus-redis-exporter", ...flags]), path.join(input.dir, `${exporter.name}.log`));
  }
  const rulesFile = path.join(input.dir, RULE_FILE_NAMES.redis);
  fs.writeFileSync(rulesFile, renderMonitoringFiles(input.config).ruleFiles[RULE_FILE_NAMES.redis]);
  const job = (name: string, kind: "redis" | "sentinel") => ({
    job_name: name,
    static_configs: input.exporters.filter((e) => e.target.kind === kind).map((e) => ({ targets: [`${e.host.address}:${e.port}`], labels: { instance: e.target.name } })),
  });
  fs.writeFileSync(path.join(input.dir, "prometheus.yml"), YAML.stringify({
    global: { scrape_interval: "1s", evaluation_interval: "1s" },
    rule_files: [rulesFile],
    scrape_configs: [job(REDIS_JOB, "redis"), job(SENTINEL_JOB, "sentinel")].filter((j) => j.static_configs.length > 0),
  }));
  const { address, port, hostName } = input.prometheus;
  input.processes.start("prometheus", ...onHost(hostName, "prometheus", [`--config.file=${path.join(input.dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(input.dir, "tsdb")}`, `--web.listen-address=${address}:${port}`]), path.join(input.dir, "prometheus.log"));
  const get = async (query: string) => (await (await fetch(`http://${address}:${port}/api/v1/${query}`, { signal: AbortSignal.timeout(2000) })).json()) as { data: unknown };
  // Every exporter scraped and its process up: a baseline with the alerts' inputs present.
  await waitFor("Prometheus to scrape every exporter with its process up", async () => {
    try {
      const result = (await get(`query?query=${encodeURIComponent("count(redis_up == 1)")}`)).data as { result: Array<{ value: [number, string] }> };
      return Number(result.result[0]?.value[1]) === input.exporters.length;
    } catch {
      return false;
    }
  }, 30000, 250);
  return { alerts: async () => ((await get("alerts")).data as { alerts: AlertState[] }).alerts };
}
