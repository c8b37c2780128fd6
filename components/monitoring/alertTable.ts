// The alert table of docs/alerts.md, generated from the rendered rules and routes (a test keeps
// the page in sync): every alert with its severity, where Alertmanager sends it, its runbook and
// its dashboard.
import { renderAlertmanagerConfig } from "./alertmanagerConfig";
import { DASHBOARDS, type AlertRule, type RuleFile } from "./runbooks";

const INTEGRATIONS: Record<string, string> = { slack_configs: "Slack", pagerduty_configs: "PagerDuty", webhook_configs: "webhook" };

/** `<receiver> (<integrations>)` for a severity, as the routing tree sends it. */
export function routeFor(severity: string): string {
  const config = renderAlertmanagerConfig();
  const route = config.route.routes.find((r) => r.matchers.includes(`severity="${severity}"`));
  const name = route?.receiver ?? config.route.receiver;
  const receiver = config.receivers.find((r) => r.name === name) as Record<string, unknown>;
  const via = Object.keys(receiver)
    .filter((k) => k in INTEGRATIONS)
    .map((k) => INTEGRATIONS[k])
    .join(" + ");
  return `\`${name}\` (${via})`;
}

export function renderAlertTable(rules: RuleFile[], runbookBaseUrl: string, grafanaUrl: string): string {
  const alerts = rules.flatMap((f) => f.groups.flatMap((g) => g.rules)).filter((r): r is AlertRule => "alert" in r);
  const dashboardTitle = (url?: string) => Object.values(DASHBOARDS).find((d) => url === `${grafanaUrl}/d/${d.uid}`)?.title;
  const rows = alerts.map((a) => {
    const page = a.annotations.runbook_url.replace(`${runbookBaseUrl}/`, "");
    const dashboard = dashboardTitle(a.annotations.dashboard);
    return `| \`${a.alert}\` | ${a.labels.severity} | ${routeFor(a.labels.severity)} | [${page.replace(/\.md$/, "")}](runbooks/${page}) | ${dashboard ? `"${dashboard}"` : "-"} |`;
  });
  return ["| alert | severity | route | runbook | dashboard |", "| --- | --- | --- | --- | --- |", ...rows].join("\n");
}
