// The API's own rules beside the SLOs: p95 latency recording rules (the SLO runbooks' first
// panel, "Veza API Overview") and SLOBlind, the ticket for SLO alerts that cannot see.
import type { SloMetricsConfig } from "../config/types";
import { API_JOB } from "./prometheusConfig";
import { sloDefinitions, WRITE_METHODS } from "./sloRules";
import { alertRule, RUNBOOK_PAGES, type AlertRow, type RecordingRule, type RuleFile } from "./runbooks";

export const P95_WINDOW = "5m";
/** p95 per route (every method): the "Veza API Overview" latency panel. */
export const P95_BY_ROUTE = `route:http_request_duration_seconds:p95_rate${P95_WINDOW}`;
/** p95 of writes (the latency SLO's requests), per route. */
export const P95_WRITES_BY_ROUTE = `route:http_write_request_duration_seconds:p95_rate${P95_WINDOW}`;
/** How long an SLO input may be missing before SLOBlind fires. */
export const SLO_BLIND_FOR = "10m";

export function renderApiRules(m: SloMetricsConfig, runbookBaseUrl: string, grafanaUrl: string): RuleFile {
  const bucket = (selector: string) => `histogram_quantile(0.95, sum by (${m.routeLabel}, le) (rate(${m.durationBucket}{job="${API_JOB}"${selector}}[${P95_WINDOW}])))`;
  const recordings: RecordingRule[] = [
    { record: P95_BY_ROUTE, expr: bucket("") },
    { record: P95_WRITES_BY_ROUTE, expr: bucket(`,${m.methodLabel}=~"${WRITE_METHODS}"`) },
  ];
  // absent() of each SLO's input, labelled with the SLO it blinds.
  const blind = sloDefinitions(m)
    .map((slo) => `label_replace(absent(${slo.inputSelector}), "slo", "${slo.id}", "", "")`)
    .join(" or ");
  const sloBlind: AlertRow = {
    alert: "SLOBlind",
    expr: blind,
    for: SLO_BLIND_FOR,
    severity: "ticket",
    summary: "The {{ $labels.slo }} SLO has had no input series for 10 minutes: its burn-rate alerts cannot fire",
    description: `Prometheus has no ${m.requestsTotal} / ${m.durationBucket} series from the ${API_JOB} job for this SLO: the API's metrics endpoint is not scraped (TargetDown, api.metrics config), or the API renamed a metric or label (monitoring.slo config).`,
    runbook: RUNBOOK_PAGES.sloBlind,
    dashboard: "api",
  };
  return {
    groups: [
      { name: "api-latency", rules: recordings },
      { name: "api-slo-inputs", rules: [alertRule(sloBlind, { runbookBaseUrl, grafanaUrl })] },
    ],
  };
}
