// Alertmanager routing: page -> Slack + PagerDuty, ticket -> Slack only, heartbeat (Watchdog)
// -> the dead man's switch every minute. Secrets are read from files (slack api_url_file,
// pagerduty routing_key_file), so this config holds none. The webhook's url_file needs
// Alertmanager 0.26, and amtool 0.25 (Debian 12) refuses it: the heartbeat URL is a placeholder
// that the container's start script replaces from its secret file (renderAlertmanagerStartScript).

import { BURN_TIERS } from "./sloRules";

/** The SLO burn tiers that ticket, fastest first. */
const TICKET_TIERS = BURN_TIERS.filter((tier) => tier.severity === "ticket");

/**
 * One failure, one notification: while a cause fires, the alerts it necessarily raises are muted
 * (they stay visible in Alertmanager, marked inhibited). `equal` scopes the cause: a host's own
 * processes, or the whole cluster.
 */
export const CAUSE_MUTES_CONSEQUENCES: ReadonlyArray<{ cause: string[]; consequences: string[]; equal: string[] }> = [
  // A host down takes every exporter on it down: page once for the host.
  { cause: ["HostUnreachable"], consequences: ["RedisUnreachable", "SentinelUnreachable", "NodeExporterDown", "RedisRestartLoop"], equal: ["host", "cluster"] },
  // A data node down: its replicas' broken links and its master's missing replica follow.
  { cause: ["RedisUnreachable"], consequences: ["RedisReplicationBroken", "RedisReplicasMissing", "RedisReplicaLagBytes", "RedisReplicaLagSeconds"], equal: ["cluster"] },
  // Quorum lost is the page; each sentinel's own ticket is part of it.
  { cause: ["SentinelQuorumLost", "SentinelsBelowQuorumReachable"], consequences: ["SentinelUnreachable", "SentinelQuorumAtRisk", "SentinelTilt"], equal: ["cluster"] },
];

export const ALERTMANAGER_SECRET_FILES = {
  slackWebhookUrl: "/etc/alertmanager/secrets/slack-webhook-url",
  pagerdutyRoutingKey: "/etc/alertmanager/secrets/pagerduty-routing-key",
  heartbeatWebhookUrl: "/etc/alertmanager/secrets/heartbeat-webhook-url",
} as const;

export const RECEIVERS = { page: "page-oncall", ticket: "ticket-oncall", heartbeat: "heartbeat" } as const;

/** Stands for the heartbeat URL in the uploaded alertmanager.yml; a valid URL so amtool checks the file. */
export const HEARTBEAT_URL_PLACEHOLDER = "https://heartbeat-url.invalid/replaced-at-container-start";

export interface AlertmanagerInput {
  pageChannel: string;
  ticketChannel: string;
}

export function renderAlertmanagerConfig(input: AlertmanagerInput = { pageChannel: "#veza-oncall", ticketChannel: "#veza-tickets" }) {
  const slack = (channel: string) => ({
    api_url_file: ALERTMANAGER_SECRET_FILES.slackWebhookUrl,
    channel,
    send_resolved: true,
    title: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})",
    text: "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}",
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
        // The heartbeat must keep arriving: no grouping delay, resent every minute.
        // Watchdog alone: any other alert labelled heartbeat (one Prometheus's password can post)
        // falls through to the ticket route instead of vanishing into the dead man's switch.
        { matchers: ['severity="heartbeat"', 'alertname="Watchdog"'], receiver: RECEIVERS.heartbeat, group_by: ["alertname"], group_wait: "0s", group_interval: "1m", repeat_interval: "1m" },
        { matchers: ['severity="page"'], receiver: RECEIVERS.page, repeat_interval: "1h" },
        { matchers: ['severity="ticket"'], receiver: RECEIVERS.ticket, repeat_interval: "12h" },
      ],
    },
    // One burn, one notification: while an SLO burns at a faster tier, its slower tiers (which a
    // fast burn always crosses too) are noise. The page mutes every ticket of its SLO; a ticket
    // tier mutes the slower ticket tiers.
    inhibit_rules: [
      // Every cause is a page, and only a page mutes: a cause posted with another severity (one
      // Prometheus's password can post) mutes nothing, and one that mutes pages on-call itself.
      ...CAUSE_MUTES_CONSEQUENCES.map((rule) => ({
        source_matchers: [`alertname=~"${rule.cause.join("|")}"`, 'severity="page"'],
        target_matchers: [`alertname=~"${rule.consequences.join("|")}"`],
        equal: rule.equal,
      })),
      { source_matchers: ['severity="page"', 'slo=~".+"'], target_matchers: ['severity="ticket"'], equal: ["slo", "cluster"] },
      // From BURN_TIERS, fastest first: each ticket tier mutes every slower one.
      ...TICKET_TIERS.slice(0, -1).map((tier, i) => ({
        // A ticket mutes only as a ticket: a forged faster tier labelled otherwise mutes nothing.
        source_matchers: [`alertname=~".+SLO${tier.name}"`, 'severity="ticket"'],
        target_matchers: [
          `alertname=~".+SLO(${TICKET_TIERS.slice(i + 1)
            .map((slower) => slower.name)
            .join("|")})"`,
        ],
        equal: ["slo", "cluster"],
      })),
    ],
    receivers: [
      {
        name: RECEIVERS.page,
        slack_configs: [slack(input.pageChannel)],
        pagerduty_configs: [{ routing_key_file: ALERTMANAGER_SECRET_FILES.pagerdutyRoutingKey, severity: "critical", send_resolved: true, description: "{{ .CommonAnnotations.summary }}" }],
      },
      { name: RECEIVERS.ticket, slack_configs: [slack(input.ticketChannel)] },
      { name: RECEIVERS.heartbeat, webhook_configs: [{ url: HEARTBEAT_URL_PLACEHOLDER, send_resolved: false }] },
    ],
  };
}

/**
 * The Alertmanager container's start script (sh: dash in the built image, busybox in the upstream one): writes the config with the heartbeat
 * URL read from its secret file, then runs Alertmanager on it. Plain parameter expansion, no
 * sed: a URL's `&`, `|` or `/` cannot break the substitution.
 */
export function renderAlertmanagerStartScript(templatePath: string, renderedPath: string, args: string[]): string {
  return [
    "set -eu",
    `url=$(cat ${ALERTMANAGER_SECRET_FILES.heartbeatWebhookUrl})`,
    // The config validates the URL; this refuses one that reached the file some other way: a
    // newline or a space would let it write YAML of its own into alertmanager.yml.
    'case "$url" in http://*|https://*) ;; *) echo "veza alertmanager: the heartbeat URL is not an http(s) URL: not starting" >&2; exit 1;; esac',
    'case "$url" in *[[:space:][:cntrl:]]*) echo "veza alertmanager: the heartbeat URL holds whitespace or a control character: not starting" >&2; exit 1;; esac',
    `template=$(cat ${templatePath})`,
    `printf '%s\n' "\${template%%${HEARTBEAT_URL_PLACEHOLDER}*}\${url}\${template#*${HEARTBEAT_URL_PLACEHOLDER}}" > ${renderedPath}`,
    `exec /bin/alertmanager --config.file=${renderedPath} ${args.join(" ")}`,
  ].join("\n");
}
