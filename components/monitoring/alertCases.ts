// promtool unit tests for every generated alert, shipped beside the rule files (synth writes them
// to files/monitoring-prometheus-container/etc/prometheus/rules/*.test.yml; `promtool test rules`
// runs them there, and the promtool gate runs them before Prometheus is replaced).
//
// Each case starts from a healthy cluster: every series the rules read, labelled exactly as
// prometheus.yml's scrape jobs label them (scrapeLabels), for every node, sentinel, host and the
// API. A case then changes some series (the fault) and states which alerts fire when, with their
// labels and rendered annotations (runbook and dashboard links included), and which other
// page-level alerts the fault legitimately raises; every other page must stay silent.
import { BACKUP_METRICS } from "../backup/backupJob";
import type { SloMetricsConfig } from "../config/types";
import { P95_BY_ROUTE } from "./apiRules";
import { promDuration, tooOldForSeconds, type BackupJobTarget } from "./backupRules";
import { CERTIFICATE_EXPIRY_DAYS, CERTIFICATE_EXPIRY_METRIC, DAY_SECONDS, DECLARED_CERTIFICATE_EXPIRY_METRIC } from "./certificateRules";
import {
  ALERTMANAGER_JOB,
  API_JOB,
  CERTIFICATE_PROBE_JOB,
  GRAFANA_JOB,
  NODE_JOB,
  PROMETHEUS_JOB,
  REDIS_JOB,
  RULE_FILE_NAMES,
  SENTINEL_JOB,
  scrapeLabels,
  type PrometheusInput,
  type RuleFamily,
  type ScrapeTarget,
} from "./prometheusConfig";
import { FLAPPING_MASTER_CHANGES, REDIS_ADDRESS_LABEL, type RedisRulesInput } from "./redisRules";
import type { AlertRule, RuleFile } from "./runbooks";
import { formatLe } from "./sloRules";

export interface RuleTestInput {
  redis: RedisRulesInput;
  scrape: PrometheusInput;
  slo: SloMetricsConfig;
  dataHosts: string[];
  masterName: string;
  /** The backup job, when enabled: its metrics are part of the healthy cluster. */
  backup?: BackupJobTarget;
}

export type Labels = Record<string, string>;

export interface Series {
  metric: string;
  labels: Labels;
  values: string;
}

export interface Expectation {
  at: string;
  /** The firing alerts: the expression's labels (the rule's own labels are added), and $value when a template uses it. */
  alerts: Array<{ labels: Labels; value?: number }>;
}

export interface AlertCase {
  family: RuleFamily;
  alert: string;
  /** What happens, and why the alert should (or should not) fire. */
  name: string;
  /** Series replacing the healthy cluster's (same metric and labels) or added to them. */
  series: Series[];
  /** Healthy series that the fault removes (a process that is gone has no series). */
  drop?: (s: Series) => boolean;
  expectations: Expectation[];
  /** Other page-level alerts this fault raises too, knowingly; every other page must stay silent. */
  alsoPages?: string[];
  /** Seconds between input samples (default 15; the hours-long SLO cases use 60). */
  intervalSeconds?: number;
}

const STEP_SECONDS = 15;

export function seconds(duration: string): number {
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+)(h|m|s)/g)) total += Number(n) * { h: 3600, m: 60, s: 1 }[unit as "h" | "m" | "s"];
  return total;
}

/** n samples of a constant. */
export const steady = (value: number | string, n: number) => `${value}x${n - 1}`;
/** n samples of a counter growing by `step` per sample. */
export const counter = (start: number, step: number, n: number) => `${start}+${step}x${n - 1}`;
const counterAt = counter;
/** `first` for k samples, then `then` up to n samples. */
export const change = (first: number | string, k: number, then: number | string, n: number) => `${first}x${k - 1} ${then}x${n - k - 1}`;
/** Present (`first`) for k samples, then gone: a stale marker, as when a target stops exposing it. */
export const gone = (first: number | string, k: number, n: number) => `${first}x${k - 1} stale _x${Math.max(0, n - k - 2)}`;
/** Absent for k samples, then `then` up to n samples. */
export const appears = (k: number, then: number | string, n: number) => `_x${k - 1} ${then}x${n - k - 1}`;
/** Samples in a duration (one every 15 s). */
export const samplesIn = (duration: string) => seconds(duration) / STEP_SECONDS;
/**
 * n samples of the newest snapshot's time for a job storing one every `periodSeconds` from time 0
 * (the value at time t is the last multiple of the period): its age is never a full period.
 */
export function snapshotEvery(periodSeconds: number, n: number, intervalSeconds = STEP_SECONDS): string {
  const runs: Array<{ value: number; count: number }> = [];
  for (let k = 0; k < n; k++) {
    const value = Math.floor((k * intervalSeconds) / periodSeconds) * periodSeconds;
    const last = runs[runs.length - 1];
    if (last?.value === value) last.count++;
    else runs.push({ value, count: 1 });
  }
  return runs.map((r) => `${r.value}x${r.count - 1}`).join(" ");
}

const key = (s: { metric: string; labels: Labels }) => `${s.metric}${JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => a.localeCompare(b)))}`;

export function seriesText(s: Series): { series: string; values: string } {
  return {
    series: `${s.metric}{${Object.entries(s.labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(",")}}`,
    values: s.values,
  };
}

/** Everything the rules and dashboards read, healthy, for n samples `intervalSeconds` apart. */
export function healthyCluster(input: RuleTestInput, n: number, intervalSeconds = STEP_SECONDS): Series[] {
  const counter = (start: number, step: number, count: number) => counterAt(start, (step * intervalSeconds) / STEP_SECONDS, count);
  const { scrape, redis, slo } = input;
  const sizing = redis.sizing;
  const out: Series[] = [];
  const add = (metric: string, labels: Labels, values: string) => out.push({ metric, labels, values });
  const up = (job: string, t: ScrapeTarget) => add("up", scrapeLabels(job, t), steady(1, n));

  scrape.redisExporters.forEach((t, i) => {
    const l = scrapeLabels(REDIS_JOB, t);
    const master = i === 0;
    up(REDIS_JOB, t);
    add("redis_up", l, steady(1, n));
    add("redis_instance_info", { ...l, role: master ? "master" : "slave", redis_version: "7.0.15", redis_mode: "standalone" }, steady(1, n));
    add("redis_memory_max_bytes", l, steady(sizing.maxmemoryBytes, n));
    add("redis_memory_used_bytes", l, steady(Math.floor(sizing.maxmemoryBytes * 0.4), n));
    add("redis_memory_used_rss_bytes", l, steady(Math.floor(sizing.maxmemoryBytes * 0.5), n));
    add("redis_evicted_keys_total", l, steady(0, n));
    add("redis_rejected_connections_total", l, steady(0, n));
    add("redis_rdb_last_bgsave_status", l, steady(1, n));
    add("redis_aof_last_write_status", l, steady(1, n));
    add("redis_aof_last_bgrewrite_status", l, steady(1, n));
    add("redis_aof_rewrite_in_progress", l, steady(0, n));
    add("redis_aof_current_size_bytes", l, steady(Math.floor(sizing.maxmemoryBytes * 0.6), n));
    add("redis_connected_clients", l, steady(master ? 40 : 4, n));
    add("redis_master_repl_offset", l, counter(HEALTHY_MASTER_OFFSET, 15_000, n));
    add("redis_uptime_in_seconds", l, counter(86_400, STEP_SECONDS, n));
    add("redis_commands_processed_total", l, counter(0, master ? 30_000 : 15_000, n));
    add("redis_keyspace_hits_total", l, counter(0, master ? 9_000 : 0, n));
    add("redis_keyspace_misses_total", l, counter(0, master ? 1_000 : 0, n));
    add("redis_commands_total", { ...l, cmd: "get" }, counter(0, 10_000, n));
    add("redis_commands_duration_seconds_total", { ...l, cmd: "get" }, counter(0, 0.02, n));
    add("redis_net_input_bytes_total", l, counter(0, 1_500_000, n));
    add("redis_net_output_bytes_total", l, counter(0, 3_000_000, n));
    add("redis_mem_fragmentation_ratio", l, steady(1.2, n));
    add("redis_db_keys", { ...l, db: "db0" }, steady(100_000, n));
    add("redis_db_keys_expiring", { ...l, db: "db0" }, steady(80_000, n));
    if (master) {
      add("redis_connected_slaves", l, steady(redis.replicas, n));
      scrape.redisExporters.slice(1).forEach((replica) => {
        add("redis_connected_slave_offset_bytes", replicaLabels(l, replica), counter(HEALTHY_MASTER_OFFSET - 1_000, 15_000, n));
        add("redis_connected_slave_lag_seconds", replicaLabels(l, replica), steady(0, n));
      });
    } else {
      add("redis_connected_slaves", l, steady(0, n));
      add("redis_master_link_up", l, steady(1, n));
      add("redis_slave_info", masterOf(l, scrape.redisExporters[0]), steady(1, n));
    }
  });
  const masterAddress = scrape.redisExporters[0]?.labels?.[REDIS_ADDRESS_LABEL] ?? "";
  scrape.sentinelExporters.forEach((t) => {
    const l = scrapeLabels(SENTINEL_JOB, t);
    up(SENTINEL_JOB, t);
    add("redis_up", l, steady(1, n));
    add("redis_sentinel_master_status", { ...l, master_name: input.masterName, master_address: masterAddress, master_status: "ok" }, steady(1, n));
    add("redis_sentinel_master_ok_sentinels", { ...l, master_name: input.masterName, master_address: masterAddress }, steady(scrape.sentinelExporters.length, n));
    // Each sentinel counts itself and the peers it knows (redis_exporter, measured on 7.0.15).
    add("redis_sentinel_master_sentinels", { ...l, master_name: input.masterName, master_address: masterAddress }, steady(scrape.sentinelExporters.length, n));
    add("redis_sentinel_tilt", l, steady(0, n));
    add("redis_sentinel_masters", l, steady(1, n));
    add("redis_sentinel_master_setting_ckquorum", { ...l, master_name: input.masterName, master_address: masterAddress }, steady(redis.sentinel?.quorum ?? 2, n));
    add("redis_uptime_in_seconds", l, counter(86_400, STEP_SECONDS, n));
  });
  scrape.nodeExporters.forEach((t) => {
    const l = scrapeLabels(NODE_JOB, t);
    up(NODE_JOB, t);
    add("node_filesystem_avail_bytes", { ...l, mountpoint: redis.dataMountpoint, fstype: "ext4", device: "/dev/vda1" }, steady(sizing.rewriteReserveBytes * redis.dataNodesPerHost * 8, n));
  });

  // Every TLS endpoint probed, its certificates 60 days from expiry.
  for (const t of scrape.certificateProbes?.targets ?? []) {
    const l = scrapeLabels(CERTIFICATE_PROBE_JOB, t);
    up(CERTIFICATE_PROBE_JOB, t);
    add("probe_success", l, steady(1, n));
    add(CERTIFICATE_EXPIRY_METRIC, l, steady(HEALTHY_CERTIFICATE_DAYS * DAY_SECONDS, n));
  }
  // With TLS on, every client certificate as the last up declared it: 60 days left (the textfile
  // collector on the monitoring host, whose node_exporter's labels it carries).
  const textfileNode = scrape.certificateProbes ? scrape.nodeExporters[0] : undefined;
  if (textfileNode) add(DECLARED_CERTIFICATE_EXPIRY_METRIC, { ...scrapeLabels(NODE_JOB, textfileNode), certificate: "client-app" }, steady(HEALTHY_CERTIFICATE_DAYS * DAY_SECONDS, n));

  // The backup job, running for a day, a snapshot every interval, every run a success.
  if (input.backup) {
    const { labels, intervalSeconds: period } = input.backup;
    add(BACKUP_METRICS.firstStart, labels, steady(-86_400, n));
    add(BACKUP_METRICS.lastSuccess, labels, snapshotEvery(period, n, intervalSeconds));
    add(BACKUP_METRICS.lastRunSuccess, labels, steady(1, n));
  }

  const api = apiTarget(scrape);
  up(API_JOB, api);
  for (const [method, route, status, perSample] of [
    ["GET", "/api/v1/tracks", "200", 150],
    ["POST", slo.paymentRoute, "201", 15],
    ["POST", "/api/v1/playlists", "201", 30],
  ] as const) {
    add(slo.requestsTotal, { ...scrapeLabels(API_JOB, api), [slo.methodLabel]: method, [slo.routeLabel]: route, [slo.statusLabel]: status }, counter(0, perSample, n));
  }
  for (const [method, route, perSample] of [
    ["GET", "/api/v1/tracks", 150],
    ["POST", "/api/v1/playlists", 30],
  ] as const) {
    // 90% under 100 ms, all but 0.2% under the latency threshold.
    for (const [le, share] of [
      ["0.1", 0.9],
      [formatLe(slo.latencyThresholdSeconds), 0.998],
      ["+Inf", 1],
    ] as const) {
      add(slo.durationBucket, { ...scrapeLabels(API_JOB, api), [slo.methodLabel]: method, [slo.routeLabel]: route, le }, counter(0, perSample * share, n));
    }
  }

  const self = (job: string, address: string) => ({ address, instance: job });
  up(PROMETHEUS_JOB, self(PROMETHEUS_JOB, scrape.prometheus));
  up(ALERTMANAGER_JOB, self(ALERTMANAGER_JOB, scrape.alertmanager));
  up(GRAFANA_JOB, self(GRAFANA_JOB, scrape.grafana));
  const prom = scrapeLabels(PROMETHEUS_JOB, self(PROMETHEUS_JOB, scrape.prometheus));
  const am = scrapeLabels(ALERTMANAGER_JOB, self(ALERTMANAGER_JOB, scrape.alertmanager));
  for (const file of Object.values(RULE_FILE_NAMES)) add("prometheus_rule_evaluation_failures_total", { ...prom, rule_group: `/etc/prometheus/rules/${file};main` }, steady(0, n));
  add("prometheus_config_last_reload_successful", prom, steady(1, n));
  add("prometheus_notifications_errors_total", { ...prom, alertmanager: `http://${scrape.alertmanager}/api/v2/alerts` }, steady(0, n));
  add("alertmanager_config_last_reload_successful", am, steady(1, n));
  for (const integration of ["slack", "pagerduty", "webhook"]) {
    add("alertmanager_notifications_total", { ...am, integration }, counter(0, 1, n));
    add("alertmanager_notifications_failed_total", { ...am, integration }, steady(0, n));
  }
  return out;
}

