// master-killed and master-killed-lagging-replica: one scenario family sharing one function,
// killMasterUnderLoad (kill -9 of the master under plain and WAIT writers), with the replicas
// healthy or CPU-throttled so that they lag. Kept together in this one file.
import { ACL_USERS } from "../../components/redis/acl";
import { waitForNewMaster } from "../harness/failover";
import { throttleReplicas, waitForWritesAfter, withCluster } from "../harness/clusterRun";
import { sleep } from "../harness/processes";
import { cgroupsUnusable } from "../harness/cgroups";
import { countMissing, sentinelClient, SteadyWriter } from "../harness/writer";
import { Checks, seconds, type DrillContext, type Scenario } from "../harness/types";

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
  alerts: { raises: ["RedisUnreachable", "RedisFailoverHappened"] },
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
  alerts: { raises: ["RedisUnreachable", "RedisFailoverHappened"] },
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
