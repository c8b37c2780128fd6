// security: stolen credentials used against a live cluster rendered from the stack, as the threat
// model (docs/threat-model.md) says an attacker would, each attack refused or detected on the
// real Prometheus:
// 1. the replication password: a server outside the stack attaches as a replica, asking to be
//    Sentinel's first choice (replica-priority 1): RedisUndeclaredReplica must page;
// 2. the app password: SCRIPT DEBUG SYNC (it would stop the whole server): refused;
// 3. the sentinel peer password: one forged hello per sentinel with a newer config epoch names a
//    server outside the stack. Hellos carry no signature beyond that password, so the sentinels
//    follow it (the drill checks the attack went through); RedisUndeclaredMaster and
//    RedisSentinelUnknownPeer must page. Then the same against the containers' entry scripts,
//    whose master guard must undo it within 30 s: the same master, no node ever the rogue's
//    replica, no acknowledged write lost;
// 3b. the sentinel password's REPLICAOF on a replica: the data node's watchdog stops it and the
//    restart follows the declared master again within 30 s.
// 4. the handoff password: CLIENT PAUSE <years> on the master, WRITE then ALL, on a cluster of the
//    containers' own entry scripts. Sentinel fails over (the paused master holds back its hello
//    PUBLISH, and the PINGs behind it), and the entry script's pause watchdog frees the node: an
//    UNPAUSE for WRITE, a restart for ALL (which holds back the UNPAUSE too). Writes flow again
//    and the node is back as a replica within 30 s, none acknowledged lost.
// 5. the Prometheus web password (on the Prometheus container), against Alertmanager behind its
//    gate: a silence of every alert for a year is refused (403), and so is one without any
//    credential, as the healthchecks hold none; its own job, posting alerts, still works.
// Restarts that would follow an undeclared master are refused by the entry scripts (proven on
// them in tests/drills/containerStart.test.ts), and a retire's session ending in the rotation drill.
import { ACL_USERS, SENTINEL_HELLO_CHANNEL, SENTINEL_USERS } from "../../components/redis/acl";
import type { AlertCheck } from "../harness/alerting";
import { withCluster } from "../harness/clusterRun";
import { forgedHelloMessage, rogueReplicaCount, startRogueReplica, startRogueServer } from "../harness/standalone";
import type { LocalCluster } from "../harness/localCluster";
import { redisCli, sleep, waitFor } from "../harness/processes";
import { Workspace } from "../harness/workspace";
import { Checks, seconds, type DrillContext, type Figure, type Scenario } from "../harness/types";
import { type ClusterEndpoint, ContainerCluster } from "../harness/dayTwo";
import { containerRunnerAvailable } from "../harness/containerRunner";
import { countMissing, sentinelClient, SteadyWriter } from "../harness/writer";
import { HANDOFF_TIMING } from "../../components/redis/dataNodeScripts";
import { startGatedAlertmanager } from "../harness/gatedAlertmanager";
import type { StackConfig } from "../../components/config/types";

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

/** Attack 5: the Prometheus password (and no credential at all) try to silence every alert through the gate. */
async function silenceEverything(config: StackConfig, ws: Workspace, figures: Record<string, Figure>): Promise<void> {
  const gated = await startGatedAlertmanager(ws, config);
  const now = Date.now();
  const post = (target: string, body: unknown, credential?: string) =>
    fetch(`${gated.url}${target}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(credential ? { authorization: `Basic ${credential}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    }).then((r) => r.status);
  const yearLong = {
    matchers: [{ name: "alertname", value: ".+", isRegex: true }],
    startsAt: new Date(now).toISOString(),
    endsAt: new Date(now + 365 * 24 * 3600 * 1000).toISOString(),
    createdBy: "attacker",
    comment: "silence everything for a year",
  };
  const outcome = (status: number) => (status === 403 || status === 401 ? "refused" : `accepted (${status})`);
  figures.alertmanager_silence_as_prometheus = outcome(await post("/api/v2/silences", yearLong, gated.authorization("prometheus")));
  figures.alertmanager_silence_without_credential = outcome(await post("/api/v2/silences", yearLong));
  figures.alertmanager_alert_as_prometheus = (await post("/api/v2/alerts", [{ labels: { alertname: "SecurityDrillProbe" } }], gated.authorization("prometheus"))) === 200 ? "accepted" : "refused";
}

