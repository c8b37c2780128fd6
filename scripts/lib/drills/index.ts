import * as os from "node:os";
import { spawnSync } from "node:child_process";
import { crashRestart, diskFull, memoryUnderFork } from "./node";
import { masterHung, masterKilled, masterKilledLaggingReplica, plannedSwitchover, sentinelMinorityLost } from "./failover";
import type { DrillContext, DrillResult, Figure, Scenario } from "./types";

export const SCENARIOS: Scenario[] = [masterKilled, masterKilledLaggingReplica, masterHung, sentinelMinorityLost, memoryUnderFork, diskFull, crashRestart, plannedSwitchover];

export function selectScenarios(names: string[] | undefined): Scenario[] {
  if (!names || names.length === 0) return SCENARIOS;
  return names.map((name) => {
    const scenario = SCENARIOS.find((s) => s.name === name);
    if (!scenario) throw new Error(`unknown scenario ${JSON.stringify(name)}; scenarios: ${SCENARIOS.map((s) => s.name).join(", ")}`);
    return scenario;
  });
}

/** Runs one scenario; a thrown error is a failed result, never a crash of the whole drill. */
export async function runScenario(scenario: Scenario, ctx: DrillContext): Promise<DrillResult & { durationS: number }> {
  const started = Date.now();
  try {
    const outcome = await scenario.run(ctx);
    return { scenario: scenario.name, runbook: scenario.runbook, ...outcome, durationS: Math.round((Date.now() - started) / 100) / 10 };
  } catch (error) {
    return { scenario: scenario.name, runbook: scenario.runbook, passed: false, figures: {}, failures: [`error: ${error instanceof Error ? error.message : String(error)}`], durationS: Math.round((Date.now() - started) / 100) / 10 };
  }
}

/** Median of each numeric figure over repeated runs; other figures are listed per run. */
export function summarize(runs: DrillResult[]): DrillResult & { runs: number } {
  const figures: Record<string, Figure> = {};
  for (const key of Object.keys(runs[0]?.figures ?? {})) {
    const values = runs.map((r) => r.figures[key]);
    if (values.every((v) => typeof v === "number")) {
      const sorted = (values as number[]).slice().sort((a, b) => a - b);
      figures[key] = runs.length === 1 ? sorted[0] : sorted[Math.floor(sorted.length / 2)];
      if (runs.length > 1) figures[`${key}_range`] = `${sorted[0]}..${sorted[sorted.length - 1]}`;
    } else {
      figures[key] = runs.length === 1 ? values[0] : values.join(" | ");
    }
  }
  return { scenario: runs[0].scenario, runbook: runs[0].runbook, passed: runs.every((r) => r.passed), failures: runs.flatMap((r) => r.failures), figures, runs: runs.length };
}

export function machineDescription(): string {
  const redis = spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout.match(/v=(\S+)/)?.[1] ?? "?";
  return `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? "?"}), ${Math.round(os.totalmem() / 1024 ** 3)} GiB, Linux ${os.release()}, Debian redis-server ${redis}, node ${process.version}`;
}

export function formatTable(results: Array<DrillResult & { runs?: number }>): string {
  const lines = ["| scenario | runbook line | result | figures |", "| --- | --- | --- | --- |"];
  for (const r of results) {
    const figures = Object.entries(r.figures).map(([k, v]) => `${k}=${v}`).join("; ");
    lines.push(`| ${r.scenario}${r.runs && r.runs > 1 ? ` (median of ${r.runs})` : ""} | ${r.runbook} | ${r.passed ? "pass" : `FAIL: ${r.failures.join("; ")}`} | ${figures} |`);
  }
  return lines.join("\n");
}
