// Breaking a guard makes its drill fail: the drills can see the failure each guard prevents.
// Short runs, with the stack's config changed in exactly the one setting under test.
import { requireValidStackConfig } from "../../components/config/validate";
import type { StackConfig } from "../../components/config/types";
import { runScenario } from "../../drills";
import { masterHung, masterKilled } from "../../drills/scenarios/failover";
import { memoryUnderFork } from "../../drills/scenarios/node";
import type { Scenario } from "../../drills/harness/types";
import { readStackConfigFile } from "../../scripts/lib/stackFiles";

const config = requireValidStackConfig(readStackConfigFile("dev").raw);

async function broken(scenario: Scenario, change: (c: StackConfig) => StackConfig) {
  const result = await runScenario(scenario, { stack: "dev", config: change(structuredClone(config)), short: true, log: () => undefined });
  process.stdout.write(`drill ${scenario.name} (guard broken): ${result.passed ? "pass" : "FAIL"} ${JSON.stringify(result.failures)}\n`);
  return result;
}

describe("drills fail when their guard is broken", () => {
  it("memory-under-fork fails at a 50% fork headroom: the fork children are OOM-killed", async () => {
    const result = await broken(memoryUnderFork, (c) => ({ ...c, redis: { ...c.redis, forkHeadroomPercent: 50 } }));
    expect(result.passed).toBe(false);
    expect(result.failures.join("\n")).toMatch(/declared_(oom_kills|killed|peak_rss_of_limit)=/);
  }, 180000);

  it("master-killed fails when down-after is far beyond its target: the promotion takes too long", async () => {
    const result = await broken(masterKilled, (c) => ({ ...c, sentinel: { ...c.sentinel, downAfterMilliseconds: 15000, failoverTimeoutMilliseconds: 30000 } }));
    expect(result.passed).toBe(false);
    expect(result.failures.join("\n")).toMatch(/promotion_s=\d+(\.\d+)?, target: at most 10/);
  }, 180000);

  it("master-hung fails without min-replicas-to-write: the isolated master takes writes that are lost", async () => {
    const result = await broken(masterHung, (c) => ({ ...c, redis: { ...c.redis, minReplicasToWrite: 0 } }));
    expect(result.passed).toBe(false);
    expect(result.failures.join("\n")).toMatch(/isolated_writes_lost=\d+, target: at most 16/);
  }, 180000);
});
