// The Sentinel-aware client settings the API should use (docs/day-two.md, "Client settings for the API",
// maps them to go-redis FailoverOptions). The client's own backoff counts toward
// the outage: measured with ioredis defaults, writes resumed 0.8-1.7 s after Sentinel had already
// named the new master. These settings are what the failover test and the drills measure with.

import type { RedisOptions } from "ioredis";

export const CLIENT_TIMINGS = {
  /** Give up on a dead master's TCP connect quickly instead of the OS's minutes. */
  connectTimeoutMs: 1000,
  /**
   * Reconnect backoff: 50 ms growing to at most 100 ms (ioredis default grows to 2 s). A handoff
   * disconnects clients before the promotion; each retry after it costs up to this cap. Measured in
   * the rolling-image-upgrade drill: handoff write gaps 1.33-1.62 s (median 1.57) at 250 ms,
   * 1.38-1.47 s at 100 ms. Each retry asks one sentinel: at most 10 lookups a second per client
   * while Redis is unreachable.
   */
  retryStepMs: 50,
  retryMaxMs: 100,
  /** How a request is retried across reconnects before it fails to the caller. */
  maxRetriesPerRequest: 20,
  /** A command that gets no answer fails instead of hanging the request (ioredis has no default). */
  commandTimeoutMs: 2000,
  /** A connection that sends nothing back for this long while commands wait is dropped. */
  socketTimeoutMs: 2000,
  /**
   * A sentinel lookup that gets no answer moves on to the next sentinel. A hung sentinel (stopped
   * process, frozen host) still completes the TCP handshake in the kernel, so connectTimeout never
   * fires; ioredis has no default here. Without it, the quorum-lost drill's client stayed on a hung
   * sentinel and wrote again only once that sentinel resumed (30 s); with it, ~1 s per hung one.
   */
  sentinelCommandTimeoutMs: 1000,
};

export interface IoredisSentinelInput {
  sentinels: { host: string; port: number }[];
  masterName: string;
  username: string;
  password: string;
  /** Sentinel's client user (lookups and +switch-master only), never its administrator. */
  sentinelUsername: string;
  sentinelPassword: string;
  /** With TLS on: the CA bundle and the app's client certificate, as PEM (the same for the sentinels and the master). */
  tls?: { ca: string; cert: string; key: string };
}

/** ioredis options for the API (Node) and for our own drills. */
export function ioredisSentinelOptions(input: IoredisSentinelInput): RedisOptions {
  return {
    sentinels: input.sentinels,
    name: input.masterName,
    username: input.username,
    password: input.password,
    sentinelUsername: input.sentinelUsername,
    sentinelPassword: input.sentinelPassword,
    role: "master",
    connectTimeout: CLIENT_TIMINGS.connectTimeoutMs,
    retryStrategy: (attempt: number) => Math.min(attempt * CLIENT_TIMINGS.retryStepMs, CLIENT_TIMINGS.retryMaxMs),
    sentinelRetryStrategy: (attempt: number) => Math.min(attempt * CLIENT_TIMINGS.retryStepMs, CLIENT_TIMINGS.retryMaxMs),
    maxRetriesPerRequest: CLIENT_TIMINGS.maxRetriesPerRequest,
    commandTimeout: CLIENT_TIMINGS.commandTimeoutMs,
    sentinelCommandTimeout: CLIENT_TIMINGS.sentinelCommandTimeoutMs,
    // No failoverDetector: in ioredis 5.11 its +switch-master handler can land while the client is
    // asking a sentinel for the master, which ends the client for good (status "end", every command
    // "Connection is closed"); measured 3 times in ~60 failovers. A hung master is left instead by
    // socketTimeout: no byte for that long with commands pending destroys the socket, and the
    // client asks the sentinels again.
    failoverDetector: false,
    socketTimeout: CLIENT_TIMINGS.socketTimeoutMs,
    // A demoted master answers writes with READONLY: reconnect (through Sentinel) and resend.
    reconnectOnError: (error: Error) => (error.message.startsWith("READONLY") ? 2 : false),
    enableAutoPipelining: false,
    // TLS to the master and to the sentinels: ioredis dials the sentinels with sentinelTLS only
    // when enableTLSForSentinelMode is set, and checks the announced address against the SANs.
    ...(input.tls ? { tls: input.tls, sentinelTLS: input.tls, enableTLSForSentinelMode: true } : {}),
  };
}
