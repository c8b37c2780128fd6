// One standalone data node for the single-node scenarios (memory-under-fork, disk-full,
// crash-restart): the stack's Redis settings without Sentinel, and a redis-benchmark load on it.
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { StackConfig } from "../../components/config/types";
import { LocalCluster, type LocalNode } from "./localCluster";
import { ACL_USERS } from "../../components/redis/acl";
import { freePortRange, redisCli, waitFor } from "./processes";
import type { Workspace } from "./workspace";

/** The stack's Redis settings on one standalone node, with the memory limit scaled for this machine. */
export function standalone(config: StackConfig, redis: Partial<StackConfig["redis"]>): StackConfig {
  return { ...config, sentinel: { ...config.sentinel, enabled: false }, redis: { ...config.redis, ...redis } };
}

export async function startStandalone(ws: Workspace, config: StackConfig, label: string, root?: string, extraArgs: string[] = []): Promise<{ cluster: LocalCluster; node: LocalNode }> {
  const cluster = await LocalCluster.render(config, { label, workspace: ws, root });
  const node = cluster.nodes[0];
  cluster.startNode(node, extraArgs);
  await cluster.waitReady(node);
  return { cluster, node };
}

/**
 * The overwriter's own throwaway user: redis-benchmark takes a password only as `-a` on its
 * command line, which every local user can read in /proc/<pid>/cmdline. So no stack password goes
 * there: the drill adds this user for the run, with a fresh random password (sent to Redis as its
 * SHA-256 hash, so redis-cli's command line carries no password either), allowed SET on the
 * overwriter's `key:*` keys and nothing else. In memory only: it dies with the drill's server.
 */
export const OVERWRITER_USER = "veza-drill-overwriter";

function addOverwriterUser(cluster: LocalCluster, node: LocalNode): string {
  const password = randomBytes(24).toString("hex");
  const hash = createHash("sha256").update(password).digest("hex");
  const result = redisCli(node.port, ["acl", "setuser", OVERWRITER_USER, "reset", "on", `#${hash}`, "resetchannels", "~key:*", "+set"], cluster.admin());
  if (result.out !== "OK") throw new Error(`adding the overwriter's user failed: ${result.out}`);
  return password;
}

/**
 * redis-benchmark overwriting random keys, stopped by PID. `flat out` pipelines 32 deep over 4
 * connections (>100k SET/s here, the fork-memory stress); otherwise 2 connections, no pipeline.
 */
export function startOverwriter(ws: Workspace, cluster: LocalCluster, node: LocalNode, keyspace: number, valueBytes: number, logDir: string, flatOut: boolean) {
  const overwriter = ws.processes.start(
    "overwriter",
    "redis-benchmark",
    [
      "-h",
      "127.0.0.1",
      "-p",
      String(node.port),
      "--user",
      OVERWRITER_USER,
      "-a",
      addOverwriterUser(cluster, node),
      "-t",
      "set",
      "-n",
      "1000000000",
      "-r",
      String(keyspace),
      "-d",
      String(valueBytes),
      "-P",
      flatOut ? "32" : "1",
      "-c",
      flatOut ? "4" : "2",
      "-q",
    ],
    path.join(logDir, "overwriter.log"),
  );
  // What any local user sees: no password of the stack's users may be in it.
  const commandLine = fs.readFileSync(`/proc/${overwriter.pid}/cmdline`, "utf8");
  const leaked = Object.entries(cluster.credentials)
    .filter(([, password]) => commandLine.includes(password))
    .map(([user]) => user);
  if (leaked.length > 0) throw new Error(`the overwriter's command line holds the password of ${leaked.join(", ")}`);
  return overwriter;
}

/** A redis-server outside the stack (an attacker's), its config in a 0600 file so no password is on a command line; its port once it answers. */
export async function startRogueServer(ws: Workspace, label: string, lines: string[]): Promise<number> {
  const port = await freePortRange(1);
  const dir = ws.tempDir(label);
  const conf = path.join(dir, "rogue.conf");
  fs.writeFileSync(conf, [`port ${port}`, "bind 127.0.0.1", `dir ${dir}`, 'save ""', ...lines, ""].join("\n"), { mode: 0o600 });
  ws.processes.start(label, "redis-server", [conf], path.join(dir, "rogue.log"));
  await waitFor(`${label} to answer`, () => redisCli(port, ["ping"]).out === "PONG", 10000, 100);
  return port;
}

/** How many replicas the rogue server at 127.0.0.1:`port` has attached (-1: no answer). */
export function rogueReplicaCount(port: number): number {
  return Number(/connected_slaves:(\d+)/.exec(redisCli(port, ["info", "replication"]).out)?.[1] ?? -1);
}

/** A rogue replica of the master at 127.0.0.1:`masterPort`, logged in with a stolen replication password, asking to be Sentinel's first choice (replica-priority 1). */
export function startRogueReplica(ws: Workspace, masterPort: number, replicationPassword: string): Promise<number> {
  return startRogueServer(ws, "rogue-replica", [`replicaof 127.0.0.1 ${masterPort}`, `masteruser ${ACL_USERS.replication}`, `masterauth ${replicationPassword}`, "replica-priority 1"]);
}

/**
 * A Sentinel hello naming `master` with config epoch `epoch` (a forged one: the peer password is
 * all it takes). The fields, in Sentinel's order: sentinel_ip, sentinel_port, sentinel_runid,
 * current_epoch, master_name, master_ip, master_port, master_config_epoch. Its sender is a
 * made-up peer: by default the port after the master's and a fresh runid.
 */
export function forgedHelloMessage(masterName: string, master: { host: string; port: number }, epoch: number, sender = { port: master.port + 1, runid: randomBytes(20).toString("hex") }): string {
  return [master.host, sender.port, sender.runid, epoch, masterName, master.host, master.port, epoch].join(",");
}
