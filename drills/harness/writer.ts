// Writers through a Sentinel-aware client (the API's settings), recording every acknowledged
// write, so a failover is measured from the client's side: outage and acknowledged writes lost.

import * as fs from "node:fs";
import Redis from "ioredis";
import type { ClientTlsFiles } from "../../components/tls/certificates";
import { ioredisSentinelOptions } from "../../components/api/clientSettings";
import { ACL_USERS, SENTINEL_USERS } from "../../components/redis/acl";
import type { LocalCluster } from "./localCluster";

export interface WriterStats {
  acknowledged: number;
  errors: number;
  /** Acknowledgement times (ms since epoch), in order. */
  ackTimes: number[];
  ackedKeys: string[];
  /** Writes whose `WAIT 1` answered >= 1 on the same connection as the write. */
  waitConfirmedKeys: string[];
  /** WAIT answers that came back on a different connection than their write (not counted). */
  waitAnsweredAfterReconnect: number;
  /** Distinct error messages, in the order first seen (for diagnosis). */
  errorMessages: string[];
}

/** What a Sentinel-aware client needs to know of a cluster (LocalCluster or ContainerCluster). */
export type SentinelTarget = Pick<LocalCluster, "config" | "credentials"> & { sentinels: Array<{ port: number; address?: string }> } & Partial<Pick<LocalCluster, "clientTls">>;

export type TlsPem = { ca: string; cert: string; key: string };

/** TLS files as the PEM ioredis takes. */
export function tlsPem(files: ClientTlsFiles | undefined): TlsPem | undefined {
  return files ? { ca: fs.readFileSync(files.caCertFile, "utf8"), cert: fs.readFileSync(files.certFile, "utf8"), key: fs.readFileSync(files.keyFile, "utf8") } : undefined;
}

/** The app's TLS settings as PEM, when the cluster runs with TLS on. */
export function appTls(cluster: Partial<Pick<LocalCluster, "clientTls">>): TlsPem | undefined {
  return tlsPem(cluster.clientTls?.("app"));
}

export function sentinelClient(cluster: SentinelTarget): Redis {
  const tls = appTls(cluster);
  const client = new Redis(
    ioredisSentinelOptions({
      sentinels: cluster.sentinels.map((s) => ({ host: s.address ?? "127.0.0.1", port: s.port })),
      masterName: cluster.config.sentinel.masterName,
      username: ACL_USERS.app,
      password: cluster.credentials.app,
      sentinelUsername: SENTINEL_USERS.client.name,
      sentinelPassword: cluster.credentials.sentinelClients,
      ...(tls ? { tls } : {}),
    }),
  );
  // Connection errors during a failover are expected; the writer counts failed commands itself.
  client.on("error", () => undefined);
  return client;
}

/** A plain (not Sentinel-aware) client pinned to one node: how a stale client sees an old master. */
export function directClient(port: number, user: string, password: string, host = "127.0.0.1", tls?: TlsPem): Redis {
  const client = new Redis({ host, port, username: user, password, maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: () => 200, ...(tls ? { tls } : {}) });
  client.on("error", () => undefined);
  return client;
}

export interface WriterOptions {
  /** Writes in flight at once (ioredis pipelines concurrent commands on its connection). */
  concurrency?: number;
  pauseMs?: number;
  /** Follow each SET with WAIT <replicas> <timeoutMs> in the same pipeline. */
  wait?: { replicas: number; timeoutMs: number };
}

