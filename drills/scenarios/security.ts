// security: stolen credentials used against a live cluster rendered from the stack, as the threat
// model (docs/threat-model.md) says an attacker would, each attack refused or detected on the
// real Prometheus:
// 1. the replication password: a server outside the stack attaches as a replica, asking to be
//    Sentinel's first choice (replica-priority 1): RedisUndeclaredReplica must page;
// 2. the app password: SCRIPT DEBUG SYNC (it would stop the whole server): refused;
// 3. the sentinel peer password: one forged hello per sentinel with a newer config epoch names a
//    server outside the stack. Hellos carry no signature beyond that password, so the sentinels
//    follow it (the drill checks the attack went through) and RedisUndeclaredMaster must page.
// 4. the handoff password: CLIENT PAUSE <years> WRITE on the master, on a cluster of the
//    containers' own entry scripts. The pause holds back even the admin's CLIENT UNPAUSE. Sentinel
//    fails over (the paused master holds back its hello PUBLISH, and the PINGs behind it), and the
//    entry script's pause watchdog stops the paused node, which only a restart frees: writes flow
//    again and the node is back as a replica within 30 s, none acknowledged lost.
// Restarts that would follow an undeclared master are refused by the entry scripts (proven on
// them in tests/drills/containerStart.test.ts), and a retire's session ending in the rotation drill.
import { randomBytes } from "node:crypto";
import { ACL_USERS, SENTINEL_HELLO_CHANNEL, SENTINEL_USERS } from "../../components/redis/acl";
import type { AlertCheck } from "../harness/alerting";
import { withCluster } from "../harness/clusterRun";
import { startRogueReplica, startRogueServer } from "../harness/standalone";
import type { LocalCluster } from "../harness/localCluster";
import { redisCli, sleep, waitFor } from "../harness/processes";
import { Workspace } from "../harness/workspace";
import { Checks, seconds, type DrillContext, type Figure, type Scenario } from "../harness/types";
import { ContainerCluster } from "../harness/dayTwo";
import { containerRunnerAvailable } from "../harness/containerRunner";
import { countMissing, sentinelClient, SteadyWriter } from "../harness/writer";
import { HANDOFF_TIMING } from "../../components/redis/dataNodeScripts";

/** How long detection may take: a scrape and an evaluation are 1 s each here; the page is the bound. */
const DETECT_WITHIN_MS = 30000;

/** When the scenario's alert watch first saw `alert`, as s after `since`; a check fails without it. */
async function detected(check: AlertCheck | undefined, alert: string, since: number, checks: Checks): Promise<Figure> {
  if (!check) return "not watched";
  const seenAt = await check.firstSeen(alert, "pending", DETECT_WITHIN_MS);
  checks.expect(seenAt !== undefined, `${alert} was not raised within ${DETECT_WITHIN_MS / 1000} s`);
  return seenAt === undefined ? "not detected" : seconds(seenAt - since);
}

async function rogueReplica(cluster: LocalCluster, ws: Workspace, check: AlertCheck | undefined, figures: Record<string, Figure>, checks: Checks): Promise<void> {
  const master = cluster.nodes[0];
  const port = await startRogueReplica(ws, master.port, cluster.credentials.replication);
  const attachedAt = await waitFor(
    "the rogue replica to attach",
    () => (Object.values(cluster.info(master, "replication")).some((v) => v.includes(`port=${port},state=online`)) ? Date.now() : undefined),
    20000,
    100,
  ).catch(() => undefined);
  figures.rogue_replica_attached = attachedAt !== undefined ? "yes" : "no";
  if (attachedAt !== undefined) figures.rogue_replica_detected_s = await detected(check, "RedisUndeclaredReplica", attachedAt, checks);
}

function appScriptDebug(cluster: LocalCluster, figures: Record<string, Figure>): void {
  const reply = redisCli(cluster.nodes[0].port, ["script", "debug", "sync"], { user: ACL_USERS.app, password: cluster.credentials.app }).out;
  figures.app_script_debug = /NOPERM/.test(reply) ? "refused" : `accepted: ${reply}`;
}

