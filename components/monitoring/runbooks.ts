// Every alert links to one page under docs/runbooks/; a test fails when a page is missing.
export const RUNBOOK_PAGES = {
  redisDown: "redis-down",
  redisMemory: "redis-memory",
  diskFull: "disk-full",
  replication: "redis-replication",
  apiAvailability: "api-availability-slo-burn",
  apiLatency: "api-latency-slo-burn",
  paymentSuccess: "payment-success-slo-burn",
  sloBlind: "slo-blind",
  masterMismatch: "redis-master-mismatch",
  nodeExporterDown: "node-exporter-down",
  monitoring: "monitoring-self",
  credentialRotation: "credential-rotation",
  security: "redis-security",
  backup: "redis-backup",
  certificates: "redis-certificates",
} as const;

export type RunbookPage = (typeof RUNBOOK_PAGES)[keyof typeof RUNBOOK_PAGES];

export function runbookUrl(baseUrl: string, page: RunbookPage): string {
  return `${baseUrl}/${page}.md`;
}

/** page: PagerDuty and Slack; ticket: Slack; heartbeat: the dead man's switch (Watchdog only). */
export type Severity = "page" | "ticket" | "heartbeat";

/** The Grafana dashboards the alerts link to (uid and title; built in dashboards.ts). */
export const DASHBOARDS = {
  api: { uid: "veza-api-overview", title: "Veza API Overview" },
  redis: { uid: "veza-redis", title: "Redis" },
} as const;

export type DashboardKey = keyof typeof DASHBOARDS;

export function dashboardUrl(grafanaUrl: string, key: DashboardKey): string {
  return `${grafanaUrl}/d/${DASHBOARDS[key].uid}`;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: Severity; [label: string]: string };
  /**
   * Why a page fires without a `for:` (each page has one or says why not). Not part of the rule
   * file: prometheusRuleFile drops it.
   */
  forOmittedBecause?: string;
  annotations: { summary: string; description: string; runbook_url: string; dashboard?: string };
}

/**
 * One alert as a row of data: what it watches, how bad it is, what on-call reads. alertRule turns
 * it into the rule Prometheus loads: the severity as a label, the runbook and dashboard as links.
 */
export interface AlertRow {
  alert: string;
  expr: string;
  for?: string;
  severity: Severity;
  /** Labels beyond the severity (an SLO's id). */
  labels?: Record<string, string>;
  /** Why a page fires without a `for:` (each page has one or says why not). */
  forOmittedBecause?: string;
  summary: string;
  description: string;
  runbook: RunbookPage;
  dashboard?: DashboardKey;
}

/** Where the rules link to: the runbook pages and Grafana. */
export interface AlertLinks {
  runbookBaseUrl: string;
  grafanaUrl: string;
}

/** The rule of a row; `dashboard` links every rule of a group to one dashboard. */
export function alertRule(row: AlertRow, links: AlertLinks, dashboard = row.dashboard): AlertRule {
  return {
    alert: row.alert,
    expr: row.expr,
    ...(row.for !== undefined ? { for: row.for } : {}),
    labels: { severity: row.severity, ...row.labels },
    ...(row.forOmittedBecause !== undefined ? { forOmittedBecause: row.forOmittedBecause } : {}),
    annotations: {
      summary: row.summary,
      description: row.description,
      runbook_url: runbookUrl(links.runbookBaseUrl, row.runbook),
      ...(dashboard !== undefined ? { dashboard: dashboardUrl(links.grafanaUrl, dashboard) } : {}),
    },
  };
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Array<AlertRule | RecordingRule>;
}

export interface RuleFile {
  groups: RuleGroup[];
}

/** The rule file as Prometheus reads it: the program's own notes on a rule removed. */
export function prometheusRuleFile(file: RuleFile): RuleFile {
  return {
    groups: file.groups.map((group) => ({
      ...group,
      rules: group.rules.map((rule) => {
        if (!("alert" in rule)) return rule;
        const { forOmittedBecause: _, ...rest } = rule;
        return rest;
      }),
    })),
  };
}
