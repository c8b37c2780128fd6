// The soak's reading of a .ci/run log: the counts and figures the closing note quotes.
import { soakRow, soakTable } from "../../scripts/lib/soakReport";

const log = [
  "Tests:       591 passed, 591 total",
  'drill memory-under-fork: pass {"declared_forks":7,"declared_peak_rss_of_limit":0.52,"declared_oom_kills":0,"declared_killed":"none"}',
  "  ● fault drills (short) › master-killed holds and cleans up after itself",
  "  ● fault drills (short) › master-killed holds and cleans up after itself",
  "Tests:       1 failed, 1 skipped, 26 passed, 28 total",
].join("\n");

describe("soak report", () => {
  it("adds up both jest runs' counts and reads the memory drill's figures and the failed tests once each", () => {
    const row = soakRow(2, true, 1, 640, log);
    expect(row.tests).toEqual({ passed: 617, failed: 1, skipped: 1 });
    expect(row.memoryUnderFork).toEqual({ verdict: "pass", figures: { declared_forks: 7, declared_peak_rss_of_limit: 0.52, declared_oom_kills: 0, declared_killed: "none" } });
    expect(row.failedTests).toEqual(["fault drills (short) › master-killed holds and cleans up after itself"]);
    expect(row.passed).toBe(false);
  });

  it("says when the run ended before the memory drill, and a non-zero exit is a failure whatever the counts", () => {
    const row = soakRow(1, false, 2, 65, "npm ERR! network");
    expect(row.memoryUnderFork).toBeUndefined();
    const table = soakTable("abc1234", [row]);
    expect(table).toMatch(/^Soak at abc1234: 0 of 1 runs passed/);
    expect(table).toContain("| 1 | no | FAIL (exit 2) | 1 min 5 s | 0 / 0 / 0 | not run |");
  });
});
