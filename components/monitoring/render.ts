// Every monitoring file, from the validated StackConfig: the one place thresholds meet config.
import { backupSettings } from "../backup/backupJob";
import type { HostConfig, StackConfig } from "../config/types";
import { largestShareOnOneHost } from "../topology/placement";
import { placeExporters, type ExporterPlacement } from "../topology/ports";
import type { StackModel } from "../topology/model";
import { renderAlertmanagerConfig } from "./alertmanagerConfig";
import { renderApiRules } from "./apiRules";
import { renderBackupRules, type BackupRulesInput } from "./backupRules";
import { renderCertificateRules } from "./certificateRules";
import { renderMonitoringRules } from "./monitoringRules";
import { NODE_JOB, RULE_FILE_NAMES, renderPrometheusConfig, scrapeLabels, type CertificateProbes, type PrometheusInput, type RuleFamily, type ScrapeTarget } from "./prometheusConfig";
import { REDIS_ADDRESS_LABEL, renderRedisAlertRules, toYaml, type RedisRulesInput } from "./redisRules";
import { renderRuleTests, type RuleTestInput } from "./alertCases";
import { prometheusRuleFile, type RuleFile } from "./runbooks";
import { renderSloRules } from "./sloRules";
import { PROMETHEUS_WEB, TLS_FILES, WEB_USERS } from "./webConfig";

export interface MonitoringFiles {
  prometheusYml: string;
  /** Rule file name (redis.yml, ...) -> YAML; the files Prometheus loads. */
  ruleFiles: Record<string, string>;
  /** promtool unit-test file name (redis.test.yml, ...) -> YAML, beside the rule files. */
  ruleTestFiles: Record<string, string>;
  alertmanagerYml: string;
  scrape: PrometheusInput;
  /** Grafana's base URL, as the alerts' dashboard links use it. */
  grafanaUrl: string;
  /** The redis_exporter per Redis/Sentinel process that prometheus.yml scrapes. */
  exporters: ExporterPlacement[];
  /** The rule files as objects, and what their promtool cases were built from. */
  rules: Record<RuleFamily, RuleFile>;
  testInput: RuleTestInput;
}

/** prometheus.yml's target for one redis_exporter: the drills scrape theirs with the same labels. */
export function exporterScrapeTarget(e: ExporterPlacement): ScrapeTarget {
  return {
    address: `${e.host.address}:${e.port}`,
    instance: e.target.name,
    labels: {
      // The host the process runs on: HostUnreachable groups by it and mutes its processes' alerts.
      host: e.target.host.name,
      // The address Sentinel knows a data node by: RedisSentinelMasterMismatch joins on it.
      ...(e.target.kind === "redis" ? { [REDIS_ADDRESS_LABEL]: `${e.target.host.address}:${e.target.port}` } : {}),
    },
  };
}

/** With TLS on: blackbox_exporter on the monitoring host probes each exporter's target, named as its exporter names it. */
function certificateProbes(config: StackConfig, exporters: ExporterPlacement[], monitoringHost: HostConfig): CertificateProbes | undefined {
  if (!config.tls.enabled) return undefined;
  const targets = exporters.map((e) => ({ address: `${e.target.host.address}:${e.target.port}`, instance: e.target.name, labels: { host: e.target.host.name } }));
  return { blackbox: `${monitoringHost.address}:${config.monitoring.blackboxExporterPort}`, targets };
}

function monitoringInput(config: StackConfig, exporters: ExporterPlacement[]): PrometheusInput {
  const monitoringHost = config.hosts.find((h) => h.name === config.monitoring.host)!;
  const apiHost = config.hosts.find((h) => h.name === config.api.host);
  const metrics = config.api.metrics;
  const probes = certificateProbes(config, exporters, monitoringHost);
  const apiAddress = config.api.mode === "external" ? metrics.address : apiHost ? `${apiHost.address}:${metrics.port}` : undefined;
  return {
    cluster: config.monitoring.cluster,
    redisExporters: exporters.filter((e) => e.target.kind === "redis").map(exporterScrapeTarget),
    sentinelExporters: exporters.filter((e) => e.target.kind === "sentinel").map(exporterScrapeTarget),
    nodeExporters: config.hosts.map((h) => ({ address: `${h.address}:${config.monitoring.nodeExporterPort}`, instance: h.name, labels: { host: h.name } })),
    ...(metrics.enabled && apiAddress ? { api: { address: apiAddress, instance: "api", metricsPath: metrics.path } } : {}),
    alertmanager: `${monitoringHost.address}:${config.monitoring.alertmanagerPort}`,
    prometheus: `${monitoringHost.address}:${config.monitoring.prometheusPort}`,
    grafana: `${monitoringHost.address}:${config.monitoring.grafanaPort}`,
    webClient: { username: WEB_USERS.prometheus, passwordFile: PROMETHEUS_WEB.clientPassword, ...(config.monitoring.tls ? { caFile: TLS_FILES.ca } : {}) },
    ...(probes ? { certificateProbes: probes } : {}),
  };
}

export function grafanaUrl(config: StackConfig): string {
  const host = config.hosts.find((h) => h.name === config.monitoring.host)!;
  return `http://${host.address}:${config.monitoring.grafanaPort}`;
}

