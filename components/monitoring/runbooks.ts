// Every alert links to one page under docs/runbooks/; a test fails when a page is missing.
export const RUNBOOK_PAGES = {
  redisDown: "redis-down",
  redisMemory: "redis-memory",
  diskFull: "disk-full",
  replication: "redis-replication",
  apiAvailability: "api-availability-slo-burn",
  apiLatency: "api-latency-slo-burn",
  paymentSuccess: "payment-success-slo-burn",
} as const;

export type RunbookPage = (typeof RUNBOOK_PAGES)[keyof typeof RUNBOOK_PAGES];

export function runbookUrl(baseUrl: string, page: RunbookPage): string {
  return `${baseUrl}/${page}.md`;
}

export type Severity = "page" | "ticket";

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: Severity; [label: string]: string };
  annotations: { summary: string; description: string; runbook_url: string };
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
