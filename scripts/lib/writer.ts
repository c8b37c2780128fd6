// A steady writer through a Sentinel-aware client, recording every acknowledged write, so a
// failover can be measured from the client's side: outage and acknowledged writes lost.

import Redis from "ioredis";
import { ioredisSentinelOptions } from "../../components/api/clientSettings";
import { ACL_USERS } from "../../components/redis/acl";
import type { LocalCluster } from "./localCluster";

export interface WriterStats {
  acknowledged: number;
  errors: number;
  /** Acknowledgement times (ms since epoch), in order. */
  ackTimes: number[];
  ackedKeys: string[];
}

export function sentinelClient(cluster: LocalCluster): Redis {
  const client = new Redis(ioredisSentinelOptions({
    sentinels: cluster.sentinels.map((s) => ({ host: "127.0.0.1", port: s.port })),
    masterName: cluster.config.sentinel.masterName,
    username: ACL_USERS.app,
    password: cluster.credentials.app,
    sentinelPassword: cluster.credentials.sentinelClients,
  }));
  // Connection errors during a failover are expected; the writer counts failed commands itself.
  client.on("error", () => undefined);
  return client;
}

/** Writes `prefix:<n>` one at a time (so each ack is unambiguous) until stopped. */
export class SteadyWriter {
  readonly stats: WriterStats = { acknowledged: 0, errors: 0, ackTimes: [], ackedKeys: [] };
  private running = false;
  private loop?: Promise<void>;

  constructor(private readonly client: Redis, private readonly prefix: string, private readonly pauseMs = 2) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      let n = 0;
      while (this.running) {
        const key = `${this.prefix}:${n++}`;
        try {
          await this.client.set(key, "1");
          this.stats.acknowledged++;
          this.stats.ackTimes.push(Date.now());
          this.stats.ackedKeys.push(key);
        } catch {
          this.stats.errors++;
        }
        if (this.pauseMs > 0) await new Promise((r) => setTimeout(r, this.pauseMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The longest gap between consecutive acknowledgements after `from` (ms). */
  longestGapAfter(from: number): { gapMs: number; resumedAt: number } {
    let best = { gapMs: 0, resumedAt: from };
    let previous = this.stats.ackTimes.filter((t) => t <= from).pop() ?? from;
    for (const t of this.stats.ackTimes) {
      if (t <= from) continue;
      if (t - previous > best.gapMs) best = { gapMs: t - previous, resumedAt: t };
      previous = t;
    }
    return best;
  }
}
