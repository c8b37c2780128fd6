// The alert path as the stack runs it, for the drills: Debian's redis_exporter, one per Redis or
// Sentinel process, with the settings the stack gives its exporter containers (exporterEnv: user,
// password file, no CONFIG), and a Prometheus that scrapes them every second and evaluates the
// stack's rendered Redis rules. Each exporter runs on its target's host and Prometheus on its
// own, in the hosts' network namespaces when the drill has them (hostNetwork.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { exporterScrapeTarget, renderMonitoringFiles } from "../../components/monitoring/render";
import { API_JOB, NODE_JOB, REDIS_JOB, RULE_FILE_NAMES, SENTINEL_JOB, type RuleFamily } from "../../components/monitoring/prometheusConfig";
import { exporterEnv, renderExporterPasswordFile } from "../../components/monitoring/redisExporter";
import type { ClientTlsFiles } from "../../components/tls/certificates";
import type { HostConfig, StackConfig } from "../../components/config/types";
import { placeExporters, type ExporterPlacement } from "../../components/topology/ports";
import type { Topology } from "../../components/topology/placement";
import { freePortRange, sleep, waitFor, type ProcessGroup } from "./processes";
import type { DrillResult, Figure, ScenarioAlerts } from "./types";
import type { Workspace } from "./workspace";
import { stackModel } from "../../components/topology/model";

export interface AlertState {
  labels: { alertname: string; instance?: string; severity?: string };
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
  /** The rule files evaluated: the Redis rules unless the drill exercises others (the API's SLOs). */
  ruleFamilies?: RuleFamily[];
  /** The API's metrics endpoint, host:port on this machine, scraped as the stack scrapes the API. */
  apiAddress?: string;
  /** node_exporters (host:port on this machine, and the host they stand for), scraped as prometheus.yml does. */
  nodeExporters?: Array<{ address: string; host: string }>;
  /** The cluster runs with TLS on: the exporters dial rediss:// with this client certificate. */
  exporterTls?: ClientTlsFiles;
}

