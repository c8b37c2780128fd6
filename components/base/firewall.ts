// The data hosts' firewall (nftables), the network half of pinning the cluster to its members:
// the Redis, Sentinel and exporter ports of a data host take connections only from the declared
// hosts and `firewall.clientSources` (the API's addresses). A stolen replication, backup or
// Sentinel password is then useless from anywhere else: an undeclared server cannot attach as a
// replica (so no failover can promote it), nor reach REPLCONF, SYNC or the sentinels' hello
// channel, nor forge a hello.
// Everything else on the host (ssh, Docker, other services, outgoing connections) is untouched:
// one table of our own, replaced atomically by each `nft -f` (the table declared, deleted and
// filled in one transaction: no moment without rules while it is updated).
import { createHash } from "node:crypto";
import { ONE_SHOT_DOCKER_RUN } from "./hardening";
import { shellQuote } from "./shell";

/** The nftables table this stack owns on each data host. */
export const FIREWALL_TABLE = "veza_redis";
/** The `nft -D` variable holding the owner token of the command that applied the table. */
export const FIREWALL_OWNER_VARIABLE = "owner";
/** Kernel log prefix of a refused connection (dmesg / journalctl -k), rate-limited. */
export const FIREWALL_LOG_PREFIX = "veza-redis-refused: ";
/** Client sources wider than this are refused: a /7 or wider is no boundary at all. */
export const MINIMUM_SOURCE_PREFIX = 8;

export interface HostFirewall {
  host: string;
  /** The ports of this host's data nodes, sentinels and exporters, ascending. */
  guardedPorts: number[];
  /**
   * Every declared host's IPv4 addresses, ascending: its bindAddress (always an IP: the source
   * of its Redis and Sentinel connections) and its address when that is an IP too.
   */
  members: string[];
  /** Addresses or IPv4 CIDRs outside the members that may reach the guarded ports (the API). */
  clientSources: string[];
}

const elements = (values: Array<string | number>) => values.join(", ");

/**
 * The ruleset, for `nft -D owner=<token> -f -`. The table is declared, deleted and declared
 * again in one file: nft applies a file as one transaction, so the old rules stay until the new
 * ones are in (and a first run, with no table yet, works too). The owner set records which
 * command applied it, so that another command's delete leaves it alone.
 */
export function renderFirewallRuleset(firewall: HostFirewall): string {
  const sources =
    firewall.clientSources.length > 0 ? [`  set client_sources {`, `    type ipv4_addr; flags interval; auto-merge`, `    elements = { ${elements(firewall.clientSources)} }`, `  }`] : [];
  return [
    `# veza-redis: the firewall of data host ${firewall.host} (components/base/firewall.ts).`,
    `table inet ${FIREWALL_TABLE}`,
    `delete table inet ${FIREWALL_TABLE}`,
    `table inet ${FIREWALL_TABLE} {`,
    `  set owner {`,
    `    type mark`,
    `    elements = { $${FIREWALL_OWNER_VARIABLE} }`,
    `  }`,
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
    `}`,
    ``,
  ].join("\n");
}

/**
 * The token of one firewall command: a 32-bit number from its resource name and its host's
 * connection (Docker host URI and SSH host key), the inputs whose change makes a new command
 * (a rename, or a replacement on a new connection). A delete removes the table only when the
 * table carries its own token, so an old command deleted after a new one applied its table
 * (a rename) leaves the new one in place.
 */
export function firewallOwnerToken(resourceName: string, dockerHost: string, sshHostKey = ""): number {
  return createHash("sha256").update(`${resourceName}\n${dockerHost}\n${sshHostKey}`).digest().readUInt32BE(0);
}

/** `docker run` of the firewall image in the host's network namespace, with NET_ADMIN only (no privileged container). */
function nftContainer(firewallImage: string, entrypoint: "nft" | "sh", argumentsText: string, stdin: boolean): string {
  return [
    `${ONE_SHOT_DOCKER_RUN}${stdin ? " -i" : ""} --network host --cap-drop ALL --cap-add NET_ADMIN --read-only --security-opt no-new-privileges:true --memory 64m`,
    `--entrypoint ${entrypoint} ${shellQuote(firewallImage)} ${argumentsText}`,
  ].join(" ");
}

/**
 * The host command that applies the ruleset, which it reads on its stdin (the command's `stdin`:
 * a value known at preview, so the policy pack reads the rules before `up`; a changed ruleset is
 * an update that runs the command again). The image by content ID.
 */
export function renderFirewallCommand(firewallImage: string, hostName: string, ownerToken: number): string {
  return [
    `set -eu`,
    nftContainer(firewallImage, "nft", `-D ${FIREWALL_OWNER_VARIABLE}=${ownerToken} -f -`, true),
    `echo "firewall of ${hostName}: table inet ${FIREWALL_TABLE} applied (owner ${ownerToken})"`,
  ].join("\n");
}

/** How `nft list set` shows a mark: 0x and 8 hex digits. */
const listedMark = (value: number) => `0x${value.toString(16).padStart(8, "0")}`;

/**
 * The command's delete (`firewall.enabled` false, or the command replaced), as a script for the
 * firewall image's sh: removes the table if this command's token is in it; an absent table is
 * done already, a table of another owner is left; any other nft failure fails the delete.
 */
export function renderFirewallRemoveScript(ownerToken: number): string {
  return [
    `owner=$(nft list set inet ${FIREWALL_TABLE} owner 2>&1) || { case "$owner" in *"No such file or directory"*) echo "no table inet ${FIREWALL_TABLE}: nothing to remove"; exit 0;; *) echo "$owner" >&2; exit 1;; esac; }`,
    `case "$owner" in *"elements = { ${listedMark(ownerToken)} }"*) nft delete table inet ${FIREWALL_TABLE} && echo "table inet ${FIREWALL_TABLE} removed";; *) echo "table inet ${FIREWALL_TABLE} belongs to another command: left in place";; esac`,
  ].join("\n");
}

export function renderFirewallRemoveCommand(firewallImage: string, ownerToken: number): string {
  return nftContainer(firewallImage, "sh", `-c ${shellQuote(renderFirewallRemoveScript(ownerToken))}`, false);
}
