// What a drill test checks it left behind: only its own artifacts (the owner's prefix), so the
// two drill test files can run side by side (npm run test:drills, two workers).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import { leftoverCgroups } from "../../drills/harness/cgroups";
import { networkLeftovers } from "../../drills/harness/hostNetwork";
import { PARTITION_TABLE_PREFIX } from "../../drills/harness/partition";
import { DRILL_OWNER } from "../../drills/harness/workspace";
import { runScenario, SCENARIOS } from "../../drills";
import type { Scenario } from "../../drills/harness/types";
import { crashRestart } from "../../drills/scenarios/crashRestart";
import { incidentToggle } from "../../drills/scenarios/incidentToggle";
import { backupRestore } from "../../drills/scenarios/backupRestore";
import { diskFull } from "../../drills/scenarios/diskFull";
import { masterLostAfterSentinelRestart } from "../../drills/scenarios/masterLostAfterSentinelRestart";
import { memoryUnderFork } from "../../drills/scenarios/memoryUnderFork";
import { plannedRestartOfMaster, plannedRestartUnderPings } from "../../drills/scenarios/plannedRestartOfMaster";
import { redeployAfterFailover } from "../../drills/scenarios/redeployAfterFailover";
import { rollingImageUpgrade } from "../../drills/scenarios/rollingImageUpgrade";
import { failoverWithTls } from "../../drills/scenarios/failoverWithTls";
import { requireValidStackConfig } from "../../components/validation/validate";
import type { StackConfig } from "../../components/config/types";
import { readStackConfigFile } from "../../lib/stackFiles";

export function leftovers(owner = DRILL_OWNER): string[] {
  const prefix = `veza-drill-${owner}-`;
  const mounts = fs
    .readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter((l) => l.includes(prefix));
  const cgroups = leftoverCgroups().filter((dir) => dir.includes(prefix));
  const dirs = fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith(prefix));
  // Processes working in a drill's temp dirs: Redis overwrites its command line (setproctitle) but
  // chdirs into its data dir, and the drills start every other process beside its log.
  const processes = fs
    .readdirSync("/proc")
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/cwd`).includes(prefix);
      } catch {
        return false;
      }
    });
  // The partition drill's nftables table (drills/harness/partition.ts): one left behind would keep
  // marking, and after a crash mid-cut dropping, loopback connections.
  const nft = spawnSync("nft", ["list", "tables"], { encoding: "utf8" });
  const tables = (nft.stdout ?? "").split("\n").filter((line) => line.trim().endsWith(`${PARTITION_TABLE_PREFIX}${owner}`));
  // The prod-topology drill's hosts (drills/harness/hostNetwork.ts): namespaces, veths, the bridge.
  return [...mounts, ...cgroups, ...dirs, ...processes.map((pid) => `process ${pid}`), ...tables, ...networkLeftovers(owner, prefix)];
}

/** Outside CI, a host without a usable cgroup skips the cgroup scenarios with the reason (in CI they fail instead). */
export function skippedHere(result: { scenario: string; skipped?: string }): boolean {
  if (result.skipped) process.stdout.write(`drill ${result.scenario}: SKIPPED: ${result.skipped}\n`);
  return result.skipped !== undefined;
}

/** The dev stack's config, and a copy with a guard broken (a config the validator or pack refuses). */
export const devConfig = requireValidStackConfig(readStackConfigFile("dev").raw);
export const brokenConfig = (patch: Partial<StackConfig["redis"]>, sentinel: Partial<StackConfig["sentinel"]> = {}): StackConfig => ({
  ...devConfig,
  redis: { ...devConfig.redis, ...patch },
  sentinel: { ...devConfig.sentinel, ...sentinel },
});
/** The figures a result failed on (each failure line starts with its figure). */
export const failedOn = (failures: string[]) => failures.map((f) => f.split("=")[0]);

/** One scenario's short version as a test: it holds every target and leaves nothing behind. */
export async function expectScenarioHolds(scenario: Scenario): Promise<void> {
  const startedAt = Date.now();
  const result = await runScenario(scenario, { stack: "dev", config: devConfig, short: true, log: () => undefined });
  // The time each takes, for keeping this layer within the test budget.
  const took = `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
  if (!skippedHere(result)) process.stdout.write(`drill ${result.scenario}: ${result.passed ? "pass" : "FAIL"} in ${took} ${JSON.stringify(result.figures)}\n`);
  expect(result.failures).toEqual([]);
  expect(result.passed).toBe(true);
  expect(leftovers()).toEqual([]);
}

/**
 * The scenarios npm test runs. Three substitutions keep this layer within the test budget; `npm
 * run drill` runs all as declared. planned-restart-of-master runs in its harder form: the same
 * handoff, with the race its order closes made certain. rolling-image-upgrade is left to
 * redeploy-after-failover, which replays the same image bump in the same engine order (after a
 * failover, with two handoffs). failover-with-tls is a measurement (TLS against plaintext, which
 * master-killed runs already): its TLS failover is asserted by tests/artifacts/redisTls.test.ts
 * (the API's client through a failover over TLS) and by tls-ca-rotation, whose healthy phase
 * needs every exporter up over TLS and which fails over on the new CA.
 */
export const SHORT_SCENARIOS: Scenario[] = [...SCENARIOS.filter((s) => s !== plannedRestartOfMaster && s !== rollingImageUpgrade && s !== failoverWithTls), plannedRestartUnderPings];
/**
 * nodeDrills.test.ts runs these (one node, or containers' own scripts: the API's too);
 * clusterDrills.test.ts every other. The two files run side by side, and the slower one bounds
 * npm test: keep their times close.
 */
export const NODE_AND_DAY_TWO_SCENARIOS: Scenario[] = [
  memoryUnderFork,
  diskFull,
  crashRestart,
  redeployAfterFailover,
  plannedRestartUnderPings,
  masterLostAfterSentinelRestart,
  incidentToggle,
  backupRestore,
];