/** The master's replication offset at the first sample; each healthy replica acknowledges 1 kB behind it. */
const HEALTHY_MASTER_OFFSET = 10_000_000;

/** The labels of a replica's lines in its master's INFO replication, as redis_exporter exports them. */
export function replicaLabels(master: Labels, replica: ScrapeTarget): Labels {
  const [ip, port] = replica.labels![REDIS_ADDRESS_LABEL].split(":");
  return { ...master, slave_ip: ip, slave_port: port, slave_state: "online" };
}

/** The labels of a replica's master line (INFO replication), as redis_exporter exports redis_slave_info. */
export function masterOf(replica: Labels, master: ScrapeTarget): Labels {
  const [host, port] = master.labels![REDIS_ADDRESS_LABEL].split(":");
  return { ...replica, master_host: host, master_port: port, read_only: "1" };
}

export function apiTarget(scrape: PrometheusInput): ScrapeTarget {
  return scrape.api ?? { address: "api:8080", instance: "api" };
}

/** Applies a case to the healthy cluster: its series replace or extend, `drop` removes. */
export function caseSeries(input: RuleTestInput, c: AlertCase): Series[] {
  const interval = c.intervalSeconds ?? STEP_SECONDS;
  const n = Math.ceil(Math.max(...c.expectations.map((e) => seconds(e.at))) / interval) + 8;
  const replaced = new Set(c.series.map(key));
  return [...healthyCluster(input, n, interval).filter((s) => !replaced.has(key(s)) && !(c.drop?.(s) ?? false)), ...c.series];
}

// --- Annotation templates, rendered as Prometheus renders them for the expected alerts ---

