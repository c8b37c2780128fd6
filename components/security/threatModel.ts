// The threat model: every credential and network position, assumed in an attacker's hands. What
// the holder can do is the ACL rules themselves (acl.ts, sentinelConf.ts), rendered, so the table
// cannot drift from what the servers enforce; the alerts it names must exist in the rendered rules
// (a test holds both). The rest is written here, per credential, and the type makes it complete.
import { ACL_ROLES, aclRules, ACL_USERS, CREDENTIAL_NAMES, type CredentialName, SENTINEL_ROLES, SENTINEL_USERS } from "../redis/acl";
import { SENTINEL_ACL_RULES } from "../sentinel/sentinelConf";
import { describeGatePermissions } from "../monitoring/alertmanagerGate";

export const THREAT_MODEL_FILE = "docs/threat-model.md";

export interface Threat {
  /** Who holds it: the containers its password is given to, or the operator alone. */
  holders: string;
  /** What the servers refuse it, beyond "everything its rules do not allow". */
  refused: string;
  /** The alerts that fire when it is used against the stack (names of rendered alerts). */
  detectedBy: string[];
  /** How else it shows, when no alert can tell its use from the normal one. */
  detection?: string;
  /** What stays possible, and why: the residual risk, plainly. */
  remains: string;
}

export const CREDENTIAL_THREATS: Record<CredentialName, Threat> = {
  admin: {
    holders: "the operator only (Pulumi secret config and state); no container",
    refused: "nothing",
    detectedBy: ["RedisUndeclaredMaster", "RedisUndeclaredReplica"],
    remains: "Everything on every data node: it is the break-glass user. Keep it out of every machine that runs the stack; rotate it after any incident.",
  },
  app: {
    holders: "the API",
    refused: "@dangerous and @admin (FLUSHALL, CONFIG, DEBUG, SHUTDOWN, REPLICAOF, CLIENT PAUSE/KILL), Pub/Sub, SCRIPT FLUSH/KILL/DEBUG, FUNCTION administration, MEMORY PURGE",
    detectedBy: [],
    detection: "none specific: it is the application's own access; a destroyed dataset shows in the API's SLOs",
    remains:
      "Read, write and delete every key: the data is the application's. EVAL stays (the API's rate limiter runs Lua): a script that loops stalls its node until Sentinel's SCRIPT KILL, and one that wrote first cannot be killed, so the node is frozen until it restarts and Sentinel fails over after down-after.",
  },
  replication: {
    holders: "every data node (masterauth)",
    refused: "every command but PSYNC, REPLCONF and PING",
    detectedBy: ["RedisUndeclaredReplica", "RedisReplicasAboveDeclared"],
    remains:
      "Attaching a server as a replica: it receives the whole dataset and every write until the credential's retire ends its session. A planned handoff refuses while it is attached, but an unplanned failover (a crashed master) may promote it if it asks for a better replica-priority; RedisUndeclaredMaster then pages. With the data hosts' firewall (firewall.enabled: the production example), a server anywhere but a declared host cannot reach a node's port, so it never attaches and is never promoted; what remains is a server on a declared host or a client source.",
  },
  sentinel: {
    holders: "every sentinel (auth-pass)",
    refused: "data commands, CONFIG GET/SET, ACL, FLUSHALL, REPLICAOF, and SLAVEOF toward any host name but a declared data node's (NOPERM; inside Sentinel's MULTI the whole reconfiguration fails)",
    detectedBy: ["RedisReplicationCommandRefused", "RedisUndeclaredMaster", "RedisSentinelUnknownPeer"],
    remains:
      "SLAVEOF toward a declared data node's host name, on any port: the node's data is replaced by what answers there. The pin compares names: a server on another port of a declared host needs a process there (on one host, the dev stack, any local one; in prod, the API shares a data host), a DNS name is as safe as its DNS, and SLAVEOF no <port> names a host called \"no\" (the rule that lets Sentinel send SLAVEOF NO ONE), followed only if the host's resolver answers for it. A replica moved that way is undone by the entry script's watchdog within a second or two; the master's move is detected only. The data hosts' firewall limits who reaches the nodes, not where they connect: a move toward an outside server still links to it (a host firewall limiting the redis user's connections needs a dedicated uid in the image: docs/security.md). SLAVEOF of the master toward a declared replica: the master takes the replica's data (writes not yet replicated are lost) and Sentinel fails over. A forged Sentinel hello on the data nodes' channel: as the sentinelPeer row.",
  },
  backup: {
    holders: "the backup job (components/backup), on the backup host: the monitoring host in prod",
    refused: "writes, CONFIG, ACL, CLIENT PAUSE/KILL, REPLICAOF, Pub/Sub: every command but PING, ROLE, INFO, REPLCONF and SYNC",
    detectedBy: ["RedisUndeclaredReplica", "RedisReplicasAboveDeclared"],
    detection:
      "a reader attached to a master pages: under an undeclared address (RedisUndeclaredReplica), or under a declared one as a replica more than declared (RedisReplicasAboveDeclared); on a replica, only the backup host's address with no listening port is excused (the job's own reads, which never touch the master)",
    remains:
      "What the replication credential allows, since SYNC and REPLCONF are what a replica sends: reading the whole dataset (sessions, refresh tokens, revocations); forking the master at will (SYNC); attaching as a replica under any announced address, a declared data node's included, where its acknowledgements count for min-replicas-to-write and WAIT, so an isolated master may go on acknowledging writes a failover then loses. ACL rules cannot restrict REPLCONF's options. With the data hosts' firewall, only the declared hosts and the client sources reach the nodes' port, so this holds from those machines alone: the monitoring host (where the backup job runs), a data host, or the API's.",
  },

  exporter: {
    holders: "the redis_exporter containers",
    refused: "CONFIG GET (it returns masterauth), data commands, CLIENT PAUSE/KILL",
    detectedBy: [],
    detection: "none: its commands are the exporter's own",
    remains: "Reading INFO, SLOWLOG and the sentinels' view: the topology, memory and client counts, and the slow commands' arguments (which may hold key names).",
  },
  health: {
    holders: "every data node and sentinel (their healthchecks)",
    refused: "everything but PING, ROLE and SENTINEL CKQUORUM",
    detectedBy: [],
    detection: "none: its commands are the healthchecks' own",
    remains: "Learning the roles and the quorum state: reconnaissance only.",
  },
  handoff: {
    holders: "every data node (its start and stop scripts)",
    refused: "data commands (it may only PFCOUNT the pause probe key), CONFIG, REPLICAOF, CLIENT KILL",
    detectedBy: ["RedisFailoverHappened"],
    detection: "a paused master holds back the sentinels' hello PUBLISH and the PINGs behind it, so Sentinel fails it over after down-after; the entry script logs what its pause watchdog did",
    remains:
      "A pause of any length: ACL rules cannot bound CLIENT PAUSE's argument. Contained, not refused: Sentinel fails a paused master over (4.2-6.3 s in 5 security drills), and the entry script's pause watchdog acts on writes held 10 s outside its own handoff: CLIENT UNPAUSE ends a WRITE pause (the node then follows the new master within 25.6 s); a pause of ALL commands holds back the UNPAUSE too (Redis 7.0), so a master is stopped and restarted as a replica (within 17.9 s). A paused replica is left running (a restart would cost a full resync). Each such pause is a failover; repeated ones page as RedisMasterFlapping.",
  },

  sentinelClients: {
    holders: "the API, and every sentinel's start script",
    refused: "SENTINEL SET, RESET, FAILOVER, REMOVE, CONFIG SET, SIMULATE-FAILURE, ACL",
    detectedBy: [],
    detection: "none: its lookups are every client's",
    remains: "Learning the master's address and the failover events.",
  },
  sentinelPeer: {
    holders: "every sentinel (sentinel-pass)",
    refused: "everything but PING, CLIENT SETNAME, PUBLISH on __sentinel__:hello and SENTINEL IS-MASTER-DOWN-BY-ADDR",
    detectedBy: ["RedisUndeclaredMaster", "RedisSentinelUnknownPeer"],
    detection:
      "RedisSentinelUnknownPeer (after 5 minutes): a forged hello's made-up sender is a sentinel nobody declared, whatever master the hello names, and it stays known (kept across the guard's restart) until SENTINEL RESET. A hello that reuses a declared peer's runid and address adds no peer (the myids are derived from public names): then only RedisUndeclaredMaster, when a scrape lands in the second or two before the guard acts",
    remains:
      "A forged hello (the hello carries no signature beyond this password) moves every sentinel to any address with a higher config epoch. Contained, not prevented: each sentinel's master guard stops it when it names an undeclared master, and the restart follows the declared node that reports ROLE master. The data nodes refuse the moved sentinels' SLAVEOF toward a host name outside the declared ones (the sentinel user's pin; RedisReplicationCommandRefused pages), and toward a declared host the guard acts before a moved sentinel sends it (8 s). What remains: the moved sentinels log in to that server with their auth-pass at once, so the sentinel password is lost with this one; for that second or two, a client that looks the master up is sent there; the made-up peer votes in every failover (a larger majority) until SENTINEL RESET; hellos sent again and again restart the sentinels again and again, and Docker's restart backoff (doubling up to a minute) then keeps them down longer each time; a hello naming a declared replica is followed (clients get READONLY until Sentinel fails over, unplanned); forged down votes. With the data hosts' firewall, only the declared hosts and the client sources reach the sentinels' port: from anywhere else the hello cannot be sent at all. From those machines it stays as above, the auth-pass sent to the named server included when tls.enabled is false; with TLS on, a server without a certificate from the stack CA fails the sentinels' handshake and receives nothing, so the auth-pass leaves only toward a server that holds a stolen stack key.",
  },
  sentinelFailover: {
    holders: "every data node (its stop script's handoff)",
    refused: "SENTINEL SET, RESET, REMOVE, CONFIG SET, ACL",
    detectedBy: ["RedisMasterFlapping", "RedisFailoverHappened"],
    remains: "SENTINEL FAILOVER again and again: each is a write gap of a few seconds, limited only by Sentinel's failover-timeout between tries.",
  },
  sentinelAdmin: {
    holders: "the operator only (Pulumi secret config and state); no container",
    refused: "nothing",
    detectedBy: ["RedisUndeclaredMaster"],
    remains: "Everything on every sentinel, the master they name included: the break-glass user.",
  },
};

