// prod-topology: the production example (Pulumi.prod.yaml) as it runs, four hosts at their own
// addresses. Each host is a network namespace with the example's address on a link to a bridge
// on this machine (harness/hostNetwork.ts); each container is its rendered definition run as a
// process in its host's namespace (harness/containerRunner.ts), booted and replaced in the
// engine's order for the prod plan. Redis binds the host address and announces it, and
// replication and the sentinels' gossip cross hosts. The exporters run on the data hosts and
// Prometheus on the monitoring host, evaluating the stack's rendered rules.
// The drill does across hosts what the dev drills do on localhost: an unplanned failover, a
// redeploy after it, and the loss of one whole host (the current master's: its link goes down).
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import type Redis from "ioredis";
import { requireValidStackConfig } from "../../components/validation/validate";
import { placeExporters, stackTopology } from "../../components/topology/ports";
import { readStackConfigFile } from "../../lib/stackFiles";
import { AlertCheck, alertState, startAlerting, type AlertState } from "../harness/alerting";
import { containerRunnerAvailable } from "../harness/containerRunner";
import { ContainerCluster, IMAGE_BUMP, type ClusterEndpoint } from "../harness/dayTwo";
import { HostNetwork, hostNetworkUnavailable } from "../harness/hostNetwork";
import { applyFirewall, refusedPackets } from "../harness/firewall";
import { hostFirewalls } from "../../components/topology/firewalls";
import { containerSteps, EMPTY_PLAN, synthPlan } from "../harness/planOrder";
import { sleep, waitFor } from "../harness/processes";
import { Workspace } from "../harness/workspace";
import { missingKeys, sentinelClient, SteadyWriter } from "../harness/writer";
import { waitForWritesAfter } from "../harness/clusterRun";
import { Checks, seconds, type DrillContext, type Figure, type Scenario } from "../harness/types";

const PROD_STACK = "prod";
/** The page a lost data host raises: its exporter, and with it its Redis, is unreachable. */
export const HOST_LOSS_PAGE = "RedisUnreachable";
const SETTLE_MS = 30000;
/** A machine on the hosts' network that the stack does not declare (an address no host holds). */
const OUTSIDER = { name: "outsider", lastOctet: 99 };
/** A failover, then a whole host lost: its processes' exporters, and the host, are unreachable. */
const PROD_TOPOLOGY_ALERTS = { raises: [HOST_LOSS_PAGE, "HostUnreachable", "RedisFailoverHappened"] };

/** A TCP connection from a namespace is refused (a reset) rather than accepted. */
function tcpRefusedFrom(namespacePath: string, address: string, port: number): boolean {
  const result = spawnSync("nsenter", [`--net=${namespacePath}`, "redis-cli", "-h", address, "-p", String(port), "PING"], { encoding: "utf8", timeout: 5000 });
  return `${result.stdout}${result.stderr}`.includes("Connection refused");
}

/** Settled within SETTLE_MS, or the drill stops there, saying after what and what was wrong. */
async function settle(cluster: ContainerCluster, what: string): Promise<void> {
  const { settled, problems } = await cluster.settle(SETTLE_MS);
  if (!settled) throw new Error(`${what}: not settled within ${SETTLE_MS / 1000} s: ${problems.join("; ")}`);
}

