// A scenario that cannot have its cgroups here (cgroupsUnusable) is skipped outside CI: nothing is
// measured, so no target is checked and the table says why. In CI the same reason is a failure.
import { formatTable, runScenario, summarize } from "../../drills";
import type { Scenario } from "../../drills/harness/types";

const ctx = { stack: "dev", config: {} as never, short: true, log: () => undefined };
const scenario = (outcome: Awaited<ReturnType<Scenario["run"]>>): Scenario => ({
  name: "memory-under-fork",
  runbook: "OOM-killed by RDB snapshot",
  targets: [{ figure: "declared_oom_kills", kind: "equals", value: 0, why: "no OOM kill" }],
  run: async () => outcome,
});

describe("a drill scenario without usable cgroups", () => {
  it("outside CI: skipped with the reason, its targets unchecked, shown as skipped (not pass) in the table", async () => {
    const result = await runScenario(scenario({ passed: true, failures: [], figures: {}, skipped: "no usable cgroup for memory: cgroup v1 /sys/fs/cgroup/memory is not writable (run as root)" }), ctx);
    expect(result).toMatchObject({ passed: true, failures: [], figures: {}, skipped: expect.stringMatching(/^no usable cgroup for memory/) });
    const table = formatTable([summarize([result])]);
    expect(table).toContain("| skipped: no usable cgroup for memory: cgroup v1 /sys/fs/cgroup/memory is not writable (run as root) |");
    expect(table).not.toMatch(/\| pass \|/);
  });

  it("in CI: a failure with the reason, and the unmeasured figures fail their targets too", async () => {
    const result = await runScenario(scenario({ passed: false, failures: ["no usable cgroup for memory: ... (CI is set: a drill that cannot run fails here, it is not skipped)"], figures: {} }), ctx);
    expect(result.passed).toBe(false);
    expect(result.skipped).toBeUndefined();
    expect(result.failures).toEqual([expect.stringContaining("CI is set"), "declared_oom_kills was not measured (target: equals 0)"]);
  });
});
