// The short version of `npm run drill`, part 1: the scenarios on a master/replicas/sentinels
// cluster of real redis-server and redis-sentinel processes, with the dev stack's settings, and
// the guards they prove by failing when a guard is broken. nodeDrills.test.ts runs the rest, side
// by side (each checks only its own leftovers).
import { runScenario } from "../../drills";
import type { Scenario } from "../../drills/harness/types";
import { masterHung } from "../../drills/scenarios/masterHung";
import { masterKilled } from "../../drills/scenarios/masterKilled";
import { brokenConfig, expectScenarioHolds, failedOn, leftovers, NODE_AND_DAY_TWO_SCENARIOS, SHORT_SCENARIOS } from "../helpers/drills";

describe("fault drills on a cluster (short)", () => {
  beforeAll(() => expect(leftovers()).toEqual([]));

  const scenarios = SHORT_SCENARIOS.filter((s) => !NODE_AND_DAY_TWO_SCENARIOS.includes(s));
  it.each(scenarios.map((s) => [s.name, s] as const))("%s holds and cleans up after itself", (_name, scenario) => expectScenarioHolds(scenario), 180000);

  // Breaking each guard makes its drill fail, on the figure the guard exists for: the drills can
  // see what they claim to prevent. Each runs the scenario as is, on a config the validator (or
  // the policy pack) refuses. Their alerts are the declared runs' to prove: not watched here.
  // A contrast run: its subject is the figure the broken guard protects.
  const unwatched = (scenario: Scenario): Scenario => ({ ...scenario, alerts: undefined });
  it("fails master-killed when down-after is 15 s, three times its target", async () => {
    const result = await runScenario(unwatched(masterKilled), { stack: "dev", config: brokenConfig({}, { downAfterMilliseconds: 15000 }), short: true, log: () => undefined });
    process.stdout.write(`drill master-killed with down-after 15 s: ${JSON.stringify(result.figures)}\n`);
    expect(failedOn(result.failures)).toContain("promotion_s");
    expect(leftovers()).toEqual([]);
  }, 180000);

  it("fails master-hung without min-replicas-to-write: the resumed master takes writes that are then lost", async () => {
    const result = await runScenario(unwatched(masterHung), { stack: "dev", config: brokenConfig({ minReplicasToWrite: 0 }), short: true, log: () => undefined });
    process.stdout.write(`drill master-hung without min-replicas-to-write: ${JSON.stringify(result.figures)}\n`);
    expect(failedOn(result.failures)).toContain("isolated_writes_lost");
    expect(leftovers()).toEqual([]);
  }, 180000);
});