/** Go's %v for a float64 (strconv 'g', shortest): 2 -> "2", 1e6 -> "1e+06", 214748364 -> "2.14748364e+08". */
export function goFloat(v: number): string {
  if (v === 0) return "0";
  const [mantissa, exponent] = v.toExponential().split("e");
  const exp = Number(exponent);
  if (exp < -4 || exp >= 21 || exp >= 6) return `${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return String(v);
}

/** Prometheus's humanize1024: %.4g of the value divided down by 1024 with ki, Mi, Gi... */
export function humanize1024(v: number): string {
  if (Math.abs(v) <= 1) return String(Number(v.toPrecision(4)));
  let prefix = "";
  for (const p of ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"]) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return `${String(Number(v.toPrecision(4)))}${prefix}`;
}

export function renderTemplate(template: string, labels: Labels, value: number | undefined, where: string): string {
  return template.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (_, expression: string) => {
    const label = /^\$labels\.(\w+)$/.exec(expression);
    if (label) return labels[label[1]] ?? "";
    if (value === undefined) throw new Error(`${where}: the template uses $value; give the expected value`);
    if (expression === "$value") return goFloat(value);
    if (expression === "$value | humanize1024") return humanize1024(value);
    throw new Error(`${where}: no renderer for {{ ${expression} }}`);
  });
}

function alertsByName(rules: Record<RuleFamily, RuleFile>): Map<string, AlertRule> {
  const all = Object.values(rules)
    .flatMap((f) => f.groups.flatMap((g) => g.rules))
    .filter((r): r is AlertRule => "alert" in r);
  return new Map(all.map((a) => [a.alert, a]));
}

/**
 * promtool's unit-test files, by file name: `<family>.test.yml` per rule family, and
 * `<family>-hours.test.yml` for a family's hours-long cases, evaluated once a minute (at 15 s, a
 * 6 h window over 7 h of samples takes promtool about 15 s per case). Each file loads every rule
 * file: the "no other page" check spans them.
 */
export function renderRuleTests(rules: Record<RuleFamily, RuleFile>, input: RuleTestInput, cases = alertCases(input)): Record<string, unknown> {
  const alerts = alertsByName(rules);
  const pages = [...alerts.values()].filter((a) => a.labels.severity === "page").map((a) => a.alert);
  const families = Object.keys(RULE_FILE_NAMES) as RuleFamily[];
  const test = (c: AlertCase) => {
    const rule = alerts.get(c.alert)!;
    const quiet = pages.filter((p) => p !== c.alert && !(c.alsoPages ?? []).includes(p));
    return {
      name: `${c.alert}: ${c.name}`,
      interval: `${c.intervalSeconds ?? STEP_SECONDS}s`,
      input_series: caseSeries(input, c).map(seriesText),
      alert_rule_test: c.expectations.flatMap((e) => [
        {
          eval_time: e.at,
          alertname: c.alert,
          exp_alerts: e.alerts.map((a) => {
            const labels = { ...a.labels, ...rule.labels };
            const where = `${c.alert} (${c.name}) at ${e.at}`;
            return {
              exp_labels: labels,
              exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, renderTemplate(v, labels, a.value, where)])),
            };
          }),
        },
        // No other page with this fault, at every checked time.
        ...quiet.map((alertname) => ({ eval_time: e.at, alertname, exp_alerts: [] })),
      ]),
    };
  };
  const files: Record<string, unknown> = {};
  for (const family of families) {
    const own = cases.filter((c) => c.family === family && alerts.has(c.alert));
    for (const interval of [...new Set(own.map((c) => c.intervalSeconds ?? STEP_SECONDS))]) {
      const name = `${family}${interval === STEP_SECONDS || family === "slo" ? "" : "-hours"}.test.yml`;
      files[name] = {
        rule_files: families.map((x) => RULE_FILE_NAMES[x]),
        evaluation_interval: `${interval}s`,
        tests: own.filter((c) => (c.intervalSeconds ?? STEP_SECONDS) === interval).map(test),
      };
    }
  }
  return files;
}

// --- The cases ---

export function alertCases(input: RuleTestInput): AlertCase[] {
  return [...redisCases(input), ...sloCases(input), ...apiCases(input), ...monitoringCases(input), ...backupCases(input), ...certificateCases(input)];
}

function redisCases(input: RuleTestInput): AlertCase[] {
  const { scrape, redis } = input;
  const sizing = redis.sizing;
  const node = (i: number) => scrapeLabels(REDIS_JOB, scrape.redisExporters[i]);
  const address = (i: number) => scrape.redisExporters[i].labels![REDIS_ADDRESS_LABEL];
  const info = (i: number, role: string) => ({ ...node(i), role, redis_version: "7.0.15", redis_mode: "standalone" });
  const isInfo = (i: number) => (s: Series) => s.metric === "redis_instance_info" && s.labels.instance === node(i).instance;
  const sentinel = (i: number) => scrapeLabels(SENTINEL_JOB, scrape.sentinelExporters[i]);
  const sentinels = scrape.sentinelExporters.map((_, i) => i);
  const masterName = input.masterName;
  const named = (i: number, j: number) => ({ ...sentinel(i), master_name: masterName, master_address: address(j) });
  const fs = (host: string) => ({
    ...scrapeLabels(
      NODE_JOB,
      scrape.nodeExporters.find((t) => t.instance === host)!,
    ),
    mountpoint: redis.dataMountpoint,
    fstype: "ext4",
    device: "/dev/vda1",
  });
  const dataHost = input.dataHosts[0];
  const volumeFloor = sizing.rewriteReserveBytes * redis.dataNodesPerHost;
  const s = (metric: string, labels: Labels, values: string): Series => ({ metric, labels, values });
  const quorum = redis.sentinel?.quorum ?? 2;
  const n = samplesIn;
  const c = (x: Omit<AlertCase, "family">): AlertCase => ({ family: "redis", ...x });
  const victim = redis.replicas > 0 ? 1 : 0;
  const last = scrape.redisExporters.length - 1;
  // The host of the last data node loses power: every target on it stops answering.
  const lostHost = scrape.redisExporters[last].labels!.host;
  const scrapedOn = (host: string) => [
    ...scrape.redisExporters.filter((t) => t.labels!.host === host).map((t) => scrapeLabels(REDIS_JOB, t)),
    ...scrape.sentinelExporters.filter((t) => t.labels!.host === host).map((t) => scrapeLabels(SENTINEL_JOB, t)),
    ...scrape.nodeExporters.filter((t) => t.labels!.host === host).map((t) => scrapeLabels(NODE_JOB, t)),
  ];
  const sentinelsLeft = scrape.sentinelExporters.filter((t) => t.labels!.host !== lostHost).length;
  // Pages of the host's own processes, muted by Alertmanager's inhibition (tested there), and the
  // cluster-wide pages when the host held the master or too many sentinels.
  const pagesOfLostHost = [
    "RedisUnreachable",
    ...(scrape.redisExporters[0].labels!.host === lostHost ? ["RedisNoMaster"] : []),
    ...(redis.sentinel && sentinelsLeft < quorum ? ["SentinelsBelowQuorumReachable"] : []),
  ];
  const replicaOf = (i: number) => replicaLabels(node(0), scrape.redisExporters[i]);
  /**
   * The master moves from redis-0 to redis-1 and back, `changes` times, one change every 5
   * minutes; the sentinels name the master of the moment and the replica counts follow.
   */
  const flapping = (changes: number, total: number): Pick<AlertCase, "series" | "drop"> => {
    const masterAt = (k: number) => Math.min(changes, Math.floor(k / n("5m"))) % 2;
    const is = (i: number) => (k: number) => masterAt(k) === i;
    const isNot = (i: number) => (k: number) => masterAt(k) !== i;
    return {
      series: [0, 1].flatMap((i) => [
        s("redis_instance_info", info(i, "master"), presence(is(i), 1, total)),
        s("redis_instance_info", info(i, "slave"), presence(isNot(i), 1, total)),
        s("redis_connected_slaves", node(i), Array.from({ length: total }, (_, k) => (is(i)(k) ? redis.replicas : 0)).join(" ")),
        ...sentinels.map((j) => s("redis_sentinel_master_status", { ...named(j, i), master_status: "ok" }, presence(is(i), 1, total))),
        ...sentinels.map((j) => s("redis_sentinel_master_ok_sentinels", named(j, i), presence(is(i), sentinels.length, total))),
      ]),
      drop: (x) => isInfo(0)(x) || isInfo(1)(x) || x.metric === "redis_sentinel_master_status" || x.metric === "redis_sentinel_master_ok_sentinels",
    };
  };
  /** One token per sample: the value while `present(k)`, a stale marker when it goes, nothing while absent. */
  const presence = (present: (k: number) => boolean, value: number, total: number) =>
    Array.from({ length: total }, (_, k) => (present(k) ? String(value) : k > 0 && present(k - 1) ? "stale" : "_")).join(" ");
  /**
   * Sentinel moves the master from redis-0 to redis-1: the sentinels name redis-1 from sample
   * `namedAt`, redis-0 stops being master at `oldAt` (a replica again, or gone), redis-1 reports
   * master from `newAt` with the remaining replicas connected.
   */
  const failover = (o: { namedAt: number; oldAt: number; newAt: number; old: "slave" | "gone"; total: number }): Pick<AlertCase, "series" | "drop"> => ({
    series: [
      ...sentinels.map((i) => s("redis_sentinel_master_status", { ...named(i, 0), master_status: "ok" }, gone(1, o.namedAt, o.total))),
      ...sentinels.map((i) => s("redis_sentinel_master_status", { ...named(i, 1), master_status: "ok" }, appears(o.namedAt, 1, o.total))),
      s("redis_instance_info", info(0, "master"), gone(1, o.oldAt, o.total)),
      ...(o.old === "slave" ? [s("redis_instance_info", info(0, "slave"), appears(o.oldAt, 1, o.total))] : []),
      s("redis_connected_slaves", node(0), o.old === "slave" ? change(redis.replicas, o.oldAt, 0, o.total) : gone(redis.replicas, o.oldAt, o.total)),
      s("redis_instance_info", info(1, "slave"), gone(1, o.newAt, o.total)),
      s("redis_instance_info", info(1, "master"), appears(o.newAt, 1, o.total)),
      s("redis_connected_slaves", node(1), change(0, o.newAt, o.old === "slave" ? redis.replicas : redis.replicas - 1, o.total)),
    ],
    drop: (x) => isInfo(0)(x) || isInfo(1)(x),
  });

  const cases: AlertCase[] = [
    c({
      alert: "RedisUnreachable",
      name: "a replica stops answering: pages within 2 minutes, the master carries on with one replica (a ticket)",
      series: [s("redis_up", node(victim), change(1, 8, 0, n("5m"))), ...(victim > 0 ? [s("redis_connected_slaves", node(0), change(redis.replicas, 8, redis.replicas - 1, n("5m")))] : [])],
      drop: (x) => x.labels.instance === node(victim).instance && x.metric !== "up" && x.metric !== "redis_up",
      expectations: [
        { at: "2m", alerts: [] },
        { at: "3m59s", alerts: [{ labels: node(victim) }] },
      ],
    }),
    c({
      alert: "RedisUnreachable",
      name: "the exporter's scrape target is down",
      series: [s("up", node(last), change(1, 4, 0, n("4m")))],
      drop: (x) => x.labels.instance === node(last).instance && x.metric !== "up",
      expectations: [{ at: "3m", alerts: [{ labels: node(last) }] }],
    }),
    c({
      alert: "RedisUnreachable",
      name: "healthy: a 30 s blip is not a page",
      series: [s("redis_up", node(victim), `1x7 0x1 1x${n("5m")}`)],
      expectations: [
        { at: "1m", alerts: [] },
        { at: "4m", alerts: [] },
      ],
    }),
    c({
      alert: "RedisDownPostmortemRequired",
      name: "a replica down for more than 10 minutes: the postmortem ticket beside the page",
      series: [s("redis_up", node(victim), steady(0, n("12m")))],
      alsoPages: ["RedisUnreachable"],
      expectations: [
        { at: "9m", alerts: [] },
        { at: "11m", alerts: [{ labels: node(victim) }] },
      ],
    }),
    c({
      alert: "RedisDownPostmortemRequired",
      name: "healthy: down 5 minutes then back, no postmortem ticket",
      series: [s("redis_up", node(victim), change(0, n("5m"), 1, n("12m")))],
      alsoPages: ["RedisUnreachable"],
      expectations: [{ at: "11m", alerts: [] }],
    }),
    c({
      alert: "HostUnreachable",
      name: `host ${lostHost} goes down: every exporter on it fails its scrape, one page for the host`,
      series: scrapedOn(lostHost).map((t) => s("up", t, change(1, 4, 0, n("4m")))),
      drop: (x) => x.labels.host === lostHost && x.metric !== "up",
      alsoPages: pagesOfLostHost,
      expectations: [
        { at: "30s", alerts: [] },
        { at: "3m", alerts: [{ labels: { host: lostHost } }] },
      ],
    }),
    c({
      alert: "HostUnreachable",
      name: `healthy: only node_exporter on ${lostHost} is down, its Redis processes answer (a ticket)`,
      series: [
        s(
          "up",
          scrapeLabels(
            NODE_JOB,
            scrape.nodeExporters.find((t) => t.instance === lostHost)!,
          ),
          steady(0, n("4m")),
        ),
      ],
      drop: (x) => x.labels.job === NODE_JOB && x.labels.host === lostHost && x.metric !== "up",
      expectations: [{ at: "3m", alerts: [] }],
    }),
    c({
      alert: "RedisRestartLoop",
      name: "a replica crash-loops: its uptime falls back to 0 three times in 15 minutes",
      series: [s("redis_uptime_in_seconds", node(last), `86400+15x19 5+15x19 5+15x19 5+15x${n("10m")}`)],
      alsoPages: ["RedisUnreachable"],
      expectations: [
        { at: "14m", alerts: [] },
        { at: "15m", alerts: [{ labels: node(last), value: 3 }] },
      ],
    }),
    c({
      alert: "RedisRestartLoop",
      name: "healthy: one planned restart (a rolling upgrade) and one crash in 30 minutes",
      series: [s("redis_uptime_in_seconds", node(last), `86400+15x19 5+15x39 5+15x${n("10m")}`)],
      expectations: [
        { at: "15m", alerts: [] },
        { at: "20m", alerts: [] },
      ],
    }),
    c({
      alert: "RedisRssNearContainerLimit",
      name: "RSS above 90% of the limit for 2 minutes",
      series: [s("redis_memory_used_rss_bytes", node(0), steady(sizing.rssDangerBytes + 1024, n("4m")))],
      expectations: [{ at: "3m", alerts: [{ labels: node(0), value: sizing.rssDangerBytes + 1024 }] }],
    }),
    c({
      alert: "RedisRssNearContainerLimit",
      name: "healthy: RSS at 2 x maxmemory (a full fork) stays below the threshold",
      series: [s("redis_memory_used_rss_bytes", node(0), steady(2 * sizing.maxmemoryBytes, n("4m")))],
      expectations: [{ at: "4m", alerts: [] }],
    }),
    c({
      alert: "RedisMaxmemoryDrift",
      name: "someone CONFIG SET maxmemory to twice the declared value",
      series: [s("redis_memory_max_bytes", node(0), steady(sizing.maxmemoryBytes * 2, n("7m")))],
      expectations: [{ at: "6m", alerts: [{ labels: node(0), value: sizing.maxmemoryBytes * 2 }] }],
    }),
    c({
      alert: "RedisMaxmemoryDrift",
      name: "healthy: the declared maxmemory on every node",
      series: [],
      expectations: [{ at: "6m", alerts: [] }],
    }),
    c({
      alert: "RedisMemoryNearMaxmemory",
      name: "dataset at 97% of maxmemory for 15 minutes",
      series: [s("redis_memory_used_bytes", node(0), steady(Math.floor(sizing.maxmemoryBytes * 0.97), n("17m")))],
      expectations: [
        { at: "10m", alerts: [] },
        { at: "16m", alerts: [{ labels: node(0) }] },
      ],
    }),
    c({
      alert: "RedisMemoryNearMaxmemory",
      name: "healthy: dataset at 90% of maxmemory",
      series: [s("redis_memory_used_bytes", node(0), steady(Math.floor(sizing.maxmemoryBytes * 0.9), n("17m")))],
      expectations: [{ at: "16m", alerts: [] }],
    }),
    c({
      alert: "RedisEvictionsSpiking",
      name: "200 evictions/s for over 10 minutes",
      series: [s("redis_evicted_keys_total", node(0), counter(0, 3000, n("18m")))],
      expectations: [{ at: "17m", alerts: [{ labels: node(0) }] }],
    }),
    c({
      alert: "RedisEvictionsSpiking",
      name: "healthy: 10 evictions/s",
      series: [s("redis_evicted_keys_total", node(0), counter(0, 150, n("18m")))],
      expectations: [{ at: "17m", alerts: [] }],
    }),
    c({
      alert: "RedisRejectedConnections",
      name: "connections rejected at maxclients",
      series: [s("redis_rejected_connections_total", node(0), change(0, 5, 5, n("3m")))],
      expectations: [{ at: "2m", alerts: [{ labels: node(0) }] }],
    }),
    c({
      alert: "RedisRejectedConnections",
      name: "healthy: rejections more than 5 minutes ago are forgotten",
      series: [s("redis_rejected_connections_total", node(0), change(0, 5, 5, n("12m")))],
      expectations: [{ at: "11m", alerts: [] }],
    }),
    c({
      alert: "RedisAuthFailures",
      name: "a client keeps presenting a retired password (a failed AUTH every 15 s)",
      series: [s("redis_commands_failed_calls_total", { ...node(0), cmd: "auth" }, counter(0, 1, n("7m")))],
      // Over 2 in 2 minutes from about 45s, then its `for: 4m`.
      expectations: [
        { at: "4m", alerts: [] },
        { at: "6m", alerts: [{ labels: { ...node(0), cmd: "auth" } }] },
      ],
    }),
    // Sentinels have exporters only when Sentinel is on.
    ...(scrape.sentinelExporters.length > 0
      ? [
          c({
            alert: "RedisAuthFailures",
            name: "a sentinel keeps refusing a retired password: the same page",
            series: [s("redis_commands_failed_calls_total", { ...sentinel(0), cmd: "auth" }, counter(0, 1, n("7m")))],
            expectations: [{ at: "6m", alerts: [{ labels: { ...sentinel(0), cmd: "auth" } }] }],
          }),
        ]
      : []),
    c({
      alert: "RedisAuthFailures",
      name: "healthy: a burst of 20 failed AUTHs within a minute, then none (a client that reloaded its password)",
      series: [s("redis_commands_failed_calls_total", { ...node(0), cmd: "auth" }, `0x3 5 10 15 20x${n("7m") - 8}`)],
      expectations: [
        { at: "3m", alerts: [] },
        { at: "6m", alerts: [] },
      ],
    }),
    c({
      alert: "RedisAuthFailures",
      name: "healthy: three stray failed AUTHs, and failed GETs do not count",
      series: [
        s("redis_commands_failed_calls_total", { ...node(0), cmd: "auth" }, change(0, 5, 3, n("7m"))),
        s("redis_commands_failed_calls_total", { ...node(0), cmd: "get" }, counter(0, 10, n("7m"))),
      ],
      expectations: [{ at: "6m", alerts: [] }],
    }),
    c({
      alert: "RedisRdbSaveFailed",
      name: "the last bgsave failed",
      series: [s("redis_rdb_last_bgsave_status", node(0), change(1, 5, 0, n("2m")))],
      expectations: [
        { at: "30s", alerts: [] },
        { at: "1m30s", alerts: [{ labels: node(0) }] },
      ],
    }),
    c({
      alert: "RedisRdbSaveFailed",
      name: "healthy: a failed save followed by a good one",
      series: [s("redis_rdb_last_bgsave_status", node(0), `1x4 0x3 1x${n("3m")}`)],
      expectations: [{ at: "2m30s", alerts: [] }],
    }),
    c({
      alert: "RedisAofWriteFailed",
      name: "AOF write failed (disk full)",
      series: [s("redis_aof_last_write_status", node(0), steady(0, n("1m")))],
      expectations: [{ at: "30s", alerts: [{ labels: node(0) }] }],
    }),
    c({
      alert: "RedisAofWriteFailed",
      name: "healthy: a rewrite in progress with good statuses",
      series: [s("redis_aof_rewrite_in_progress", node(0), steady(1, n("2m")))],
      expectations: [{ at: "1m", alerts: [] }],
    }),
    c({
      alert: "RedisAofWriteFailed",
      name: "healthy for this page: a failed rewrite refuses no write (its ticket fires instead)",
      series: [s("redis_aof_last_bgrewrite_status", node(0), steady(0, n("12m")))],
      expectations: [{ at: "11m", alerts: [] }],
    }),
    c({
      alert: "RedisAofRewriteFailed",
      name: "the AOF rewrite keeps failing (its fork child killed) for 10 minutes",
      series: [s("redis_aof_last_bgrewrite_status", node(0), change(1, 5, 0, n("13m")))],
      expectations: [
        { at: "5m", alerts: [] },
        { at: "12m", alerts: [{ labels: node(0) }] },
      ],
    }),
    c({
      alert: "RedisAofRewriteFailed",
      name: "healthy: one failed rewrite, then a good one 3 minutes later",
      series: [s("redis_aof_last_bgrewrite_status", node(0), `1x4 0x11 1x${n("13m") - 17}`)],
      expectations: [{ at: "12m", alerts: [] }],
    }),
    c({
      alert: "RedisDataVolumeLow",
      name: "less free space than one AOF rewrite needs",
      series: [s("node_filesystem_avail_bytes", fs(dataHost), steady(volumeFloor - 1, n("7m")))],
      expectations: [{ at: "6m", alerts: [{ labels: fs(dataHost), value: volumeFloor - 1 }] }],
    }),
    c({
      alert: "RedisDataVolumeLow",
      name: "healthy: tmpfs mounts are ignored, enough room on the data filesystem",
      series: [s("node_filesystem_avail_bytes", { ...fs(dataHost), mountpoint: "/run", fstype: "tmpfs" }, steady(0, n("7m")))],
      expectations: [{ at: "6m", alerts: [] }],
    }),
    c({
      alert: "RedisDataVolumeFillingUp",
      name: "free space falling fast enough to cross the floor within 24 h",
      // Losing floor/100 per 15 s from 20 floors: still 3 floors free at 7 h (RedisDataVolumeLow
      // silent), but the 24 h projection is far below the floor.
      series: [s("node_filesystem_avail_bytes", fs(dataHost), `${volumeFloor * 20}-${Math.floor(volumeFloor / 25)}x${n("7h") / 4 + 10}`)],
      intervalSeconds: 60,
      expectations: [{ at: "7h", alerts: [{ labels: fs(dataHost) }] }],
    }),
    c({
      alert: "RedisDataVolumeFillingUp",
      name: "healthy: a slow decline that stays above the floor for days",
      series: [s("node_filesystem_avail_bytes", fs(dataHost), `${volumeFloor * 20}-${Math.floor(volumeFloor / 25000)}x${n("7h") / 4 + 10}`)],
      intervalSeconds: 60,
      expectations: [{ at: "7h", alerts: [] }],
    }),
  ];
  // A server outside the stack, as the rogue in the security drill: never a declared address.
  const rogue = { host: "203.0.113.66", port: "6379", address: "203.0.113.66:6379" };
  /**
   * The backup job reading a snapshot from the last replica (redis-cli --rdb): for the transfer,
   * that replica lists it as a replica of its own, at the backup host's address and port 0.
   */
  const backupReaderCases = (): AlertCase[] => {
    if (redis.backupReaderAddress === undefined) return [];
    const reader = redis.backupReaderAddress;
    const readerIp = reader.slice(0, reader.lastIndexOf(":"));
    const attached = (ip: string, i = last) => s("redis_connected_slave_offset_bytes", { ...node(i), slave_ip: ip, slave_port: "0", slave_state: "send_bulk" }, steady(0, n("2m")));
    const read = [attached(readerIp), s("redis_connected_slaves", node(last), steady(1, n("2m")))];
    return [
      c({
        alert: "RedisUndeclaredReplica",
        name: `the backup job's address ${reader} attached to the master pages: the job never reads the master, and REPLCONF lets the backup or replication credential announce any address`,
        series: [attached(readerIp, 0), s("redis_connected_slaves", node(0), steady(redis.replicas + 1, n("2m")))],
        // One replica more than declared: the count pages too.
        alsoPages: ["RedisReplicasAboveDeclared"],
        expectations: [{ at: "30s", alerts: [{ labels: { instance: node(0).instance, replica_address: reader } }] }],
      }),
      c({
        alert: "RedisUndeclaredReplica",
        name: `healthy: the backup job reads a snapshot from ${node(last).instance}, listed there as ${reader}`,
        series: read,
        expectations: [
          { at: "30s", alerts: [] },
          { at: "1m30s", alerts: [] },
        ],
      }),
      c({
        alert: "RedisUndeclaredReplica",
        name: "another host attached at port 0 beside the backup job's read pages: only the backup host's own address is excused",
        series: [...read, attached(rogue.host)],
        expectations: [{ at: "30s", alerts: [{ labels: { instance: node(last).instance, replica_address: `${rogue.host}:0` } }] }],
      }),
    ];
  };
  if (redis.replicas > 0) {
    cases.push(
      c({
        alert: "RedisUndeclaredMaster",
        name: "a REPLICAOF with a stolen credential moves redis-1 to a server outside the stack: its data is being replaced",
        series: [s("redis_slave_info", { ...node(1), master_host: rogue.host, master_port: rogue.port, read_only: "1" }, steady(1, n("2m")))],
        drop: (x) => x.metric === "redis_slave_info" && x.labels.instance === node(1).instance,
        expectations: [{ at: "30s", alerts: [{ labels: { instance: node(1).instance, master_address: rogue.address } }] }],
      }),
      c({
        alert: "RedisUndeclaredReplica",
        name: "a server outside the stack attaches to the master as a replica with the replication password",
        series: [s("redis_connected_slave_offset_bytes", { ...node(0), slave_ip: rogue.host, slave_port: rogue.port, slave_state: "online" }, counter(HEALTHY_MASTER_OFFSET - 1_000, 15_000, n("2m")))],
        expectations: [{ at: "30s", alerts: [{ labels: { instance: node(0).instance, replica_address: rogue.address } }] }],
      }),
      c({
        alert: "RedisUndeclaredReplica",
        name: "healthy: the declared replicas, each under the address Sentinel knows it by, and one re-attaching after a restart",
        series: [s("redis_connected_slave_offset_bytes", replicaOf(1), `${HEALTHY_MASTER_OFFSET}+15000x3 stale _x2 ${HEALTHY_MASTER_OFFSET + 120_000}+15000x${n("2m")}`)],
        drop: (x) => x.metric === "redis_connected_slave_offset_bytes" && x.labels.slave_port === replicaOf(1).slave_port,
        expectations: [
          { at: "30s", alerts: [] },
          { at: "2m", alerts: [] },
        ],
      }),
      ...backupReaderCases(),
      c({
        alert: "RedisReplicationCommandRefused",
        name: "the sentinel password sends SLAVEOF toward a host outside the declared data nodes: the ACL refuses it",
        series: [s("redis_commands_rejected_calls_total", { ...node(1), cmd: "slaveof" }, `0x1 1x${n("2m")}`)],
        expectations: [
          { at: "15s", alerts: [] },
          { at: "1m", alerts: [{ labels: { ...node(1), cmd: "slaveof" }, value: 1 }] },
        ],
      }),
      c({
        alert: "RedisReplicationCommandRefused",
        name: "healthy: Sentinel's SLAVEOF in a failover goes to a declared node, counted as a call, none refused",
        series: [s("redis_commands_total", { ...node(1), cmd: "slaveof" }, `1x${n("2m")}`), s("redis_commands_rejected_calls_total", { ...node(1), cmd: "slaveof" }, `0x${n("2m")}`)],
        expectations: [{ at: "1m", alerts: [] }],
      }),
      c({
        alert: "RedisReplicasAboveDeclared",
        name: "a server announcing a declared replica's address attaches to the master: one replica more than declared",
        series: [s("redis_connected_slaves", node(0), steady(redis.replicas + 1, n("2m")))],
        expectations: [
          { at: "15s", alerts: [] },
          { at: "1m", alerts: [{ labels: node(0), value: redis.replicas + 1 }] },
        ],
      }),
      c({
        alert: "RedisReplicasAboveDeclared",
        name: "healthy: a replica reconnecting shows twice for a few seconds, and the backup job's read on a replica counts there, not on the master",
        series: [s("redis_connected_slaves", node(0), change(redis.replicas + 1, 2, redis.replicas, n("2m"))), s("redis_connected_slaves", node(1), steady(1, n("2m")))],
        expectations: [{ at: "1m", alerts: [] }],
      }),
      c({
        alert: "RedisMasterWithoutReplicas",
        name: "the replicas lose their link to the master: writes refused (NOREPLICAS)",
        series: [
          s("redis_connected_slaves", node(0), change(redis.replicas, 5, 0, n("4m"))),
          ...[1, 2].filter((i) => i <= redis.replicas).map((i) => s("redis_master_link_up", node(i), change(1, 5, 0, n("4m")))),
        ],
        expectations: [
          { at: "1m", alerts: [] },
          { at: "3m", alerts: [{ labels: node(0) }] },
        ],
      }),
      c({
        alert: "RedisMasterWithoutReplicas",
        name: "healthy: one replica left still meets min-replicas-to-write (a ticket, not a page)",
        series: [s("redis_connected_slaves", node(0), steady(redis.replicas - 1, n("7m")))],
        expectations: [{ at: "6m", alerts: [] }],
      }),
      c({
        alert: "RedisReplicasMissing",
        name: "one of the declared replicas is gone",
        series: [s("redis_connected_slaves", node(0), steady(redis.replicas - 1, n("7m")))],
        expectations: [{ at: "6m", alerts: [{ labels: node(0), value: redis.replicas - 1 }] }],
      }),
      c({
        alert: "RedisReplicasMissing",
        name: "healthy: every declared replica connected (a replica's own 0 is ignored)",
        series: [],
        expectations: [{ at: "6m", alerts: [] }],
      }),
      c({
        alert: "RedisReplicationBroken",
        name: "a replica's master link is down",
        series: [s("redis_master_link_up", node(1), steady(0, n("4m")))],
        expectations: [{ at: "3m", alerts: [{ labels: node(1) }] }],
      }),
      c({
        alert: "RedisReplicationBroken",
        name: "healthy: a one-minute resync",
        series: [s("redis_master_link_up", node(1), `1x3 0x3 1x${n("4m")}`)],
        expectations: [{ at: "3m", alerts: [] }],
      }),
      c({
        alert: "RedisReplicaLagBytes",
        name: "a replica stays 2 MB behind (more than the backlog) for 5 minutes",
        series: [s("redis_connected_slave_offset_bytes", replicaOf(1), counter(HEALTHY_MASTER_OFFSET - 2_000_000, 15_000, n("8m")))],
        expectations: [
          { at: "4m", alerts: [] },
          { at: "6m", alerts: [{ labels: replicaOf(1), value: 2_000_000 }] },
        ],
      }),
      c({
        alert: "RedisReplicaLagBytes",
        name: "healthy: 3 minutes 2 MB behind, then caught up",
        series: [s("redis_connected_slave_offset_bytes", replicaOf(1), `${HEALTHY_MASTER_OFFSET - 2_000_000}+15000x11 ${HEALTHY_MASTER_OFFSET - 1_000 + 12 * 15_000}+15000x${n("8m")}`)],
        expectations: [{ at: "8m", alerts: [] }],
      }),
      c({
        alert: "RedisReplicaLagSeconds",
        name: `a replica acknowledges ${redis.minReplicasMaxLagSeconds + 15} s late for minutes (past min-replicas-max-lag)`,
        series: [s("redis_connected_slave_lag_seconds", replicaOf(1), change(0, 4, redis.minReplicasMaxLagSeconds + 15, n("4m")))],
        expectations: [
          { at: "2m", alerts: [] },
          { at: "3m30s", alerts: [{ labels: replicaOf(1), value: redis.minReplicasMaxLagSeconds + 15 }] },
        ],
      }),
      c({
        alert: "RedisReplicaLagSeconds",
        name: "healthy: acknowledgements within min-replicas-max-lag",
        series: [s("redis_connected_slave_lag_seconds", replicaOf(1), steady(redis.minReplicasMaxLagSeconds, n("4m")))],
        expectations: [{ at: "3m30s", alerts: [] }],
      }),
      c({
        alert: "RedisMasterFlapping",
        name: `the master moves between redis-0 and redis-1 every 5 minutes: change ${FLAPPING_MASTER_CHANGES} within the hour pages`,
        ...flapping(FLAPPING_MASTER_CHANGES, n("25m")),
        expectations: [
          { at: `${5 * FLAPPING_MASTER_CHANGES - 1}m`, alerts: [] },
          { at: `${5 * FLAPPING_MASTER_CHANGES}m30s`, alerts: [{ labels: {}, value: 2 * FLAPPING_MASTER_CHANGES }] },
        ],
      }),
      c({
        alert: "RedisMasterFlapping",
        name: `healthy: a planned switchover and back (${FLAPPING_MASTER_CHANGES - 1} changes in an hour)`,
        ...flapping(FLAPPING_MASTER_CHANGES - 1, n("25m")),
        expectations: [{ at: "24m", alerts: [] }],
      }),
      c({
        alert: "RedisNoMaster",
        name: "every node reports the replica role, the sentinels still name redis-0",
        series: [s("redis_instance_info", info(0, "slave"), steady(1, n("3m")))],
        drop: isInfo(0),
        alsoPages: ["RedisSentinelMasterMismatch"],
        expectations: [{ at: "2m", alerts: [{ labels: {} }] }],
      }),
      c({
        alert: "RedisNoMaster",
        name: "healthy: no master for 30 s during a failover",
        ...failover({ namedAt: 6, oldAt: 4, newAt: 6, old: "gone", total: n("3m") + 8 }),
        alsoPages: ["RedisUnreachable"],
        expectations: [
          { at: "1m", alerts: [] },
          { at: "2m30s", alerts: [] },
        ],
      }),
      c({
        alert: "RedisMultipleMasters",
        name: "two nodes report the master role for over a minute (the isolated one has no replica: a page too)",
        series: [s("redis_instance_info", info(1, "master"), steady(1, n("3m")))],
        drop: isInfo(1),
        alsoPages: ["RedisMasterWithoutReplicas"],
        expectations: [{ at: "2m", alerts: [{ labels: {}, value: 2 }] }],
      }),
      c({
        alert: "RedisMultipleMasters",
        name: "healthy: two masters for 30 s while the old one is demoted",
        // redis-1 reports master for samples 4-5 (30 s), then is a replica again.
        series: [s("redis_instance_info", info(1, "master"), `_x3 1x1 stale _x${n("3m")}`), s("redis_instance_info", info(1, "slave"), `1x3 stale _x0 1x${n("3m")}`)],
        drop: isInfo(1),
        expectations: [{ at: "2m", alerts: [] }],
      }),
    );
  }
  if (redis.sentinel) {
    const killed = failover({ namedAt: 9, oldAt: 8, newAt: 9, old: "gone", total: n("4m") + 8 });
    // odown from the 6th sample (75 s); the alert fires at the first evaluation past failover-timeout.
    const stuckFiresAt = 75 + Math.ceil(redis.sentinel.failoverTimeoutMilliseconds / 1000 / STEP_SECONDS + 1) * STEP_SECONDS;
    const stuckTotal = n(`${stuckFiresAt + 120}s`);
    cases.push(
      c({
        alert: "RedisUnreachable",
        name: "the master is killed and Sentinel promotes redis-1: the one page is the dead node",
        series: [...killed.series, s("redis_up", node(0), change(1, 8, 0, n("4m") + 8))],
        drop: (x) => killed.drop!(x) || (x.labels.instance === node(0).instance && !["up", "redis_up", "redis_connected_slaves"].includes(x.metric)),
        expectations: [{ at: "4m", alerts: [{ labels: node(0) }] }],
      }),
      c({
        alert: "RedisFailoverHappened",
        name: "a planned switchover to redis-1: a ticket, and no page",
        ...failover({ namedAt: 9, oldAt: 9, newAt: 9, old: "slave", total: n("3m") + 8 }),
        expectations: [
          { at: "1m", alerts: [] },
          { at: "3m", alerts: [{ labels: { master_name: masterName } }] },
        ],
      }),
      c({
        alert: "RedisFailoverHappened",
        name: "healthy: the master's status flaps but its address stays",
        series: sentinels.map((i) => s("redis_sentinel_master_status", { ...named(i, 0), master_status: "ok" }, `1x4 0x2 1x${n("3m")}`)),
        expectations: [{ at: "3m", alerts: [] }],
      }),
      c({
        alert: "SentinelQuorumAtRisk",
        name: "one sentinel down: tickets, no page (quorum still reachable)",
        series: [
          ...sentinels.slice(0, quorum).map((i) => s("redis_sentinel_master_ok_sentinels", named(i, 0), steady(quorum, n("4m")))),
          s("redis_up", sentinel(sentinels.length - 1), steady(0, n("4m"))),
        ],
        drop: (x) => x.labels.instance === sentinel(sentinels.length - 1).instance && x.metric.startsWith("redis_sentinel"),
        expectations: [{ at: "3m", alerts: sentinels.slice(0, quorum).map((i) => ({ labels: named(i, 0), value: quorum })) }],
      }),
      c({
        alert: "SentinelQuorumAtRisk",
        name: "healthy: every sentinel usable",
        series: [],
        expectations: [{ at: "3m", alerts: [] }],
      }),
      c({
        alert: "SentinelQuorumLost",
        name: "the sentinels are up but cannot see each other (partition): fewer usable than the quorum",
        series: sentinels.map((i) => s("redis_sentinel_master_ok_sentinels", named(i, 0), steady(quorum - 1, n("3m")))),
        expectations: [{ at: "2m", alerts: sentinels.map((i) => ({ labels: named(i, 0) })) }],
      }),
      c({
        alert: "SentinelQuorumLost",
        name: "healthy: a 30 s partition heals",
        series: sentinels.map((i) => s("redis_sentinel_master_ok_sentinels", named(i, 0), `${sentinels.length}x3 ${quorum - 1}x1 ${sentinels.length}x${n("3m")}`)),
        expectations: [{ at: "2m", alerts: [] }],
      }),
      c({
        alert: "SentinelsBelowQuorumReachable",
        name: "every sentinel down: one page (the sentinels' own view is gone with them)",
        series: sentinels.map((i) => s("redis_up", sentinel(i), change(1, 4, 0, n("4m")))),
        drop: (x) => x.labels.job === SENTINEL_JOB && x.metric.startsWith("redis_sentinel"),
        expectations: [
          { at: "30s", alerts: [] },
          { at: "3m", alerts: [{ labels: {} }] },
        ],
      }),
      c({
        alert: "SentinelsBelowQuorumReachable",
        name: "healthy: one sentinel down leaves the quorum reachable (tickets only)",
        series: [s("redis_up", sentinel(0), steady(0, n("4m")))],
        drop: (x) => x.labels.instance === sentinel(0).instance && x.metric.startsWith("redis_sentinel"),
        expectations: [{ at: "3m", alerts: [] }],
      }),
      c({
        alert: "SentinelUnreachable",
        name: "a sentinel stops answering",
        series: [s("redis_up", sentinel(1), steady(0, n("4m")))],
        drop: (x) => x.labels.instance === sentinel(1).instance && x.metric.startsWith("redis_sentinel"),
        expectations: [{ at: "3m", alerts: [{ labels: sentinel(1) }] }],
      }),
      c({
        alert: "SentinelUnreachable",
        name: "healthy: a sentinel restart (1 minute)",
        series: [s("redis_up", sentinel(1), `1x3 0x3 1x${n("4m")}`)],
        expectations: [{ at: "3m", alerts: [] }],
      }),
      c({
        alert: "SentinelTilt",
        name: "a sentinel stays in TILT for minutes (its clock keeps jumping)",
        series: [s("redis_sentinel_tilt", sentinel(1), change(0, 4, 1, n("4m")))],
        expectations: [
          { at: "2m", alerts: [] },
          { at: "3m30s", alerts: [{ labels: sentinel(1) }] },
        ],
      }),
      c({
        alert: "SentinelTilt",
        name: "healthy: one 30-second TILT after a single stall",
        series: [s("redis_sentinel_tilt", sentinel(1), `0x3 1x1 0x${n("4m")}`)],
        expectations: [{ at: "3m30s", alerts: [] }],
      }),
      c({
        alert: "SentinelFailoverStuck",
        name: "the master dies and no replica can be promoted: odown past failover-timeout",
        series: [
          s("redis_up", node(0), change(1, 4, 0, stuckTotal)),
          ...sentinels.map((i) => s("redis_sentinel_master_status", { ...named(i, 0), master_status: "ok" }, gone(1, 5, stuckTotal))),
          ...sentinels.map((i) => s("redis_sentinel_master_status", { ...named(i, 0), master_status: "odown" }, appears(5, 0, stuckTotal))),
        ],
        drop: (x) => (x.labels.instance === node(0).instance && !["up", "redis_up"].includes(x.metric)) || x.metric === "redis_sentinel_master_status",
        alsoPages: ["RedisUnreachable", "RedisNoMaster", "RedisSentinelMasterMismatch"],
        expectations: [
          { at: "1m", alerts: [] },
          { at: `${stuckFiresAt}s`, alerts: [{ labels: { master_name: masterName, master_address: address(0) } }] },
        ],
      }),
      c({
        alert: "SentinelFailoverStuck",
        name: "healthy: odown for one scrape while Sentinel promotes redis-1",
        series: [
          ...killed.series.filter((x) => x.metric !== "redis_sentinel_master_status"),
          ...sentinels.map((i) => s("redis_sentinel_master_status", { ...named(i, 0), master_status: "ok" }, gone(1, 8, n("4m") + 8))),
          ...sentinels.map((i) => s("redis_sentinel_master_status", { ...named(i, 0), master_status: "odown" }, `_x7 0 stale _x${n("4m")}`)),
          ...sentinels.map((i) => s("redis_sentinel_master_status", { ...named(i, 1), master_status: "ok" }, appears(9, 1, n("4m") + 8))),
          s("redis_up", node(0), change(1, 8, 0, n("4m") + 8)),
        ],
        drop: (x) => killed.drop!(x) || x.metric === "redis_sentinel_master_status" || (x.labels.instance === node(0).instance && !["up", "redis_up", "redis_connected_slaves"].includes(x.metric)),
        alsoPages: ["RedisUnreachable"],
        expectations: [{ at: "3m", alerts: [] }],
      }),
      c({
        alert: "RedisSentinelMasterMismatch",
        name: "the sentinels name redis-1, which reports the replica role: every write gets READONLY",
        series: sentinels.map((i) => s("redis_sentinel_master_status", { ...named(i, 1), master_status: "ok" }, steady(1, n("3m")))),
        drop: (x) => x.metric === "redis_sentinel_master_status",
        expectations: [{ at: "2m", alerts: [{ labels: { master_name: masterName, master_address: address(1) } }] }],
      }),
      c({
        alert: "RedisUndeclaredMaster",
        name: "a forged Sentinel hello moves every sentinel to a server outside the stack: clients are sent there",
        series: sentinels.map((i) => s("redis_sentinel_master_status", { ...sentinel(i), master_name: masterName, master_address: rogue.address, master_status: "ok" }, steady(1, n("3m")))),
        drop: (x) => x.metric === "redis_sentinel_master_status",
        alsoPages: ["RedisSentinelMasterMismatch"],
        expectations: [{ at: "30s", alerts: sentinels.map((i) => ({ labels: { instance: sentinel(i).instance, master_address: rogue.address } })) }],
      }),
      c({
        alert: "RedisSentinelUnknownPeer",
        name: "a forged hello names the right master: no switch, but every sentinel now knows one peer more than declared",
        series: sentinels.map((i) => s("redis_sentinel_master_sentinels", named(i, 0), steady(sentinels.length + 1, n("8m")))),
        drop: (x) => x.metric === "redis_sentinel_master_sentinels",
        expectations: [
          { at: "4m", alerts: [] },
          { at: "6m", alerts: sentinels.map((i) => ({ labels: named(i, 0), value: sentinels.length + 1 })) },
        ],
      }),
      c({
        alert: "RedisSentinelUnknownPeer",
        name: "healthy: a sentinel added to the stack says hello 4 minutes before the rules that count it are deployed",
        series: sentinels.map((i) => s("redis_sentinel_master_sentinels", named(i, 0), `${sentinels.length + 1}x${n("4m")} ${sentinels.length}x${n("4m")}`)),
        drop: (x) => x.metric === "redis_sentinel_master_sentinels",
        expectations: [{ at: "6m", alerts: [] }],
      }),
      c({
        alert: "RedisSentinelUnknownPeer",
        name: "healthy: a replaced sentinel keeps its myid, so the others count it once",
        series: sentinels.map((i) => s("redis_sentinel_master_sentinels", named(i, 0), `${sentinels.length}x3 ${sentinels.length - 1}x2 ${sentinels.length}x${n("3m")}`)),
        drop: (x) => x.metric === "redis_sentinel_master_sentinels",
        expectations: [
          { at: "30s", alerts: [] },
          { at: "2m", alerts: [] },
        ],
      }),
      c({
        alert: "RedisUndeclaredMaster",
        name: "healthy: a failover moves the sentinels and the replicas to redis-1, a declared node",
        ...failover({ namedAt: 4, oldAt: 5, newAt: 5, old: "slave", total: n("3m") + 8 }),
        expectations: [
          { at: "30s", alerts: [] },
          { at: "2m", alerts: [] },
        ],
      }),
      c({
        alert: "RedisSentinelMasterMismatch",
        name: "healthy: during a failover the sentinels name redis-1 15 s before it reports master",
        ...failover({ namedAt: 4, oldAt: 5, newAt: 5, old: "slave", total: n("3m") + 8 }),
        expectations: [
          { at: "30s", alerts: [] },
          { at: "2m", alerts: [] },
        ],
      }),
    );
  }
  return cases;
}

