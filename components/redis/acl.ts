// ACL users: each client gets only what it needs, so a leaked app password cannot FLUSHALL,
// reconfigure or shut Redis down, and a leaked healthcheck password can only PING.

import { createHash } from "node:crypto";

export const ACL_USERS = {
  admin: "veza-admin",
  app: "veza-app",
  replication: "veza-replication",
  sentinel: "veza-sentinel",
  exporter: "veza-exporter",
  health: "veza-health",
  handoff: "veza-handoff",
} as const;

export type AclRole = keyof typeof ACL_USERS;
export const ACL_ROLES = Object.keys(ACL_USERS) as AclRole[];

/** Plain-text passwords per role, plus the password clients give Sentinel. */
export type Credentials = Record<AclRole, string> & { sentinelClients: string };
export const CREDENTIAL_NAMES = [...ACL_ROLES, "sentinelClients"] as const;
export type CredentialName = (typeof CREDENTIAL_NAMES)[number];

/**
 * Command rules per user.
 * - app: everything but @dangerous and @admin (FLUSHALL, FLUSHDB, KEYS, CONFIG, DEBUG, SHUTDOWN,
 *   REPLICAOF...), given back INFO and ROLE, which Sentinel-aware clients (ioredis, go-redis) use
 *   to check they reached the master.
 * - replication: what a replica sends to its master (Redis docs, "ACL rules for replicas").
 * - sentinel: the set the Sentinel docs list for the user Sentinel monitors with.
 * - exporter: what redis_exporter reads (its README), no data commands beyond sizes.
 * - health: PING and ROLE, so Docker's healthcheck can tell a replica in sync from one that is not.
 * - handoff: what a data node's own start and stop scripts need: ROLE of its peers at start; on
 *   SIGTERM, INFO replication (are the replicas caught up?) and CLIENT PAUSE/UNPAUSE. A stolen
 *   handoff password can pause writes (at most the pause length) and read INFO: no data, no
 *   reconfiguration.
 */
export const ACL_RULES: Record<AclRole, string> = {
  admin: "~* &* +@all",
  app: "~* &* +@all -@dangerous -@admin +info +role +client|setname +client|getname +client|id",
  replication: "+psync +replconf +ping",
  sentinel: "allchannels +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill",
  exporter: "-@all +@connection +info +ping +config|get +client|list +slowlog|get +slowlog|len +latency|latest +latency|histogram +memory|stats +select +cluster|info -hello",
  health: "-@all +ping +role",
  handoff: "-@all +ping +role +info +client|pause +client|unpause",
};

export function sha256Hex(password: string): string {
  return createHash("sha256").update(password, "utf8").digest("hex");
}

/** `user` lines with SHA-256 hashed passwords: the ACL never holds a plain-text password. */
export function renderAclUsers(credentials: Credentials): string[] {
  return [
    "# The default user is off: every client must name its least-privilege user.",
    "user default off",
    ...ACL_ROLES.map((role) => `user ${ACL_USERS[role]} on #${sha256Hex(credentials[role])} ${ACL_RULES[role]}`),
  ];
}
