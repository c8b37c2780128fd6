// Alerts on the alerting itself: Watchdog (always firing, routed to an outside dead man's switch
// that pages when it stops arriving), the exporters whose silence would hide other alerts, and
// Prometheus and Alertmanager failing to evaluate, reload or deliver.
import { ALERTMANAGER_JOB, API_JOB, NODE_JOB, PROMETHEUS_JOB, REDIS_JOB, SENTINEL_JOB } from "./prometheusConfig";
import { alertRule, RUNBOOK_PAGES, type AlertRow, type RuleFile } from "./runbooks";

export interface MonitoringRulesInput {
  runbookBaseUrl: string;
  grafanaUrl: string;
  /** Hosts holding a Redis data node: their node_exporter feeds the disk-full alerts. */
  dataHosts: string[];
}

/** Jobs whose `up == 0` has an alert of its own (RedisUnreachable, SentinelUnreachable, NodeExporterDown). */
const JOBS_WITH_OWN_DOWN_ALERT = [REDIS_JOB, SENTINEL_JOB];

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function renderMonitoringRules(input: MonitoringRulesInput): RuleFile {
  const dataHosts = input.dataHosts.map(escapeRegex).join("|");
  const dataHostNodeExporter = `up{job="${NODE_JOB}",instance=~"${dataHosts}"}`;

  const heartbeat: AlertRow = {
    alert: "Watchdog",
    expr: "vector(1)",
    severity: "heartbeat",
    summary: "Alerting pipeline heartbeat: always firing",
    description:
      "Always firing, sent every minute to the dead man's switch (heartbeatWebhookUrl). The outside service pages when it stops arriving: Prometheus, Alertmanager or their host is down, or notifications cannot leave.",
    runbook: RUNBOOK_PAGES.monitoring,
  };

  const exporters: AlertRow[] = [
    {
      alert: "NodeExporterDown",
      expr: `${dataHostNodeExporter} == 0`,
      for: "5m",
      severity: "ticket",
      summary: "node_exporter on data host {{ $labels.instance }} is down: the disk-full alerts there are blind",
      description: "RedisDataVolumeLow and RedisDataVolumeFillingUp read this exporter; while it is down a filling disk pages nobody.",
      runbook: RUNBOOK_PAGES.nodeExporterDown,
      dashboard: "redis",
    },
    {
      alert: "TargetDown",
      expr: `(up{job!~"${JOBS_WITH_OWN_DOWN_ALERT.join("|")}"} == 0) unless on (job, instance) ${dataHostNodeExporter}`,
      for: "5m",
      severity: "ticket",
      summary: "Prometheus cannot scrape {{ $labels.job }} target {{ $labels.instance }}",
      description: `Every series of this target is gone, and alerts that read it are silent (the ${API_JOB} job feeds the SLO alerts; ${ALERTMANAGER_JOB} and ${PROMETHEUS_JOB} are the alerting itself).`,
      runbook: RUNBOOK_PAGES.monitoring,
    },
  ];

  const self: AlertRow[] = [
    {
      alert: "PrometheusRuleEvaluationFailing",
      expr: `increase(prometheus_rule_evaluation_failures_total{job="${PROMETHEUS_JOB}"}[5m]) > 0`,
      for: "5m",
      severity: "ticket",
      summary: "Prometheus fails to evaluate rule group {{ $labels.rule_group }}",
      description: "A rule that fails to evaluate never fires: its alerts are silent whatever happens.",
      runbook: RUNBOOK_PAGES.monitoring,
    },
    {
      alert: "PrometheusConfigReloadFailed",
      expr: `prometheus_config_last_reload_successful{job="${PROMETHEUS_JOB}"} == 0`,
      for: "10m",
      severity: "ticket",
      summary: "Prometheus failed to reload its configuration",
      description: "Prometheus keeps running the previous configuration and rules: the declared ones are not in force.",
      runbook: RUNBOOK_PAGES.monitoring,
    },
    {
      alert: "PrometheusNotificationsFailing",
      expr: `rate(prometheus_notifications_errors_total{job="${PROMETHEUS_JOB}"}[5m]) > 0`,
      for: "5m",
      severity: "page",
      summary: "Prometheus cannot send alerts to Alertmanager {{ $labels.alertmanager }}",
      description: "Alerts are evaluated but do not reach Alertmanager. This page may itself not arrive: the Watchdog heartbeat stopping is the backstop.",
      runbook: RUNBOOK_PAGES.monitoring,
    },
    {
      alert: "AlertmanagerNotificationsFailing",
      expr: `sum by (job, instance, integration) (rate(alertmanager_notifications_failed_total{job="${ALERTMANAGER_JOB}"}[5m])) > 0`,
      for: "5m",
      severity: "page",
      summary: "Alertmanager fails to deliver {{ $labels.integration }} notifications",
      description: "Pages or tickets are not reaching on-call through this integration (a revoked Slack webhook or PagerDuty key, or no network). The other integration still carries this page.",
      runbook: RUNBOOK_PAGES.monitoring,
    },
    {
      alert: "AlertmanagerConfigReloadFailed",
      expr: `alertmanager_config_last_reload_successful{job="${ALERTMANAGER_JOB}"} == 0`,
      for: "10m",
      severity: "ticket",
      summary: "Alertmanager failed to reload its configuration",
      description: "Alertmanager keeps routing with the previous configuration: the declared routes and receivers are not in force.",
      runbook: RUNBOOK_PAGES.monitoring,
    },
  ];

  return {
    groups: [
      { name: "monitoring-heartbeat", rules: [alertRule(heartbeat, input)] },
      { name: "monitoring-targets", rules: exporters.map((row) => alertRule(row, input)) },
      { name: "monitoring-self", rules: self.map((row) => alertRule(row, input)) },
    ],
  };
}