async function prodTopologyDrill(ctx: DrillContext) {
  const unavailable = containerRunnerAvailable() ?? hostNetworkUnavailable();
  if (unavailable) return { passed: false, failures: [unavailable], figures: {} };
  // The production example whatever --stack says: its hosts and addresses are the subject.
  const config = requireValidStackConfig(readStackConfigFile(PROD_STACK).raw);
  if (!config.sentinel.enabled || !config.monitoring.enabled) return { passed: false, failures: ["the production example must enable sentinel and monitoring"], figures: {} };
  const ws = new Workspace("prod-topology");
  const clients: Redis[] = [];
  let writer: SteadyWriter | undefined;
  let check: AlertCheck | undefined;
  try {
    const checks = new Checks();
    const planDir = ws.tempDir("plans");
    const before = synthPlan(PROD_STACK, [], path.join(planDir, "before"));
    const after = synthPlan(PROD_STACK, [IMAGE_BUMP], path.join(planDir, "after"));
    const outsiderAddress = `${config.hosts[0].address.split(".").slice(0, 3).join(".")}.${OUTSIDER.lastOctet}`;
    const network = HostNetwork.create(ws, [...config.hosts, { name: OUTSIDER.name, address: outsiderAddress }]);
    // The data hosts' firewalls, applied first as `up` orders them (the containers depend on them).
    // The drill's clients stand in for the API: their address, the bridge's, is a client source.
    const firewalls = hostFirewalls({ ...config, firewall: { ...config.firewall, clientSources: [...config.firewall.clientSources, network.bridgeAddress] } });
    checks.expect(firewalls.length === config.hosts.filter((h) => h.role !== "monitoring").length, `the production example declares a firewall on ${firewalls.length} data hosts`);
    for (const firewall of firewalls) applyFirewall(network.namespacePath(firewall.host), firewall);
    const topology = stackTopology(config);
    const cluster = new ContainerCluster(config, topology, ws, undefined, undefined, (hostName) => network.namespacePath(hostName));
    const distinctHosts = new Set(cluster.nodes.map((n) => n.hostName)).size;
    checks.expect(distinctHosts === cluster.nodes.length, `the data nodes share hosts (${cluster.nodes.map((n) => `${n.name}@${n.hostName}`).join(", ")})`);

    const bootFrom = Date.now();
    await cluster.replay(containerSteps(EMPTY_PLAN(PROD_STACK), before));
    await settle(cluster, "the first boot");
    const bootSeconds = seconds(Date.now() - bootFrom);

    const monitoringHost = config.hosts.find((h) => h.name === config.monitoring.host)!;
    const exporters = placeExporters(topology, config.monitoring.redisExporterPort);
    const alerting = await startAlerting({
      config,
      exporters,
      exporterPassword: cluster.credentials.exporter,
      dir: ws.tempDir("alerting"),
      processes: ws.processes,
      prometheus: { address: monitoringHost.address, port: config.monitoring.prometheusPort, hostName: monitoringHost.name },
      networkOf: (hostName) => network.namespacePath(hostName),
      ...(cluster.clientTls ? { exporterTls: cluster.clientTls("exporter") } : {}),
    });
    const pagesBefore = (await alerting.alerts()).filter((a) => a.labels.alertname === HOST_LOSS_PAGE).length;
    check = await AlertCheck.begin(alerting, PROD_TOPOLOGY_ALERTS);

    // An outsider with every password and certificate still cannot reach a node or a sentinel: no
    // attaching as a replica (no promotion), no REPLCONF, no hello. Refused at TCP, before TLS.
    const guardedEndpoints = [...cluster.nodes.map((n) => ({ address: n.address, port: n.port })), ...topology.sentinels.map((s) => ({ address: s.host.address, port: s.port }))];
    const outsiderRefused = guardedEndpoints.filter(({ address, port }) => tcpRefusedFrom(network.namespacePath(OUTSIDER.name), address, port)).length;
    const refusedInbound = firewalls.reduce((sum, firewall) => sum + refusedPackets(network.namespacePath(firewall.host)), 0);

    const client = sentinelClient(cluster);
    clients.push(client);
    writer = new SteadyWriter(client, "prod", { concurrency: 4 });
    writer.start();
    await sleep(ctx.short ? 1500 : 3000);

    // 1. An unplanned failover: the master's container dies; the restart policy brings it back.
    const firstMaster = (await cluster.master())!;
    const { promoted, killedAt, promotedAt } = await cluster.killMaster(firstMaster, 60000);
    const promotionMs = promotedAt - killedAt;
    await settle(cluster, "the failover");
    const failoverOutage = writer.longestGapAfter(killedAt - 1000);
    const restartedRole = await cluster.role(firstMaster);

    // 2. A redeploy after it: every Redis-family container replaced in the engine's order.
    const redeployFrom = Date.now();
    const { killedOnDelete } = await cluster.replay(containerSteps(before, after));
    await settle(cluster, "the redeploy");
    const redeployGap = writer.longestGapAfter(redeployFrom);

    // 3. A whole host lost: the current master's. Its processes keep running, unreachable.
    const masterBeforeLoss = (await cluster.master())!;
    const lostHost = masterBeforeLoss.hostName;
    const lostAt = Date.now();
    network.cut(lostHost);
    const survivors: ClusterEndpoint[] = cluster.nodes.filter((n) => n.hostName !== lostHost);
    const promotedAfterLoss: ClusterEndpoint = await waitFor(
      "a master on another host",
      async () => {
        for (const node of survivors) if ((await cluster.role(node)) === "master") return node;
        return undefined;
      },
      60000,
      100,
    );
    const promotedAfterLossMs = Date.now() - lostAt;
    // A lost host stays lost: the API must write again on the new master while it is gone.
    const resumedDuringLoss = await waitForWritesAfter([writer], lostAt + promotedAfterLossMs, 30000);
    // ... and the loss outlasts min-replicas-max-lag, so the isolated master has stopped taking
    // writes before its link comes back (a shorter blip is the master-partitioned drill's subject).
    const fencedAt = lostAt + (config.redis.minReplicasMaxLagSeconds + 1) * 1000;
    // The monitoring host keeps scraping the others and pages for the lost one.
    let pendingAt: number | undefined;
    let firingAt: number | undefined;
    let lastAlerts: AlertState[] = [];
    const alertDeadline = Date.now() + (ctx.short ? 20000 : 100000);
    while (Date.now() < alertDeadline && (pendingAt === undefined || (!ctx.short && firingAt === undefined) || Date.now() < fencedAt)) {
      lastAlerts = await alerting.alerts().catch(() => lastAlerts);
      const state = alertState(lastAlerts, HOST_LOSS_PAGE, masterBeforeLoss.name);
      if (state && pendingAt === undefined) pendingAt = Date.now();
      if (state === "firing" && firingAt === undefined) firingAt = Date.now();
      await sleep(250);
    }
    const pagedInstances = [...new Set(lastAlerts.filter((a) => a.labels.alertname === HOST_LOSS_PAGE).map((a) => a.labels.instance))].sort();

    const healedAt = Date.now();
    network.heal(lostHost);
    await settle(cluster, "the heal");
    const healSettledMs = Date.now() - healedAt;
    await sleep(1000);
    await writer.stop();
    const hostLossOutage = writer.longestGapAfter(lostAt - 1000);
    const finalMaster = await cluster.master();
    const missing = finalMaster ? await missingKeys(finalMaster.port, writer.stats.ackedKeys, cluster.admin(), finalMaster.address) : writer.stats.ackedKeys;
    // When each lost write was acknowledged, against the loss: the diagnosis of a nonzero count.
    const { ackedKeys, ackTimes } = writer.stats;
    const ackedAt = new Map(ackedKeys.map((key, i) => [key, ackTimes[i]]));
    const lostWhen = (from: number, to: number) => missing.filter((key) => ackedAt.get(key)! >= from && ackedAt.get(key)! < to).length;
    checks.expect(writer.stats.acknowledged > 0, "the writer never wrote");
    checks.expect(restartedRole === "slave", `${firstMaster.name} came back as ${restartedRole ?? "nothing"}, not as a replica`);
    checks.expect(resumedDuringLoss, `the API did not write again while ${lostHost} was lost (errors: ${writer.stats.errorMessages.join(" | ") || "none"})`);
    return await check.judge({
      passed: checks.passed,
      failures: checks.failures,
      figures: {
        hosts: config.hosts.map((h) => `${h.name}=${h.address}`).join(" "),
        firewalled_hosts: firewalls.length,
        outsider_connections_refused: `${outsiderRefused} of ${guardedEndpoints.length}`,
        outsider_packets_refused: refusedInbound,
        first_boot_s: bootSeconds,
        pages_before_loss: pagesBefore,
        failover_from: `${firstMaster.name}@${firstMaster.hostName}`,
        failover_to: `${promoted.name}@${promoted.hostName}`,
        failover_promotion_s: seconds(promotionMs),
        failover_write_outage_s: seconds(failoverOutage.gapMs),
        redeploy_longest_write_gap_s: seconds(redeployGap.gapMs),
        redeploy_killed_on_delete: killedOnDelete,
        lost_host: `${lostHost} (held ${masterBeforeLoss.name}, the master)`,
        host_loss_failover_to: `${promotedAfterLoss.name}@${promotedAfterLoss.hostName}`,
        host_loss_promotion_s: seconds(promotedAfterLossMs),
        host_loss_write_outage_s: seconds(hostLossOutage.gapMs),
        host_loss_page_pending_after_s: pendingAt ? seconds(pendingAt - lostAt) : "never",
        ...(ctx.short ? {} : { host_loss_page_firing_after_s: firingAt ? seconds(firingAt - lostAt) : "never" }),
        paged_instances: pagedInstances.join(",") || "none",
        heal_settled_s: seconds(healSettledMs),
        acked_writes: writer.stats.acknowledged,
        acked_writes_lost: missing.length,
        ...(missing.length > 0 ? { lost_acked_before_loss: lostWhen(0, lostAt), lost_acked_during_loss: lostWhen(lostAt, healedAt), lost_acked_after_heal: lostWhen(healedAt, Infinity) } : {}),
        masters_after_heal: finalMaster ? 1 : 0,
      } satisfies Record<string, Figure>,
    });
  } finally {
    await check?.stop();
    await writer?.stop();
    for (const c of clients) c.disconnect();
    await ws.cleanup();
  }
}

