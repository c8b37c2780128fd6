// quorum-lost: two of the three sentinels stop answering. No failover may happen (one sentinel
// alone must never move the master), the page fires from the real redis_exporter and Prometheus
// evaluating the stack's own rules, and the master dies: the runbook's restart brings writes back.
// The sentinels are stopped (SIGSTOP), not killed: a restarted sentinel comes back through its
// container's entry script (which rebuilds its config), and that is the day-2 drills' subject.
import { currentMasters, waitForNewMaster } from "../harness/failover";
import { sleep } from "../harness/processes";
import { countMissing, sentinelClient, SteadyWriter } from "../harness/writer";
import { Checks, seconds, type Scenario } from "../harness/types";
import { waitForWritesAfter, withCluster } from "../harness/clusterRun";

/** The page this scenario must see: the surviving sentinel's own count (CKQUORUM) below quorum. */
export const QUORUM_PAGE = "SentinelQuorumLost";
/** The page counted from the exporters instead: fewer sentinels answer than the quorum. */
export const REACHABLE_PAGE = "SentinelsBelowQuorumReachable";

export const quorumLost: Scenario = {
  name: "quorum-lost",
  runbook: "Two of three sentinels down, then the master: no failover possible (page); restart the instance",
  targets: [
    { figure: "pages_before_loss", kind: "equals", value: "none", why: "a healthy quorum pages nobody: the alerts below are the loss, not the drill's setup" },
    {
      figure: "quorum_page_pending_after_s",
      kind: "at most",
      value: 15,
      why: "the survivor's CKQUORUM drops below quorum once the dead sentinels pass down-after; Prometheus sees it within a few scrapes",
    },
    { figure: "reachable_page_pending_after_s", kind: "at most", value: 15, why: "the exporters of the dead sentinels report redis_up 0 at their next scrape" },
    { figure: "quorum_page_firing_after_s", kind: "at most", value: 90, fullOnly: true, why: "the page fires after its `for: 1m`" },
    { figure: "promotions_without_quorum", kind: "equals", value: 0, why: "one sentinel alone never moves the master: no failover decided by a minority" },
    { figure: "master_down_without_failover_s", kind: "at least", value: 5, why: "the master stayed down for several down-after periods while no failover happened" },
    { figure: "writes_resumed_after_restart_s", kind: "at most", value: 10, why: "the runbook's restart brings writes back without Sentinel: the API finds the same master again" },
    { figure: "sentinel_client_writes_lost", kind: "equals", value: 0, why: "the restarted master replays its AOF: no acknowledged write lost" },
    { figure: "masters_at_end", kind: "equals", value: 1, why: "one master once the sentinels answer again" },
  ],
  alerts: { raises: [QUORUM_PAGE, REACHABLE_PAGE, "SentinelUnreachable", "RedisUnreachable"] },
  run: (ctx) =>
    withCluster(ctx, "quorum-lost", async (cluster, _ws, clients, check) => {
      if (!check) throw new Error("quorum-lost times its pages: run it through runScenario, which gives withCluster its alerts");
      const checks = new Checks();
      const client = sentinelClient(cluster);
      clients.push(client);
      const writer = new SteadyWriter(client, "api", { concurrency: 2 });
      writer.start();
      await sleep(ctx.short ? 2000 : 5000);
      const pagesBefore = (await check.alerting.alerts()).filter((a) => a.labels.alertname === QUORUM_PAGE || a.labels.alertname === REACHABLE_PAGE).map((a) => a.labels.alertname);

      const [survivor, ...lost] = cluster.sentinels;
      const lostAt = Date.now();
      for (const sentinel of lost) cluster.processes.signal(sentinel.process!, "SIGSTOP");
      // Timed by the scenario's alert watch (it polls Prometheus all along), within one deadline.
      const alertDeadline = Date.now() + (ctx.short ? 20000 : 100000);
      const left = () => Math.max(0, alertDeadline - Date.now());
      const pendingAt = { [QUORUM_PAGE]: await check.firstSeen(QUORUM_PAGE, "pending", left()), [REACHABLE_PAGE]: await check.firstSeen(REACHABLE_PAGE, "pending", left()) };
      const firingAt = ctx.short ? undefined : await check.firstSeen(QUORUM_PAGE, "firing", left());

      // The master dies while only one sentinel is left: it must stay the master in Sentinel's eyes.
      const oldMaster = cluster.nodes[0];
      const killedAt = Date.now();
      await cluster.processes.kill9(oldMaster.process!);
      let promotionsWithoutQuorum = 0;
      try {
        // A failover that could happen would within down-after plus an election (about a second).
        await waitForNewMaster(cluster, oldMaster, 3 * ctx.config.sentinel.downAfterMilliseconds + 3000, [survivor]);
        promotionsWithoutQuorum++;
      } catch {
        /* the expected outcome: no sentinel named a new master */
      }
      const replicasPromoted = (await currentMasters(cluster)).length;

      // The runbook's first step for a dead instance: restart it. Without a quorum this is the only
      // way back (restoring the sentinels later is not enough: see docs/drills.md, "Quorum lost").
      const restartedAt = Date.now();
      cluster.startNode(oldMaster);
      await cluster.waitReady(oldMaster);
      const resumed = await waitForWritesAfter([writer], restartedAt, 30000);
      for (const sentinel of lost) cluster.processes.signal(sentinel.process!, "SIGCONT");
      await sleep(1000);
      await writer.stop();
      checks.expect(resumed, `the API did not write again after the master's restart (errors: ${writer.stats.errorMessages.join(" | ") || "none"})`);
      const resumedAt = writer.stats.ackTimes.find((t) => t > restartedAt);
      return {
        passed: checks.passed,
        failures: checks.failures,
        figures: {
          pages_before_loss: pagesBefore.length === 0 ? "none" : pagesBefore.join(", "),
          quorum_page_pending_after_s: pendingAt[QUORUM_PAGE] ? seconds(pendingAt[QUORUM_PAGE] - lostAt) : "never",
          reachable_page_pending_after_s: pendingAt[REACHABLE_PAGE] ? seconds(pendingAt[REACHABLE_PAGE] - lostAt) : "never",
          ...(ctx.short ? {} : { quorum_page_firing_after_s: firingAt ? seconds(firingAt - lostAt) : "never" }),
          promotions_without_quorum: promotionsWithoutQuorum + replicasPromoted,
          master_down_without_failover_s: seconds(restartedAt - killedAt),
          writes_resumed_after_restart_s: resumedAt ? seconds(resumedAt - restartedAt) : "never",
          // Killed with -9: the page cache keeps what the AOF was given (see crash-restart).
          sentinel_client_writes_lost: await countMissing(oldMaster.port, writer.stats.ackedKeys, cluster.admin()),
          masters_at_end: (await currentMasters(cluster)).length,
        },
      };
    }),
};
