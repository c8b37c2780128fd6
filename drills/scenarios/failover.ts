// Scenarios against a real master/replicas/sentinels cluster rendered from the stack.
import type Redis from "ioredis";
import { ACL_USERS } from "../../components/redis/acl";
import { currentMasters, waitForNewMaster } from "../harness/failover";
import { LocalCluster, type LocalNode } from "../harness/localCluster";
import { redisCli, redisCliAsync, sleep, waitFor } from "../harness/processes";
import { Workspace } from "../harness/workspace";
import { cgroupsUnusable } from "../harness/cgroups";
import { countMissing, directClient, sentinelClient, SteadyWriter } from "../harness/writer";
import { Checks, seconds, type DrillContext, type Scenario } from "../harness/types";

/** beforeStart: what must be in place before the first process starts (users, packet marks). */
export async function withCluster<T>(ctx: DrillContext, label: string, body: (cluster: LocalCluster, ws: Workspace, clients: Redis[]) => Promise<T>, beforeStart?: (cluster: LocalCluster, ws: Workspace) => void): Promise<T> {
  const ws = new Workspace(label);
  const clients: Redis[] = [];
  try {
    const cluster = await LocalCluster.render(ctx.config, { label, workspace: ws });
    beforeStart?.(cluster, ws);
    await cluster.start();
    return await body(cluster, ws, clients);
  } finally {
    for (const client of clients) client.disconnect();
    await ws.cleanup();
  }
}

/** Waits until each writer has been acknowledged again after `since`, or the timeout. */
export async function waitForWritesAfter(writers: SteadyWriter[], since: number, timeoutMs: number): Promise<boolean> {
  try {
    await waitFor("writes to resume", () => writers.every((w) => w.stats.ackTimes.some((t) => t > since + 200)), timeoutMs, 50);
    return true;
  } catch {
    return false;
  }
}

function throttleReplicas(cluster: LocalCluster, ws: Workspace, cpuPercent: number): void {
  for (const node of cluster.nodes.slice(1)) ws.cgroup(node.name, { cpuPercent }).join(node.process!.pid);
}

async function killMasterUnderLoad(ctx: DrillContext, laggingReplicas: boolean) {
  return withCluster(ctx, laggingReplicas ? "master-killed-lagging" : "master-killed", async (cluster, ws, clients) => {
    const checks = new Checks();
    if (laggingReplicas) throttleReplicas(cluster, ws, 10);
    const plainClient = sentinelClient(cluster);
    const waitClient = sentinelClient(cluster);
    clients.push(plainClient, waitClient);
    const plain = new SteadyWriter(plainClient, "plain", { concurrency: laggingReplicas ? 64 : 4, pauseMs: laggingReplicas ? 0 : 2 });
    const waited = new SteadyWriter(waitClient, "waited", { concurrency: 4, pauseMs: 2, wait: { replicas: 1, timeoutMs: 200 } });
    plain.start();
    waited.start();
    await sleep(ctx.short ? 2000 : 5000);
    const oldMaster = cluster.nodes[0];
    const killedAt = Date.now();
    await cluster.processes.kill9(oldMaster.process!);
    const promoted = await waitForNewMaster(cluster, oldMaster, 60000);
    // The API's path is the plain writer. The WAIT writer's own resumption is reported, not
    // required: once in about 15 runs its SET+WAIT pipeline stayed silent after the failover
    // while plain writes on another client went on (an ioredis pipeline matter, not the cluster's).
    const resumed = await waitForWritesAfter([plain], promoted.at, 30000);
    const waitWriterResumed = await waitForWritesAfter([waited], promoted.at, 5000);
    await sleep(1000);
    await Promise.all([plain.stop(), waited.stop()]);
    const outageMs = plain.longestGapAfter(killedAt - 1000).gapMs;
    const admin = { user: ACL_USERS.admin, password: cluster.credentials.admin };
    const lostPlain = await countMissing(promoted.node.port, [...plain.stats.ackedKeys, ...waited.stats.ackedKeys], admin);
    const lostConfirmed = await countMissing(promoted.node.port, waited.stats.waitConfirmedKeys, admin);
    checks.expect(resumed, `the client did not write again within 30 s of the promotion (client status ${plainClient.status}; errors: ${plain.stats.errorMessages.join(" | ") || "none"})`);
    checks.expect(lostConfirmed === 0, `${lostConfirmed} WAIT-confirmed writes were lost`);
    return {
      passed: checks.passed,
      failures: checks.failures,
      figures: {
        promotion_s: seconds(promoted.at - killedAt),
        client_write_outage_s: seconds(outageMs),
        acked_writes: plain.stats.acknowledged + waited.stats.acknowledged,
        acked_writes_lost: lostPlain,
        wait_confirmed_writes: waited.stats.waitConfirmedKeys.length,
        wait_confirmed_lost: lostConfirmed,
        wait_answers_after_reconnect_not_counted: waited.stats.waitAnsweredAfterReconnect,
        wait_writer_resumed: waitWriterResumed ? "yes" : `no (errors: ${waited.stats.errorMessages.join(" | ") || "none"})`,
      },
    };
  });
}

