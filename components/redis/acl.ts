// ACL users: each client gets only what it needs, so a leaked app password cannot FLUSHALL,
// reconfigure, pause the cluster or steer Sentinel, and a leaked healthcheck password can only PING.

import { createHash } from "node:crypto";
import { PAUSE_PROBE_KEY } from "./pauseProbe";

export const ACL_USERS = {
  admin: "veza-admin",
  app: "veza-app",
  replication: "veza-replication",
  sentinel: "veza-sentinel",
  exporter: "veza-exporter",
  health: "veza-health",
  handoff: "veza-handoff",
  backup: "veza-backup",
} as const;

export type AclRole = keyof typeof ACL_USERS;
export const ACL_ROLES = Object.keys(ACL_USERS) as AclRole[];

/**
 * Passwords of the Sentinel users (components/sentinel/sentinelConf.ts): the client user the API
 * holds (its name predates the split), the peer user sentinels authenticate to each other with,
 * the failover user of the data nodes' scripts, and Sentinel's administrator.
 */
export const SENTINEL_CREDENTIAL_NAMES = ["sentinelClients", "sentinelPeer", "sentinelFailover", "sentinelAdmin"] as const;
export type SentinelCredentialName = (typeof SENTINEL_CREDENTIAL_NAMES)[number];

/** Plain-text passwords per data-node role and per Sentinel user. */
export type Credentials = Record<AclRole, string> & Record<SentinelCredentialName, string>;
export const CREDENTIAL_NAMES = [...ACL_ROLES, ...SENTINEL_CREDENTIAL_NAMES] as const;
export type CredentialName = (typeof CREDENTIAL_NAMES)[number];

/** The users the API connects with: the master through Sentinel (app) and Sentinel itself. */
export const API_CREDENTIALS: readonly CredentialName[] = ["app", "sentinelClients"];

/**
 * Sentinel's hello channels. A message published there names the master and its config epoch,
 * and every sentinel reading a newer epoch switches to the address it names: whoever may publish
 * here can move the master to their own server. Only the sentinel user may.
 */
export const SENTINEL_CHANNELS = "__sentinel__:*";
export const SENTINEL_HELLO_CHANNEL = "__sentinel__:hello";

/**
 * Command rules per user. Every user but the sentinel's starts with `resetchannels` (no Pub/Sub
 * channel at all), whatever the server's acl-pubsub-default.
 * - admin: every command and key; the operator's break-glass user (no container holds it).
 * - app: everything but @dangerous and @admin (FLUSHALL, FLUSHDB, KEYS, CONFIG, DEBUG, SHUTDOWN,
 *   REPLICAOF, CLIENT PAUSE/KILL...), given back INFO and ROLE, which Sentinel-aware clients
 *   (ioredis, go-redis) use to check they reached the master, and CLIENT SETNAME/GETNAME/ID.
 *   No Pub/Sub: the API declared here (components/api) publishes and subscribes to nothing on
 *   the data nodes. No script, function or memory administration (SCRIPT FLUSH/KILL, FUNCTION
 *   FLUSH/LOAD/DELETE/RESTORE/KILL, MEMORY PURGE), and no SCRIPT DEBUG: its SYNC mode stops the
 *   whole server while a debugger session waits, a freeze any app password could cause. EVAL/EVALSHA and SCRIPT LOAD stay: the API's
 *   rate limiter is outside this repository and such limiters run Lua (go-redis/redis_rate sends
 *   EVALSHA, then EVAL); the Lua CVEs are answered by the patched Redis, not by this list.
 * - replication: what a replica sends to its master (Redis docs, "ACL rules for replicas").
 * - sentinel: the set the Sentinel docs list for the user Sentinel monitors with, and the only
 *   user allowed on the hello channels. Its SLAVEOF is added per stack by `aclRules`, pinned to
 *   the declared data nodes' hosts.
 * - exporter: what redis_exporter sends with its CONFIG call off (REDIS_EXPORTER_CONFIG_COMMAND
 *   "-", v1.61+): CLIENT SETNAME, INFO, LATENCY LATEST/HISTOGRAM, SLOWLOG LEN/GET, CLUSTER INFO.
 *   No CONFIG GET (it returns masterauth) and no CLIENT PAUSE/KILL.
 * - health: PING and ROLE, so Docker's healthcheck can tell a replica in sync from one that is not.
 * - handoff: what a data node's own start and stop scripts need: ROLE of its peers at start; on
 *   SIGTERM, INFO replication (are the replicas caught up?) and CLIENT PAUSE/UNPAUSE. A stolen
 *   handoff password can pause writes and read INFO: no data, no reconfiguration. ACL rules cannot
 *   bound the pause's length; the data node's pause watchdog stops a node whose writes stay held
 *   (dataNodeScripts.ts), and reads the one key it may read (PFCOUNT) to tell.
 * - backup: what `redis-cli --rdb` sends to read one snapshot from a replica (REPLCONF rdb-only,
 *   SYNC), and ROLE and INFO to pick a replica and never the master. A stolen backup password reads
 *   the whole dataset, as the replication one does; it cannot write, reconfigure or pause.
 */
