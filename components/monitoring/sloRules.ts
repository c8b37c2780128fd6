// The seed commit's three SLOs as Sloth-style multi-window, multi-burn-rate rules (Google SRE
// workbook, "Alerting on SLOs", its multiwindow, multi-burn-rate table): 21 recording rules (the
// error ratio over 5m, 30m, 1h, 2h, 6h, 1d and 3d per SLO) and 12 alerts, four tiers per SLO.
import type { SloMetricsConfig } from "../config/types";
import { API_JOB } from "./prometheusConfig";
import { alertRule, RUNBOOK_PAGES, type AlertRow, type RecordingRule, type RuleFile, type RunbookPage } from "./runbooks";

export interface SloDefinition {
  /** Value of the `slo` label, e.g. api-availability. */
  id: string;
  /** Alert name prefix: <alertName>SLO<tier>, e.g. ApiAvailabilitySLOFastBurn. */
  alertName: string;
  objective: number;
  description: string;
  runbook: RunbookPage;
  /** PromQL error ratio over a window, `$w` standing for the window. */
  errorRatio: (window: string) => string;
  /** The input series this SLO reads (job, metric and the SLO's fixed labels): absent = blind. */
  inputSelector: string;
}

export const SLO_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;
type SloWindow = (typeof SLO_WINDOWS)[number];

export interface BurnTier {
  /** The alert name's suffix after "SLO". */
  name: string;
  factor: number;
  longWindow: SloWindow;
  shortWindow: SloWindow;
  severity: "page" | "ticket";
  budgetSpent: string;
}

/**
 * Burn rates for a 30-day budget. The seed's two tiers (14.4x pages, 6x tickets), and the
 * workbook's slower ones as tickets: without them a 5x burn empties the budget in 6 days with no
 * alert at all. The short window (1/12 of the long) ends the alert soon after the burn stops.
 */
export const BURN_TIERS: readonly BurnTier[] = [
  { name: "FastBurn", factor: 14.4, longWindow: "1h", shortWindow: "5m", severity: "page", budgetSpent: "2% of the 30-day budget in 1 hour" },
  { name: "SlowBurn", factor: 6, longWindow: "6h", shortWindow: "30m", severity: "ticket", budgetSpent: "5% of the 30-day budget in 6 hours" },
  { name: "DailyBurn", factor: 3, longWindow: "1d", shortWindow: "2h", severity: "ticket", budgetSpent: "10% of the 30-day budget in 1 day" },
  { name: "ThreeDayBurn", factor: 1, longWindow: "3d", shortWindow: "6h", severity: "ticket", budgetSpent: "10% of the 30-day budget in 3 days: the whole budget by the month's end" },
];

export const WRITE_METHODS = "POST|PUT|PATCH|DELETE";

/** Every SLO reads the API job's series only: the labels prometheus.yml gives the API's scrape. */
export function sloDefinitions(m: SloMetricsConfig, job = API_JOB): SloDefinition[] {
  const rate = (selector: string, window: string, metric = m.requestsTotal) => `sum(rate(${metric}{job="${job}",${selector}}[${window}]))`;
  const orders = `${m.methodLabel}="POST",${m.routeLabel}="${m.paymentRoute}"`;
  const le = formatLe(m.latencyThresholdSeconds);
  return [
    {
      id: "api-availability",
      alertName: "ApiAvailability",
      objective: 0.995,
      description: "99.5% of GET requests succeed (non-5xx)",
      runbook: RUNBOOK_PAGES.apiAvailability,
      // An API that never failed has no 5xx series: `or vector(0)` keeps the ratio at 0, not empty.
      errorRatio: (w) => `(${rate(`${m.methodLabel}="GET",${m.statusLabel}=~"5.."`, w)} or vector(0)) / ${rate(`${m.methodLabel}="GET"`, w)}`,
      inputSelector: `${m.requestsTotal}{job="${job}",${m.methodLabel}="GET"}`,
    },
    {
      id: "api-latency",
      alertName: "ApiLatency",
      objective: 0.99,
      description: `99% of writes complete within ${m.latencyThresholdSeconds * 1000} ms`,
      runbook: RUNBOOK_PAGES.apiLatency,
      errorRatio: (w) => `1 - (${rate(`${m.methodLabel}=~"${WRITE_METHODS}",le="${le}"`, w, m.durationBucket)} / ${rate(`${m.methodLabel}=~"${WRITE_METHODS}",le="+Inf"`, w, m.durationBucket)})`,
      inputSelector: `${m.durationBucket}{job="${job}",${m.methodLabel}=~"${WRITE_METHODS}",le="${le}"}`,
    },
    {
      id: "payment-success",
      alertName: "PaymentSuccess",
      objective: 0.995,
      description: `99.5% of POST ${m.paymentRoute} return 2xx`,
      runbook: RUNBOOK_PAGES.paymentSuccess,
      errorRatio: (w) => `(${rate(`${orders},${m.statusLabel}!~"2.."`, w)} or vector(0)) / ${rate(orders, w)}`,
      inputSelector: `${m.requestsTotal}{job="${job}",${orders}}`,
    },
  ];
}

/** Prometheus histogram `le` label text: 0.5 -> "0.5", 1 -> "1.0" (client_golang style). */
export function formatLe(seconds: number): string {
  return Number.isInteger(seconds) ? seconds.toFixed(1) : String(seconds);
}

export function recordName(window: string): string {
  return `slo:sli_error:ratio_rate${window}`;
}

export function renderSloRules(metrics: SloMetricsConfig, runbookBaseUrl: string, grafanaUrl: string): RuleFile {
  const slos = sloDefinitions(metrics);
  return {
    groups: slos.map((slo) => {
      const recordings: RecordingRule[] = SLO_WINDOWS.map((window) => ({
        record: recordName(window),
        expr: `(${slo.errorRatio(window)})`,
        labels: { slo: slo.id },
      }));
      const alerts: AlertRow[] = BURN_TIERS.map((burn) => {
        const threshold = roundRatio(burn.factor * (1 - slo.objective));
        return {
          alert: `${slo.alertName}SLO${burn.name}`,
          expr: `${recordName(burn.longWindow)}{slo="${slo.id}"} > ${threshold} and ${recordName(burn.shortWindow)}{slo="${slo.id}"} > ${threshold}`,
          severity: burn.severity,
          labels: { slo: slo.id },
          ...(burn.severity === "page"
            ? {
                forOmittedBecause: `the ${burn.shortWindow} window must burn too, and that is the debounce (the SRE workbook's multiwindow alerts have no for): a for only delays the page while the budget burns`,
              }
            : {}),
          summary: `${slo.id} SLO burning ${burn.factor}x its error budget`,
          description: `SLO: ${slo.description}. The error ratio over ${burn.longWindow} and ${burn.shortWindow} exceeds ${threshold} (${burn.factor} x ${roundRatio(1 - slo.objective)}): ${burn.budgetSpent}.`,
          runbook: slo.runbook,
          dashboard: "api",
        };
      });
      return { name: `slo-${slo.id}`, rules: [...recordings, ...alerts.map((row) => alertRule(row, { runbookBaseUrl, grafanaUrl }))] };
    }),
  };
}

function roundRatio(value: number): number {
  return Number(value.toFixed(6));
}