function sloCases(input: RuleTestInput): AlertCase[] {
  const m = input.slo;
  const api = scrapeLabels(API_JOB, apiTarget(input.scrape));
  const req = (method: string, route: string, status: string) => ({ ...api, [m.methodLabel]: method, [m.routeLabel]: route, [m.statusLabel]: status });
  const bucket = (le: string) => ({ ...api, [m.methodLabel]: "POST", [m.routeLabel]: "/api/v1/playlists", le });
  const get = (status: string) => req("GET", "/api/v1/tracks", status);
  const orders = (status: string) => req("POST", m.paymentRoute, status);
  const s = (metric: string, labels: Labels, values: string): Series => ({ metric, labels, values });
  const playlistsBuckets = (x: Series) => x.metric === m.durationBucket && x.labels[m.routeLabel] === "/api/v1/playlists";
  const c = (x: Omit<AlertCase, "family">): AlertCase => ({ family: "slo", intervalSeconds: 60, ...x });
  const slo = (id: string) => ({ labels: { slo: id } });
  const le = formatLe(m.latencyThresholdSeconds);
  // One sample a minute: 600 = 10 req/s.
  return [
    c({
      alert: "ApiAvailabilitySLOFastBurn",
      name: "a total GET outage pages within 6 minutes",
      // 10 req/s, all 200, for an hour; then every request fails.
      series: [s(m.requestsTotal, get("200"), "0+600x60 36000x10"), s(m.requestsTotal, get("500"), "0x60 0+600x10")],
      expectations: [
        { at: "60m", alerts: [] },
        { at: "66m", alerts: [slo("api-availability")] },
      ],
    }),
    c({
      alert: "ApiAvailabilitySLOFastBurn",
      name: "healthy: 0.1% errors stay silent",
      series: [s(m.requestsTotal, get("200"), "0+999x100"), s(m.requestsTotal, get("500"), "0+1x100")],
      expectations: [{ at: "90m", alerts: [] }],
    }),
    c({
      alert: "ApiAvailabilitySLOFastBurn",
      name: "healthy: the same outage on series another job exposes is not the API's",
      series: [s(m.requestsTotal, { ...get("500"), job: "some-other-job" }, "0x60 0+600x12")],
      expectations: [{ at: "72m", alerts: [] }],
    }),
    c({
      alert: "ApiAvailabilitySLOSlowBurn",
      name: "5% errors for 7 hours: a ticket, not a page",
      series: [s(m.requestsTotal, get("200"), "0+95x430"), s(m.requestsTotal, get("500"), "0+5x430")],
      expectations: [{ at: "7h", alerts: [slo("api-availability")] }],
    }),
    c({
      alert: "ApiAvailabilitySLOSlowBurn",
      name: "healthy: 1% errors for 7 hours",
      series: [s(m.requestsTotal, get("200"), "0+99x430"), s(m.requestsTotal, get("500"), "0+1x430")],
      expectations: [{ at: "7h", alerts: [] }],
    }),
    c({
      alert: "ApiLatencySLOFastBurn",
      name: `every write slower than ${le} s pages within 10 minutes`,
      // At 99% the 1 h error ratio passes 14.4 x 1% after 8.64 minutes of a total breach.
      series: [s(m.durationBucket, bucket(le), "0+100x60 6000x10"), s(m.durationBucket, bucket("+Inf"), "0+100x70")],
      drop: playlistsBuckets,
      expectations: [
        { at: "65m", alerts: [] },
        { at: "70m", alerts: [slo("api-latency")] },
      ],
    }),
    c({
      alert: "ApiLatencySLOFastBurn",
      name: "healthy: 0.5% of writes slow",
      series: [s(m.durationBucket, bucket(le), "0+995x100"), s(m.durationBucket, bucket("+Inf"), "0+1000x100")],
      drop: playlistsBuckets,
      expectations: [{ at: "90m", alerts: [] }],
    }),
    c({
      alert: "ApiLatencySLOSlowBurn",
      name: `8% of writes slower than ${le} s for 7 hours: a ticket, not a page`,
      series: [s(m.durationBucket, bucket(le), "0+92x430"), s(m.durationBucket, bucket("+Inf"), "0+100x430")],
      drop: playlistsBuckets,
      expectations: [{ at: "7h", alerts: [slo("api-latency")] }],
    }),
    c({
      alert: "ApiLatencySLOSlowBurn",
      name: "healthy: 2% of writes slow for 7 hours",
      series: [s(m.durationBucket, bucket(le), "0+98x430"), s(m.durationBucket, bucket("+Inf"), "0+100x430")],
      drop: playlistsBuckets,
      expectations: [{ at: "7h", alerts: [] }],
    }),
    c({
      alert: "PaymentSuccessSLOFastBurn",
      name: "every order fails",
      series: [s(m.requestsTotal, orders("201"), "0+10x60 600x10"), s(m.requestsTotal, orders("502"), "0x60 0+10x10")],
      expectations: [{ at: "68m", alerts: [slo("payment-success")] }],
    }),
    c({
      alert: "PaymentSuccessSLOFastBurn",
      name: "healthy: 0.1% of orders fail",
      series: [s(m.requestsTotal, orders("201"), "0+999x100"), s(m.requestsTotal, orders("500"), "0+1x100")],
      expectations: [{ at: "90m", alerts: [] }],
    }),
    c({
      alert: "PaymentSuccessSLOSlowBurn",
      name: "a sustained 8x burn (4% of orders fail for 7 hours) gives the ticket, not the page",
      series: [s(m.requestsTotal, orders("201"), "0+96x430"), s(m.requestsTotal, orders("500"), "0+4x430")],
      expectations: [{ at: "7h", alerts: [slo("payment-success")] }],
    }),
    c({
      alert: "PaymentSuccessSLOSlowBurn",
      name: "healthy: 0.2% of orders fail",
      series: [s(m.requestsTotal, orders("201"), "0+499x430"), s(m.requestsTotal, orders("500"), "0+1x430")],
      expectations: [{ at: "7h", alerts: [] }],
    }),
    // The slower tiers: a burn between 1x and 6x empties the budget within the month, slowly
    // enough for a ticket. A constant error share gives every window the same ratio, so the
    // alert fires once the short window has data (2 h, 6 h) and the cases read it after that.
    c({
      alert: "ApiAvailabilitySLODailyBurn",
      name: "a 5x burn (2.5% of GETs fail) for 3 hours, which empties the budget in 6 days: a ticket",
      series: [s(m.requestsTotal, get("200"), "0+39x190"), s(m.requestsTotal, get("500"), "0+1x190")],
      expectations: [{ at: "3h", alerts: [slo("api-availability")] }],
    }),
    c({
      alert: "ApiAvailabilitySLODailyBurn",
      name: "healthy for this tier: a 2x burn (1% of GETs fail) for 3 hours",
      series: [s(m.requestsTotal, get("200"), "0+99x190"), s(m.requestsTotal, get("500"), "0+1x190")],
      expectations: [{ at: "3h", alerts: [] }],
    }),
    c({
      alert: "ApiAvailabilitySLOThreeDayBurn",
      name: "a 1.5x burn (0.75% of GETs fail) for 7 hours, which empties the budget in 20 days: a ticket",
      series: [s(m.requestsTotal, get("200"), "0+397x430"), s(m.requestsTotal, get("500"), "0+3x430")],
      expectations: [{ at: "7h", alerts: [slo("api-availability")] }],
    }),
    c({
      alert: "ApiAvailabilitySLOThreeDayBurn",
      name: "healthy: 0.4% of GETs fail for 7 hours, within the budget",
      series: [s(m.requestsTotal, get("200"), "0+249x430"), s(m.requestsTotal, get("500"), "0+1x430")],
      expectations: [{ at: "7h", alerts: [] }],
    }),
    c({
      alert: "ApiLatencySLODailyBurn",
      name: `a 5x burn (5% of writes slower than ${le} s) for 3 hours: a ticket`,
      series: [s(m.durationBucket, bucket(le), "0+95x190"), s(m.durationBucket, bucket("+Inf"), "0+100x190")],
      drop: playlistsBuckets,
      expectations: [{ at: "3h", alerts: [slo("api-latency")] }],
    }),
    c({
      alert: "ApiLatencySLODailyBurn",
      name: "healthy for this tier: 2% of writes slow for 3 hours",
      series: [s(m.durationBucket, bucket(le), "0+98x190"), s(m.durationBucket, bucket("+Inf"), "0+100x190")],
      drop: playlistsBuckets,
      expectations: [{ at: "3h", alerts: [] }],
    }),
    c({
      alert: "ApiLatencySLOThreeDayBurn",
      name: `a 1.5x burn (1.5% of writes slower than ${le} s) for 7 hours: a ticket`,
      series: [s(m.durationBucket, bucket(le), "0+197x430"), s(m.durationBucket, bucket("+Inf"), "0+200x430")],
      drop: playlistsBuckets,
      expectations: [{ at: "7h", alerts: [slo("api-latency")] }],
    }),
    c({
      alert: "ApiLatencySLOThreeDayBurn",
      name: "healthy: 0.8% of writes slow for 7 hours, within the budget",
      series: [s(m.durationBucket, bucket(le), "0+992x430"), s(m.durationBucket, bucket("+Inf"), "0+1000x430")],
      drop: playlistsBuckets,
      expectations: [{ at: "7h", alerts: [] }],
    }),
    c({
      alert: "PaymentSuccessSLODailyBurn",
      name: "a 5x burn (2.5% of orders fail) for 3 hours: a ticket",
      series: [s(m.requestsTotal, orders("201"), "0+39x190"), s(m.requestsTotal, orders("500"), "0+1x190")],
      expectations: [{ at: "3h", alerts: [slo("payment-success")] }],
    }),
    c({
      alert: "PaymentSuccessSLODailyBurn",
      name: "healthy for this tier: 1% of orders fail for 3 hours",
      series: [s(m.requestsTotal, orders("201"), "0+99x190"), s(m.requestsTotal, orders("500"), "0+1x190")],
      expectations: [{ at: "3h", alerts: [] }],
    }),
    c({
      alert: "PaymentSuccessSLOThreeDayBurn",
      name: "a 1.5x burn (0.75% of orders fail) for 7 hours: a ticket",
      series: [s(m.requestsTotal, orders("201"), "0+397x430"), s(m.requestsTotal, orders("500"), "0+3x430")],
      expectations: [{ at: "7h", alerts: [slo("payment-success")] }],
    }),
    c({
      alert: "PaymentSuccessSLOThreeDayBurn",
      name: "healthy: 0.4% of orders fail for 7 hours, within the budget",
      series: [s(m.requestsTotal, orders("201"), "0+249x430"), s(m.requestsTotal, orders("500"), "0+1x430")],
      expectations: [{ at: "7h", alerts: [] }],
    }),
  ];
}

