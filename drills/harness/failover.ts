// Measurements shared by the failover test and the drills.
import type { LocalCluster, LocalNode } from "./localCluster";
import { waitFor } from "./processes";

/** Polls every sentinel until one names a master other than `oldMaster`; returns it and when. */
export async function waitForNewMaster(cluster: LocalCluster, oldMaster: LocalNode, timeoutMs: number, sentinels = cluster.sentinels): Promise<{ node: LocalNode; at: number }> {
  // Async probes: a writer under test shares this event loop.
  return waitFor(
    "a sentinel to name a new master",
    async () => {
      for (const sentinel of sentinels) {
        const address = await cluster.masterFromSentinel(sentinel);
        const port = address ? Number(address.split(":")[1]) : undefined;
        if (port && port !== oldMaster.port) {
          const node = cluster.nodeByPort(port);
          if (node) return { node, at: Date.now() };
        }
      }
      return undefined;
    },
    timeoutMs,
    20,
  );
}

/** The nodes that answer ROLE as master right now. */
export async function currentMasters(cluster: LocalCluster): Promise<LocalNode[]> {
  const roles = await Promise.all(cluster.nodes.map((node) => cluster.role(node)));
  return cluster.nodes.filter((_, i) => roles[i] === "master");
}