async function forgedHello(cluster: LocalCluster, ws: Workspace, check: AlertCheck | undefined, figures: Record<string, Figure>, checks: Checks): Promise<void> {
  const masterName = cluster.config.sentinel.masterName;
  const port = await startRogueServer(ws, "rogue-master", []);
  const rogue = `127.0.0.1:${port}`;
  const admin = { user: SENTINEL_USERS.admin.name, password: cluster.credentials.sentinelAdmin };
  const epoch = Math.max(
    ...cluster.sentinels.map((s) => {
      const lines = redisCli(s.port, ["sentinel", "master", masterName], admin).out.split("\n");
      return Number(lines[lines.indexOf("config-epoch") + 1] ?? 0);
    }),
  );
  // sentinel_ip,sentinel_port,sentinel_runid,current_epoch,master_name,master_ip,master_port,master_config_epoch
  const hello = ["127.0.0.1", String(port + 1), randomBytes(20).toString("hex"), String(epoch + 10), masterName, "127.0.0.1", String(port), String(epoch + 10)].join(",");
  const peer = { user: SENTINEL_USERS.peer.name, password: cluster.credentials.sentinelPeer };
  const sentAt = Date.now();
  for (const s of cluster.sentinels) redisCli(s.port, ["publish", SENTINEL_HELLO_CHANNEL, hello], peer);
  const moved = await waitFor(
    "the forged hello to move the sentinels",
    async () => {
      const named = (await Promise.all(cluster.sentinels.map((s) => cluster.masterFromSentinel(s)))).filter((address) => address === rogue).length;
      return named > 0 ? named : undefined;
    },
    10000,
    100,
  ).catch(() => 0);
  figures.forged_hello_sentinels_moved = moved;
  if (moved > 0) figures.forged_hello_detected_s = await detected(check, "RedisUndeclaredMaster", sentAt, checks);
}

/** The handoff user's endless pause, against the containers' entry scripts (the watchdog lives there). */
async function pauseNobodyEnds(ctx: DrillContext, figures: Record<string, Figure>, checks: Checks): Promise<void> {
  const unavailable = containerRunnerAvailable();
  if (unavailable) {
    checks.expect(false, unavailable);
    return;
  }
  // A workspace of its own: its containers take the data nodes' names.
  const ws = new Workspace("security-pause");
  const cluster = await ContainerCluster.render(ctx.config, ws);
  for (const node of cluster.nodes) {
    cluster.runner.create(node.name);
    await cluster.runner.waitHealthy(node.name, 200, 60000);
  }
  for (const sentinel of cluster.sentinels) cluster.runner.create(sentinel.name);
  const settled = await cluster.settle(60000);
  checks.expect(settled.settled, `the entry scripts' cluster did not settle: ${settled.problems.join("; ")}`);
  const master = (await cluster.master())!;
  const client = sentinelClient(cluster);
  const writer = new SteadyWriter(client, "paused", { concurrency: 2 });
  try {
    writer.start();
    await sleep(1000);
    const pausedAt = Date.now();
    const reply = redisCli(master.port, ["client", "pause", "2000000000000", "write"], { user: ACL_USERS.handoff, password: cluster.credentials.handoff }, 5000, master.address).out;
    figures.handoff_endless_pause = reply === "OK" ? "accepted" : `refused: ${reply}`;
    // Writes flow again once Sentinel promotes a replica: the paused master holds back the
    // sentinels' hello PUBLISH on their command link, so their PINGs behind it go unanswered and
    // it is down after down-after. The watchdog then stops the paused node, which no one else can.
    const resumedAt = await waitFor("writes to flow again after the pause", () => writer.stats.ackTimes.find((t) => t > pausedAt + 500), 60000, 100).catch(() => undefined);
    figures.handoff_pause_writes_resumed_s = resumedAt === undefined ? "never" : seconds(resumedAt - pausedAt);
    const container = cluster.runner.slot(master.name).current!.process.child;
    const stoppedAt = await waitFor("the watchdog to stop the paused node", () => (container.exitCode !== null || container.signalCode !== null ? Date.now() : undefined), 60000, 100).catch(
      () => undefined,
    );
    figures.handoff_pause_node_stopped_s = stoppedAt === undefined ? "never" : seconds(stoppedAt - pausedAt);
    figures.handoff_pause_watchdog_logged = cluster.runner.entryLog(master.name).some((line) => line.includes("by a pause this node did not ask for")) ? "yes" : "no";
    await writer.stop();
    const promoted = await cluster.master();
    figures.handoff_pause_failed_over_to = promoted?.name ?? "none";
    figures.handoff_pause_acked_writes_lost = promoted ? await countMissing(promoted.port, writer.stats.ackedKeys, cluster.admin(), promoted.address) : "no master";
    if (stoppedAt === undefined) {
      checks.expect(false, `${master.name} still runs; its entry log ends: ${cluster.runner.entryLog(master.name).slice(-3).join(" | ")}`);
      return;
    }
    // The restart policy brings the stopped node back: its entry script finds the new master.
    cluster.runner.restart(master.name);
    await cluster.runner.waitHealthy(master.name, 200, 60000);
    figures.handoff_pause_node_back_as = (await cluster.role(master)) ?? "none";
  } finally {
    await writer.stop().catch(() => undefined);
    client.disconnect();
    await ws.cleanup();
  }
}

