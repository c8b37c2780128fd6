// One standalone data node for the single-node scenarios (memory-under-fork, disk-full,
// crash-restart): the stack's Redis settings without Sentinel, and a redis-benchmark load on it.
import * as path from "node:path";
import type { StackConfig } from "../../components/config/types";
import { ACL_USERS } from "../../components/redis/acl";
import { LocalCluster, type LocalNode } from "./localCluster";
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
 * redis-benchmark overwriting random keys, stopped by PID. `flat out` pipelines 32 deep over 4
 * connections (>100k SET/s here, the fork-memory stress); otherwise 2 connections, no pipeline.
 */
export function startOverwriter(ws: Workspace, cluster: LocalCluster, node: LocalNode, keyspace: number, valueBytes: number, logDir: string, flatOut: boolean) {
  return ws.processes.start("overwriter", "redis-benchmark", [
    "-h", "127.0.0.1", "-p", String(node.port), "--user", ACL_USERS.app, "-a", cluster.credentials.app,
    "-t", "set", "-n", "1000000000", "-r", String(keyspace), "-d", String(valueBytes), "-P", flatOut ? "32" : "1", "-c", flatOut ? "4" : "2", "-q",
  ], path.join(logDir, "overwriter.log"));
}
