import * as os from "node:os";
import { spawnSync } from "node:child_process";
import { memoryUnderFork } from "./scenarios/memoryUnderFork";
import { incidentToggle } from "./scenarios/incidentToggle";
import { diskFull } from "./scenarios/diskFull";
import { crashRestart } from "./scenarios/crashRestart";
import { masterKilled, masterKilledLaggingReplica } from "./scenarios/masterKilled";
import { failoverWithTls } from "./scenarios/failoverWithTls";
import { tlsCaRotation } from "./scenarios/caRotation";
import { masterHung } from "./scenarios/masterHung";
import { sentinelMinorityLost } from "./scenarios/sentinelMinorityLost";
import { plannedSwitchover } from "./scenarios/plannedSwitchover";
import { masterPartitioned } from "./scenarios/masterPartitioned";
import { quorumLost } from "./scenarios/quorumLost";
import { plannedRestartOfMaster } from "./scenarios/plannedRestartOfMaster";
import { redeployAfterFailover } from "./scenarios/redeployAfterFailover";
import { rollingImageUpgrade } from "./scenarios/rollingImageUpgrade";
import { credentialRotation } from "./scenarios/credentialRotation";
import { masterLostAfterSentinelRestart } from "./scenarios/masterLostAfterSentinelRestart";
import { prodTopology } from "./scenarios/prodTopology";
import { security } from "./scenarios/security";
import { scrapeTargetLost } from "./scenarios/scrapeTargetLost";
import { backupRestore } from "./scenarios/backupRestore";
import { checkScenarioNames, SCENARIO_NAMES } from "./scenarioNames";
import { targetFailures, type DrillContext, type DrillResult, type Figure, type Scenario, type Target } from "./harness/types";

export const SCENARIOS: Scenario[] = [
  masterKilled,
  masterKilledLaggingReplica,
  masterHung,
  masterPartitioned,
  sentinelMinorityLost,
  quorumLost,
  memoryUnderFork,
  diskFull,
  crashRestart,
  plannedSwitchover,
  plannedRestartOfMaster,
  rollingImageUpgrade,
  redeployAfterFailover,
  credentialRotation,
  incidentToggle,
  masterLostAfterSentinelRestart,
  prodTopology,
  security,
  scrapeTargetLost,
  backupRestore,
  failoverWithTls,
  tlsCaRotation,
];

if (SCENARIOS.map((s) => s.name).join(", ") !== SCENARIO_NAMES.join(", ")) {
  throw new Error(`drills/scenarioNames.ts lists ${SCENARIO_NAMES.join(", ")}; SCENARIOS are ${SCENARIOS.map((s) => s.name).join(", ")}: make them alike`);
}

export function selectScenarios(names: string[] | undefined): Scenario[] {
  if (!names || names.length === 0) return SCENARIOS;
  checkScenarioNames(names);
  return names.map((name) => SCENARIOS.find((s) => s.name === name)!);
}

/** Runs one scenario; a thrown error is a failed result, never a crash of the whole drill. */
export async function runScenario(scenario: Scenario, ctx: DrillContext): Promise<DrillResult & { durationS: number }> {
  const started = Date.now();
  try {
    const outcome = await scenario.run({ ...ctx, alerts: scenario.alerts });
    // A skip measured nothing: no target to check, no figure to record.
    if (outcome.skipped)
      return { scenario: scenario.name, runbook: scenario.runbook, passed: true, figures: {}, failures: [], skipped: outcome.skipped, durationS: Math.round((Date.now() - started) / 100) / 10 };
    // The scenario's own checks, then every target on its figures (an unmeasured figure fails).
    const failures = [
      ...outcome.failures,
      ...targetFailures(scenario.targets, outcome.figures, ctx.short),
      ...(scenario.alerts && !Object.keys(outcome.figures).some((figure) => /(^|_)alerts_raised$/.test(figure)) ? ["the scenario names its alerts but did not watch them (no alerts_raised)"] : []),
    ];
    return {
      scenario: scenario.name,
      runbook: scenario.runbook,
      figures: outcome.figures,
      failures,
      passed: outcome.passed && failures.length === 0,
      durationS: Math.round((Date.now() - started) / 100) / 10,
    };
  } catch (error) {
    return {
      scenario: scenario.name,
      runbook: scenario.runbook,
      passed: false,
      figures: {},
      failures: [`error: ${error instanceof Error ? error.message : String(error)}`],
      durationS: Math.round((Date.now() - started) / 100) / 10,
    };
  }
}

export interface Summary extends DrillResult {
  runs: number;
  /** min..max of each numeric figure over the runs, where they differ. */
  ranges: Record<string, [number, number]>;
  /** Medians over a target's medianAtMost: reported, not failed. */
  medianMisses?: string[];
}