export interface NetworkThreat extends Threat {
  position: string;
}

export const NETWORK_THREATS: NetworkThreat[] = [
  {
    position: "on the hosts' network, no credential, at an address that is neither a declared host nor a client source (firewall.enabled: the production example)",
    holders: "any machine on the data hosts' network but the declared ones and firewall.clientSources",
    refused: "every connection to a data host's node, sentinel, redis_exporter and node_exporter ports (a TCP reset from the host's firewall, before TLS or AUTH)",
    detectedBy: [],
    detection: "no alert: the firewall counts each refusal and logs up to 6 a minute in the host's kernel log (`veza-redis-refused: `)",
    remains:
      "Every port the firewall does not guard (ssh, Docker, the monitoring host's endpoints, which need basic auth), and connections toward it: a node or sentinel sent there by someone on a declared machine still links to it. With every credential and certificate stolen it still reaches no node or sentinel, so no replica attaches from there and none is promoted. An attacker who takes a declared host's address (ARP or route spoofing on the segment) is a member: the row below.",
  },
  {
    position:
      "on the stack's network at a declared host's or a client source's address, no credential (dev: any process on the one machine, Redis binds 127.0.0.1; prod without the firewall: anywhere on the hosts' network)",
    holders: "any container or machine that can open a connection to the Redis and Sentinel ports",
    refused:
      "with tls.enabled (both example stacks): everything, before AUTH, without a client certificate from the stack CA (the plaintext ports are off, `tls-auth-clients yes`); with a certificate, every command but AUTH and HELLO: the default user is off on every data node and sentinel",
    detectedBy: ["RedisRejectedConnections", "RedisAuthFailures"],
    remains:
      "Connection floods up to maxclients, and TLS handshakes (each costs the server a key exchange). With TLS, reading the traffic yields neither the data nor the passwords. A stolen certificate plus a stolen password is a login: Redis 7.0 maps no certificate to a user and has no revocation list, so a stolen key stays usable until its certificate expires or its CA is rotated out. With tls.enabled false, traffic is plain TCP: whoever can read it reads the data and, at AUTH, the passwords.",
  },
  {
    position: "root on a host",
    holders: "whoever controls a machine that runs data nodes or sentinels",
    refused: "nothing on that host",
    detectedBy: ["HostUnreachable", "RedisRestartLoop"],
    remains:
      "Every password its containers hold, in their volumes' live files (data nodes: replication, handoff, sentinelFailover, health; sentinels: sentinel, sentinelClients, sentinelPeer, health; exporters: exporter; the API: app, sentinelClients), the TLS keys beside them (each process's server key and its role's client key), and the data on its volumes. The admin passwords are on no host (the ACL files hold only SHA-256 hashes of 32 random characters).",
  },
];