function appScriptDebug(cluster: LocalCluster, figures: Record<string, Figure>): void {
  const reply = redisCli(cluster.nodes[0].port, ["script", "debug", "sync"], { user: ACL_USERS.app, password: cluster.credentials.app }).out;
  figures.app_script_debug = /NOPERM/.test(reply) ? "refused" : `accepted: ${reply}`;
}

/**
 * The sentinel password's SLAVEOF toward a host name outside the declared data nodes, on a
 * replica: refused by the node's ACL, and the refusal pages (RedisReplicationCommandRefused).
 * "localhost" is outside the declared 127.0.0.1 (the pin compares names), and is the same machine.
 */
async function slaveofRefusedPages(cluster: LocalCluster, ws: Workspace, check: AlertCheck | undefined, figures: Record<string, Figure>, checks: Checks): Promise<void> {
  const port = await startRogueServer(ws, "rogue-master-refused", []);
  const sentAt = Date.now();
  const reply = redisCli(cluster.nodes[1].port, ["slaveof", "localhost", String(port)], { user: ACL_USERS.sentinel, password: cluster.credentials.sentinel }).out;
  figures.slaveof_refused = /^NOPERM/.test(reply) ? "refused" : `accepted: ${reply}`;
  figures.slaveof_refused_detected_s = await detected(check, "RedisReplicationCommandRefused", sentAt, checks);
}

/** Sends the hello to each sentinel (Sentinel answers 1 once it has processed one), retrying a refused send once; returns how many took it. */
function publishHello(sentinels: Array<{ port: number; address?: string }>, hello: string, peerPassword: string): number {
  const peer = { user: SENTINEL_USERS.peer.name, password: peerPassword };
  const send = (s: { port: number; address?: string }) => redisCli(s.port, ["publish", SENTINEL_HELLO_CHANNEL, hello], peer, 5000, s.address ?? "127.0.0.1").out === "1";
  return sentinels.filter((s) => send(s) || send(s)).length;
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
  const sentAt = Date.now();
  publishHello(cluster.sentinels, forgedHelloMessage(masterName, { host: "127.0.0.1", port }, epoch + 10), cluster.credentials.sentinelPeer);
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
  // The made-up sender is a peer nobody declared, whatever master the hello names.
  figures.forged_hello_unknown_peer_detected_s = await detected(check, "RedisSentinelUnknownPeer", sentAt, checks);
}

/**
 * How long the sentinels must keep naming the declared master for the forgery to count as undone:
 * longer than a hello period (2 s), so a peer still moved would show by moving them back.
 */
const UNDONE_FOR_MS = 3000;

/**
 * The same forged hello against the containers' entry scripts, whose master guard stops a
 * sentinel naming an undeclared master; the restart (the drill plays the restart policy) follows
 * the declared node that reports ROLE master. The rogue answers, so a sentinel left moved would
 * turn the data nodes into its replicas 8 s later: the drill watches that none ever does, that
 * every sentinel names the master of before, and that no acknowledged write is lost.
 */
