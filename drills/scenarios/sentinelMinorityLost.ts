// sentinel-minority-lost: one sentinel killed, then the master: the two left still fail over.
import { waitForNewMaster } from "../harness/failover";
import { waitForWritesAfter, withCluster } from "../harness/clusterRun";
import type { LocalNode } from "../harness/localCluster";
import { sleep } from "../harness/processes";
import { sentinelClient, SteadyWriter } from "../harness/writer";
import { Checks, seconds, type Scenario } from "../harness/types";

export const sentinelMinorityLost: Scenario = {
  name: "sentinel-minority-lost",
  runbook: "Instance down while a sentinel is also down",
  alerts: { raises: ["SentinelUnreachable", "SentinelQuorumAtRisk", "RedisUnreachable", "RedisFailoverHappened"] },
  targets: [
    { figure: "promotion_s", kind: "at most", value: 10, medianAtMost: 5, why: "quorum 2 of the 2 sentinels left still fails over" },
    { figure: "client_write_outage_s", kind: "at most", value: 10, medianAtMost: 5, why: "the API writes again" },
  ],
  run: (ctx) =>
    withCluster(ctx, "sentinel-minority", async (cluster, _ws, clients) => {
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
        promoted = await waitForNewMaster(
          cluster,
          oldMaster,
          60000,
          cluster.sentinels.filter((s) => s !== lostSentinel),
        );
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
