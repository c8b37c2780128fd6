import type { StackConfig } from "../../components/config/types";

export interface DrillContext {
  /** The stack the config came from: the day-2 drills synthesize its plan for the engine's order. */
  stack: string;
  config: StackConfig;
  /** The short version (CI): fewer keys, shorter phases. */
  short: boolean;
  log: (line: string) => void;
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
}

export interface Scenario {
  name: string;
  runbook: string;
  run: (ctx: DrillContext) => Promise<Omit<DrillResult, "scenario" | "runbook">>;
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