function apiCases(input: RuleTestInput): AlertCase[] {
  const m = input.slo;
  const target = apiTarget(input.scrape);
  const api = scrapeLabels(API_JOB, target);
  const isApi = (x: Series) => x.labels.job === API_JOB && x.metric !== "up";
  const le = formatLe(m.latencyThresholdSeconds);
  const blind = [
    { labels: { job: API_JOB, [m.methodLabel]: "GET", slo: "api-availability" } },
    { labels: { job: API_JOB, le, slo: "api-latency" } },
    { labels: { job: API_JOB, [m.methodLabel]: "POST", [m.routeLabel]: m.paymentRoute, slo: "payment-success" } },
  ];
  const c = (x: Omit<AlertCase, "family">): AlertCase => ({ family: "api", ...x });
  return [
    c({
      alert: "SLOBlind",
      name: "the API's metrics endpoint is not scraped: every SLO blind after 10 minutes, no page",
      series: [{ metric: "up", labels: api, values: steady(0, samplesIn("12m")) }],
      drop: isApi,
      expectations: [
        { at: "9m", alerts: [] },
        { at: "11m", alerts: blind },
      ],
    }),
    c({
      alert: "SLOBlind",
      name: "the API's series arrive under another job label: the SLOs cannot see them",
      series: healthyCluster(input, samplesIn("12m"))
        .filter(isApi)
        .map((x) => ({ ...x, labels: { ...x.labels, job: "backend" } })),
      drop: isApi,
      expectations: [{ at: "11m", alerts: blind }],
    }),
    c({
      alert: "SLOBlind",
      name: "healthy: after an API restart its series are missing for 5 minutes",
      series: healthyCluster(input, samplesIn("12m"))
        .filter(isApi)
        .map((x) => ({ ...x, values: appears(samplesIn("5m"), 1, samplesIn("12m") + 8) })),
      expectations: [
        { at: "4m", alerts: [] },
        { at: "11m", alerts: [] },
      ],
    }),
  ];
}

