// master-lost-after-sentinel-restart: the window right after a redeploy, which replaces every
// sentinel. The dev plan's containers run as processes (harness/dayTwo.ts); every sentinel is
// replaced in the engine's order (healthy before the next, as `pulumi up` waits), then the master
// is killed a few seconds after the last one came back. A sentinel that has not yet learned the
// replicas from the master's INFO (every 10 s) and wins the election aborts the failover with
// -failover-abort-no-good-slave, and the next try waits 2 x failover-timeout: a 20-40 s outage.
// The start script now writes the declared replicas into the runtime config, and a full resync
// no longer waits for repl-diskless-sync-delay: the target is the ordinary failover's.
import * as path from "node:path";
import type Redis from "ioredis";
import { AlertCheck, startLocalAlerting } from "../harness/alerting";
import { containerRunnerAvailable } from "../harness/containerRunner";
import { ContainerCluster, IMAGE_BUMP } from "../harness/dayTwo";
import { containerSlotName, containerSteps, EMPTY_PLAN, synthPlan } from "../harness/planOrder";
import { sleep, waitFor } from "../harness/processes";
import { Workspace } from "../harness/workspace";
import { countMissing, sentinelClient, SteadyWriter } from "../harness/writer";
import { Checks, seconds, type DrillContext, type Scenario } from "../harness/types";

/**
 * The three ways every sentinel (re)starts at once, one per run in turn (`--repeat 3` covers all):
 * a redeploy that replaces only the sentinels, one that replaces every container (data nodes
 * first, with the master's handoff), and the first `pulumi up`.
 */
const WINDOWS = ["sentinels replaced", "every container replaced", "first boot"] as const;
let runs = 0;

/** The kill comes this long after the last sentinel is healthy: anywhere in the first INFO period. */
const KILL_WITHIN_MS = { lowest: 500, highest: 8000 };

/** Sentinel events that tell a slow failover's cause, for the report. */
const FAILOVER_EVENTS = /try-failover|elected-leader|selected-slave|promoted-slave|failover-abort|failover-end|switch-master|no-good-slave|[+-]odown/;