/**
 * The monitoring endpoints' basic-auth users (components/monitoring/webConfig.ts): no roles on
 * Prometheus, so each is listed only where needed; on Alertmanager, the gate's permissions
 * (components/monitoring/alertmanagerGate.ts).
 */
export const MONITORING_THREATS: NetworkThreat[] = [
  {
    position: "`prometheus` (web user)",
    holders: "the Prometheus container (its password file)",
    refused: `on Alertmanager's gate, everything but ${describeGatePermissions("prometheus")} (403): it can neither create, list nor expire a silence, nor read Alertmanager's status or alerts; on Prometheus, nothing (basic auth has no roles there)`,
    detectedBy: [],
    detection: "the gate logs each refusal (the container's log: `access forbidden by rule` and the request)",
    remains:
      "Posting alerts (its job), false ones included: a firing alert posted as resolved shows resolved until Prometheus sends it again (every minute, Prometheus's --rules.alert.resend-delay); a forged cause (HostUnreachable, RedisUnreachable, SentinelQuorumLost, SentinelsBelowQuorumReachable, a faster SLO ticket tier) mutes its consequences for as long as it says, but a cause mutes only with its own severity, so the forgery notifies on-call itself (a page, or a ticket for an SLO tier), and labelled otherwise it mutes nothing and tickets (only Watchdog reaches the dead man's switch); a forged Watchdog keeps the dead man's switch fed while the real Prometheus is down. Password checks from addresses other than the monitoring host's are held to 5 a second per address and 10 in all (429): a flood of wrong passwords gets 10 password checks a second, not the workers. Every metric Prometheus holds.",
  },
  {
    position: "`alertmanager-gate` (web user)",
    holders: "the gate's container (nginx's included credential); Alertmanager lists no other user",
    refused: "nothing on Alertmanager, but Alertmanager listens on the monitoring host's 127.0.0.1 only: the holder must already be on that host",
    detectedBy: ["Watchdog"],
    detection: "a silence of everything silences Watchdog too, and the heartbeat receiver outside the stack then alerts",
    remains: "Everything Alertmanager's API allows, silences included, to whoever is in the gate's container or on the monitoring host with its credential.",
  },
  {
    position: "`grafana` (web user)",
    holders: "the Grafana container (its datasource)",
    refused: "Alertmanager does not list it; Prometheus's admin and lifecycle APIs are off",
    detectedBy: [],
    detection: "none: its queries are Grafana's own",
    remains: "Reading every metric Prometheus holds.",
  },
  {
    position: "`operator` (web user)",
    holders: "people (`pulumi stack output monitoringOperatorPassword`); no container",
    refused: "nothing",
    detectedBy: ["Watchdog"],
    remains: "Everything Prometheus's and Alertmanager's APIs allow, silences included.",
  },
  {
    position: "the healthchecks",
    holders: "Docker, on the monitoring host",
    refused: "everything: they hold no credential. Prometheus's and Alertmanager's take a 401 as up; the gate's GETs its one open path, /-/healthy, which answers up or down and nothing else",
    detectedBy: [],
    remains: "Nothing.",
  },
];