export interface Alerting {
  alerts: () => Promise<AlertState[]>;
  /** Every exporter's last scrape reached its process (redis_up 1). */
  allExportersUp: () => Promise<boolean>;
  /** An instant query's result: each series' labels and value. */
  query: (expr: string) => Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** The stack's page-severity alerts, as the rendered rules declare them. */
  pages: string[];
  /**
   * A credential rotation's switch, as the stack's exporter credentials command does it: each
   * exporter's password file rewritten, then its /-/reload.
   */
  setExporterPassword: (password: string) => Promise<void>;
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
  const passwordFileOf = (exporter: ExporterPlacement) => path.join(input.dir, `${exporter.name}-passwords.json`);
  const writePasswordFile = (exporter: ExporterPlacement, password: string) =>
    fs.writeFileSync(passwordFileOf(exporter), renderExporterPasswordFile(exporter, password, input.exporterTls), { mode: 0o600 });
  for (const exporter of input.exporters) {
    const passwordFile = passwordFileOf(exporter);
    writePasswordFile(exporter, input.exporterPassword);
    const env = { ...exporterEnv(exporter, input.exporterTls), REDIS_PASSWORD_FILE: passwordFile };
    const flags = Object.entries(env)
      .filter(([name]) => name in EXPORTER_FLAGS)
      .map(([name, value]) => `--${EXPORTER_FLAGS[name]}=${value}`);
    const variables = Object.entries(env)
      .filter(([name]) => !(name in EXPORTER_FLAGS))
      .map(([name, value]) => `${name}=${value}`);
    input.processes.start(exporter.name, ...onHost(exporter.host.name, "env", [...variables, "prometheus-redis-exporter", ...flags]), path.join(input.dir, `${exporter.name}.log`));
  }
  const files = renderMonitoringFiles(input.config, stackModel(input.config));
  const families = input.ruleFamilies ?? ["redis"];
  const ruleFiles = families.map((family) => path.join(input.dir, RULE_FILE_NAMES[family]));
  families.forEach((family, i) => fs.writeFileSync(ruleFiles[i], files.ruleFiles[RULE_FILE_NAMES[family]]));
  const pages = families.flatMap((family) => files.rules[family].groups.flatMap((g) => g.rules)).flatMap((r) => ("alert" in r && r.labels.severity === "page" ? [r.alert] : []));
  // The labels prometheus.yml gives each exporter (host, the address Sentinel knows a node by),
  // computed from the drill's own addresses and ports.
  const job = (name: string, kind: "redis" | "sentinel") => ({
    job_name: name,
    static_configs: input.exporters
      .filter((e) => e.target.kind === kind)
      .map(exporterScrapeTarget)
      .map((t) => ({ targets: [t.address], labels: { instance: t.instance, ...t.labels } })),
  });
  // The API's job as prometheus.yml declares it (its path and instance), at the drill's address.
  const api = files.scrape.api ?? { instance: API_JOB, metricsPath: input.config.api.metrics.path };
  const apiJob = input.apiAddress ? [{ job_name: API_JOB, metrics_path: api.metricsPath, static_configs: [{ targets: [input.apiAddress], labels: { instance: api.instance } }] }] : [];
  // The node job's labels as render.ts gives them: instance and host are the host's name.
  const nodeJob = input.nodeExporters?.length ? [{ job_name: NODE_JOB, static_configs: input.nodeExporters.map((n) => ({ targets: [n.address], labels: { instance: n.host, host: n.host } })) }] : [];
  fs.writeFileSync(
    path.join(input.dir, "prometheus.yml"),
    YAML.stringify({
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      rule_files: ruleFiles,
      scrape_configs: [...[job(REDIS_JOB, "redis"), job(SENTINEL_JOB, "sentinel")].filter((j) => j.static_configs.length > 0), ...apiJob, ...nodeJob],
    }),
  );
  const { address, port, hostName } = input.prometheus;
  input.processes.start(
    "prometheus",
    ...onHost(hostName, "prometheus", [`--config.file=${path.join(input.dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(input.dir, "tsdb")}`, `--web.listen-address=${address}:${port}`]),
    path.join(input.dir, "prometheus.log"),
  );
  const get = async (query: string) => (await (await fetch(`http://${address}:${port}/api/v1/${query}`, { signal: AbortSignal.timeout(2000) })).json()) as { data: unknown };
  const query = async (expr: string) => ((await get(`query?query=${encodeURIComponent(expr)}`)).data as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result;
  /** Whether `expr`'s result holds, false while Prometheus does not answer yet. */
  const holds = (expr: string, test: (result: Awaited<ReturnType<typeof query>>) => boolean) => async () => query(expr).then(test, () => false);
  // Every exporter scraped and its process up, on the last scrape of each.
  const allExportersUp = holds("count(redis_up == 1)", (result) => Number(result[0]?.value[1]) === input.exporters.length);
  const apiUp = holds(`up{job="${API_JOB}"} == 1`, (result) => result.length === 1);
  // A baseline with the alerts' inputs present. Generous: a first boot's alerting starts with its
  // processes, before any is up.
  const baseline = async () => (input.exporters.length === 0 || (await allExportersUp())) && (!input.apiAddress || (await apiUp()));
  await waitFor("Prometheus to scrape every target with its process up", baseline, 90000, 250);
  // Rules evaluated before the first scrapes saw nothing (no sentinel up, say), and their alerts
  // stay pending until the next evaluation: wait for every group to evaluate once more.
  const baselineAt = Date.now();
  await waitFor(
    "every rule group evaluated after the baseline",
    async () => {
      try {
        const groups = ((await get("rules")).data as { groups: Array<{ lastEvaluation: string }> }).groups;
        return groups.length > 0 && groups.every((g) => Date.parse(g.lastEvaluation) > baselineAt);
      } catch {
        return false;
      }
    },
    10000,
    250,
  );
  return {
    alerts: async () => ((await get("alerts")).data as { alerts: AlertState[] }).alerts,
    setExporterPassword: async (password) => {
      for (const exporter of input.exporters) {
        writePasswordFile(exporter, password);
        const reloaded = await fetch(`http://${exporter.host.address}:${exporter.port}/-/reload`, { signal: AbortSignal.timeout(5000) });
        if (!reloaded.ok) throw new Error(`${exporter.name}: /-/reload answered ${reloaded.status}`);
      }
    },
    allExportersUp,
    query,
    pages,
  };
}

/**
 * Alerting for a cluster on this machine's loopback: an exporter per Redis and Sentinel process
 * (the stack's port allocation from a free range) and a Prometheus after the last port.
 */
export async function startLocalAlerting(
  config: StackConfig,
  topology: Topology<HostConfig>,
  exporterPassword: string,
  dir: string,
  processes: ProcessGroup,
  exporterTls?: ClientTlsFiles,
): Promise<Alerting> {
  const exporterCount = topology.dataNodes.length + topology.sentinels.length;
  const base = await freePortRange(exporterCount + 1);
  return startAlerting({
    config,
    exporters: placeExporters(topology, base),
    exporterPassword,
    dir,
    processes,
    prometheus: { address: "127.0.0.1", port: base + exporterCount },
    ...(exporterTls ? { exporterTls } : {}),
  });
}

/** How long a healthy cluster, evaluated every second, is watched: no alert may even be pending. */
export const HEALTHY_PHASE_MS = 2500;

/** How long a watch waits after its scenario's body for an expected alert: a few scrapes and evaluations. */
export const LATE_ALERT_GRACE_MS = 10000;

/** Watchdog fires always, by design (the dead man's switch's heartbeat): never a failure's signal. */
const failureSignals = (alerts: AlertState[]) => alerts.filter((alert) => alert.labels.severity !== "heartbeat");

/** The alerts pending or firing at any time over `ms`: a healthy cluster's must be none. */
export async function alertsDuring(alerting: Alerting, ms: number): Promise<string[]> {
  const seen = new Set<string>();
  for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) {
    for (const alert of failureSignals(await alerting.alerts())) seen.add(`${alert.labels.alertname}${alert.labels.instance ? `@${alert.labels.instance}` : ""}`);
  }
  return [...seen].sort();
}

