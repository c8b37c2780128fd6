// planned-restart-of-master, and its under-pings variant: parameter sets of the day-2 runner
// (harness/dayTwo.ts) sharing the targets below.
import { dayTwoDrill, SETTLED_WITHIN_SECONDS } from "../harness/dayTwo";
import type { Scenario, Target } from "../harness/types";

const PLANNED_RESTART_TARGETS: Target[] = [
  { figure: "acked_writes_lost", kind: "equals", value: 0, why: "every acknowledged write survives the handoff" },
  { figure: "longest_write_gap_s", kind: "at most", value: 3, shortValue: 5, medianAtMost: 1.5, why: "maintenance without a page: one short pause (issue target: 1.5 s median, no run over 3 s)" },
  { figure: "psync_refused", kind: "equals", value: 0, why: "no replica ends up ahead of the new master and needs a full resync" },
  { figure: "two_nodes_writable_s", kind: "equals", value: 0, why: "never two nodes taking writes" },
  { figure: "handoffs", kind: "equals", value: 1, why: "the master handed off instead of failing over" },
  { figure: "settled_after_last_create_s", kind: "at most", value: SETTLED_WITHIN_SECONDS, why: "the restarted node is back as a replica, the sentinels agree" },
  { figure: "killed_on_delete", kind: "equals", value: 0, why: "the stop fits in its grace" },
];

/** The planned-maintenance path the runbook gives: restart the master's container; it hands off. */
export const plannedRestartOfMaster: Scenario = {
  name: "planned-restart-of-master",
  runbook: "Maintenance without a page: docker restart of the master's container (its entry script hands off)",
  // The ticket says the master moved; no page may fire.
  alerts: { raises: ["RedisFailoverHappened"] },
  targets: PLANNED_RESTART_TARGETS,
  run: (ctx) => dayTwoDrill(ctx, { label: "planned-restart", failoverFirst: false, restartMaster: true }),
};

/**
 * Not in the drill list: the test suite's version of planned-restart-of-master, with the race the
 * handoff's order closes made certain (a replication PING every second instead of every 10 s).
 * The order before (SENTINEL FAILOVER while the old master still ran) refused the other
 * replica's PSYNC in every run like this, and the full resync cost a ~6 s write gap.
 */
export const plannedRestartUnderPings: Scenario = {
  name: "planned-restart-of-master-under-pings",
  runbook: "planned-restart-of-master, every data node PINGing its replicas every second",
  targets: PLANNED_RESTART_TARGETS,
  run: (ctx) => dayTwoDrill(ctx, { label: "planned-restart-pings", failoverFirst: false, restartMaster: true, pingEverySecond: true }),
};
