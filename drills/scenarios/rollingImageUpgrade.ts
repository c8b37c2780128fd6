// rolling-image-upgrade: a parameter set of the day-2 runner (harness/dayTwo.ts), which holds the
// drill itself and the targets every redeploy shares (DAY_TWO_TARGETS).
import { DAY_TWO_TARGETS, dayTwoDrill } from "../harness/dayTwo";
import type { Scenario } from "../harness/types";

export const rollingImageUpgrade: Scenario = {
  name: "rolling-image-upgrade",
  runbook: "Day 2: an image bump replaces every Redis and Sentinel container (engine order, handoffs)",
  // Handoffs move the master (a ticket); a planned redeploy pages nobody.
  alerts: { raises: ["RedisFailoverHappened"] },
  targets: DAY_TWO_TARGETS,
  run: (ctx) => dayTwoDrill(ctx, { label: "rolling-upgrade", failoverFirst: false }),
};