/** The median goals the summary's medians miss (only meaningful over repeated runs). */
export function medianMisses(targets: Target[], figures: Record<string, Figure>): string[] {
  return targets
    .filter((t) => t.medianAtMost !== undefined && typeof figures[t.figure] === "number" && (figures[t.figure] as number) > t.medianAtMost)
    .map((t) => `${t.figure} median ${figures[t.figure]} over the ${t.medianAtMost} target`);
}

/** Median of each numeric figure over repeated runs; other figures once if equal, else per run. */
export function summarize(runs: DrillResult[]): Summary {
  const figures: Record<string, Figure> = {};
  const ranges: Record<string, [number, number]> = {};
  for (const key of Object.keys(runs[0]?.figures ?? {})) {
    const values = runs.map((r) => r.figures[key]);
    if (values.every((v) => typeof v === "number")) {
      const sorted = (values as number[]).slice().sort((a, b) => a - b);
      figures[key] = sorted[Math.floor(sorted.length / 2)];
      if (sorted[0] !== sorted[sorted.length - 1]) ranges[key] = [sorted[0], sorted[sorted.length - 1]];
    } else {
      figures[key] = new Set(values.map(String)).size === 1 ? values[0] : values.join(" / ");
    }
  }
  const scenario = SCENARIOS.find((s) => s.name === runs[0].scenario);
  const skipped = runs.find((r) => r.skipped)?.skipped;
  return {
    scenario: runs[0].scenario,
    runbook: runs[0].runbook,
    passed: runs.every((r) => r.passed),
    failures: runs.flatMap((r) => r.failures),
    figures,
    ranges,
    runs: runs.length,
    medianMisses: scenario ? medianMisses(scenario.targets, figures) : [],
    ...(skipped ? { skipped } : {}),
  };
}

export function machineDescription(): string {
  const redis = spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout.match(/v=(\S+)/)?.[1] ?? "?";
  return `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? "?"}), ${Math.round(os.totalmem() / 1024 ** 3)} GiB, Linux ${os.release()}, Debian redis-server ${redis}, node ${process.version}`;
}

export function formatFigures(summary: Pick<Summary, "figures"> & Partial<Pick<Summary, "ranges">>): string {
  return Object.entries(summary.figures)
    .map(([key, value]) => `${key}=${value}${summary.ranges?.[key] ? ` (${summary.ranges[key][0]}..${summary.ranges[key][1]})` : ""}`)
    .join("; ");
}

export function formatTable(results: Array<Summary & { measured?: string }>): string {
  const lines = ["| scenario | runbook line | result | figures: median (min..max) |", "| --- | --- | --- | --- |"];
  for (const r of results) {
    const label = `${r.scenario}${r.runs > 1 ? `, ${r.runs} runs` : ""}${r.measured ? `, ${r.measured}` : ""}`;
    const result = r.skipped ? `skipped: ${r.skipped}` : r.passed ? "pass" : `FAIL: ${r.failures.join("; ")}`;
    const misses = r.medianMisses && r.medianMisses.length > 0 ? `; median goal missed: ${r.medianMisses.join(", ")}` : "";
    lines.push(`| ${label} | ${r.runbook} | ${result}${misses} | ${formatFigures(r).replaceAll("|", "/")} |`);
  }
  return lines.join("\n");
}

/** What each scenario's failure must show on-call, as its run asserts it on a real Prometheus. */
export function formatAlerts(scenarios: Scenario[] = SCENARIOS): string {
  const lines = ["| scenario | alerts its failure must raise | pages it may fire besides |", "| --- | --- | --- |"];
  for (const s of scenarios) {
    const names = (list: string[] | undefined) => (list ?? []).map((name) => `\`${name}\``).join(", ") || (s.alerts ? "none" : "");
    lines.push(`| ${s.name} | ${names(s.alerts?.raises)} | ${names(s.alerts?.alsoPages)} |`);
  }
  return lines.join("\n");
}

/** The targets of every scenario, as docs/drills.md shows them (a test keeps the page in sync). */
export function formatTargets(scenarios: Scenario[] = SCENARIOS): string {
  const lines = ["| scenario | figure | target per run | median goal | why |", "| --- | --- | --- | --- | --- |"];
  for (const scenario of scenarios) {
    for (const t of scenario.targets) {
      lines.push(
        `| ${scenario.name} | \`${t.figure}\` | ${t.kind} ${t.value}${t.fullOnly ? " (full drill only)" : ""}${t.shortValue !== undefined ? ` (short version: ${t.kind} ${t.shortValue})` : ""} | ${t.medianAtMost !== undefined ? `at most ${t.medianAtMost}` : ""} | ${t.why} |`,
      );
    }
  }
  return lines.join("\n");
}