export const masterKilled: Scenario = {
  name: "master-killed",
  runbook: "Redis instance is down (W3: Sentinel HA)",
  targets: [
    { figure: "promotion_s", kind: "at most", value: 10, medianAtMost: 5, why: "a new master well within failover-timeout; 5 s is the outage target" },
    { figure: "client_write_outage_s", kind: "at most", value: 10, medianAtMost: 5, why: "the API (Sentinel-aware client) writes again soon after the promotion" },
    { figure: "acked_writes_lost", kind: "equals", value: 0, why: "healthy replicas hold every acknowledged write" },
    { figure: "wait_confirmed_writes", kind: "at least", value: 1, why: "WAIT-confirmed losses mean nothing unless some writes were WAIT-confirmed" },
    { figure: "wait_confirmed_lost", kind: "equals", value: 0, why: "a write WAIT confirmed on a replica survives the failover" },
    { figure: "wait_writer_resumed", kind: "equals", value: "yes", why: "the WAIT writer (refresh tokens, revocations) recovers too" },
  ],
  run: (ctx) => killMasterUnderLoad(ctx, false),
};

export const masterKilledLaggingReplica: Scenario = {
  name: "master-killed-lagging-replica",
  runbook: "Redis instance is down, replicas behind (writes acknowledged but not replicated)",
  targets: [
    { figure: "promotion_s", kind: "at most", value: 10, medianAtMost: 5, why: "a new master well within failover-timeout; 5 s is the outage target" },
    { figure: "client_write_outage_s", kind: "at most", value: 10, medianAtMost: 5, why: "the API (Sentinel-aware client) writes again soon after the promotion" },
    { figure: "wait_confirmed_writes", kind: "at least", value: 1, why: "WAIT-confirmed losses mean nothing unless some writes were WAIT-confirmed" },
    { figure: "wait_confirmed_lost", kind: "equals", value: 0, why: "with lagging replicas, only WAIT-confirmed writes are safe: none of them lost" },
    { figure: "wait_writer_resumed", kind: "equals", value: "yes", why: "the WAIT writer recovers too" },
  ],
  run: async (ctx) => {
    return cgroupsUnusable(["cpu"]) ?? killMasterUnderLoad(ctx, true);
  },
};

