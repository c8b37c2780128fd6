// The data hosts' firewall (nftables), the network half of pinning the cluster to its members:
// - in: the Redis, Sentinel and exporter ports of a data host take connections only from the
//   declared hosts and `firewall.clientSources` (the API's addresses). A stolen replication or
//   backup password is then useless from anywhere else: an undeclared server cannot attach as a
//   replica (so no failover can promote it), nor reach REPLCONF, SYNC or the sentinels' hello
//   channel.
// - out: processes of the redis user (every data node and sentinel) open connections only to the
//   declared hosts. A forged hello or a REPLICAOF toward an outside server then gets no link:
//   no data replaced, and no auth-pass or masterauth sent to it.
// Everything else on the host (ssh, Docker, other services) is untouched: one table of our own,
// replaced atomically by each `nft -f` (a table flushed and filled in one transaction: no moment
// without rules), removed with the command.
import { ONE_SHOT_DOCKER_RUN } from "../base/hardening";
import { shellQuote } from "../base/shell";

/** The nftables table this stack owns on each data host. */
export const FIREWALL_TABLE = "veza_redis";
/** The `nft -D` variable the ruleset takes the redis user's uid from (resolved on the host, from the Redis image). */
export const REDIS_UID_VARIABLE = "redis_uid";
/** Kernel log prefix of a refused connection (dmesg / journalctl -k), rate-limited. */
export const FIREWALL_LOG_PREFIX = "veza-redis-refused: ";

export interface HostFirewall {
  host: string;
  /** The ports of this host's data nodes, sentinels and exporters, ascending. */
  guardedPorts: number[];
  /**
   * Every declared host's IPv4 addresses, ascending: its bindAddress (always an IP: the source
   * of its Redis and Sentinel connections, and what a peer's name resolves to) and its address
   * when that is an IP too.
   */
  members: string[];
  /** Addresses or IPv4 CIDRs outside the members that may reach the guarded ports (the API). */
  clientSources: string[];
  /** A host is given by DNS name: Redis and Sentinel resolve it, so the redis user may query DNS (port 53). */
  resolvesNames: boolean;
}

const elements = (values: Array<string | number>) => values.join(", ");

/**
 * The ruleset, for `nft -D redis_uid=<uid> -f -`. The table is declared, deleted and declared
 * again in one file: nft applies a file as one transaction, so the old rules stay until the new
 * ones are in (and a first run, with no table yet, works too).
 */
export function renderFirewallRuleset(firewall: HostFirewall): string {
  const sources = firewall.clientSources.length > 0 ? [`  set client_sources {`, `    type ipv4_addr; flags interval`, `    elements = { ${elements(firewall.clientSources)} }`, `  }`] : [];
  return [
    `# veza-redis: the firewall of data host ${firewall.host} (components/host/firewall.ts).`,
    `table inet ${FIREWALL_TABLE}`,
    `delete table inet ${FIREWALL_TABLE}`,
    `table inet ${FIREWALL_TABLE} {`,
    `  set members {`,
    `    type ipv4_addr`,
    `    elements = { ${elements(firewall.members)} }`,
    `  }`,
    ...sources,
    `  # Connections to the Redis family's ports: from this host, the members and the client sources only.`,
    `  chain input {`,
    `    type filter hook input priority filter; policy accept;`,
    `    tcp dport { ${elements(firewall.guardedPorts)} } jump guarded_port`,
    `  }`,
    `  chain guarded_port {`,
    `    iif "lo" accept`,
    `    ip saddr @members accept`,
    ...(sources.length > 0 ? [`    ip saddr @client_sources accept`] : []),
    `    limit rate 6/minute log prefix "${FIREWALL_LOG_PREFIX}"`,
    `    counter reject with tcp reset`,
    `  }`,
    `  # Connections the redis user opens: to this host and the members only (replication, gossip, Sentinel's links).`,
    `  chain output {`,
    `    type filter hook output priority filter; policy accept;`,
    `    meta skuid $${REDIS_UID_VARIABLE} jump redis_user_out`,
    `  }`,
    `  chain redis_user_out {`,
    `    oif "lo" accept`,
    `    ct state established,related accept`,
    `    ip daddr @members accept`,
    ...(firewall.resolvesNames ? [`    meta l4proto { tcp, udp } th dport 53 accept`] : []),
    `    limit rate 6/minute log prefix "${FIREWALL_LOG_PREFIX}"`,
    `    counter reject`,
    `  }`,
    `}`,
    ``,
  ].join("\n");
}

/** `docker run` of nft in the host's network namespace, with NET_ADMIN only (no privileged container). */
function nftRun(firewallImage: string, nftArguments: string): string {
  return [
    `${ONE_SHOT_DOCKER_RUN} -i --network host --cap-drop ALL --cap-add NET_ADMIN --read-only --security-opt no-new-privileges:true --memory 64m`,
    `--entrypoint nft ${shellQuote(firewallImage)} ${nftArguments}`,
  ].join(" ");
}

/**
 * The host command that applies the ruleset, which it reads on its stdin (the command's `stdin`:
 * a value known at preview, so the policy pack reads the rules before `up`; a changed ruleset is
 * an update that runs the command again). The redis user's uid is read from the Redis image
 * itself (`id -u redis`, in a container with no network): the uid its data nodes and sentinels
 * run as, whatever Debian's package gave it. Both images by content ID.
 */
export function renderFirewallCommand(firewallImage: string, redisImage: string, hostName: string): string {
  return [
    `set -eu`,
    `redis_uid=$(${ONE_SHOT_DOCKER_RUN} --network none --entrypoint id ${shellQuote(redisImage)} -u redis </dev/null)`,
    `case "$redis_uid" in ''|*[!0-9]*) echo "the Redis image has no redis user (id -u redis: $redis_uid)" >&2; exit 1;; esac`,
    nftRun(firewallImage, `-D ${REDIS_UID_VARIABLE}="$redis_uid" -f -`),
    `echo "firewall of ${hostName}: table inet ${FIREWALL_TABLE} applied (redis uid $redis_uid)"`,
  ].join("\n");
}

/** Removes the table (the command's delete: `firewall.enabled` false, or the host gone). */
export function renderFirewallRemoveCommand(firewallImage: string): string {
  return `${nftRun(firewallImage, `delete table inet ${FIREWALL_TABLE}`)} 2>/dev/null || true`;
}