async function forgedHelloContained(cluster: ContainerCluster, ws: Workspace, writer: SteadyWriter, figures: Record<string, Figure>, checks: Checks): Promise<void> {
  const master = await cluster.master();
  if (!master) {
    checks.expect(false, "no single master before the forged hello");
    return;
  }
  const declaredMaster = `${master.address}:${master.port}`;
  const port = await startRogueServer(ws, "rogue-master-contained", []);
  const rogue = `127.0.0.1:${port}`;
  const views = await Promise.all(cluster.sentinels.map((s) => cluster.sentinelView(s)));
  const epoch = Math.max(...views.map((view) => Number(view["config-epoch"] ?? 0)));
  const named = (view: Record<string, string>) => (view.ip && view.port ? `${view.ip}:${view.port}` : undefined);
  const sentinelNames = cluster.sentinels.map((s) => s.name);
  const sentAt = Date.now();
  figures.contained_hello_delivered = publishHello(
    cluster.sentinels,
    forgedHelloMessage(cluster.config.sentinel.masterName, { host: "127.0.0.1", port }, epoch + 10),
    cluster.credentials.sentinelPeer,
  );
  let moved = 0;
  let restarts = 0;
  let nodesFollowingRogue = 0;
  let undoneSince: number | undefined;
  while (Date.now() - sentAt < 60000) {
    restarts += cluster.runner.restartExited(sentinelNames).length;
    const now = (await Promise.all(cluster.sentinels.map((s) => cluster.sentinelView(s)))).map(named);
    moved = Math.max(moved, now.filter((address) => address === rogue).length);
    const roles = await Promise.all(cluster.nodes.map((n) => cluster.roleReply(n)));
    nodesFollowingRogue = Math.max(nodesFollowingRogue, roles.filter((r) => r?.[0] === "slave" && r[2] === String(port)).length);
    if (moved > 0 && now.every((address) => address === declaredMaster)) {
      undoneSince ??= Date.now();
      if (Date.now() - undoneSince >= UNDONE_FOR_MS) break;
    } else undoneSince = undefined;
    await sleep(100);
  }
  figures.contained_hello_sentinels_moved = moved;
  figures.contained_hello_undone_s = undoneSince === undefined || Date.now() - undoneSince < UNDONE_FOR_MS ? "never" : seconds(undoneSince - sentAt);
  figures.contained_hello_guard_restarts = restarts;
  figures.contained_hello_nodes_following_rogue = nodesFollowingRogue;
  figures.contained_hello_rogue_replicas = rogueReplicaCount(port);
  figures.contained_hello_master_changed = (await cluster.master())?.name === master.name ? "no" : "yes";
  // RedisSentinelUnknownPeer's condition, from what the exporter reads of each sentinel: itself
  // and its peers. The rule pages on any one sentinel's series above the declared count.
  const peers = (await Promise.all(cluster.sentinels.map((s) => cluster.sentinelView(s)))).map((view) => Number(view["num-other-sentinels"] ?? -1) + 1);
  figures.contained_hello_unknown_peer_paging =
    Math.max(...peers) > cluster.config.sentinel.count ? "yes" : `no: sentinels know ${peers.join(", ")} sentinels, ${cluster.config.sentinel.count} declared`;
  const acked = [...writer.stats.ackedKeys];
  figures.contained_hello_acked_writes_lost = await countMissing(master.port, acked, cluster.admin(), master.address);
}

/**
 * A stolen sentinel password's REPLICAOF sent to a replica: it follows a server outside the stack
 * and takes its data. The data node's watchdog stops such a replica, and the restart (the drill
 * plays the restart policy) follows the master the sentinels name: it is a replica of the
 * declared master again, with the master's data. The master and its writes are never touched.
 */
async function replicaMovedBack(cluster: ContainerCluster, ws: Workspace, writer: SteadyWriter, figures: Record<string, Figure>): Promise<void> {
  const master = (await cluster.master())!;
  const replica = cluster.nodes.find((node) => node.name !== master.name)!;
  const port = await startRogueServer(ws, "rogue-master-replicaof", []);
  const roleOf = async () => (await cluster.roleReply(replica)) ?? ["no answer"];
  const sentAt = Date.now();
  // SLAVEOF: what Sentinel sends, so what its user may run (REPLICAOF is not in its rules).
  const reply = redisCli(replica.port, ["slaveof", "127.0.0.1", String(port)], { user: ACL_USERS.sentinel, password: cluster.credentials.sentinel }, 5000, replica.address).out;
  figures.replicaof_replica_accepted = reply === "OK" ? "yes" : `no: ${reply}`;
  const backAt = await waitFor(
    `${replica.name} to follow the declared master again`,
    async () => {
      cluster.runner.restartExited([replica.name]);
      const [role, host, masterPort, link] = await roleOf();
      return role === "slave" && host === master.address && masterPort === String(master.port) && link === "connected" ? Date.now() : undefined;
    },
    60000,
    200,
  ).catch(() => undefined);
  figures.replicaof_replica_undone_s = backAt === undefined ? `never (${(await roleOf()).slice(0, 3).join(" ")})` : seconds(backAt - sentAt);
  figures.replicaof_replica_restarted = cluster.runner.entryLog(replica.name).some((line) => line.includes("which is not a declared data node (a REPLICAOF")) ? "yes" : "no";
  figures.replicaof_replica_acked_writes_lost = await countMissing(master.port, [...writer.stats.ackedKeys], cluster.admin(), master.address);
}

/**
 * The sentinel password's SLAVEOF toward a host outside the declared data nodes, on the master and
 * on a replica: each node refuses it (its ACL pins SLAVEOF to the declared hosts), stays where it
 * was, and the server named never sees a replica. The pin compares host strings: here every node
 * is declared as 127.0.0.1, so "localhost" (the same machine, a different name) is outside them,
 * and the drill still only reaches 127.0.0.1.
 */
