// redis.conf for one data node: a pure function of typed settings. The main file carries no
// secret (policies and reviewers read it in plain text); credentials live in an included file.

import { confDirective } from "../base/confDirective";
import { ACL_USERS, renderAclUsers, type Credentials } from "./acl";
import { asCredentialState, type CredentialState } from "./rotation";
import type { Sizing } from "./sizing";
import type { EvictionPolicy } from "./evictionPolicies";
import type { ProcessLocation } from "../base/endpoints";
import { CONTAINER_CONFIG_DIR } from "../base/shell";
import { HANDOFF_TIMING } from "./dataNodeScripts";
import { tlsListenDirectives } from "../tls/certificates";

export const CONTAINER_DATA_DIR = "/data";
/**
 * The declared files are uploaded outside the data volume: an upload into the volume would
 * overwrite, on every replacement, the copy Sentinel rewrote (replicaof). The start script
 * writes the runtime copy into the data dir from this one (dataNodeScripts.ts).
 */
export const REDIS_CONF_PATH = `${CONTAINER_CONFIG_DIR}/redis.conf`;
export const REDIS_SECRETS_PATH = `${CONTAINER_CONFIG_DIR}/redis-secrets.conf`;

export interface RedisNodeSettings extends ProcessLocation {
  sizing: Sizing;
  evictionPolicy: EvictionPolicy;
  aofRewritePercentage: number;
  rdbSnapshots: boolean;
  tcpBacklog: number;
  maxClients: number;
  minReplicasToWrite: number;
  minReplicasMaxLagSeconds: number;
  /** Set for nodes that start as replicas. */
  replicaOf?: { address: string; port: number };
  replicaPriority: number;
}

export function renderRedisConf(s: RedisNodeSettings): string {
  const lines = [
    "# Rendered by veza-redis (components/redis/redisConf.ts). Do not edit by hand.",
    "",
    "# --- Network: one interface, never all of them ---",
    confDirective("bind", s.bindAddress),
    ...(s.tls ? tlsListenDirectives(s.port, s.tls) : [`port ${s.port}`]),
    "protected-mode yes",
    `tcp-backlog ${s.tcpBacklog}`,
    "# Dead peers are noticed in about a minute instead of holding connections forever.",
    "tcp-keepalive 60",
    `maxclients ${s.maxClients}`,
    confDirective("replica-announce-ip", s.announceAddress),
    `replica-announce-port ${s.announcePort}`,
    "",
    "# --- Memory: the runbook's OOM kill (maxmemory reached, no eviction, fork doubled RSS) ---",
    `# maxmemory = ${s.sizing.memoryLimitBytes} B limit - ${s.sizing.forkHeadroomBytes} B fork headroom (components/redis/sizing.ts)`,
    `maxmemory ${s.sizing.maxmemoryBytes}`,
    `maxmemory-policy ${s.evictionPolicy}`,
    "# Evict and free in a background thread so eviction never stalls the event loop.",
    "lazyfree-lazy-eviction yes",
    "# Replica buffers are not counted by maxmemory: cap them inside the reserve left after a fork.",
    `client-output-buffer-limit replica ${s.sizing.replicaOutputBufferHardBytes} ${s.sizing.replicaOutputBufferSoftBytes} 60`,
    "# Under memory pressure the kernel should kill the background save child (a failed BGSAVE,",
    "# an alert), not the server (an outage): child +800, replica +200, master +0.",
    "oom-score-adj relative",
    "oom-score-adj-values 0 200 800",
    "",
    "# --- Persistence: AOF with automatic rewrite keeps the disk bounded ---",
    confDirective("dir", s.dataDir),
    "appendonly yes",
    "appendfsync everysec",
    "aof-use-rdb-preamble yes",
    `auto-aof-rewrite-percentage ${s.aofRewritePercentage}`,
    `auto-aof-rewrite-min-size ${s.sizing.aofRewriteMinSizeBytes}`,
    ...(s.rdbSnapshots
      ? ["save 3600 1 300 100 60 10000"]
      : [
          "# No RDB save points: AOF already persists every write. Measured on a full disk: once space",
          '# was freed, writes resumed on the next command with save "", but a failed BGSAVE kept MISCONF',
          "# errors going for 6 s with `save 10 1` and over 30 s with the default save points.",
          'save ""',
        ]),
    "# A failed BGSAVE refuses writes loudly rather than acknowledging what it cannot persist.",
    "stop-writes-on-bgsave-error yes",
    "",
    "# A stopping master waits this long for lagging replicas before it exits (the stop grace covers it).",
    "shutdown-on-sigterm default",
    "# SIGINT comes only from the entry script, after a handoff's catch-up proved every replica holds",
    "# every write (writes still paused): waiting for their once-a-second ACK again would add up to a",
    "# second of write outage (while paused, Redis does not ask them with REPLCONF GETACK).",
    "shutdown-on-sigint now",
    `shutdown-timeout ${HANDOFF_TIMING.redisShutdownSeconds}`,
    "",
    "# --- Replication and Sentinel ---",
    ...(s.replicaOf ? [confDirective("replicaof", s.replicaOf.address, s.replicaOf.port)] : []),
    "replica-read-only yes",
    `replica-priority ${s.replicaPriority}`,
    "# An isolated master stops accepting writes once no replica has acknowledged for the lag:",
    "# that bounds the writes lost when Sentinel promotes a replica behind its back.",
    `min-replicas-to-write ${s.minReplicasToWrite}`,
    `min-replicas-max-lag ${s.minReplicasMaxLagSeconds}`,
    "# A full resync starts at once: a just-promoted master with min-replicas-to-write refuses every",
    "# write until a replica is online, and the default 5 s wait for more replicas to join the same",
    "# transfer added those 5 s to the failover's write outage.",
    "repl-diskless-sync-delay 0",
    "",
    "# --- Observability ---",
    "latency-monitor-threshold 100",
    "slowlog-log-slower-than 10000",
    "",
    "# ACL users and the replication credentials (a secret file, uploaded separately).",
    confDirective("include", s.secretsPath),
    "",
  ];
  return lines.join("\n");
}

/**
 * The secret half: ACL users (hashed; both passwords during a rotation; the sentinel user's
 * SLAVEOF pinned to `declaredDataHosts`) and what this node uses to authenticate to its master
 * (the password replicas use at this step).
 */
export function renderRedisSecretsConf(credentials: Credentials | CredentialState, declaredDataHosts: readonly string[]): string {
  const state = asCredentialState(credentials);
  return [
    "# Rendered by veza-redis. SECRET: holds the replication password in plain text (masterauth).",
    ...renderAclUsers(state.accepted, declaredDataHosts),
    `masteruser ${ACL_USERS.replication}`,
    confDirective("masterauth", state.used.replication),
    "",
  ].join("\n");
}

/** Parses `key value` lines of a redis.conf-style file; used by policies and tests. */
export function parseConfDirectives(text: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const space = line.indexOf(" ");
    const key = (space < 0 ? line : line.slice(0, space)).toLowerCase();
    const value = space < 0 ? "" : line.slice(space + 1).trim();
    directives.set(key, [...(directives.get(key) ?? []), value]);
  }
  return directives;
}
