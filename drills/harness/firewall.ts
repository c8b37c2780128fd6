// The data hosts' firewall (components/base/firewall.ts) applied in a drill's host namespaces:
// the same ruleset text `pulumi up` pipes to nft on each host.
import { spawnSync } from "node:child_process";
import { FIREWALL_OWNER_VARIABLE, FIREWALL_TABLE, firewallOwnerToken, renderFirewallRuleset, type HostFirewall } from "../../components/base/firewall";

/** Applies a host's rendered ruleset in its network namespace (`nsenter --net=<path>`), as its `<host>-firewall` command would. */
export function applyFirewall(namespacePath: string, firewall: HostFirewall): void {
  const owner = firewallOwnerToken(`${firewall.host}-firewall`, `drill:${namespacePath}`);
  const result = spawnSync("nsenter", [`--net=${namespacePath}`, "nft", "-D", `${FIREWALL_OWNER_VARIABLE}=${owner}`, "-f", "-"], {
    input: renderFirewallRuleset(firewall),
    encoding: "utf8",
    timeout: 5000,
  });
  if (result.status !== 0) throw new Error(`nft -f of ${firewall.host}'s firewall failed: ${`${result.stderr}${result.stdout}`.trim()}`);
}

/** Connections the firewall refused in a namespace: the counter of its reject rule. */
export function refusedPackets(namespacePath: string): number {
  const listed = spawnSync("nsenter", [`--net=${namespacePath}`, "nft", "list", "table", "inet", FIREWALL_TABLE], { encoding: "utf8", timeout: 5000 }).stdout;
  return Number(/chain guarded_port \{[^}]*counter packets (\d+)/.exec(listed)?.[1] ?? NaN);
}
