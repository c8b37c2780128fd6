// prometheus.yml: scrape every redis_exporter (data nodes and sentinels), node_exporter on every
// host, the API (the SLO inputs), Alertmanager, Grafana, Prometheus itself and, with TLS on, every
// TLS endpoint through blackbox_exporter; load the generated rule files. scrapeLabels() is what
// each job attaches to its series: the promtool cases build their input series from it, so the
// rules are tested against the labels this file produces.

export const REDIS_JOB = "redis";
export const SENTINEL_JOB = "sentinel";
export const NODE_JOB = "node";
export const API_JOB = "api";
export const PROMETHEUS_JOB = "prometheus";
export const ALERTMANAGER_JOB = "alertmanager";
export const GRAFANA_JOB = "grafana";
/** blackbox_exporter probing the TLS endpoints (components/monitoring/certificateRules.ts). */
export const CERTIFICATE_PROBE_JOB = "redis-tls";
/** blackbox_exporter's module for the Redis and Sentinel ports (renderBlackboxConfig). */
export const BLACKBOX_REDIS_MODULE = "redis_mtls";

export interface CertificateProbes {
  /** host:port of blackbox_exporter. */
  blackbox: string;
  /** One per Redis or Sentinel process: its TLS endpoint as the address, its name as the instance. */
  targets: ScrapeTarget[];
}

export const PROMETHEUS_CONFIG_PATH = "/etc/prometheus/prometheus.yml";
export const RULES_DIR = "/etc/prometheus/rules";
/** Rule file name (inside RULES_DIR) per rule family; `<family>*.test.yml` beside them hold the promtool cases. */
export const RULE_FILE_NAMES = { redis: "redis.yml", slo: "slo.yml", api: "api.yml", monitoring: "monitoring.yml", backup: "backup.yml", certificates: "certificates.yml" } as const;
export type RuleFamily = keyof typeof RULE_FILE_NAMES;
export const RULE_FILES = Object.fromEntries(Object.entries(RULE_FILE_NAMES).map(([k, v]) => [k, `${RULES_DIR}/${v}`])) as Record<RuleFamily, string>;

export interface ScrapeTarget {
  /** host:port of the exporter */
  address: string;
  /** The instance label: the node's name (redis-0, sentinel-1, host name). */
  instance: string;
  /** Further target labels, e.g. redis_address: the address Sentinel knows the node by. */
  labels?: Record<string, string>;
}

export interface PrometheusInput {
  cluster: string;
  redisExporters: ScrapeTarget[];
  sentinelExporters: ScrapeTarget[];
  nodeExporters: ScrapeTarget[];
  /** The API's metrics endpoint, when scraped. */
  api?: ScrapeTarget & { metricsPath: string };
  alertmanager: string;
  prometheus: string;
  grafana: string;
  /** How Prometheus authenticates to Alertmanager and to itself (their web config). */
  webClient?: { username: string; passwordFile: string; caFile?: string };
  /** With TLS on: blackbox_exporter's probes of every Redis and Sentinel endpoint (certificateRules.ts). */
  certificateProbes?: CertificateProbes;
}

/** The labels a scraped series carries from its target (before the metric's own labels). */
export function scrapeLabels(job: string, target: ScrapeTarget): Record<string, string> {
  return { job, instance: target.instance, ...(target.labels ?? {}) };
}

export function renderPrometheusConfig(input: PrometheusInput) {
  const job = (name: string, targets: ScrapeTarget[], extra: Record<string, unknown> = {}) => ({
    job_name: name,
    ...extra,
    static_configs: targets.map((t) => ({ targets: [t.address], labels: { instance: t.instance, ...(t.labels ?? {}) } })),
  });
  const web = input.webClient;
  // Basic auth (and HTTPS with the CA) towards the two servers behind a web config.
  const authenticated = web ? { basic_auth: { username: web.username, password_file: web.passwordFile }, ...(web.caFile ? { scheme: "https", tls_config: { ca_file: web.caFile } } : {}) } : {};
  return {
    global: { scrape_interval: "15s", evaluation_interval: "15s", external_labels: { cluster: input.cluster } },
    rule_files: Object.values(RULE_FILES),
    alerting: { alertmanagers: [{ ...authenticated, static_configs: [{ targets: [input.alertmanager] }] }] },
    scrape_configs: [
      job(REDIS_JOB, input.redisExporters),
      ...(input.sentinelExporters.length > 0 ? [job(SENTINEL_JOB, input.sentinelExporters)] : []),
      job(NODE_JOB, input.nodeExporters),
      ...(input.api ? [job(API_JOB, [input.api], { metrics_path: input.api.metricsPath })] : []),
      job(ALERTMANAGER_JOB, [{ address: input.alertmanager, instance: ALERTMANAGER_JOB }], authenticated),
      job(GRAFANA_JOB, [{ address: input.grafana, instance: GRAFANA_JOB }]),
      job(PROMETHEUS_JOB, [{ address: input.prometheus, instance: PROMETHEUS_JOB }], authenticated),
      ...(input.certificateProbes ? [certificateProbeScrapeConfig(input.certificateProbes)] : []),
    ],
  };
}

/** prometheus.yml's job for the probes: each target goes to blackbox_exporter as ?target=, its labels kept. */
export function certificateProbeScrapeConfig(probes: CertificateProbes) {
  return {
    job_name: CERTIFICATE_PROBE_JOB,
    metrics_path: "/probe",
    params: { module: [BLACKBOX_REDIS_MODULE] },
    static_configs: probes.targets.map((t) => ({ targets: [t.address], labels: { instance: t.instance, ...(t.labels ?? {}) } })),
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { target_label: "__address__", replacement: probes.blackbox },
    ],
  };
}