export const ACL_RULES: Record<AclRole, string> = {
  admin: "~* resetchannels +@all",
  app: "~* resetchannels +@all -@dangerous -@admin -@pubsub -script|flush -script|kill -script|debug -function|flush -function|load -function|delete -function|restore -function|kill -memory|purge +info +role +client|setname +client|getname +client|id",
  replication: "resetchannels +psync +replconf +ping",
  sentinel: `resetchannels &${SENTINEL_CHANNELS} +multi +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill`,
  exporter: "resetchannels -@all +ping +info +client|setname +latency|latest +latency|histogram +slowlog|get +slowlog|len +cluster|info",
  health: "resetchannels -@all +ping +role",
  handoff: `resetchannels %R~${PAUSE_PROBE_KEY} -@all +ping +role +info +client|pause +client|unpause +pfcount`,
  backup: "resetchannels -@all +ping +role +info +replconf +sync",
};

/**
 * SLAVEOF for the sentinel user, allowed only toward a declared data node's host, or NO ONE. A
 * stolen sentinel password, or sentinels moved by a forged hello, then cannot make a data node
 * follow a server on another host: the node answers NOPERM, and inside Sentinel's MULTI the whole
 * reconfiguration is refused (EXECABORT). Redis 7.0's first-argument rule (`+slaveof|<host>`;
 * the ACL docs call it deprecated, kept for compatibility) compares the host string, without
 * case, with what Sentinel sends: the announced hostname (announce-hostnames) or the IP it
 * resolved, both the declared address. Names are compared, not what answers: another port on a
 * declared host passes (it needs a process there), a DNS name is as safe as its DNS, and
 * `SLAVEOF no <port>` names a host called "no" (the rule Sentinel's `SLAVEOF NO ONE` needs).
 */
export function slaveofRules(declaredDataHosts: readonly string[]): string {
  if (declaredDataHosts.length === 0) throw new Error("slaveofRules: no declared data node host to pin SLAVEOF to");
  // IPv6 is refused like the config schema does: inet_ntop's form of it is not the one written.
  for (const host of declaredDataHosts) {
    if (!/^[^\s|#:]+$/.test(host)) throw new Error(`slaveofRules: data node host ${JSON.stringify(host)} cannot be an ACL argument (no space, |, # or IPv6 colon)`);
  }
  return ["no", ...new Set(declaredDataHosts)].map((host) => `+slaveof|${host}`).join(" ");
}

/** The rules each data-node user loads in this stack: ACL_RULES, the sentinel user's SLAVEOF pinned to `declaredDataHosts`. */
export function aclRules(declaredDataHosts: readonly string[]): Record<AclRole, string> {
  return { ...ACL_RULES, sentinel: `${ACL_RULES.sentinel} ${slaveofRules(declaredDataHosts)}` };
}

export function sha256Hex(password: string): string {
  return createHash("sha256").update(password, "utf8").digest("hex");
}

/**
 * A `user` line with SHA-256 hashed passwords: an ACL never holds a plain-text password. Several
 * passwords while a rotation is under way (components/redis/rotation.ts): any of them logs in.
 */
export function renderAclUser(name: string, passwords: string | readonly string[], rules: string): string {
  const hashes = (typeof passwords === "string" ? [passwords] : passwords).map((p) => `#${sha256Hex(p)}`);
  return `user ${name} on ${hashes.join(" ")} ${rules}`;
}

/** The passwords each user's ACL accepts: all of them during a rotation, one otherwise. */
export type AcceptedPasswords = Record<CredentialName, readonly string[]>;

export function renderAclUsers(accepted: AcceptedPasswords, declaredDataHosts: readonly string[]): string[] {
  const rules = aclRules(declaredDataHosts);
  return ["# The default user is off: every client must name its least-privilege user.", "user default off", ...ACL_ROLES.map((role) => renderAclUser(ACL_USERS[role], accepted[role], rules[role]))];
}

/**
 * Sentinel's users. The `default` user is off (a `requirepass` would leave it `+@all`: SENTINEL
 * SET, ACL SETUSER, SIMULATE-FAILURE for anyone holding the clients' password). Each user's
 * password is the credential named here.
 */
export const SENTINEL_USERS = {
  client: { name: "veza-sentinel-client", credential: "sentinelClients" },
  peer: { name: "veza-sentinel-peer", credential: "sentinelPeer" },
  failover: { name: "veza-failover", credential: "sentinelFailover" },
  admin: { name: "veza-sentinel-admin", credential: "sentinelAdmin" },
  exporter: { name: ACL_USERS.exporter, credential: "exporter" },
  health: { name: ACL_USERS.health, credential: "health" },
} as const satisfies Record<string, { name: string; credential: CredentialName }>;

export type SentinelRole = keyof typeof SENTINEL_USERS;
export const SENTINEL_ROLES = Object.keys(SENTINEL_USERS) as SentinelRole[];