export const security: Scenario = {
  name: "security",
  runbook:
    "Every credential assumed stolen (docs/threat-model.md): a rogue replica with the replication password, SCRIPT DEBUG with the app's, a forged Sentinel hello with the peer's, an endless CLIENT PAUSE with the handoff's",
  // The forged hello leaves the data nodes without a master the sentinels agree on: its other pages.
  alerts: { raises: ["RedisUndeclaredReplica", "RedisUndeclaredMaster"], alsoPages: ["RedisSentinelMasterMismatch", "RedisNoMaster", "RedisMasterWithoutReplicas", "RedisUnreachable"] },
  targets: [
    { figure: "rogue_replica_attached", kind: "equals", value: "yes", why: "the replication password lets a server outside the stack attach: the attack is real (a retire of that password ends it)" },
    { figure: "rogue_replica_detected_s", kind: "at most", value: 30, why: "a replica outside the declared data nodes pages within 30 s" },
    { figure: "app_script_debug", kind: "equals", value: "refused", why: "no app password can stop the server with SCRIPT DEBUG SYNC" },
    { figure: "forged_hello_sentinels_moved", kind: "at least", value: 1, why: "hellos carry no signature beyond the peer password, so the forgery goes through: the drill proves its detection" },
    { figure: "forged_hello_detected_s", kind: "at most", value: 30, why: "sentinels naming a master outside the declared data nodes page within 30 s" },
    { figure: "handoff_endless_pause", kind: "equals", value: "accepted", why: "ACL rules cannot bound CLIENT PAUSE's length: the attack is real, the watchdog contains it" },
    { figure: "handoff_pause_writes_resumed_s", kind: "at most", value: 30, why: "Sentinel fails over a master whose writes are held: its own hello PUBLISH is held too, and the PINGs behind it" },
    {
      figure: "handoff_pause_node_stopped_s",
      kind: "at most",
      value: 30,
      why: `the watchdog stops a node whose writes stay held ${HANDOFF_TIMING.pauseLimitMs / 1000} s: only a restart ends such a pause, and the node then rejoins as a replica`,
    },
    { figure: "handoff_pause_acked_writes_lost", kind: "equals", value: 0, why: "the held writes were never acknowledged, and the replicas held every acknowledged one" },
    { figure: "handoff_pause_watchdog_logged", kind: "equals", value: "yes", why: "the entry script says why it stopped the node" },
    { figure: "handoff_pause_node_back_as", kind: "equals", value: "slave", why: "the restarted node follows the new master" },
  ],
  run: (ctx) =>
    withCluster(ctx, "security", async (cluster, ws, _clients, check) => {
      const checks = new Checks();
      const figures: Record<string, Figure> = {};
      await rogueReplica(cluster, ws, check, figures, checks);
      appScriptDebug(cluster, figures);
      await forgedHello(cluster, ws, check, figures, checks);
      await pauseNobodyEnds(ctx, figures, checks);
      return { passed: checks.passed, failures: checks.failures, figures };
    }),
};