export class SteadyWriter {
  readonly stats: WriterStats = { acknowledged: 0, errors: 0, ackTimes: [], ackedKeys: [], waitConfirmedKeys: [], waitAnsweredAfterReconnect: 0, errorMessages: [] };
  private running = false;
  private loops: Promise<void>[] = [];
  private connectionEpoch = 0;
  private next = 0;

  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
    private readonly options: WriterOptions = {},
  ) {
    client.on("ready", () => this.connectionEpoch++);
  }

  start(): void {
    this.running = true;
    const concurrency = this.options.concurrency ?? 1;
    this.loops = Array.from({ length: concurrency }, () => this.loop());
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const key = `${this.prefix}:${this.next++}`;
      try {
        if (this.options.wait) await this.writeWithWait(key, this.options.wait);
        else {
          await this.client.set(key, "1");
          this.acknowledge(key);
        }
      } catch (error) {
        this.stats.errors++;
        const message = error instanceof Error ? error.message.slice(0, 120) : String(error);
        if (this.stats.errorMessages.length < 10 && !this.stats.errorMessages.includes(message)) this.stats.errorMessages.push(message);
      }
      // Always yield to the event loop: a client that rejects at once (connection closed) would
      // otherwise spin on microtasks and starve every timer, the drill's own deadlines included.
      const pause = this.options.pauseMs ?? 2;
      await new Promise((resolve) => (pause > 0 ? setTimeout(resolve, pause) : setImmediate(resolve)));
    }
  }

  private async writeWithWait(key: string, wait: { replicas: number; timeoutMs: number }): Promise<void> {
    const epochAtSend = this.connectionEpoch;
    const results = await this.client.pipeline().set(key, "1").wait(wait.replicas, wait.timeoutMs).exec();
    if (!results || results[0][0]) throw results?.[0][0] ?? new Error("no reply");
    this.acknowledge(key);
    const [waitError, replicasAcked] = results[1];
    if (waitError || typeof replicasAcked !== "number") return;
    // After a reconnect, ioredis re-sends a pending WAIT to the new master, where it returns at
    // once and proves nothing about the write: only count answers from the write's connection.
    if (this.connectionEpoch !== epochAtSend) {
      this.stats.waitAnsweredAfterReconnect++;
      return;
    }
    if (replicasAcked >= wait.replicas) this.stats.waitConfirmedKeys.push(key);
  }

  private acknowledge(key: string): void {
    this.stats.acknowledged++;
    this.stats.ackTimes.push(Date.now());
    this.stats.ackedKeys.push(key);
  }

  private stoppedAt?: number;

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.stoppedAt = Date.now();
  }

  /** The longest gap between acknowledgements after `from` (ms), silence until stop() included. */
  longestGapAfter(from: number): { gapMs: number; resumedAt: number } {
    let best = { gapMs: 0, resumedAt: from };
    let previous = this.stats.ackTimes.filter((t) => t <= from).pop() ?? from;
    for (const t of this.stats.ackTimes) {
      if (t <= from) continue;
      if (t - previous > best.gapMs) best = { gapMs: t - previous, resumedAt: t };
      previous = t;
    }
    const end = this.stoppedAt ?? Date.now();
    if (end - previous > best.gapMs) best = { gapMs: end - previous, resumedAt: Number.NaN };
    return best;
  }
}

/** Which of `keys` are missing on the node at `port` (checked in pipelined batches). */
export async function missingKeys(port: number, keys: string[], auth: { user: string; password: string; tls?: ClientTlsFiles }, host = "127.0.0.1"): Promise<string[]> {
  const client = directClient(port, auth.user, auth.password, host, tlsPem(auth.tls));
  try {
    const missing: string[] = [];
    for (let i = 0; i < keys.length; i += 2000) {
      const batch = keys.slice(i, i + 2000);
      const pipeline = client.pipeline();
      for (const key of batch) pipeline.exists(key);
      const results = (await pipeline.exec()) ?? [];
      batch.forEach((key, j) => {
        const [error, exists] = results[j] ?? [new Error("no reply"), 0];
        if (error || exists === 0) missing.push(key);
      });
    }
    return missing;
  } finally {
    client.disconnect();
  }
}

/** How many of `keys` are missing on the node at `port`. */
export async function countMissing(port: number, keys: string[], auth: { user: string; password: string; tls?: ClientTlsFiles }, host = "127.0.0.1"): Promise<number> {
  return (await missingKeys(port, keys, auth, host)).length;
}
