// security: stolen credentials used against a live cluster rendered from the stack, as the threat
// model (docs/threat-model.md) says an attacker would, each attack refused or detected on the
// real Prometheus:
// 1. the replication password: a server outside the stack attaches as a replica, asking to be
//    Sentinel's first choice (replica-priority 1): RedisUndeclaredReplica must page;
// 2. the app password: SCRIPT DEBUG SYNC (it would stop the whole server): refused;
// 3. the sentinel peer password: one forged hello per sentinel with a newer config epoch names a
//    server outside the stack. Hellos carry no signature beyond that password, so the sentinels
//    follow it (the drill checks the attack went through) and RedisUndeclaredMaster must page.
// Restarts that would follow an undeclared master are refused by the entry scripts (proven on
// them in tests/drills/containerStart.test.ts), and a retire's session ending in the rotation drill.
import { randomBytes } from "node:crypto";
import { ACL_USERS, SENTINEL_HELLO_CHANNEL, SENTINEL_USERS } from "../../components/redis/acl";
import type { AlertCheck } from "../harness/alerting";
import { withCluster } from "../harness/clusterRun";
import { startRogueReplica, startRogueServer } from "../harness/standalone";
import type { LocalCluster } from "../harness/localCluster";
import { redisCli, waitFor } from "../harness/processes";
import type { Workspace } from "../harness/workspace";
import { Checks, seconds, type Figure, type Scenario } from "../harness/types";

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

export const security: Scenario = {
  name: "security",
  runbook: "Every credential assumed stolen (docs/threat-model.md): a rogue replica with the replication password, SCRIPT DEBUG with the app's, a forged Sentinel hello with the peer's",
  // The forged hello leaves the data nodes without a master the sentinels agree on: its other pages.
  alerts: { raises: ["RedisUndeclaredReplica", "RedisUndeclaredMaster"], alsoPages: ["RedisSentinelMasterMismatch", "RedisNoMaster", "RedisMasterWithoutReplicas", "RedisUnreachable"] },
  targets: [
    { figure: "rogue_replica_attached", kind: "equals", value: "yes", why: "the replication password lets a server outside the stack attach: the attack is real (a retire of that password ends it)" },
    { figure: "rogue_replica_detected_s", kind: "at most", value: 30, why: "a replica outside the declared data nodes pages within 30 s" },
    { figure: "app_script_debug", kind: "equals", value: "refused", why: "no app password can stop the server with SCRIPT DEBUG SYNC" },
    { figure: "forged_hello_sentinels_moved", kind: "at least", value: 1, why: "hellos carry no signature beyond the peer password, so the forgery goes through: the drill proves its detection" },
    { figure: "forged_hello_detected_s", kind: "at most", value: 30, why: "sentinels naming a master outside the declared data nodes page within 30 s" },
  ],
  run: (ctx) =>
    withCluster(ctx, "security", async (cluster, ws, _clients, check) => {
      const checks = new Checks();
      const figures: Record<string, Figure> = {};
      await rogueReplica(cluster, ws, check, figures, checks);
      appScriptDebug(cluster, figures);
      await forgedHello(cluster, ws, check, figures, checks);
      return { passed: checks.passed, failures: checks.failures, figures };
    }),
};