function monitoringCases(input: RuleTestInput): AlertCase[] {
  const { scrape } = input;
  const s = (metric: string, labels: Labels, values: string): Series => ({ metric, labels, values });
  const n = samplesIn;
  const dataHost = scrapeLabels(
    NODE_JOB,
    scrape.nodeExporters.find((t) => t.instance === input.dataHosts[0])!,
  );
  const otherHost = scrape.nodeExporters.find((t) => !input.dataHosts.includes(t.instance));
  const prom = scrapeLabels(PROMETHEUS_JOB, { address: scrape.prometheus, instance: PROMETHEUS_JOB });
  const am = scrapeLabels(ALERTMANAGER_JOB, { address: scrape.alertmanager, instance: ALERTMANAGER_JOB });
  const grafana = scrapeLabels(GRAFANA_JOB, { address: scrape.grafana, instance: GRAFANA_JOB });
  const ruleGroup = { ...prom, rule_group: `/etc/prometheus/rules/${RULE_FILE_NAMES.redis};main` };
  const notifications = { ...prom, alertmanager: `http://${scrape.alertmanager}/api/v2/alerts` };
  const c = (x: Omit<AlertCase, "family">): AlertCase => ({ family: "monitoring", ...x });
  const redis0 = scrapeLabels(REDIS_JOB, scrape.redisExporters[0]);
  const cases: AlertCase[] = [
    c({
      alert: "Watchdog",
      name: "a healthy cluster: the heartbeat fires, and no page",
      series: [],
      expectations: [
        { at: "1m", alerts: [{ labels: {} }] },
        { at: "30m", alerts: [{ labels: {} }] },
      ],
    }),
    c({
      alert: "NodeExporterDown",
      name: "node_exporter on a data host is down: the disk alerts there go blind, a ticket says so",
      series: [s("up", dataHost, change(1, 4, 0, n("7m")))],
      drop: (x) => x.metric === "node_filesystem_avail_bytes" && x.labels.instance === dataHost.instance,
      expectations: [
        { at: "3m", alerts: [] },
        { at: "6m30s", alerts: [{ labels: dataHost }] },
      ],
    }),
    c({
      alert: "NodeExporterDown",
      name: "healthy: a 2-minute node_exporter restart",
      series: [s("up", dataHost, `1x3 0x7 1x${n("7m")}`)],
      expectations: [{ at: "6m", alerts: [] }],
    }),
    c({
      alert: "TargetDown",
      name: "Grafana's target is down for 5 minutes",
      series: [s("up", grafana, steady(0, n("7m")))],
      expectations: [{ at: "6m", alerts: [{ labels: grafana }] }],
    }),
    c({
      alert: "TargetDown",
      name: "healthy: a Redis exporter down pages as RedisUnreachable, not as TargetDown",
      series: [s("up", redis0, steady(0, n("7m")))],
      drop: (x) => x.labels.instance === redis0.instance && x.metric !== "up",
      alsoPages: ["RedisUnreachable", "RedisNoMaster", "RedisSentinelMasterMismatch"],
      expectations: [{ at: "6m", alerts: [] }],
    }),
    c({
      alert: "PrometheusRuleEvaluationFailing",
      name: "a rule group fails every evaluation",
      series: [s("prometheus_rule_evaluation_failures_total", ruleGroup, counter(0, 1, n("12m")))],
      expectations: [{ at: "11m", alerts: [{ labels: ruleGroup }] }],
    }),
    c({
      alert: "PrometheusRuleEvaluationFailing",
      name: "healthy: one failure 10 minutes ago",
      series: [s("prometheus_rule_evaluation_failures_total", ruleGroup, change(0, 4, 1, n("12m")))],
      expectations: [{ at: "11m", alerts: [] }],
    }),
    c({
      alert: "PrometheusConfigReloadFailed",
      name: "the last reload failed 10 minutes ago",
      series: [s("prometheus_config_last_reload_successful", prom, steady(0, n("12m")))],
      expectations: [
        { at: "9m", alerts: [] },
        { at: "11m", alerts: [{ labels: prom }] },
      ],
    }),
    c({
      alert: "PrometheusConfigReloadFailed",
      name: "healthy: a failed reload fixed within 5 minutes",
      series: [s("prometheus_config_last_reload_successful", prom, change(0, n("5m"), 1, n("12m")))],
      expectations: [{ at: "11m", alerts: [] }],
    }),
    c({
      alert: "PrometheusNotificationsFailing",
      name: "Prometheus cannot reach Alertmanager",
      series: [s("prometheus_notifications_errors_total", notifications, counter(0, 4, n("12m")))],
      expectations: [{ at: "11m", alerts: [{ labels: notifications }] }],
    }),
    c({
      alert: "PrometheusNotificationsFailing",
      name: "healthy: no send errors",
      series: [],
      expectations: [{ at: "11m", alerts: [] }],
    }),
    c({
      alert: "AlertmanagerNotificationsFailing",
      name: "every Slack notification fails (a revoked webhook)",
      series: [s("alertmanager_notifications_failed_total", { ...am, integration: "slack" }, counter(0, 1, n("12m")))],
      expectations: [{ at: "11m", alerts: [{ labels: { ...am, integration: "slack" } }] }],
    }),
    c({
      alert: "AlertmanagerNotificationsFailing",
      name: "healthy: one failed delivery 10 minutes ago",
      series: [s("alertmanager_notifications_failed_total", { ...am, integration: "slack" }, change(0, 4, 1, n("12m")))],
      expectations: [{ at: "11m", alerts: [] }],
    }),
    c({
      alert: "AlertmanagerConfigReloadFailed",
      name: "the last reload failed 10 minutes ago",
      series: [s("alertmanager_config_last_reload_successful", am, steady(0, n("12m")))],
      expectations: [{ at: "11m", alerts: [{ labels: am }] }],
    }),
    c({
      alert: "AlertmanagerConfigReloadFailed",
      name: "healthy: a failed reload fixed within 5 minutes",
      series: [s("alertmanager_config_last_reload_successful", am, change(0, n("5m"), 1, n("12m")))],
      expectations: [{ at: "11m", alerts: [] }],
    }),
  ];
  if (otherHost) {
    const other = scrapeLabels(NODE_JOB, otherHost);
    cases.push(
      c({
        alert: "NodeExporterDown",
        name: `healthy: node_exporter on ${otherHost.instance} (no Redis data) is a TargetDown, not this`,
        series: [s("up", other, steady(0, n("7m")))],
        expectations: [{ at: "6m", alerts: [] }],
      }),
      c({
        alert: "TargetDown",
        name: `node_exporter on ${otherHost.instance}, which holds no Redis data`,
        series: [s("up", other, steady(0, n("7m")))],
        drop: (x) => x.metric === "node_filesystem_avail_bytes" && x.labels.instance === otherHost.instance,
        expectations: [{ at: "6m", alerts: [{ labels: other }] }],
      }),
    );
  }
  return cases;
}

