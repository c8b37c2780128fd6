// Alertmanager routing: page -> Slack + PagerDuty, ticket -> Slack only. Secrets are read from
// files (slack api_url_file, pagerduty routing_key_file), so this config holds none.

export const ALERTMANAGER_SECRET_FILES = {
  slackWebhookUrl: "/etc/alertmanager/secrets/slack-webhook-url",
  pagerdutyRoutingKey: "/etc/alertmanager/secrets/pagerduty-routing-key",
} as const;

export const RECEIVERS = { page: "page-oncall", ticket: "ticket-oncall" } as const;

export interface AlertmanagerInput {
  pageChannel: string;
  ticketChannel: string;
}

export function renderAlertmanagerConfig(input: AlertmanagerInput = { pageChannel: "#veza-oncall", ticketChannel: "#veza-tickets" }) {
  const slack = (channel: string) => ({
    api_url_file: ALERTMANAGER_SECRET_FILES.slackWebhookUrl,
    channel,
    send_resolved: true,
    title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})',
    text: '{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}',
  });
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: RECEIVERS.ticket,
      group_by: ["alertname", "cluster"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        { matchers: ['severity="page"'], receiver: RECEIVERS.page, repeat_interval: "1h" },
        { matchers: ['severity="ticket"'], receiver: RECEIVERS.ticket, repeat_interval: "12h" },
      ],
    },
    // While an SLO's fast burn pages, its slow-burn ticket is noise.
    inhibit_rules: [{ source_matchers: ['severity="page"', 'slo=~".+"'], target_matchers: ['severity="ticket"'], equal: ["slo", "cluster"] }],
    receivers: [
      {
        name: RECEIVERS.page,
        slack_configs: [slack(input.pageChannel)],
        pagerduty_configs: [{ routing_key_file: ALERTMANAGER_SECRET_FILES.pagerdutyRoutingKey, severity: "critical", send_resolved: true, description: "{{ .CommonAnnotations.summary }}" }],
      },
      { name: RECEIVERS.ticket, slack_configs: [slack(input.ticketChannel)] },
    ],
  };
}