/** Every alert that was pending or firing while it ran, with when each was first seen so. */
export class AlertWatch {
  private readonly first = new Map<string, { pendingAt?: number; firingAt?: number }>();
  private running = true;
  private readonly loop: Promise<void>;
  readonly startedAt = Date.now();

  constructor(private readonly alerting: Alerting) {
    this.loop = this.poll();
  }

  private async poll(): Promise<void> {
    while (this.running) {
      const alerts = await this.alerting.alerts().catch(() => [] as AlertState[]);
      for (const alert of failureSignals(alerts)) {
        const entry = this.first.get(alert.labels.alertname) ?? {};
        entry.pendingAt ??= Date.now();
        if (alert.state === "firing") entry.firingAt ??= Date.now();
        this.first.set(alert.labels.alertname, entry);
      }
      await sleep(250);
    }
  }

  /** When the watch first saw `name` pending (or firing), waiting for it at most `timeoutMs`; the watch goes on. */
  async firstSeen(name: string, state: "pending" | "firing", timeoutMs: number): Promise<number | undefined> {
    const at = () => (state === "firing" ? this.first.get(name)?.firingAt : this.first.get(name)?.pendingAt);
    for (const end = Date.now() + timeoutMs; Date.now() < end && at() === undefined;) await sleep(250);
    return at();
  }

  /** Waits until every alert in `names` was seen, or `timeoutMs` in all; the watch goes on. */
  async seen(names: string[], timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (const name of names) await this.firstSeen(name, "pending", Math.max(0, end - Date.now()));
  }

  /**
   * Stops watching once every alert in `names` was seen, or after `graceMs`: a body may end as
   * soon as writes resume, a scrape and an evaluation before the alert its failure raised.
   */
  async stop(names: string[] = [], graceMs = 0): Promise<void> {
    await this.seen(names, graceMs);
    this.running = false;
    await this.loop;
  }

  /** The figures and failures of a scenario's expected alerts against what was seen. */
  verdict(expected: ScenarioAlerts): { figures: Record<string, Figure>; failures: string[] } {
    const raised = [...this.first.keys()].sort();
    const firedPages = raised.filter((name) => this.first.get(name)!.firingAt !== undefined && this.alerting.pages.includes(name));
    const allowedPages = new Set([...expected.raises, ...(expected.alsoPages ?? [])]);
    const after = (at: number) => `${Math.round((at - this.startedAt) / 100) / 10}s`;
    return {
      figures: {
        alerts_raised:
          raised
            .map((name) => {
              const { pendingAt, firingAt } = this.first.get(name)!;
              return `${name}(${firingAt !== undefined ? `firing ${after(firingAt)}` : `pending ${after(pendingAt!)}`})`;
            })
            .join(" ") || "none",
      },
      failures: [
        ...expected.raises.filter((name) => !this.first.has(name)).map((name) => `the failure never raised ${name} on the real Prometheus`),
        ...firedPages.filter((name) => !allowedPages.has(name)).map((name) => `page ${name} fired, which this failure must not page`),
      ],
    };
  }
}

