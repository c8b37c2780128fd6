// redeploy-after-failover, and its variant with the guards removed (without discovery): parameter
// sets of the day-2 runner (harness/dayTwo.ts), which holds the drill and DAY_TWO_TARGETS.
import { DAY_TWO_TARGETS, dayTwoDrill } from "../harness/dayTwo";
import type { Scenario } from "../harness/types";

export const redeployAfterFailover: Scenario = {
  name: "redeploy-after-failover",
  runbook: "Day 2: pulumi up after an unplanned failover (the declared master is now a replica)",
  alerts: { raises: ["RedisUnreachable", "RedisFailoverHappened"] },
  targets: [...DAY_TWO_TARGETS, { figure: "restarted_node_role", kind: "equals", value: "slave", why: "the crashed master comes back as a replica of the promoted node" }],
  run: (ctx) => dayTwoDrill(ctx, { label: "redeploy-after-failover", failoverFirst: true }),
};

/** Not in the drill list: the test suite runs it to show the drill fails with the start scripts that followed the declared topology only. */
export const redeployAfterFailoverWithoutDiscovery: Scenario = {
  name: "redeploy-after-failover-without-discovery",
  runbook: "Day 2, guards removed: declared topology at every start, every container replaced at once",
  targets: DAY_TWO_TARGETS,
  run: (ctx) => dayTwoDrill(ctx, { label: "redeploy-no-discovery", failoverFirst: true, brokenGuard: "no-discovery-no-rolling-order" }),
};
