import type { StackConfig } from "../../components/config/types";

/**
 * What a scenario's failure must show on-call: the alerts it raises (pending or firing on the
 * real Prometheus: the expression matched the live processes' metrics; each rule's `for` is the
 * promtool cases' to prove), and the pages it may fire besides. Any other page firing during
 * the drill fails it, and so does any alert at all in its healthy phase.
 */
export interface ScenarioAlerts {
  raises: string[];
  alsoPages?: string[];
}

export interface DrillContext {
  /** The stack the config came from: the day-2 drills synthesize its plan for the engine's order. */
  stack: string;
  config: StackConfig;
  /** The short version (CI): fewer keys, shorter phases. */
  short: boolean;
  log: (line: string) => void;
  /** The running scenario's alerts: withCluster scrapes the cluster and asserts them. */
  alerts?: ScenarioAlerts;
}

export type Figure = number | string | boolean;

export interface DrillResult {
  scenario: string;
  /** The runbook line the scenario answers. */
  runbook: string;
  passed: boolean;
  figures: Record<string, Figure>;
  /** What did not hold, in words. */
  failures: string[];
  /**
   * Why the scenario could not run here (no usable cgroup), outside CI only: nothing was measured,
   * so it is neither a pass nor a failure. In CI the same reason is a failure.
   */
  skipped?: string;
}

export interface Scenario {
  name: string;
  runbook: string;
  /** The stack this scenario always drills, whatever --stack says (its figures are labelled with it). */
  stack?: string;
  /** Every figure the scenario prints that has a bound; see Target. */
  targets: Target[];
  /**
   * The alerts its failure must raise on a real Prometheus scraping its live processes, and the
   * pages it may fire besides (harness/alerting.ts). A scenario that names them must measure
   * them: runScenario fails a run whose figures lack alerts_raised (or <part>_alerts_raised, for a
   * scenario of several runs, each judged on its own). Every scenario of `npm run drill` names
   * them; a contrast run (a broken guard's figure) may not.
   */
  alerts?: ScenarioAlerts;
  run: (ctx: DrillContext) => Promise<Omit<DrillResult, "scenario" | "runbook">>;
}

/**
 * One part of a scenario's run (an API mode, a configuration), each judged on its own: its
 * figures named `<part>_<figure>`, its failures `<label>: <failure>`.
 */
export function namedPart(part: string, outcome: { figures: Record<string, Figure>; failures: string[] }, label = part): { figures: Record<string, Figure>; failures: string[] } {
  return {
    figures: Object.fromEntries(Object.entries(outcome.figures).map(([name, value]) => [`${part}_${name}`, value])),
    failures: outcome.failures.map((failure) => `${label}: ${failure}`),
  };
}

export function seconds(ms: number): number {
  return Math.round(ms / 10) / 100;
}

/** Collects pass/fail conditions with the reason each failed. */
export class Checks {
  readonly failures: string[] = [];
  expect(condition: boolean, failure: string): void {
    if (!condition) this.failures.push(failure);
  }
  get passed(): boolean {
    return this.failures.length === 0;
  }
}

/**
 * One pass criterion on a printed figure. Every scenario lists its targets beside it; runScenario
 * checks them after every run, so a figure that is printed is a figure that is asserted, and a
 * figure a run could not measure fails the run.
 */
export interface Target {
  figure: string;
  kind: "at most" | "at least" | "equals";
  value: number | string;
  /** The reason: the failure the bound stands for. */
  why: string;
  /** Measured only by the full drill (a contrast run --short skips). */
  fullOnly?: boolean;
  /** A stricter goal for the median of repeated runs: reported beside the figures, not failed per run. */
  medianAtMost?: number;
  /**
   * The bound in the short version (npm test) where it differs: generous, because the test
   * machine is shared and a sporadic client stall must not fail CI; `npm run drill` asserts `value`.
   */
  shortValue?: number;
}

/** What each target says about these figures: one failure line per target that did not hold. */
export function targetFailures(targets: Target[], figures: Record<string, Figure>, short: boolean): string[] {
  const failures: string[] = [];
  for (const target of targets) {
    if (target.fullOnly && short) continue;
    const value = figures[target.figure];
    const bound = short && target.shortValue !== undefined ? target.shortValue : target.value;
    const expected = `${target.kind} ${bound}`;
    if (value === undefined) {
      failures.push(`${target.figure} was not measured (target: ${expected})`);
      continue;
    }
    if (target.kind === "equals") {
      if (String(value) !== String(target.value)) failures.push(`${target.figure}=${value}, target: equals ${target.value} (${target.why})`);
      continue;
    }
    if (typeof value !== "number" || Number.isNaN(value)) {
      failures.push(`${target.figure}=${value} is not a measurement (target: ${expected})`);
      continue;
    }
    const holds = target.kind === "at most" ? value <= Number(bound) : value >= Number(bound);
    if (!holds) failures.push(`${target.figure}=${value}, target: ${expected} (${target.why})`);
  }
  return failures;
}