/**
 * The scenario's result with its alerts judged: a healthy phase that raised anything, an
 * expected alert never raised, or a page fired that the failure must not page, fails it.
 */
function judgeAlerts<T extends Omit<DrillResult, "scenario" | "runbook">>(result: T, healthy: string[] | { notMeasuredBecause: string }, watch: AlertWatch, expected: ScenarioAlerts): T {
  const verdict = watch.verdict(expected);
  const measured = Array.isArray(healthy);
  const failures = [...(measured && healthy.length > 0 ? [`the healthy cluster raised ${healthy.join(", ")}`] : []), ...verdict.failures];
  return {
    ...result,
    passed: result.passed && failures.length === 0,
    failures: [...result.failures, ...failures],
    figures: { ...result.figures, alerts_in_healthy_phase: measured ? healthy.join(" ") || "none" : `n/a (${healthy.notMeasuredBecause})`, ...verdict.figures },
  };
}

/**
 * A scenario's alert check over its whole run: the healthy phase, measured at once, then a watch
 * until judge() (or stop(), on the way out of a failed run).
 */
export class AlertCheck {
  private constructor(
    readonly alerting: Alerting,
    private readonly expected: ScenarioAlerts,
    private readonly healthy: string[] | { notMeasuredBecause: string },
    private readonly watch: AlertWatch,
  ) {}

  static async begin(alerting: Alerting, expected: ScenarioAlerts): Promise<AlertCheck> {
    const healthy = await alertsDuring(alerting, HEALTHY_PHASE_MS);
    return new AlertCheck(alerting, expected, healthy, new AlertWatch(alerting));
  }

  /** The watch at once, for a failure that lands before the cluster has a healthy phase to measure. */
  static withoutHealthyPhase(alerting: Alerting, expected: ScenarioAlerts, because: string): AlertCheck {
    return new AlertCheck(alerting, expected, { notMeasuredBecause: because }, new AlertWatch(alerting));
  }

  /** begin() on a cluster on this machine's loopback (startLocalAlerting); none without expected alerts. */
  static async onLoopback(
    expected: ScenarioAlerts | undefined,
    config: StackConfig,
    topology: Topology<HostConfig>,
    exporterPassword: string,
    ws: Workspace,
    exporterTls?: ClientTlsFiles,
  ): Promise<AlertCheck | undefined> {
    if (!expected) return undefined;
    return AlertCheck.begin(await startLocalAlerting(config, topology, exporterPassword, ws.tempDir("alerting"), ws.processes, exporterTls), expected);
  }

  /** When the failure's `name` was first seen pending (or firing), waiting for it at most `timeoutMs`. */
  firstSeen(name: string, state: "pending" | "firing", timeoutMs: number): Promise<number | undefined> {
    return this.watch.firstSeen(name, state, timeoutMs);
  }

  /**
   * Holds a failure until its expected alerts were raised, at most `timeoutMs`: for a failure the
   * body ends on its own (a restart back to normal), which must last a few scrapes to be seen.
   */
  untilRaised(timeoutMs: number): Promise<void> {
    return this.watch.seen(this.expected.raises, timeoutMs);
  }

  /** Waits (a grace) for the expected alerts still unseen, then judges the result. */
  async judge<T extends Omit<DrillResult, "scenario" | "runbook">>(result: T): Promise<T> {
    await this.watch.stop(this.expected.raises, LATE_ALERT_GRACE_MS);
    return judgeAlerts(result, this.healthy, this.watch, this.expected);
  }

  /** judge() alone: the alerts' figures and failures, for a part of a run judged apart. */
  verdict(): Promise<{ figures: Record<string, Figure>; failures: string[] }> {
    return this.judge({ passed: true, failures: [], figures: {} });
  }

  stop(): Promise<void> {
    return this.watch.stop();
  }
}