async function slaveofOutsideDeclaredHosts(cluster: ContainerCluster, ws: Workspace, figures: Record<string, Figure>): Promise<void> {
  const port = await startRogueServer(ws, "rogue-master-undeclared-host", []);
  const sentinelUser = { user: ACL_USERS.sentinel, password: cluster.credentials.sentinel };
  // A master's ROLE, or a replica's with the master it follows (not the offsets, which move).
  const roleOf = async (node: ClusterEndpoint) => {
    const [role, host, masterPort] = (await cluster.roleReply(node)) ?? ["no answer"];
    return role === "slave" ? `replica of ${host}:${masterPort}` : role;
  };
  const outcomes = await Promise.all(
    cluster.nodes.map(async (node) => {
      const before = await roleOf(node);
      const reply = redisCli(node.port, ["slaveof", "localhost", String(port)], sentinelUser, 5000, node.address).out;
      await sleep(1000);
      const after = await roleOf(node);
      return reply.startsWith("NOPERM") && after === before ? undefined : `${node.name}: ${reply} (role ${before} -> ${after})`;
    }),
  );
  const moved = outcomes.filter((outcome) => outcome !== undefined);
  figures.slaveof_undeclared_host = moved.length === 0 ? `refused on all ${cluster.nodes.length} nodes` : `accepted: ${moved.join("; ")}`;
  figures.slaveof_undeclared_host_rogue_replicas = rogueReplicaCount(port);
}

/**
 * The attacks the containers' entry scripts contain (their guards live there), one cluster of
 * them, a writer running throughout: the forged hello (forgedHelloContained), a replica moved by
 * REPLICAOF (replicaMovedBack), then the handoff user's endless pause on the master, in both
 * modes (ALL only in npm test). WRITE: the watchdog ends it with CLIENT UNPAUSE, and the node,
 * failed over meanwhile, follows the new master without a restart. ALL: the UNPAUSE is held too,
 * so the watchdog stops the node and the restart policy brings it back as a replica.
 */
async function attacksOnEntryScripts(ctx: DrillContext, figures: Record<string, Figure>, checks: Checks): Promise<void> {
  const unavailable = containerRunnerAvailable();
  if (unavailable) {
    checks.expect(false, unavailable);
    return;
  }
  // A workspace of its own: its containers take the data nodes' names.
  const ws = new Workspace("security-pause");
  // In plaintext even when the stack has TLS on: the attacker is assumed to hold a stack
  // certificate too (any one lets a connection reach AUTH: Redis 7.0 maps none to a user) and a
  // server key for the rogue master, the worst case; what holds here holds with TLS on.
  const cluster = await ContainerCluster.render({ ...ctx.config, tls: { ...ctx.config.tls, enabled: false } }, ws);
  for (const node of cluster.nodes) {
    cluster.runner.create(node.name);
    await cluster.runner.waitHealthy(node.name, 200, 60000);
  }
  for (const sentinel of cluster.sentinels) cluster.runner.create(sentinel.name);
  const settled = await cluster.settle(60000);
  checks.expect(settled.settled, `the entry scripts' cluster did not settle: ${settled.problems.join("; ")}`);
  const client = sentinelClient(cluster);
  const writer = new SteadyWriter(client, "paused", { concurrency: 2 });
  try {
    writer.start();
    await sleep(1000);
    await slaveofOutsideDeclaredHosts(cluster, ws, figures);
    await forgedHelloContained(cluster, ws, writer, figures, checks);
    await replicaMovedBack(cluster, ws, writer, figures);
    // npm test runs the pause of all commands only (the one that needs the restart); the drill both.
    for (const mode of ctx.short ? (["all"] as const) : (["write", "all"] as const)) {
      const prefix = `handoff_pause_${mode}`;
      await sleep(1000);
      const master = (await cluster.master())!;
      const container = cluster.runner.slot(master.name).current!.process.child;
      const pausedAt = Date.now();
      const reply = redisCli(master.port, ["client", "pause", "2000000000000", mode], { user: ACL_USERS.handoff, password: cluster.credentials.handoff }, 5000, master.address).out;
      figures[`${prefix}_accepted`] = reply === "OK" ? "yes" : `no: ${reply}`;
      // Writes flow again once Sentinel promotes a replica: the paused master holds back the
      // sentinels' hello PUBLISH (WRITE) or every command (ALL), and their PINGs go unanswered.
      const resumedAt = await waitFor("writes to flow again after the pause", () => writer.stats.ackTimes.find((t) => t > pausedAt + 500), 60000, 100).catch(() => undefined);
      figures[`${prefix}_writes_resumed_s`] = resumedAt === undefined ? "never" : seconds(resumedAt - pausedAt);
      // Then the watchdog: the paused node follows the new master, after a restart for ALL.
      const backAt = await waitFor(
        `${master.name} to follow the new master`,
        async () => {
          if (mode === "all") cluster.runner.restartExited([master.name]);
          return (await cluster.role(master)) === "slave" ? Date.now() : undefined;
        },
        60000,
        200,
      ).catch(() => undefined);
      figures[`${prefix}_node_back_as_replica_s`] = backAt === undefined ? `never (${(await cluster.role(master)) ?? "no answer"})` : seconds(backAt - pausedAt);
      figures[`${prefix}_node_restarted`] = cluster.runner.slot(master.name).current!.process.child === container ? "no" : "yes";
      const logged = cluster.runner.entryLog(master.name).find((line) => line.includes("by a pause this node did not ask for") || line.includes("by a pause CLIENT UNPAUSE cannot end"));
      figures[`${prefix}_watchdog`] = logged === undefined ? "silent" : /CLIENT UNPAUSE held too/.test(logged) ? "stopped the node" : /ended it with CLIENT UNPAUSE/.test(logged) ? "unpaused" : logged;
    }
    await writer.stop();
    const master = await cluster.master();
    figures.handoff_pause_acked_writes_lost = master ? await countMissing(master.port, writer.stats.ackedKeys, cluster.admin(), master.address) : "no master";
  } finally {
    await writer.stop().catch(() => undefined);
    client.disconnect();
    await ws.cleanup();
  }
}

