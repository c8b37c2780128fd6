// Every monitoring file, from the validated StackConfig: the one place thresholds meet config.
import type { StackConfig } from "../config/types";
import { computeSizing } from "../redis/sizing";
import { largestShareOnOneHost } from "../topology/placement";
import { placeExporters, stackTopology, type ExporterPlacement } from "../topology/ports";
import { renderAlertmanagerConfig } from "./alertmanagerConfig";
import { renderPrometheusConfig, type PrometheusInput } from "./prometheusConfig";
import { renderRedisAlertRules, toYaml } from "./redisRules";
import { renderSloRules } from "./sloRules";

export interface MonitoringFiles {
  prometheusYml: string;
  redisRulesYml: string;
  sloRulesYml: string;
  alertmanagerYml: string;
  scrape: PrometheusInput;
  /** The redis_exporter per Redis/Sentinel process that prometheus.yml scrapes. */
  exporters: ExporterPlacement[];
}

function monitoringInput(config: StackConfig, exporters: ExporterPlacement[]): PrometheusInput {
  const monitoringHost = config.hosts.find((h) => h.name === config.monitoring.host)!;
  const target = (e: (typeof exporters)[number]) => ({ address: `${e.host.address}:${e.port}`, instance: e.target.name });
  return {
    cluster: config.monitoring.cluster,
    redisExporters: exporters.filter((e) => e.target.kind === "redis").map(target),
    sentinelExporters: exporters.filter((e) => e.target.kind === "sentinel").map(target),
    nodeExporters: config.hosts.map((h) => ({ address: `${h.address}:${config.monitoring.nodeExporterPort}`, instance: h.name })),
    alertmanager: `${monitoringHost.address}:${config.monitoring.alertmanagerPort}`,
    prometheus: `${monitoringHost.address}:${config.monitoring.prometheusPort}`,
  };
}

export function renderMonitoringFiles(config: StackConfig): MonitoringFiles {
  const topology = stackTopology(config);
  const replicas = topology.dataNodes.length - 1;
  const exporters = placeExporters(topology, config.monitoring.redisExporterPort);
  const scrape = monitoringInput(config, exporters);
  return {
    scrape,
    exporters,
    prometheusYml: toYaml(renderPrometheusConfig(scrape)),
    redisRulesYml: toYaml(renderRedisAlertRules({
      runbookBaseUrl: config.monitoring.runbookBaseUrl,
      sizing: computeSizing(config.redis),
      dataNodesPerHost: largestShareOnOneHost(topology.dataNodes),
      replicas,
      minReplicasToWrite: replicas > 0 ? config.redis.minReplicasToWrite : 0,
      sentinel: config.sentinel.enabled ? { count: config.sentinel.count, quorum: config.sentinel.quorum, masterName: config.sentinel.masterName } : undefined,
      dataMountpoint: config.monitoring.dataMountpoint,
    })),
    sloRulesYml: toYaml(renderSloRules(config.monitoring.slo, config.monitoring.runbookBaseUrl)),
    alertmanagerYml: toYaml(renderAlertmanagerConfig({ pageChannel: config.monitoring.slackPageChannel, ticketChannel: config.monitoring.slackTicketChannel })),
  };
}

/** A shell script that writes each rule file and runs `promtool check rules` on all of them. */
export function renderPromtoolCheckScript(ruleFiles: Record<string, string>): string {
  const names = Object.keys(ruleFiles);
  return [
    "set -eu",
    ...names.map((name) => `cat > /tmp/${name} <<'VEZA_RULES_EOF'\n${ruleFiles[name].replace(/\n$/, "")}\nVEZA_RULES_EOF`),
    `promtool check rules ${names.map((n) => `/tmp/${n}`).join(" ")}`,
    "",
  ].join("\n");
}
