// A network partition between processes that all listen on 127.0.0.1, made with nftables on the
// loopback: every TCP connection is marked, when it opens, with the side of the process that
// opened it, and cutting drops every packet of a connection that crosses sides. Both directions
// drop (the mark belongs to the connection), so no replication stream leaks through a cut.
//
// A process is on the minority side when it runs as MINORITY_UID (the master and the sentinel on
// its host), or when it connects to MINORITY_ADDRESS (127.0.0.2: clients on the master's host,
// such as a stale API instance). Everything else, the drill itself included, is the majority.

import { spawnSync } from "node:child_process";
import { DRILL_OWNER } from "./workspace";

/** The uid minority processes run as: no account needs to exist; their dirs are chowned to it. */
export const MINORITY_UID = 64000;
/** Clients on the master's side of the cut connect to it at this address (still the loopback). */
export const MINORITY_ADDRESS = "127.0.0.2";

/** nftables table names: this prefix and the drill's owner (see workspace.ts). */
export const PARTITION_TABLE_PREFIX = "veza_drill_";

const MINORITY_MARK = 1;
const MAJORITY_MARK = 2;

function nft(args: string[], input?: string): { ok: boolean; out: string } {
  const result = spawnSync("nft", args, { input, encoding: "utf8", timeout: 5000 });
  return { ok: result.status === 0, out: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
}

/** Why a partition cannot be made here, or undefined when it can (nft present and usable as root). */
export function partitionUnavailable(): string | undefined {
  const probe = nft(["list", "tables"]);
  if (probe.ok) return undefined;
  return `nftables is not usable here (nft list tables: ${probe.out || "not installed"}); scripts/setup-tools.sh installs nftables, and the drill needs root`;
}

/** The ruleset: marks from the start, an empty cut chain that cut() fills. */
export function renderPartitionRuleset(table: string, minorityPorts: number[]): string {
  return [
    `table inet ${table} {`,
    `  set minority_ports { type inet_service; elements = { ${minorityPorts.join(", ")} } }`,
    "  chain mark_sides {",
    // After conntrack (priority -200), so `ct state new` and the mark are the connection's.
    "    type filter hook output priority 0; policy accept;",
    `    ct state new ct mark set ${MAJORITY_MARK}`,
    `    ct state new meta skuid ${MINORITY_UID} ct mark set ${MINORITY_MARK}`,
    `    ct state new ip daddr ${MINORITY_ADDRESS} ct mark set ${MINORITY_MARK}`,
    "  }",
    "  chain cut {",
    "    type filter hook output priority 1; policy accept;",
    "  }",
    "}",
    "",
  ].join("\n");
}

/** The cut: a connection opened by one side to a port of the other side. */
export const CUT_RULES = [
  `meta l4proto tcp ct mark ${MAJORITY_MARK} ct original proto-dst @minority_ports drop`,
  `meta l4proto tcp ct mark ${MINORITY_MARK} ct original proto-dst != @minority_ports drop`,
];

export class Partition {
  private constructor(readonly table: string) {}

  /**
   * Loads the marking rules. Call before the cluster starts: a connection opened before has no
   * mark, and the cut would not see it.
   */
  static prepare(minorityPorts: number[]): Partition {
    const unavailable = partitionUnavailable();
    if (unavailable) throw new Error(unavailable);
    const table = `${PARTITION_TABLE_PREFIX}${DRILL_OWNER}`;
    nft(["delete", "table", "inet", table]);
    const loaded = nft(["-f", "-"], renderPartitionRuleset(table, minorityPorts));
    if (!loaded.ok) throw new Error(`nft could not load the partition ruleset: ${loaded.out}`);
    return new Partition(table);
  }

  cut(): void {
    for (const rule of CUT_RULES) {
      const added = nft(["add", "rule", "inet", this.table, "cut", ...rule.split(" ")]);
      if (!added.ok) throw new Error(`nft could not add the cut rule "${rule}": ${added.out}`);
    }
  }

  heal(): void {
    const flushed = nft(["flush", "chain", "inet", this.table, "cut"]);
    if (!flushed.ok) throw new Error(`nft could not heal the partition: ${flushed.out}`);
  }

  /** Removes the table; safe to call twice. */
  remove(): void {
    nft(["delete", "table", "inet", this.table]);
  }
}
