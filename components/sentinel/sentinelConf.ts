// sentinel.conf for one sentinel: a pure function of typed settings. As with redis.conf, the
// main file is plain (reviewable, read by policies); passwords live in an included file.

import { confDirective } from "../base/confDirective";
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { ACL_USERS, renderAclUser, SENTINEL_HELLO_CHANNEL, SENTINEL_ROLES, SENTINEL_USERS, type Credentials, type SentinelRole } from "../redis/acl";
import type { ProcessLocation } from "../base/endpoints";
import { asCredentialState, type CredentialState } from "../redis/rotation";
import { CONTAINER_CONFIG_DIR } from "../base/shell";
import { tlsListenDirectives } from "../tls/certificates";

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
    confDirective("bind", s.bindAddress),
    ...(s.tls ? tlsListenDirectives(s.port, s.tls) : [`port ${s.port}`]),
    confDirective("dir", s.dataDir),
    `sentinel myid ${s.myId}`,
    confDirective("sentinel", "announce-ip", s.announceAddress),
    `sentinel announce-port ${s.announcePort}`,
    `sentinel resolve-hostnames ${s.useHostnames ? "yes" : "no"}`,
    `sentinel announce-hostnames ${s.useHostnames ? "yes" : "no"}`,
    confDirective("sentinel", "monitor", m, s.masterAddress, s.masterPort, s.quorum),
    `sentinel down-after-milliseconds ${m} ${s.downAfterMilliseconds}`,
    `sentinel failover-timeout ${m} ${s.failoverTimeoutMilliseconds}`,
    `sentinel parallel-syncs ${m} ${s.parallelSyncs}`,
    confDirective("include", s.secretsPath),
    "",
  ].join("\n");
}

/** What the client user may look up: the master and the sentinel lists (ioredis, go-redis). */
const LOOKUPS = "+sentinel|get-master-addr-by-name +sentinel|masters +sentinel|master +sentinel|replicas +sentinel|slaves +sentinel|sentinels";

/**
 * - client (the API, the drills' writer, the sentinels' own start script): the lookups, PING and
 *   the failover events. ioredis sends AUTH, SENTINEL GET-MASTER-ADDR-BY-NAME and SENTINEL
 *   SENTINELS (and SUBSCRIBE +switch-master with failoverDetector); go-redis subscribes to
 *   +switch-master and +replica-reconf-done in one SUBSCRIBE, refused whole if either is denied.
 * - peer (`sentinel sentinel-user`): what a sentinel sends its peers, found by running 7.0.15
 *   with an empty ACL log through a failover: CLIENT SETNAME, PING, PUBLISH of its hello on
 *   __sentinel__:hello, SENTINEL IS-MASTER-DOWN-BY-ADDR (the down votes and the leader election).
 * - failover (the data nodes' start and stop scripts): which master the sentinels name, whether a
 *   failover is under way (SENTINEL MASTER flags), and SENTINEL FAILOVER for the handoff.
 * - admin: everything (SENTINEL SET/RESET/FAILOVER, ACL); the operator's and the drills' user.
 * - exporter: redis_exporter's Sentinel metrics (SENTINEL MASTERS, CKQUORUM, SENTINELS, SLAVES).
 * - health: PING and whether a failover could be authorized.
 */
export const SENTINEL_ACL_RULES: Record<SentinelRole, string> = {
  client: `resetchannels &+switch-master &+replica-reconf-done -@all +ping ${LOOKUPS} +subscribe +unsubscribe`,
  peer: `resetchannels &${SENTINEL_HELLO_CHANNEL} -@all +ping +client|setname +publish +sentinel|is-master-down-by-addr`,
  failover: "resetchannels -@all +ping +sentinel|get-master-addr-by-name +sentinel|master +sentinel|failover",
  admin: "~* &* +@all",
  exporter: "resetchannels -@all +ping +info +client|setname +sentinel|masters +sentinel|master +sentinel|sentinels +sentinel|replicas +sentinel|slaves +sentinel|ckquorum",
  health: "resetchannels -@all +ping +sentinel|ckquorum",
};

/**
 * The secret half: how this sentinel authenticates to Redis (a dedicated ACL user) and to its
 * peers (the peer user), and its own users (hashed), the `default` user off.
 */
export function renderSentinelSecretsConf(masterName: string, credentials: Credentials | CredentialState): string {
  const state = asCredentialState(credentials);
  return [
    "# Rendered by veza-redis. SECRET: plain-text passwords (auth-pass, sentinel-pass).",
    confDirective("sentinel", "auth-user", masterName, ACL_USERS.sentinel),
    confDirective("sentinel", "auth-pass", masterName, state.used.sentinel),
    `sentinel sentinel-user ${SENTINEL_USERS.peer.name}`,
    confDirective("sentinel", "sentinel-pass", state.used.sentinelPeer),
    "user default off",
    ...SENTINEL_ROLES.map((role) => renderAclUser(SENTINEL_USERS[role].name, state.accepted[SENTINEL_USERS[role].credential], SENTINEL_ACL_RULES[role])),
    "",
  ].join("\n");
}