/** SIGSTOP the master past down-after, SIGCONT it, while a stale client keeps writing to it. */
function hungMaster(ctx: DrillContext, label: string) {
  return withCluster(ctx, label, async (cluster, _ws, clients) => {
    const checks = new Checks();
    const oldMaster = cluster.nodes[0];
    const sentinelAware = sentinelClient(cluster);
    // A client that still holds a connection to the old master, as a stale API instance would.
    const stale = directClient(oldMaster.port, ACL_USERS.app, cluster.credentials.app);
    clients.push(sentinelAware, stale);
    const writer = new SteadyWriter(sentinelAware, "aware", { concurrency: 2 });
    const staleWriter = new SteadyWriter(stale, "stale", { concurrency: 4, pauseMs: 1 });
    writer.start();
    staleWriter.start();
    await sleep(ctx.short ? 1500 : 3000);
    const stoppedAt = Date.now();
    const staleAcksBefore = staleWriter.stats.acknowledged;
    cluster.processes.signal(oldMaster.process!, "SIGSTOP");
    const promoted = await waitForNewMaster(cluster, oldMaster, 60000);
    // The API's path: the Sentinel-aware client must leave the hung master (socketTimeout) and
    // write on the new one; its outage is a figure with a target.
    const awareResumed = await waitForWritesAfter([writer], promoted.at, 30000);
    // Hang for longer than down-after: until well after the promotion.
    await sleep(Math.max(0, stoppedAt + 3 * ctx.config.sentinel.downAfterMilliseconds - Date.now()) + 2000);
    const resumedAt = Date.now();
    cluster.processes.signal(oldMaster.process!, "SIGCONT");

    // Sample roles until the old master is a replica again. Sentinel demotes it on its next INFO
    // of that node (every 10 s), so for up to 10 s two nodes report the master role.
    let lastDualMasterAt = resumedAt;
    let rejoinedAt: number | undefined;
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      if ((await currentMasters(cluster)).length > 1) lastDualMasterAt = Date.now();
      if ((await cluster.role(oldMaster)) === "slave") {
        rejoinedAt = Date.now();
        break;
      }
      await sleep(100);
    }
    await sleep(1000);
    await Promise.all([writer.stop(), staleWriter.stop()]);
    const staleAcceptedWhileIsolated = staleWriter.stats.ackTimes.filter((t) => t > stoppedAt).length;
    // What "never two masters at once" must mean for data: only one node accepts writes.
    const staleAcceptedAfterFirstSecond = staleWriter.stats.ackTimes.filter((t) => t > resumedAt + 1000).length;
    const admin = { user: ACL_USERS.admin, password: cluster.credentials.admin };
    const staleKeys = staleWriter.stats.ackedKeys.slice(staleAcksBefore);
    const lostStale = await countMissing(promoted.node.port, staleKeys, admin);
    const lostAware = await countMissing(promoted.node.port, writer.stats.ackedKeys, admin);
    checks.expect(rejoinedAt !== undefined, "the old master did not rejoin as a replica within 30 s of SIGCONT");
    checks.expect((await currentMasters(cluster)).length === 1, "more than one master after the old one rejoined");
    // min-replicas-to-write: the resumed master has no replica acknowledging within the lag,
    // so it refuses writes. Only commands already read before it noticed can slip through.
    checks.expect(staleAcceptedAfterFirstSecond === 0, `the demoted-to-be master still accepted ${staleAcceptedAfterFirstSecond} writes more than 1 s after it resumed`);
    return {
      passed: checks.passed,
      failures: checks.failures,
      figures: {
        promotion_s: seconds(promoted.at - stoppedAt),
        hung_for_s: seconds(resumedAt - stoppedAt),
        old_master_rejoined_after_resume_s: rejoinedAt ? seconds(rejoinedAt - resumedAt) : "never",
        two_nodes_report_master_role_s: seconds(lastDualMasterAt - resumedAt),
        writes_accepted_while_isolated: staleAcceptedWhileIsolated,
        writes_accepted_after_first_second: staleAcceptedAfterFirstSecond,
        isolated_writes_lost: lostStale,
        sentinel_client_writes_lost: lostAware,
        sentinel_client_outage_s: awareResumed ? seconds(writer.longestGapAfter(stoppedAt - 1000).gapMs) : "never resumed",
      },
    };
  });
}

export const masterHung: Scenario = {
  name: "master-hung",
  runbook: "Redis instance is down (hung, then back: the split-brain case)",
  targets: [
    { figure: "promotion_s", kind: "at most", value: 10, why: "a hung master is failed over like a dead one" },
    { figure: "isolated_writes_lost", kind: "at most", value: 16, why: "min-replicas-to-write: the resumed master refuses writes once it sees no replica (4 measured)" },
    { figure: "writes_accepted_after_first_second", kind: "equals", value: 0, why: "never two nodes taking writes for more than a second" },
    { figure: "sentinel_client_writes_lost", kind: "equals", value: 0, why: "the API's own writes go to the new master" },
    { figure: "sentinel_client_outage_s", kind: "at most", value: 10, why: "the API's Sentinel-aware client leaves the hung master (socketTimeout) and writes again" },
    { figure: "without_min_replicas_writes_accepted_while_isolated", kind: "at least", value: 100, fullOnly: true, why: "the contrast run proves the drill sees the split brain min-replicas-to-write prevents" },
  ],
  run: async (ctx) => {
    const bounded = await hungMaster(ctx, "master-hung");
    if (ctx.short) return bounded;
    // Contrast (full drill only): the same hang without min-replicas-to-write.
    const unbounded = await hungMaster({ ...ctx, config: { ...ctx.config, redis: { ...ctx.config.redis, minReplicasToWrite: 0 } } }, "master-hung-unbounded");
    return {
      ...bounded,
      figures: {
        ...bounded.figures,
        without_min_replicas_writes_accepted_while_isolated: unbounded.figures.writes_accepted_while_isolated,
        without_min_replicas_isolated_writes_lost: unbounded.figures.isolated_writes_lost,
      },
    };
  },
};