const HEALTHY_CERTIFICATE_DAYS = 60;

/** Certificate expiry as the probes measure it, evaluated from time 0: a value of d days is d days left. */
function certificateCases(input: RuleTestInput): AlertCase[] {
  const target = input.scrape.certificateProbes?.targets[0];
  if (!target) return [];
  const labels = scrapeLabels(CERTIFICATE_PROBE_JOB, target);
  const n = samplesIn("10m") + 8;
  const expiringIn = (days: number): Series => ({ metric: CERTIFICATE_EXPIRY_METRIC, labels, values: steady(days * DAY_SECONDS, n) });
  const c = (x: Omit<AlertCase, "family">): AlertCase => ({ family: "certificates", ...x });
  const { ticket, page } = CERTIFICATE_EXPIRY_DAYS;
  return [
    c({
      alert: "RedisCertificateExpiringSoon",
      name: `${target.instance} presents a certificate ${ticket - 1} days from expiry: a ticket`,
      series: [expiringIn(ticket - 1)],
      expectations: [{ at: "1m", alerts: [{ labels }] }],
    }),
    c({
      alert: "RedisCertificateExpiringSoon",
      name: `healthy: ${ticket + 1} days from expiry, inside no window`,
      series: [expiringIn(ticket + 1)],
      expectations: [{ at: "1m", alerts: [] }],
    }),
    c({
      alert: "RedisCertificateExpiresThisWeek",
      name: `${target.instance} presents a certificate ${page - 4} days from expiry: a page at once`,
      series: [expiringIn(page - 4)],
      expectations: [{ at: "15s", alerts: [{ labels }] }],
    }),
    c({
      alert: "RedisCertificateExpiresThisWeek",
      name: `${page + 1} days from expiry: the ticket only, no page`,
      series: [expiringIn(page + 1)],
      expectations: [{ at: "1m", alerts: [] }],
    }),
    c({
      alert: "RedisTlsProbeFailed",
      name: `${target.instance}'s certificate has expired: the probe's verification fails, the expiry series ends, and after 5 minutes this pages instead`,
      series: [{ metric: "probe_success", labels, values: steady(0, n) }],
      drop: (x) => x.metric === CERTIFICATE_EXPIRY_METRIC && x.labels.instance === target.instance,
      expectations: [
        { at: "4m", alerts: [] },
        { at: "5m15s", alerts: [{ labels }] },
      ],
    }),
    c({
      alert: "RedisTlsProbeFailed",
      name: `the probe's own certificate is refused after the TLS 1.3 handshake (the PING gets no reply): the expiry series stays, and after 5 minutes this pages`,
      series: [{ metric: "probe_success", labels, values: steady(0, n) }],
      expectations: [{ at: "5m15s", alerts: [{ labels }] }],
    }),
    ...declaredClientCases(input, n, c),
    c({
      alert: "RedisTlsProbeFailed",
      name: `healthy: ${target.instance}'s probe fails for 4 minutes (a restart, a renewal's reload) and then succeeds again: no page`,
      series: [{ metric: "probe_success", labels, values: `0x${samplesIn("4m") - 1} 1x${n - samplesIn("4m") - 1}` }],
      expectations: [
        { at: "4m", alerts: [] },
        { at: "6m", alerts: [] },
      ],
    }),
  ];
}

