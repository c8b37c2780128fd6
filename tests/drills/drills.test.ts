// The short version of `npm run drill`: every runbook scenario against real redis-server and
// redis-sentinel processes, with the dev stack's settings. Figures are printed, not asserted
// beyond what each scenario claims (the full figures live in the README, from the drill).
import { requireValidStackConfig } from "../../components/config/validate";
import { readStackConfigFile } from "../../scripts/lib/stackFiles";
import { runScenario, SCENARIOS } from "../../drills";
import { masterHung, masterKilled } from "../../drills/scenarios/failover";
import { memoryUnderFork } from "../../drills/scenarios/node";
import { plannedRestartOfMaster, plannedRestartUnderPings, redeployAfterFailoverWithoutDiscovery, rollingImageUpgrade } from "../../drills/scenarios/dayTwo";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { waitFor } from "../../drills/harness/processes";
import { leftoverCgroups } from "../../drills/harness/cgroups";
import { PROJECT_ROOT } from "../../scripts/lib/stackFiles";

const config = requireValidStackConfig(readStackConfigFile("dev").raw);

function leftovers(): string[] {
  const mounts = fs.readFileSync("/proc/mounts", "utf8").split("\n").filter((l) => l.includes("veza-drill-"));
  const cgroups = leftoverCgroups();
  const dirs = fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith("veza-drill-"));
  // Processes working in a drill's temp dirs: Redis overwrites its command line (setproctitle) but
  // chdirs into its data dir, and the drills start every other process beside its log.
  const processes = fs.readdirSync("/proc").filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/cwd`).includes("veza-drill-");
    } catch {
      return false;
    }
  });
  // The partition drill's nftables table (drills/harness/partition.ts): one left behind would keep
  // marking, and after a crash mid-cut dropping, loopback connections.
  const nft = spawnSync("nft", ["list", "tables"], { encoding: "utf8" });
  const tables = (nft.stdout ?? "").split("\n").filter((line) => line.includes("veza_drill_"));
  return [...mounts, ...cgroups, ...dirs, ...processes.map((pid) => `process ${pid}`), ...tables];
}

/** Outside CI, a host without a usable cgroup skips the cgroup scenarios with the reason (in CI they fail instead). */
function skippedHere(result: { scenario: string; skipped?: string }): boolean {
  if (result.skipped) process.stdout.write(`drill ${result.scenario}: SKIPPED: ${result.skipped}\n`);
  return result.skipped !== undefined;
}

describe("fault drills (short)", () => {
  beforeAll(() => expect(leftovers()).toEqual([]));

  // Two substitutions keep this layer within the test budget; `npm run drill` runs all as declared.
  // planned-restart-of-master runs in its harder form: the same handoff, with the race its order
  // closes made certain. rolling-image-upgrade is left to redeploy-after-failover, which replays
  // the same image bump in the same engine order (after a failover, with two handoffs).
  const scenarios = [...SCENARIOS.filter((s) => s !== plannedRestartOfMaster && s !== rollingImageUpgrade), plannedRestartUnderPings];
  it.each(scenarios.map((s) => [s.name, s] as const))("%s holds and cleans up after itself", async (_name, scenario) => {
    const result = await runScenario(scenario, { stack: "dev", config, short: true, log: () => undefined });
    if (!skippedHere(result)) process.stdout.write(`drill ${result.scenario}: ${result.passed ? "pass" : "FAIL"} ${JSON.stringify(result.figures)}\n`);
    expect(result.failures).toEqual([]);
    expect(result.passed).toBe(true);
    expect(leftovers()).toEqual([]);
  }, 180000);

  it("fails redeploy-after-failover without discovery and the rolling order (the code before issue 10): the drill sees the bug it guards against", async () => {
    const result = await runScenario(redeployAfterFailoverWithoutDiscovery, { stack: "dev", config, short: true, log: () => undefined });
    process.stdout.write(`drill ${result.scenario}: ${result.passed ? "pass" : "FAIL"} ${JSON.stringify(result.failures)}\n`);
    // Every container replaced at once and started from the declared files: writes stop, or two
    // nodes take them, or the cluster never settles (the "no master at all").
    // A real consequence, measured against the issue's own bound (5 s), not the short version's.
    const consequence = Number(result.figures.longest_write_gap_s) > 5 || Number(result.figures.acked_writes_lost) > 0 || Number(result.figures.two_nodes_writable_s) > 0 || result.failures.some((f) => f.startsWith("not settled"));
    expect({ consequence, figures: result.figures }).toEqual({ consequence: true, figures: result.figures });
    expect(leftovers()).toEqual([]);
  }, 240000);

  // Breaking each guard makes its drill fail, on the figure the guard exists for: the drills can
  // see what they claim to prevent. Each runs the scenario as is, on a config the validator (or
  // the policy pack) refuses.
  const broken = (patch: Partial<typeof config.redis>, sentinel: Partial<typeof config.sentinel> = {}) =>
    ({ ...config, redis: { ...config.redis, ...patch }, sentinel: { ...config.sentinel, ...sentinel } });
  const failedOn = (failures: string[]) => failures.map((f) => f.split("=")[0]);

  it("fails memory-under-fork at 20% fork headroom, where the kernel then kills the fork child first (oom-score-adj), not the server", async () => {
    const result = await runScenario(memoryUnderFork, { stack: "dev", config: broken({ forkHeadroomPercent: 20 }), short: true, log: () => undefined });
    if (skippedHere(result)) return;
    process.stdout.write(`drill memory-under-fork at 20% headroom: ${JSON.stringify(result.figures)}\n`);
    expect(failedOn(result.failures)).toEqual(expect.arrayContaining(["declared_oom_kills", "declared_killed"]));
    expect(result.figures.declared_killed).toMatch(/^fork child x\d+$/);
    expect(leftovers()).toEqual([]);
  }, 180000);

  it("fails master-killed when down-after is 15 s, three times its target", async () => {
    const result = await runScenario(masterKilled, { stack: "dev", config: broken({}, { downAfterMilliseconds: 15000 }), short: true, log: () => undefined });
    process.stdout.write(`drill master-killed with down-after 15 s: ${JSON.stringify(result.figures)}\n`);
    expect(failedOn(result.failures)).toContain("promotion_s");
    expect(leftovers()).toEqual([]);
  }, 180000);

  it("fails master-hung without min-replicas-to-write: the resumed master takes writes that are then lost", async () => {
    const result = await runScenario(masterHung, { stack: "dev", config: broken({ minReplicasToWrite: 0 }), short: true, log: () => undefined });
    process.stdout.write(`drill master-hung without min-replicas-to-write: ${JSON.stringify(result.figures)}\n`);
    expect(failedOn(result.failures)).toContain("isolated_writes_lost");
    expect(leftovers()).toEqual([]);
  }, 180000);

  it("leaves no process, mount, cgroup or temp dir behind when interrupted with Ctrl-C", async () => {
    const drill = spawn(path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx"), ["scripts/drill.ts", "--stack", "dev", "--scenario", "disk-full", "--short"], { cwd: PROJECT_ROOT, stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => drill.once("exit", (code) => resolve(code)));
    // Interrupt once it holds a tmpfs mount and a running redis-server.
    await waitFor("the drill to mount its tmpfs and start Redis", () => leftovers().some((l) => l.startsWith("process")) && leftovers().some((l) => l.includes("tmpfs")), 60000, 100);
    drill.kill("SIGINT");
    expect(await exited).toBe(130);
    await waitFor("every leftover to be gone", () => leftovers().length === 0, 10000, 200).catch(() => undefined);
    expect(leftovers()).toEqual([]);
  }, 120000);
});