export const prodTopology: Scenario = {
  name: "prod-topology",
  stack: PROD_STACK,
  runbook: "Redis instance is down, across the production example's hosts: a failover, a redeploy after it, a whole host lost (W3: Sentinel HA)",
  alerts: PROD_TOPOLOGY_ALERTS,
  targets: [
    { figure: "outsider_connections_refused", kind: "equals", value: "6 of 6", why: "the data hosts' firewalls refuse every node and sentinel port to a machine the stack does not declare" },
    { figure: "pages_before_loss", kind: "equals", value: 0, why: "a healthy cluster pages nobody: the page below is the host loss, not the drill's setup" },
    { figure: "failover_write_outage_s", kind: "at most", value: 5, why: "a failover across hosts is as fast as on one: detection (down-after 2 s) plus an election" },
    { figure: "redeploy_longest_write_gap_s", kind: "at most", value: 5, shortValue: 10, why: "each handoff of the redeploy is a short pause, with replication across hosts" },
    { figure: "redeploy_killed_on_delete", kind: "equals", value: 0, why: "every delete fits in the stop grace" },
    { figure: "host_loss_write_outage_s", kind: "at most", value: 10, why: "the master's host gone: detection, election, and the client's one connect into the void" },
    { figure: "host_loss_page_pending_after_s", kind: "at most", value: 15, why: "the monitoring host, on its own host, sees the lost host's exporter fail within a few scrapes" },
    { figure: "host_loss_page_firing_after_s", kind: "at most", value: 90, fullOnly: true, why: "the page fires after its `for: 1m`, from the monitoring host" },
    { figure: "heal_settled_s", kind: "at most", value: 30, why: "the lost host's old master rejoins as a replica once its link is back" },
    { figure: "acked_writes_lost", kind: "equals", value: 0, why: "no acknowledged write is lost to the failover, the redeploy or the host loss" },
    { figure: "masters_after_heal", kind: "equals", value: 1, why: "one master after the heal: the isolated old master did not keep its role" },
  ],
  run: prodTopologyDrill,
};
