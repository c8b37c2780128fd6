// planned-switchover: maintenance without a page on the process cluster (CLIENT PAUSE WRITE,
// SENTINEL FAILOVER, CLIENT KILL TYPE normal), under a Sentinel-aware writer.
import { ACL_USERS } from "../../components/redis/acl";
import { waitForNewMaster } from "../harness/failover";
import { waitForWritesAfter, withCluster } from "../harness/clusterRun";
import { redisCli, redisCliAsync, sleep, waitFor } from "../harness/processes";
import { countMissing, sentinelClient, SteadyWriter } from "../harness/writer";
import { Checks, seconds, type Scenario } from "../harness/types";

export const plannedSwitchover: Scenario = {
  name: "planned-switchover",
  runbook: "Maintenance without a page: CLIENT PAUSE WRITE, SENTINEL FAILOVER, CLIENT KILL TYPE normal once that sentinel names the new master",
  // The ticket says the master moved; no page may fire.
  alerts: { raises: ["RedisFailoverHappened"] },
  targets: [
    { figure: "client_write_outage_s", kind: "at most", value: 3, shortValue: 10, medianAtMost: 1.5, why: "maintenance without a page: a short pause, never a failover-length outage" },
    { figure: "acked_writes_lost", kind: "equals", value: 0, why: "writes are paused until the replicas caught up" },
  ],
  run: (ctx) =>
    withCluster(ctx, "switchover", async (cluster, _ws, clients) => {
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
