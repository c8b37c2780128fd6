// failover-with-tls: the unplanned failover's client outage with TLS on every link, against the
// same failover in plaintext, in one run. Rounds alternate plaintext and TLS clusters (rendered
// from the same stack, the same load, each with its exporters and Prometheus), so that a noisy
// moment of a shared machine falls on both. Each round kills the master (kill -9) under the
// API's Sentinel-aware client and measures from the client's side.
import { ACL_USERS } from "../../components/redis/acl";
import { waitForNewMaster } from "../harness/failover";
import { waitForWritesAfter, withCluster } from "../harness/clusterRun";
import { sleep } from "../harness/processes";
import { countMissing, sentinelClient, SteadyWriter } from "../harness/writer";
import { Checks, seconds, type DrillContext, type Figure, type Scenario } from "../harness/types";

const MODES = ["plaintext", "tls"] as const;
type Mode = (typeof MODES)[number];

interface Round {
  promotionMs: number;
  outageMs: number;
  lost: number;
  alerts: Figure;
  failures: string[];
}

async function killRound(ctx: DrillContext, mode: Mode, round: number): Promise<Round> {
  const result = await withCluster(
    ctx,
    `failover-${mode}-${round}`,
    async (cluster, _ws, clients) => {
      const checks = new Checks();
      const client = sentinelClient(cluster);
      clients.push(client);
      const writer = new SteadyWriter(client, mode, { concurrency: 4, pauseMs: 2 });
      writer.start();
      await sleep(ctx.short ? 2000 : 4000);
      const oldMaster = cluster.nodes[0];
      const killedAt = Date.now();
      await cluster.processes.kill9(oldMaster.process!);
      const promoted = await waitForNewMaster(cluster, oldMaster, 60_000);
      const resumed = await waitForWritesAfter([writer], promoted.at, 30_000);
      await sleep(1000);
      await writer.stop();
      checks.expect(resumed, `the client did not write again within 30 s of the promotion (errors: ${writer.stats.errorMessages.join(" | ") || "none"})`);
      const admin = { user: ACL_USERS.admin, password: cluster.credentials.admin, ...(cluster.clientTls("admin") ? { tls: cluster.clientTls("admin")! } : {}) };
      return {
        passed: checks.passed,
        failures: checks.failures,
        figures: {
          promotion_s: seconds(promoted.at - killedAt),
          client_write_outage_s: seconds(writer.longestGapAfter(killedAt - 1000).gapMs),
          acked_writes_lost: await countMissing(promoted.node.port, writer.stats.ackedKeys, admin),
        },
      };
    },
    undefined,
    { tls: mode === "tls" },
  );
  const figures = result.figures as Record<string, Figure>;
  return {
    promotionMs: Number(figures.promotion_s) * 1000,
    outageMs: Number(figures.client_write_outage_s) * 1000,
    lost: Number(figures.acked_writes_lost),
    alerts: figures.alerts_raised ?? "not watched",
    failures: result.failures.map((failure) => `${mode} round ${round}: ${failure}`),
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

export const failoverWithTls: Scenario = {
  name: "failover-with-tls",
  runbook: "Redis instance is down (W3: Sentinel HA), with TLS on every link",
  alerts: { raises: ["RedisUnreachable", "RedisFailoverHappened"] },
  targets: [
    {
      figure: "tls_outage_increase_percent",
      kind: "at most",
      value: 10,
      shortValue: 100,
      why: "TLS costs a handshake per reconnect, not a slower failover: the median outage at most 10 % above plaintext's",
    },
    { figure: "tls_acked_writes_lost", kind: "equals", value: 0, why: "healthy replicas hold every acknowledged write, over TLS as in plaintext" },
    { figure: "plaintext_acked_writes_lost", kind: "equals", value: 0, why: "the reference run loses nothing either" },
    { figure: "tls_promotion_s", kind: "at most", value: 10, why: "Sentinel over TLS promotes well within failover-timeout" },
  ],
  run: async (ctx) => {
    const rounds = ctx.short ? 1 : 3;
    const measured: Record<Mode, Round[]> = { plaintext: [], tls: [] };
    for (let round = 1; round <= rounds; round++) {
      // Alternating, and which mode goes first alternates too: neither always runs on a warmer machine.
      const order = round % 2 === 1 ? MODES : ([...MODES].reverse() as Mode[]);
      for (const mode of order) {
        const result = await killRound(ctx, mode, round);
        ctx.log(`${mode} round ${round}: promotion ${seconds(result.promotionMs)} s, client outage ${seconds(result.outageMs)} s, ${result.lost} lost`);
        measured[mode].push(result);
      }
    }
    const outage = (mode: Mode) => median(measured[mode].map((r) => r.outageMs));
    const failures = MODES.flatMap((mode) => measured[mode].flatMap((r) => r.failures));
    const figures: Record<string, Figure> = { rounds_per_mode: rounds };
    for (const mode of MODES) {
      figures[`${mode}_client_write_outage_s`] = seconds(outage(mode));
      figures[`${mode}_client_write_outage_s_each`] = measured[mode].map((r) => seconds(r.outageMs)).join(" ");
      figures[`${mode}_promotion_s`] = seconds(Math.max(...measured[mode].map((r) => r.promotionMs)));
      figures[`${mode}_acked_writes_lost`] = measured[mode].reduce((sum, r) => sum + r.lost, 0);
      figures[`${mode}_alerts_raised`] = measured[mode][measured[mode].length - 1].alerts;
    }
    figures.tls_outage_increase_percent = Math.round((outage("tls") / outage("plaintext") - 1) * 1000) / 10;
    return { passed: failures.length === 0, failures, figures };
  },
};
