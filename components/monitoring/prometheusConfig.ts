// prometheus.yml: scrape every redis_exporter (data nodes and sentinels), node_exporter on every
// host, Alertmanager and Prometheus itself; load the generated rule files.
import { NODE_JOB, REDIS_JOB, SENTINEL_JOB } from "./redisRules";

export const PROMETHEUS_CONFIG_PATH = "/etc/prometheus/prometheus.yml";
export const RULE_FILES = { redis: "/etc/prometheus/rules/redis.yml", slo: "/etc/prometheus/rules/slo.yml" } as const;

export interface ScrapeTarget {
  /** host:port of the exporter */
  address: string;
  /** The instance label: the node's name (redis-0, sentinel-1, host name). */
  instance: string;
}

export interface PrometheusInput {
  cluster: string;
  redisExporters: ScrapeTarget[];
  sentinelExporters: ScrapeTarget[];
  nodeExporters: ScrapeTarget[];
  alertmanager: string;
  prometheus: string;
}

export function renderPrometheusConfig(input: PrometheusInput) {
  const job = (name: string, targets: ScrapeTarget[]) => ({
    job_name: name,
    static_configs: targets.map((t) => ({ targets: [t.address], labels: { instance: t.instance } })),
  });
  return {
    global: { scrape_interval: "15s", evaluation_interval: "15s", external_labels: { cluster: input.cluster } },
    rule_files: [RULE_FILES.redis, RULE_FILES.slo],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [input.alertmanager] }] }] },
    scrape_configs: [
      job(REDIS_JOB, input.redisExporters),
      ...(input.sentinelExporters.length > 0 ? [job(SENTINEL_JOB, input.sentinelExporters)] : []),
      job(NODE_JOB, input.nodeExporters),
      job("alertmanager", [{ address: input.alertmanager, instance: "alertmanager" }]),
      job("prometheus", [{ address: input.prometheus, instance: "prometheus" }]),
    ],
  };
}