export const security: Scenario = {
  name: "security",
  runbook:
    "Every credential assumed stolen (docs/threat-model.md): a rogue replica with the replication password, SCRIPT DEBUG with the app's, a forged Sentinel hello with the peer's, an endless CLIENT PAUSE with the handoff's, a year-long silence of every alert with Prometheus's web password",
  // The forged hello leaves the data nodes without a master the sentinels agree on: its other pages.
  // The rogue replica is one more than declared, too.
  alerts: {
    raises: ["RedisUndeclaredReplica", "RedisReplicasAboveDeclared", "RedisReplicationCommandRefused", "RedisUndeclaredMaster", "RedisSentinelUnknownPeer"],
    alsoPages: ["RedisSentinelMasterMismatch", "RedisNoMaster", "RedisMasterWithoutReplicas", "RedisUnreachable"],
  },
  targets: [
    { figure: "rogue_replica_attached", kind: "equals", value: "yes", why: "the replication password lets a server outside the stack attach: the attack is real (a retire of that password ends it)" },
    { figure: "rogue_replica_detected_s", kind: "at most", value: 30, why: "a replica outside the declared data nodes pages within 30 s" },
    { figure: "app_script_debug", kind: "equals", value: "refused", why: "no app password can stop the server with SCRIPT DEBUG SYNC" },
    { figure: "slaveof_refused", kind: "equals", value: "refused", why: "the sentinel password's SLAVEOF toward a host name outside the declared data nodes is refused by the node's ACL" },
    { figure: "slaveof_refused_detected_s", kind: "at most", value: 30, why: "a replication command the ACL refused pages within 30 s (Sentinel never reads the reply)" },
    { figure: "forged_hello_sentinels_moved", kind: "at least", value: 1, why: "hellos carry no signature beyond the peer password, so the forgery goes through: the drill proves its detection" },
    { figure: "forged_hello_detected_s", kind: "at most", value: 30, why: "sentinels naming a master outside the declared data nodes page within 30 s" },
    { figure: "forged_hello_unknown_peer_detected_s", kind: "at most", value: 30, why: "the hello's made-up sender is a sentinel nobody declared: it pages within 30 s" },
    { figure: "contained_hello_sentinels_moved", kind: "at least", value: 1, why: "against the entry scripts too the forgery goes through: the master guard undoes it" },
    { figure: "contained_hello_undone_s", kind: "at most", value: 30, why: "every sentinel names the declared master again (and keeps naming it) within 30 s" },
    { figure: "contained_hello_nodes_following_rogue", kind: "equals", value: 0, why: "the guard acts before a moved sentinel turns the data nodes into the rogue's replicas (8 s)" },
    {
      figure: "contained_hello_rogue_replicas",
      kind: "equals",
      value: 0,
      why: "no data node ever attached to the rogue: it received no data (the moved sentinels did log in to it: the runbook rotates the sentinel password)",
    },
    { figure: "contained_hello_master_changed", kind: "equals", value: "no", why: "the guard restores the master of before, with no failover" },
    {
      figure: "contained_hello_unknown_peer_paging",
      kind: "equals",
      value: "yes",
      why: "the made-up peer stays known after the guard's restart: RedisSentinelUnknownPeer's condition holds until SENTINEL RESET",
    },
    { figure: "contained_hello_acked_writes_lost", kind: "equals", value: 0, why: "the clients' master never changed, and nothing replaced its data" },
    {
      figure: "slaveof_undeclared_host",
      kind: "equals",
      value: "refused on all 3 nodes",
      why: "the sentinel password's SLAVEOF may only name a declared data node's host: no node follows a server elsewhere (prevention)",
    },
    { figure: "slaveof_undeclared_host_rogue_replicas", kind: "equals", value: 0, why: "the server named never receives a replication connection" },
    {
      figure: "replicaof_replica_accepted",
      kind: "equals",
      value: "yes",
      why: "the pin allows a declared host on any port, and here every node is on 127.0.0.1: a server on another port passes, so the watchdog is what acts",
    },
    { figure: "replicaof_replica_undone_s", kind: "at most", value: 30, why: "the watchdog stops a replica following an undeclared address, and the restart follows the declared master" },
    { figure: "replicaof_replica_restarted", kind: "equals", value: "yes", why: "the watchdog, not Sentinel's slower fix (after failover-timeout), undid it" },
    { figure: "replicaof_replica_acked_writes_lost", kind: "equals", value: 0, why: "the master was never touched" },
    ...(["write", "all"] as const).flatMap((mode) => [
      {
        figure: `handoff_pause_${mode}_accepted`,
        kind: "equals" as const,
        fullOnly: mode === "write",
        value: "yes",
        why: "ACL rules cannot bound CLIENT PAUSE's length: the attack is real, the failover and the watchdog contain it",
      },
      {
        figure: `handoff_pause_${mode}_writes_resumed_s`,
        kind: "at most" as const,
        fullOnly: mode === "write",
        value: 30,
        why: "Sentinel fails over a paused master: it holds back the sentinels' hello PUBLISH, and the PINGs behind it",
      },
      {
        figure: `handoff_pause_${mode}_node_back_as_replica_s`,
        kind: "at most" as const,
        fullOnly: mode === "write",
        value: 30,
        why: `the watchdog acts on writes held ${HANDOFF_TIMING.pauseLimitMs / 1000} s, and the node then follows the new master`,
      },
      {
        figure: `handoff_pause_${mode}_watchdog`,
        kind: "equals" as const,
        fullOnly: mode === "write",
        value: mode === "write" ? "unpaused" : "stopped the node",
        why: mode === "write" ? "a WRITE pause lets CLIENT UNPAUSE through: no restart needed" : "a pause of ALL commands holds back CLIENT UNPAUSE: only a restart ends it",
      },
    ]),
    { figure: "handoff_pause_acked_writes_lost", kind: "equals", value: 0, why: "the held writes were never acknowledged, and the replicas held every acknowledged one" },
    {
      figure: "alertmanager_silence_as_prometheus",
      kind: "equals",
      value: "refused",
      why: "basic auth has no roles; the gate lets Prometheus's password post alerts and scrape metrics only, so it cannot silence every alert",
    },
    { figure: "alertmanager_silence_without_credential", kind: "equals", value: "refused", why: "the healthchecks hold no credential: without one, nothing but /-/healthy answers" },
    {
      figure: "alertmanager_alert_as_prometheus",
      kind: "equals",
      value: "accepted",
      why: "Prometheus's own job still works through the gate: the refusal is the gate's permissions, not a broken path",
    },
  ],
  run: (ctx) =>
    withCluster(ctx, "security", async (cluster, ws, _clients, check) => {
      const checks = new Checks();
      const figures: Record<string, Figure> = {};
      await rogueReplica(cluster, ws, check, figures, checks);
      appScriptDebug(cluster, figures);
      await slaveofRefusedPages(cluster, ws, check, figures, checks);
      await forgedHello(cluster, ws, check, figures, checks);
      await attacksOnEntryScripts(ctx, figures, checks);
      await silenceEverything(ctx.config, ws, figures);
      return { passed: checks.passed, failures: checks.failures, figures };
    }),
};