/** What a credential's users may run, per server kind: the rules the servers load. */
export function credentialRules(name: CredentialName): Array<{ server: string; user: string; rules: string }> {
  const rules = aclRules(["<data-node-host>"]);
  const dataNode = ACL_ROLES.filter((role) => role === name).map((role) => ({ server: "data nodes", user: ACL_USERS[role], rules: rules[role] }));
  const sentinel = SENTINEL_ROLES.filter((role) => SENTINEL_USERS[role].credential === name).map((role) => ({ server: "sentinels", user: SENTINEL_USERS[role].name, rules: SENTINEL_ACL_RULES[role] }));
  return [...dataNode, ...sentinel];
}

/** Every alert the model names. */
export function threatModelAlerts(): string[] {
  return [...new Set([...Object.values(CREDENTIAL_THREATS), ...NETWORK_THREATS, ...MONITORING_THREATS].flatMap((t) => t.detectedBy))].sort();
}

const cell = (text: string) => text.replaceAll("|", "\\|");

function detected(t: Threat): string {
  const alerts = t.detectedBy.map((a) => `\`${a}\``).join(", ");
  return [alerts, t.detection].filter(Boolean).join("; ");
}

export function renderThreatModel(): string {
  const credentialRows = CREDENTIAL_NAMES.map((name) => {
    const t = CREDENTIAL_THREATS[name];
    const rules = credentialRules(name)
      .map((r) => `${r.server}: \`${r.user}\` \`${r.rules}\``)
      .join("<br>");
    return `| \`${name}\` | ${cell(t.holders)} | ${cell(rules)} | ${cell(t.refused)} | ${cell(detected(t))} | ${cell(t.remains)} |`;
  });
  const positionRows = (threats: NetworkThreat[]) => threats.map((t) => `| ${cell(t.position)} | ${cell(t.holders)} | ${cell(t.refused)} | ${cell(detected(t))} | ${cell(t.remains)} |`);
  return [
    "# Threat model: every credential assumed stolen",
    "",
    "Generated by `npm run threat-model` from components/security/threatModel.ts: the rules column is the",
    "ACL the servers load (components/redis/acl.ts, components/sentinel/sentinelConf.ts), and every alert",
    "named exists in the rendered rules (tests/unit/threatModel.test.ts). Each row is one credential, or",
    "one network position, in an attacker's hands.",
    "",
    "## Credentials",
    "",
    "| credential | held by | what its holder can run | refused | detected by | what remains possible, and why |",
    "| --- | --- | --- | --- | --- | --- |",
    ...credentialRows,
    "",
    "## Network positions",
    "",
    "| position | who is there | refused | detected by | what remains possible, and why |",
    "| --- | --- | --- | --- | --- |",
    ...positionRows(NETWORK_THREATS),
    "",
    "## Monitoring endpoints",
    "",
    "| credential | held by | refused | detected by | what remains possible, and why |",
    "| --- | --- | --- | --- | --- |",
    ...positionRows(MONITORING_THREATS),
    "",
    "## Pinned to the declared data nodes",
    "",
    "- A data node never starts as the replica of an address outside the declared data nodes: its entry",
    "  script logs why and exits, so its healthcheck fails (prevention).",
    "- A restarted sentinel never follows a master outside them: it falls back to the data nodes' own",
    "  ROLE (prevention).",
    "- A running sentinel or node moved to an undeclared master pages (`RedisUndeclaredMaster`), and so",
    "  does an undeclared replica (`RedisUndeclaredReplica`): detection, with the recovery in the",
    "  redis-security runbook. Sentinel's hello messages carry no signature beyond the password: moving",
    "  the sentinels cannot be prevented by the servers alone (the master guard undoes it).",
    "- The sentinel user may SLAVEOF only toward a declared data node's host name, or NO ONE (one ACL",
    "  rule per host, `<data-node-host>` above): a stolen sentinel password, or sentinels moved by a",
    "  forged hello, cannot make a node follow a server on another host (prevention; a refusal pages as",
    "  `RedisReplicationCommandRefused`). Names, not ports, are compared: see the `sentinel` row for",
    "  what passes. The admin user is not pinned: it may rewrite the ACL itself.",
    "- A planned handoff refuses while an undeclared replica is attached (prevention); an unplanned",
    "  failover may still promote it (detection), unless the data hosts' firewall is on.",
    "- The data hosts' firewall (`firewall.enabled`, on in the production example; docs/security.md,",
    "  \"Network scope\"): the nodes', sentinels' and exporters' ports take connections only from the",
    "  declared hosts and `firewall.clientSources` (prevention). A server elsewhere never attaches as a",
    "  replica, so no failover promotes it, and no hello or REPLCONF comes from there. Outgoing",
    "  connections are not limited by the firewall. With `tls.enabled` (both example stacks) a node or",
    "  sentinel sent toward a server whose certificate the stack CA did not sign fails the handshake",
    "  and sends it nothing, no password (prevention; Redis verifies the peer on every outgoing TLS",
    "  link). With TLS off it links to that server.",
    "- A retire step ends every session its retired password opened.",
    "",
  ].join("\n");
}
