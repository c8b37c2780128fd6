// master-hung: the master SIGSTOPped past down-after while a stale client keeps writing to it,
// then SIGCONTed (the split-brain case), with a contrast run without min-replicas-to-write.
import { ACL_USERS } from "../../components/redis/acl";
import { currentMasters, waitForNewMaster } from "../harness/failover";
import { waitForWritesAfter, withCluster, withMinReplicasContrast } from "../harness/clusterRun";
import { sleep } from "../harness/processes";
import { countMissing, directClient, sentinelClient, SteadyWriter } from "../harness/writer";
import { Checks, seconds, type DrillContext, type Scenario } from "../harness/types";

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
  // A stopped process still accepts connections (the kernel queues them): its exporter times out.
  alerts: { raises: ["RedisUnreachable", "RedisFailoverHappened"] },
  targets: [
    { figure: "promotion_s", kind: "at most", value: 10, why: "a hung master is failed over like a dead one" },
    { figure: "isolated_writes_lost", kind: "at most", value: 16, why: "min-replicas-to-write: the resumed master refuses writes once it sees no replica (4 measured)" },
    { figure: "writes_accepted_after_first_second", kind: "equals", value: 0, why: "never two nodes taking writes for more than a second" },
    { figure: "sentinel_client_writes_lost", kind: "equals", value: 0, why: "the API's own writes go to the new master" },
    { figure: "sentinel_client_outage_s", kind: "at most", value: 10, why: "the API's Sentinel-aware client leaves the hung master (socketTimeout) and writes again" },
    {
      figure: "without_min_replicas_writes_accepted_while_isolated",
      kind: "at least",
      value: 100,
      fullOnly: true,
      why: "the contrast run proves the drill sees the split brain min-replicas-to-write prevents",
    },
  ],
  // The contrast run (full drill only): the same hang without min-replicas-to-write.
  run: (ctx) =>
    withMinReplicasContrast(ctx, "master-hung", hungMaster, (unbounded) => ({
      without_min_replicas_writes_accepted_while_isolated: unbounded.writes_accepted_while_isolated,
      without_min_replicas_isolated_writes_lost: unbounded.isolated_writes_lost,
    })),
};
