// Failure mode monitoring-blind (components/failureModes.ts): every alert actionable, the alerting watched.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { CONTAINER, componentOf, parseYamlOnce, ruleFiles, uploadedFile } from "../resources";

export const alertsLinked: ResourceValidationPolicy = {
  name: "alerts-have-severity-and-runbook",
  description:
    "Runbook: time-to-detect. Every Prometheus alert has a severity of page or ticket (heartbeat only for the always-firing Watchdog) and a runbook_url (under runbookUrlPrefix, when set), so it reaches the right person with a first move.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      runbookUrlPrefix: {
        type: "string",
        pattern: "^https?://\\S+$",
        description: "Where the team's runbooks live: every runbook_url must start with it (a link to a fork or a personal copy fails).",
      },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "prometheus") return;
    const { runbookUrlPrefix } = args.getConfig<{ runbookUrlPrefix?: string }>();
    for (const { file, rules } of ruleFiles(args.props)) {
      for (const rule of rules.filter((r) => r.alert)) {
        const severity = rule.labels?.severity ?? "";
        const heartbeat = severity === "heartbeat" && rule.alert === "Watchdog" && rule.expr === "vector(1)";
        if (!["page", "ticket"].includes(severity) && !heartbeat)
          report(`${file}: alert ${rule.alert} has severity ${rule.labels?.severity ?? "none"} (page or ticket; heartbeat only for Watchdog, vector(1))`);
        const runbook = rule.annotations?.runbook_url ?? "";
        if (!/^https?:\/\/\S+$/.test(runbook)) report(`${file}: alert ${rule.alert} has no runbook_url`);
        else if (runbookUrlPrefix && !runbook.startsWith(runbookUrlPrefix)) report(`${file}: alert ${rule.alert} links ${runbook}, outside the team's runbooks (${runbookUrlPrefix})`);
      }
    }
  },
};

export const deadMansSwitch: StackValidationPolicy = {
  name: "alerting-has-dead-mans-switch",
  description:
    "Runbook: time-to-detect when the alerting itself is down. Prometheus has the always-firing Watchdog, and Alertmanager routes severity=heartbeat first, every minute, to a webhook receiver (the outside dead man's switch).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const prometheus = args.resources.filter((r) => r.type === CONTAINER && componentOf(r.props) === "prometheus");
    const alertmanager = args.resources.filter((r) => r.type === CONTAINER && componentOf(r.props) === "alertmanager");
    for (const p of prometheus) {
      const watchdog = ruleFiles(p.props)
        .flatMap((f) => f.rules)
        .find((r) => r.alert === "Watchdog");
      if (!watchdog || watchdog.expr !== "vector(1)" || watchdog.labels?.severity !== "heartbeat")
        report(`${p.name}: no always-firing Watchdog (expr vector(1), severity heartbeat): nothing tells anyone when alerting stops`, p.urn);
    }
    for (const a of alertmanager) {
      const text = uploadedFile(a.props, "/alertmanager.yml");
      if (text === undefined) continue;
      const config = parseYamlOnce(text) as {
        route?: { routes?: Array<{ matchers?: string[]; receiver?: string; repeat_interval?: string }> };
        receivers?: Array<{ name?: string; webhook_configs?: unknown[] }>;
      };
      const first = config.route?.routes?.[0];
      const receiver = config.receivers?.find((r) => r.name === first?.receiver);
      if (!first?.matchers?.includes('severity="heartbeat"') || !Array.isArray(receiver?.webhook_configs) || receiver!.webhook_configs.length === 0) {
        report(`${a.name}: the first route does not send severity="heartbeat" to a webhook receiver: the dead man's switch never hears from Alertmanager`, a.urn);
      }
    }
  },
};