/** The client certificates' declared ends (the monitoring host's textfile): a ticket at 21 days, a page at 7. */
function declaredClientCases(input: RuleTestInput, n: number, c: (x: Omit<AlertCase, "family">) => AlertCase): AlertCase[] {
  const node = input.scrape.nodeExporters[0];
  if (!node) return [];
  const labels = { ...scrapeLabels(NODE_JOB, node), certificate: "client-app" };
  const endsIn = (days: number): Series => ({ metric: DECLARED_CERTIFICATE_EXPIRY_METRIC, labels, values: steady(days * DAY_SECONDS, n) });
  const { ticket, page } = CERTIFICATE_EXPIRY_DAYS;
  return [
    c({
      alert: "RedisClientCertificateExpiringSoon",
      name: `the app's client certificate ends in ${ticket - 1} days: a ticket`,
      series: [endsIn(ticket - 1)],
      expectations: [{ at: "1m", alerts: [{ labels }] }],
    }),
    c({
      alert: "RedisClientCertificateExpiringSoon",
      name: `healthy: the app's client certificate ends in ${ticket + 1} days`,
      series: [endsIn(ticket + 1)],
      expectations: [{ at: "1m", alerts: [] }],
    }),
    c({
      alert: "RedisClientCertificateExpiresThisWeek",
      name: `the app's client certificate ends in ${page - 4} days: a page at once`,
      series: [endsIn(page - 4)],
      expectations: [{ at: "15s", alerts: [{ labels }] }],
    }),
    c({ alert: "RedisClientCertificateExpiresThisWeek", name: `${page + 1} days left: the ticket only, no page`, series: [endsIn(page + 1)], expectations: [{ at: "1m", alerts: [] }] }),
  ];
}

function backupCases(input: RuleTestInput): AlertCase[] {
  if (!input.backup) return [];
  const { labels, intervalSeconds: period } = input.backup;
  // Hours of series (the family's -hours file): a sample a minute, fewer for a long interval
  // (about 20 per interval, so that promtool stays quick), at least 5 per interval (a drill's
  // interval of seconds); the step divides the interval.
  let step = 1;
  for (let d = 1; d <= Math.max(60, period / 20) && period / d >= 5; d++) if (period % d === 0) step = d;
  const perPeriod = period / step;
  // A fresh job's first run takes half an interval.
  const firstRunEnds = Math.floor(perPeriod / 2);
  const twice = 2 * period;
  const at = promDuration;
  // RedisBackupTooOld's `for`: it turns pending at the first evaluation past twice the interval
  // and fires at the first evaluation a `for` later.
  const tooOldFor = tooOldForSeconds(period);
  const tooOldFiresAt = Math.ceil((twice + step + tooOldFor) / step) * step;
  // After a failed run, the next run's metrics land this long after its snapshot time (restic
  // backup, forget --prune, a scrape): a few minutes, within the `for` (whole samples, at least 2).
  const landsAfter = Math.max(2, Math.floor(tooOldFor / 2 / step)) * step;
  /** Samples up to the case's last evaluation, and as many beyond as caseSeries gives the healthy cluster. */
  const total = (lastAt: number) => Math.ceil(lastAt / step) + 8;
  const s = (metric: string, values: string): Series => ({ metric, labels, values });
  const c = (x: Omit<AlertCase, "family" | "intervalSeconds">): AlertCase => ({ family: "backup", intervalSeconds: step, ...x });
  const isJob = (x: Series) => Object.values(BACKUP_METRICS).includes(x.metric as never) && x.labels.instance === labels.instance;
  const noSnapshot = (x: Series) => x.metric === BACKUP_METRICS.lastSuccess && x.labels.instance === labels.instance;
  // The metrics disappear after 10 samples.
  const goneAt = 10;
  return [
    c({
      alert: "RedisBackupTooOld",
      name: `the job stops after a snapshot at 0: none newer for twice the interval (${at(twice)}) and its \`for\` (${at(tooOldFor)}) pages`,
      series: [s(BACKUP_METRICS.lastSuccess, steady(0, total(tooOldFiresAt)))],
      expectations: [
        { at: at(twice - step), alerts: [] },
        { at: at(tooOldFiresAt - step), alerts: [] },
        { at: at(tooOldFiresAt), alerts: [{ labels }] },
      ],
    }),
    c({
      alert: "RedisBackupTooOld",
      name: `no snapshot ever: every run fails from the job's first start, for twice the interval (${at(twice)}) and its \`for\` pages`,
      series: [s(BACKUP_METRICS.firstStart, steady(0, total(tooOldFiresAt))), s(BACKUP_METRICS.lastRunSuccess, steady(0, total(tooOldFiresAt)))],
      drop: noSnapshot,
      expectations: [
        { at: at(twice - step), alerts: [] },
        { at: at(tooOldFiresAt), alerts: [{ labels }] },
      ],
    }),
    c({
      alert: "RedisBackupTooOld",
      name: `healthy: one failed run between two good ones, the second's metrics landing ${at(landsAfter)} after its snapshot time (store, prune, scrape): no page`,
      // Run k's snapshot at 0, run k+1 fails, run k+2's snapshot at twice the interval: it is stored
      // when run k's turns two intervals old, and the metrics say so only after retention and a scrape.
      series: [
        s(BACKUP_METRICS.lastRunSuccess, `1x${perPeriod - 1} 0x${perPeriod + landsAfter / step - 1} 1x${total(3 * period) - 2 * perPeriod - landsAfter / step - 1}`),
        s(BACKUP_METRICS.lastSuccess, `0x${2 * perPeriod + landsAfter / step - 1} ${twice}x${total(3 * period) - 2 * perPeriod - landsAfter / step - 1}`),
      ],
      expectations: [
        { at: at(twice - step), alerts: [] },
        // Run k's snapshot is older than twice the interval here: pending, not firing.
        { at: at(twice + landsAfter - step), alerts: [] },
        { at: at(twice + landsAfter + step), alerts: [] },
        { at: at(3 * period), alerts: [] },
      ],
    }),
    c({
      alert: "RedisBackupTooOld",
      name: "healthy: a snapshot every interval, for three intervals",
      series: [],
      expectations: [
        { at: at(period + step), alerts: [] },
        { at: at(twice + step), alerts: [] },
        { at: at(3 * period), alerts: [] },
      ],
    }),
    c({
      alert: "RedisBackupTooOld",
      name: "healthy: a fresh job whose first run failed has no snapshot yet, within its first two intervals (a ticket, no page)",
      series: [s(BACKUP_METRICS.firstStart, steady(0, total(twice - step))), s(BACKUP_METRICS.lastRunSuccess, steady(0, total(twice - step)))],
      drop: noSnapshot,
      expectations: [
        { at: at(period - step), alerts: [] },
        { at: at(twice - step), alerts: [] },
      ],
    }),
    c({
      alert: "RedisBackupMissing",
      name: `the job never started: no backup metrics on ${labels.instance} for twice the interval (${at(twice)})`,
      series: [],
      drop: isJob,
      expectations: [
        { at: at(twice - step), alerts: [] },
        { at: at(twice + step), alerts: [{ labels }] },
      ],
    }),
    c({
      alert: "RedisBackupMissing",
      name: "the job's metrics disappear (node_exporter recreated without the textfile volume, or the file deleted): pages twice the interval later",
      series: [
        s(BACKUP_METRICS.firstStart, gone(-86_400, goneAt, total(goneAt * step + twice + step))),
        s(BACKUP_METRICS.lastSuccess, gone(0, goneAt, total(goneAt * step + twice + step))),
        s(BACKUP_METRICS.lastRunSuccess, gone(1, goneAt, total(goneAt * step + twice + step))),
      ],
      expectations: [
        { at: at(goneAt * step + twice - step), alerts: [] },
        { at: at(goneAt * step + twice + step), alerts: [{ labels }] },
      ],
    }),
    c({
      alert: "RedisBackupMissing",
      name: "healthy: a fresh job's first run takes half an interval, its metrics appear when it ends",
      series: [
        s(BACKUP_METRICS.firstStart, appears(firstRunEnds, 0, total(twice + step))),
        s(BACKUP_METRICS.lastSuccess, appears(firstRunEnds, firstRunEnds * step, total(twice + step))),
        s(BACKUP_METRICS.lastRunSuccess, appears(firstRunEnds, 1, total(twice + step))),
      ],
      drop: isJob,
      expectations: [
        { at: at((firstRunEnds - 1) * step), alerts: [] },
        { at: at(period), alerts: [] },
        { at: at(twice + step), alerts: [] },
      ],
    }),
    c({
      alert: "RedisBackupFailed",
      name: "one run fails (no replica in sync): a ticket until the next run stores a snapshot, and no page (the newest snapshot stays younger than twice the interval)",
      series: [
        s(BACKUP_METRICS.lastRunSuccess, `1x${perPeriod - 1} 0x${perPeriod - 1} 1x${total(twice + step) - 2 * perPeriod - 1}`),
        s(BACKUP_METRICS.lastSuccess, `0x${2 * perPeriod - 1} ${twice}x${total(twice + step) - 2 * perPeriod - 1}`),
      ],
      expectations: [
        { at: at(period - step), alerts: [] },
        { at: at(period + step), alerts: [{ labels }] },
        { at: at(twice - step), alerts: [{ labels }] },
        { at: at(twice + step), alerts: [] },
      ],
    }),
    c({
      alert: "RedisBackupFailed",
      name: "healthy: every run stores a snapshot",
      series: [],
      expectations: [
        { at: at(period + step), alerts: [] },
        { at: at(twice + step), alerts: [] },
      ],
    }),
  ];
}

/** The p95 recording rule's name, for the dashboards and their tests. */
export { P95_BY_ROUTE };