async function killMasterSoonAfterSentinelRestarts(ctx: DrillContext) {
  const unavailable = containerRunnerAvailable();
  if (unavailable) return { passed: false, failures: [unavailable], figures: {} };
  if (!ctx.config.sentinel.enabled) return { passed: false, failures: ["this drill needs sentinel.enabled"], figures: {} };
  const ws = new Workspace("master-lost-after-sentinel-restart");
  const clients: Redis[] = [];
  let writer: SteadyWriter | undefined;
  let check: AlertCheck | undefined;
  try {
    const checks = new Checks();
    const planDir = ws.tempDir("plans");
    const before = synthPlan(ctx.stack, [], path.join(planDir, "before"));
    const after = synthPlan(ctx.stack, [IMAGE_BUMP], path.join(planDir, "after"));
    const cluster = await ContainerCluster.render(ctx.config, ws);
    const window = WINDOWS[runs++ % WINDOWS.length];
    const sentinelNames = new Set(cluster.sentinels.map((s) => s.name));
    // The redeploy's replacements in the engine's order (each healthy before the next), all or the sentinels' only.
    const redeploy = containerSteps(before, after)
      .map((chains) => chains.filter((chain) => window === "every container replaced" || sentinelNames.has(containerSlotName(chain[0].name))))
      .filter((chains) => chains.length > 0);
    // On a first boot the kill lands before the cluster has a healthy phase: its alerting starts
    // with the processes, and its baseline is reached a few scrapes after the last sentinel.
    const firstBootAlerting =
      ctx.alerts && window === "first boot"
        ? startLocalAlerting(ctx.config, cluster.topology, cluster.credentials.exporter, ws.tempDir("alerting"), ws.processes, cluster.clientTls?.("exporter"))
        : undefined;
    await cluster.replay(containerSteps(EMPTY_PLAN(ctx.stack), before));
    if (window !== "first boot") {
      await waitFor("the first boot to settle", async () => (await cluster.unsettled()).length === 0, 30000, 200);
      check = await AlertCheck.onLoopback(ctx.alerts, ctx.config, cluster.topology, cluster.credentials.exporter, ws, cluster.clientTls?.("exporter"));
    }

    const client = sentinelClient(cluster);
    clients.push(client);
    writer = new SteadyWriter(client, "after-sentinel-restart", { concurrency: 4 });
    writer.start();
    if (window !== "first boot") {
      await sleep(ctx.short ? 1000 : 2000);
      await cluster.replay(redeploy);
    }
    const lastSentinelHealthyAt = Date.now();
    const killAfterMs = KILL_WITHIN_MS.lowest + Math.floor(Math.random() * (KILL_WITHIN_MS.highest - KILL_WITHIN_MS.lowest));
    // The first boot's kill waits for its alerting's baseline (2-4 s here) when drawn earlier.
    if (firstBootAlerting) check = AlertCheck.withoutHealthyPhase(await firstBootAlerting, ctx.alerts!, "first boot: the master is killed within seconds of the cluster's start");
    await sleep(Math.max(0, lastSentinelHealthyAt + killAfterMs - Date.now()));
    const master = await cluster.master();
    if (!master) throw new Error("no single master before the kill");
    // What each sentinel knew at the kill: the figure the old start script left to chance.
    const views = await Promise.all(cluster.sentinels.map((s) => cluster.sentinelView(s)));
    const missingAReplica = views.filter((view) => view["num-slaves"] !== String(cluster.nodes.length - 1)).length;
    const { promoted, killedAt, promotedAt } = await cluster.killMaster(master, 90000);
    const { settled, problems } = await cluster.settle(30000);
    await sleep(1000);
    await writer.stop();
    const outage = writer.longestGapAfter(killedAt - 1000);
    const finalMaster = await cluster.master();
    const lost = finalMaster ? await countMissing(finalMaster.port, writer.stats.ackedKeys, cluster.admin(), finalMaster.address) : writer.stats.acknowledged;
    checks.expect(writer.stats.acknowledged > 0, "the writer never wrote");
    checks.expect(settled, `not settled 30 s after the killed node came back: ${problems.join("; ")}`);
    const slow = outage.gapMs > 5000 || process.env.VEZA_DRILL_DIAGNOSE === "always";
    const diagnosis = slow
      ? cluster.sentinels
          .flatMap((s) =>
            cluster.runner
              .logLines(s.name)
              .filter((l) => FAILOVER_EVENTS.test(l))
              .map((l) => `${s.name}: ${l.trim()}`),
          )
          .slice(-30)
          .join(" / ")
      : "";
    const result = {
      passed: checks.passed,
      failures: checks.failures,
      figures: {
        window,
        killed_after_last_sentinel_healthy_s: seconds(killedAt - lastSentinelHealthyAt),
        sentinels_missing_a_replica_at_kill: missingAReplica,
        promotion_s: seconds(promotedAt - killedAt),
        failed_over_to: promoted.name,
        client_write_outage_s: seconds(outage.gapMs),
        acked_writes: writer.stats.acknowledged,
        acked_writes_lost: lost,
        masters_after_heal: finalMaster ? 1 : 0,
        ...(diagnosis ? { diagnosis } : {}),
      },
    };
    return check ? await check.judge(result) : result;
  } finally {
    await check?.stop();
    await writer?.stop();
    for (const c of clients) c.disconnect();
    await ws.cleanup();
  }
}

export const masterLostAfterSentinelRestart: Scenario = {
  name: "master-lost-after-sentinel-restart",
  runbook: "Redis instance is down right after a redeploy replaced every sentinel (W3: Sentinel HA)",
  // The master-killed alerts, whatever the sentinels' restart; the first boot has no healthy phase.
  alerts: { raises: ["RedisUnreachable", "RedisFailoverHappened"] },
  targets: [
    { figure: "killed_after_last_sentinel_healthy_s", kind: "at most", value: 10, why: "the kill lands within the first INFO period (10 s) of a restarted sentinel" },
    { figure: "sentinels_missing_a_replica_at_kill", kind: "equals", value: 0, why: "a restarted sentinel knows the declared replicas from its first second" },
    { figure: "client_write_outage_s", kind: "at most", value: 5, why: "as fast as any other failover: no aborted election, no write held behind a diskless sync delay" },
    { figure: "acked_writes_lost", kind: "equals", value: 0, why: "healthy replicas hold every acknowledged write" },
    { figure: "masters_after_heal", kind: "equals", value: 1, why: "the killed master comes back as a replica" },
  ],
  run: killMasterSoonAfterSentinelRestarts,
};
