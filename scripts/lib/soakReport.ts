// What a soak run's log says: jest's test counts, the memory-under-fork drill's figures, and the
// tests that failed. Pure, so the parsing is tested on small logs (tests/unit/soakReport.test.ts).

export interface SoakRun {
  run: number;
  burn: boolean;
  passed: boolean;
  exitCode: number | null;
  seconds: number;
  tests: { passed: number; failed: number; skipped: number };
  /** The drill test's verdict and figures, or undefined when the log has none (the run ended before it). */
  memoryUnderFork?: { verdict: string; figures: Record<string, unknown> };
  failedTests: string[];
}

/** The figures the closing note and the issue ask for, in this order. */
export const MEMORY_FIGURES = ["forks", "overwrites_per_s", "peak_rss_of_limit", "oom_kills", "killed", "fragmentation_at_fork_max", "copy_on_write_of_rss_max", "server_anon_of_model_max"];

export function soakRow(run: number, burn: boolean, exitCode: number | null, seconds: number, log: string): SoakRun {
  const tests = { passed: 0, failed: 0, skipped: 0 };
  // Jest's summary, once per jest run: "Tests:       1 failed, 2 skipped, 608 passed, 611 total".
  for (const line of log.matchAll(/^Tests:\s+(.*), \d+ total$/gm)) {
    for (const part of line[1].split(", ")) {
      const [number, word] = part.split(" ");
      if (word === "passed" || word === "failed" || word === "skipped") tests[word] += Number(number);
    }
  }
  const drill = /^drill memory-under-fork: (pass|FAIL) (\{.*\})$/m.exec(log);
  const failedTests = [...log.matchAll(/^\s*● (.+ › .+)$/gm)].map((m) => m[1].trim());
  return {
    run,
    burn,
    passed: exitCode === 0,
    exitCode,
    seconds,
    tests,
    memoryUnderFork: drill ? { verdict: drill[1], figures: JSON.parse(drill[2]) as Record<string, unknown> } : undefined,
    failedTests: [...new Set(failedTests)],
  };
}

export function soakTable(commit: string, runs: SoakRun[]): string {
  const header = ["run", "core burned", "result", "time", "tests passed / failed / skipped", "memory-under-fork", ...MEMORY_FIGURES];
  const rows = runs.map((r) => [
    String(r.run),
    r.burn ? "yes" : "no",
    r.passed ? "pass" : `FAIL (exit ${r.exitCode})${r.failedTests.length ? `: ${r.failedTests.slice(0, 3).join("; ")}` : ""}`,
    `${Math.floor(r.seconds / 60)} min ${r.seconds % 60} s`,
    `${r.tests.passed} / ${r.tests.failed} / ${r.tests.skipped}`,
    r.memoryUnderFork?.verdict ?? "not run",
    ...MEMORY_FIGURES.map((f) => String(r.memoryUnderFork?.figures[`declared_${f}`] ?? "")),
  ]);
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [`Soak at ${commit}: ${runs.filter((r) => r.passed).length} of ${runs.length} runs passed`, "", line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
