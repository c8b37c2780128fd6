// sentinel.conf for one sentinel: a pure function of typed settings. As with redis.conf, the
// main file is plain (reviewable, read by policies); passwords live in an included file.

import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { ACL_USERS, sha256Hex, type Credentials } from "../redis/acl";
import type { ProcessLocation } from "../topology/placement";
import { CONTAINER_CONFIG_DIR } from "../topology/shell";

/** Declared files outside /data; the start script writes the runtime copy Sentinel rewrites (sentinelScripts.ts). */
export const SENTINEL_CONF_PATH = `${CONTAINER_CONFIG_DIR}/sentinel.conf`;
export const SENTINEL_SECRETS_PATH = `${CONTAINER_CONFIG_DIR}/sentinel-secrets.conf`;

/** announceAddress/Port go to the other sentinels and to clients (Redis docs, "Sentinel, Docker, NAT"). */
export interface SentinelSettings extends ProcessLocation {
  masterName: string;
  masterAddress: string;
  masterPort: number;
  quorum: number;
  downAfterMilliseconds: number;
  failoverTimeoutMilliseconds: number;
  parallelSyncs: number;
  /** True when any address is a DNS name: Sentinel must resolve and announce hostnames. */
  useHostnames: boolean;
  /** Fixed per sentinel (sentinelMyId), so a replaced sentinel is the same peer to the others. */
  myId: string;
}

/** 40 hex characters, stable for a sentinel's name and the master it watches. */
export function sentinelMyId(masterName: string, sentinelName: string): string {
  return createHash("sha1").update(`veza-redis/${masterName}/${sentinelName}`).digest("hex");
}

export function usesHostnames(addresses: string[]): boolean {
  return addresses.some((address) => isIP(address) === 0);
}

export function renderSentinelConf(s: SentinelSettings): string {
  const m = s.masterName;
  return [
    "# Rendered by veza-redis (components/sentinel/sentinelConf.ts). Sentinel rewrites this file",
    "# with what it learns (replicas, peers, epochs); the declared settings are the starting point.",
    `bind ${s.bindAddress}`,
    `port ${s.port}`,
    `dir ${s.dataDir}`,
    `sentinel myid ${s.myId}`,
    `sentinel announce-ip ${s.announceAddress}`,
    `sentinel announce-port ${s.announcePort}`,
    `sentinel resolve-hostnames ${s.useHostnames ? "yes" : "no"}`,
    `sentinel announce-hostnames ${s.useHostnames ? "yes" : "no"}`,
    `sentinel monitor ${m} ${s.masterAddress} ${s.masterPort} ${s.quorum}`,
    `sentinel down-after-milliseconds ${m} ${s.downAfterMilliseconds}`,
    `sentinel failover-timeout ${m} ${s.failoverTimeoutMilliseconds}`,
    `sentinel parallel-syncs ${m} ${s.parallelSyncs}`,
    `include ${s.secretsPath}`,
    "",
  ].join("\n");
}

/** Least-privilege Sentinel users: the exporter reads state, the healthcheck can PING and ask whether a failover could be authorized. */
export const SENTINEL_ACL_RULES = {
  exporter: "-@all +ping +info +client|list +sentinel|masters +sentinel|master +sentinel|sentinels +sentinel|replicas +sentinel|slaves",
  health: "-@all +ping +sentinel|ckquorum",
} as const;

/**
 * The secret half: how this sentinel authenticates to Redis (a dedicated ACL user), the password
 * clients and peer sentinels must give it (requirepass is also what Sentinel uses to
 * authenticate to its peers), and the exporter and healthcheck users (hashed).
 */
export function renderSentinelSecretsConf(masterName: string, credentials: Credentials): string {
  return [
    "# Rendered by veza-redis. SECRET: plain-text passwords.",
    `sentinel auth-user ${masterName} ${ACL_USERS.sentinel}`,
    `sentinel auth-pass ${masterName} ${credentials.sentinel}`,
    `requirepass ${credentials.sentinelClients}`,
    `user ${ACL_USERS.exporter} on #${sha256Hex(credentials.exporter)} ${SENTINEL_ACL_RULES.exporter}`,
    `user ${ACL_USERS.health} on #${sha256Hex(credentials.health)} ${SENTINEL_ACL_RULES.health}`,
    "",
  ].join("\n");
}