export const sentinelMinorityLost: Scenario = {
  name: "sentinel-minority-lost",
  runbook: "Instance down while a sentinel is also down",
  targets: [
    { figure: "promotion_s", kind: "at most", value: 10, medianAtMost: 5, why: "quorum 2 of the 2 sentinels left still fails over" },
    { figure: "client_write_outage_s", kind: "at most", value: 10, medianAtMost: 5, why: "the API writes again" },
  ],
  run: (ctx) => withCluster(ctx, "sentinel-minority", async (cluster, _ws, clients) => {
    const checks = new Checks();
    const lostSentinel = cluster.sentinels[cluster.sentinels.length - 1];
    await cluster.processes.kill9(lostSentinel.process!);
    const client = sentinelClient(cluster);
    clients.push(client);
    const writer = new SteadyWriter(client, "minority", { concurrency: 2 });
    writer.start();
    await sleep(1500);
    const oldMaster = cluster.nodes[0];
    const killedAt = Date.now();
    await cluster.processes.kill9(oldMaster.process!);
    let promoted: { node: LocalNode; at: number } | undefined;
    try {
      promoted = await waitForNewMaster(cluster, oldMaster, 60000, cluster.sentinels.filter((s) => s !== lostSentinel));
    } catch {
      checks.expect(false, "no failover with one sentinel down");
    }
    const resumed = promoted ? await waitForWritesAfter([writer], promoted.at, 30000) : false;
    await writer.stop();
    checks.expect(resumed, "writes did not resume");
    return {
      passed: checks.passed,
      failures: checks.failures,
      figures: {
        sentinels_up: `${cluster.sentinels.length - 1}/${cluster.sentinels.length}`,
        quorum: ctx.config.sentinel.quorum,
        promotion_s: promoted ? seconds(promoted.at - killedAt) : "never",
        client_write_outage_s: seconds(writer.longestGapAfter(killedAt - 1000).gapMs),
        client_errors: writer.stats.errors,
      },
    };
  }),
};

export const plannedSwitchover: Scenario = {
  name: "planned-switchover",
  runbook: "Maintenance without a page: CLIENT PAUSE WRITE, SENTINEL FAILOVER, CLIENT KILL TYPE normal once that sentinel names the new master",
  targets: [
    { figure: "client_write_outage_s", kind: "at most", value: 3, shortValue: 10, medianAtMost: 1.5, why: "maintenance without a page: a short pause, never a failover-length outage" },
    { figure: "acked_writes_lost", kind: "equals", value: 0, why: "writes are paused until the replicas caught up" },
  ],
  run: (ctx) => withCluster(ctx, "switchover", async (cluster, _ws, clients) => {
    const checks = new Checks();
    const client = sentinelClient(cluster);
    clients.push(client);
    const writer = new SteadyWriter(client, "switchover", { concurrency: 4 });
    writer.start();
    await sleep(ctx.short ? 1500 : 3000);
    const oldMaster = cluster.nodes[0];
    const leader = cluster.sentinels[0];
    const startedAt = Date.now();
    // The same steps as a data node's handoff on SIGTERM (components/redis/dataNodeScripts.ts),
    // without the shutdown: stop writes so the replicas catch up, ask one sentinel to move the
    // master, and as soon as that sentinel names the new one, disconnect the paused clients so
    // they ask again (they would otherwise wait out the pause, or Sentinel's 10 s demotion).
    const pause = redisCli(oldMaster.port, ["client", "pause", "10000", "write"], cluster.admin()).out;
    const failover = redisCli(leader.port, ["sentinel", "failover", ctx.config.sentinel.masterName], cluster.sentinelAuth()).out;
    checks.expect(pause === "OK" && failover === "OK", `CLIENT PAUSE answered ${pause}, SENTINEL FAILOVER answered ${failover}`);
    const promoted = await waitForNewMaster(cluster, oldMaster, 30000, [leader]);
    const killed = (await redisCliAsync(oldMaster.port, ["client", "kill", "type", "normal"], cluster.admin())).out;
    const resumed = await waitForWritesAfter([writer], promoted.at, 30000);
    // The old master stays paused until Sentinel makes it a replica: it never takes a write again.
    await waitFor("the old master to become a replica", async () => (await cluster.role(oldMaster)) === "slave", 20000, 100);
    await sleep(1000);
    await writer.stop();
    const lost = await countMissing(promoted.node.port, writer.stats.ackedKeys, { user: ACL_USERS.admin, password: cluster.credentials.admin });
    const outage = seconds(writer.longestGapAfter(startedAt - 1000).gapMs);
    checks.expect(resumed, "writes did not resume after the switchover");
    checks.expect(lost === 0, `${lost} acknowledged writes lost in a planned switchover`);
    return {
      passed: checks.passed,
      failures: checks.failures,
      figures: {
        switchover_s: seconds(promoted.at - startedAt),
        clients_disconnected: Number(killed) || 0,
        client_write_outage_s: outage,
        acked_writes: writer.stats.acknowledged,
        acked_writes_lost: lost,
      },
    };
  }),
};