/** The Redis rules' inputs: thresholds from the sizing and the topology. */
export function redisRulesInput(config: StackConfig, model: StackModel): RedisRulesInput {
  const { topology, sizing } = model;
  const replicas = topology.dataNodes.length - 1;
  return {
    runbookBaseUrl: config.monitoring.runbookBaseUrl,
    grafanaUrl: grafanaUrl(config),
    sizing,
    dataNodesPerHost: largestShareOnOneHost(topology.dataNodes),
    replicas,
    minReplicasToWrite: replicas > 0 ? config.redis.minReplicasToWrite : 0,
    minReplicasMaxLagSeconds: config.redis.minReplicasMaxLagSeconds,
    sentinel: config.sentinel.enabled
      ? { count: config.sentinel.count, quorum: config.sentinel.quorum, masterName: config.sentinel.masterName, failoverTimeoutMilliseconds: config.sentinel.failoverTimeoutMilliseconds }
      : undefined,
    dataMountpoint: config.monitoring.dataMountpoint,
    rdbSnapshots: config.redis.rdbSnapshots,
    evictionPolicy: config.redis.evictionPolicy,
    ...(config.backup.enabled ? { backupReaderAddress: backupSettings(config, model).readerAddress } : {}),
  };
}

/** The backup rules' inputs: the job's interval, and the node_exporter target exposing its metrics. */
export function backupRulesInput(config: StackConfig, model: StackModel, scrape: PrometheusInput): BackupRulesInput {
  const links = { runbookBaseUrl: config.monitoring.runbookBaseUrl, grafanaUrl: grafanaUrl(config) };
  if (!config.backup.enabled) return links;
  const settings = backupSettings(config, model);
  const target = scrape.nodeExporters.find((t) => t.instance === settings.host.name)!;
  // Whole seconds: a drill's fractional intervalMinutes times 60 can come out as 31.000000000000004,
  // which no Prometheus duration or promtool series spells.
  return { ...links, job: { intervalSeconds: Math.round(settings.intervalSeconds), labels: scrapeLabels(NODE_JOB, target) } };
}

export function renderMonitoringFiles(config: StackConfig, model: StackModel): MonitoringFiles {
  const { topology } = model;
  const exporters = placeExporters(topology, config.monitoring.redisExporterPort);
  const scrape = monitoringInput(config, exporters);
  const grafana = grafanaUrl(config);
  const redis = redisRulesInput(config, model);
  const backup = backupRulesInput(config, model, scrape);
  const dataHosts = [...new Set(topology.dataNodes.map((n) => n.host.name))];
  const rules: Record<RuleFamily, RuleFile> = {
    redis: renderRedisAlertRules(redis),
    slo: renderSloRules(config.monitoring.slo, config.monitoring.runbookBaseUrl, grafana),
    api: renderApiRules(config.monitoring.slo, config.monitoring.runbookBaseUrl, grafana),
    monitoring: renderMonitoringRules({ runbookBaseUrl: config.monitoring.runbookBaseUrl, grafanaUrl: grafana, dataHosts }),
    backup: renderBackupRules(backup),
    certificates: renderCertificateRules({ runbookBaseUrl: config.monitoring.runbookBaseUrl, grafanaUrl: grafana, ...(scrape.certificateProbes ? { probes: scrape.certificateProbes } : {}) }),
  };
  const testInput: RuleTestInput = { redis, scrape, slo: config.monitoring.slo, dataHosts, masterName: config.sentinel.masterName, ...(backup.job ? { backup: backup.job } : {}) };
  const tests = renderRuleTests(rules, testInput);
  const families = Object.keys(RULE_FILE_NAMES) as RuleFamily[];
  return {
    scrape,
    exporters,
    grafanaUrl: grafana,
    rules,
    testInput,
    prometheusYml: toYaml(renderPrometheusConfig(scrape)),
    ruleFiles: Object.fromEntries(families.map((f) => [RULE_FILE_NAMES[f], toYaml(prometheusRuleFile(rules[f]))])),
    ruleTestFiles: Object.fromEntries(Object.entries(tests).map(([name, file]) => [name, toYaml(file)])),
    alertmanagerYml: toYaml(renderAlertmanagerConfig({ pageChannel: config.monitoring.slackPageChannel, ticketChannel: config.monitoring.slackTicketChannel })),
  };
}

/**
 * A shell script that writes each rule file (and each promtool test file), runs
 * `promtool check rules` on the rule files, then `promtool test rules` on the tests.
 */
export function renderPromtoolCheckScript(ruleFiles: Record<string, string>, testFiles: Record<string, string> = {}): string {
  const names = Object.keys(ruleFiles);
  const tests = Object.keys(testFiles);
  const all = { ...ruleFiles, ...testFiles };
  // A quoted heredoc ends only at a line that is its delimiter: refuse content holding one (the
  // file names are this program's own; the contents carry config values).
  for (const [name, content] of Object.entries(all)) {
    if (!/^[\w.-]+$/.test(name) || content.split("\n").includes("VEZA_RULES_EOF"))
      throw new Error(`rule file ${JSON.stringify(name)} cannot be written by a heredoc: a bad name or a line VEZA_RULES_EOF`);
  }
  return [
    "set -eu",
    ...Object.keys(all).map((name) => `cat > /tmp/${name} <<'VEZA_RULES_EOF'\n${all[name].replace(/\n$/, "")}\nVEZA_RULES_EOF`),
    `promtool check rules ${names.map((n) => `/tmp/${n}`).join(" ")}`,
    ...(tests.length > 0 ? [`promtool test rules ${tests.map((n) => `/tmp/${n}`).join(" ")}`] : []),
    "",
  ].join("\n");
}
