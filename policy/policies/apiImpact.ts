// Failure mode api-impact (components/failureModes.ts): the runbook's toggles reach the API, the SLOs watch it.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { CONTAINER, componentOf, envOf, ruleFiles } from "../resources";

export const apiToggles: ResourceValidationPolicy = {
  name: "api-declares-redis-toggles",
  description: "Runbook: Mitigation while Redis is down. The API container declares MAINTENANCE_MODE and RATELIMIT_FAIL_CLOSED (true/false), so the mitigations are a reviewed config change.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "api") return;
    const env = envOf(args.props);
    for (const name of ["MAINTENANCE_MODE", "RATELIMIT_FAIL_CLOSED"]) {
      const value = env.get(name);
      if (value !== "true" && value !== "false") report(`${name} is ${value === undefined ? "not declared" : `"${value}"`}: it must be true or false`);
    }
  },
};

export const sloComplete: ResourceValidationPolicy = {
  name: "slo-rules-complete",
  description:
    "Seed commit: three SLOs with multi-window burn-rate alerts. The SLO rule file has its 21 recording rules and 12 alerts: per SLO, the fast burn (14.4x over 1h) pages, and the slow (6x over 6h), daily (3x over 1d) and three-day (1x over 3d) burns ticket, so no burn that empties the budget within the month stays silent.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "prometheus") return;
    const slo = ruleFiles(args.props).find((f) => f.file.endsWith("/slo.yml"));
    if (!slo) {
      report("no SLO rule file (rules/slo.yml)");
      return;
    }
    const records = slo.rules.filter((r) => r.record).length;
    const alerts = slo.rules.filter((r) => r.alert);
    if (records !== 21) report(`${records} SLO recording rules, expected 21 (3 SLOs x 5m/30m/1h/2h/6h/1d/3d)`);
    const tiers = [
      ["FastBurn", "page"],
      ["SlowBurn", "ticket"],
      ["DailyBurn", "ticket"],
      ["ThreeDayBurn", "ticket"],
    ] as const;
    const counts = tiers.map(([tier, severity]) => alerts.filter((a) => a.alert!.endsWith(`SLO${tier}`) && a.labels?.severity === severity).length);
    if (alerts.length !== 12 || counts.some((count) => count !== 3)) {
      report(`${alerts.length} SLO alerts (${tiers.map(([tier, severity], i) => `${counts[i]} ${tier} ${severity}s`).join(", ")}), expected 12: 3 of each`);
    }
  },
};
