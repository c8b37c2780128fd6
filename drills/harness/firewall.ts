// The data hosts' firewall (components/host/firewall.ts) applied in a drill's host namespaces:
// the same ruleset text `pulumi up` pipes to nft on each host, with this machine's redis user's
// uid (the user the container runner's entry scripts setpriv to, as the image's do).
import { spawnSync } from "node:child_process";
import { FIREWALL_TABLE, REDIS_UID_VARIABLE, renderFirewallRuleset, type HostFirewall } from "../../components/host/firewall";

/** This machine's redis user (Debian's redis-server package creates it). */
export function redisUserId(): number {
  const result = spawnSync("id", ["-u", "redis"], { encoding: "utf8" });
  const uid = Number(result.stdout.trim());
  if (result.status !== 0 || !Number.isInteger(uid))
    throw new Error(`no redis user on this machine (id -u redis: ${result.stderr.trim()}); scripts/setup-tools.sh installs redis-server, which creates it`);
  return uid;
}

/** Applies a host's rendered ruleset in its network namespace (`nsenter --net=<path>`). */
export function applyFirewall(namespacePath: string, firewall: HostFirewall): void {
  const result = spawnSync("nsenter", [`--net=${namespacePath}`, "nft", "-D", `${REDIS_UID_VARIABLE}=${redisUserId()}`, "-f", "-"], {
    input: renderFirewallRuleset(firewall),
    encoding: "utf8",
    timeout: 5000,
  });
  if (result.status !== 0) throw new Error(`nft -f of ${firewall.host}'s firewall failed: ${`${result.stderr}${result.stdout}`.trim()}`);
}

/** Packets the firewall refused in a namespace: the counters of its two reject rules. */
export function refusedPackets(namespacePath: string): { inbound: number; outbound: number } {
  const listed = spawnSync("nsenter", [`--net=${namespacePath}`, "nft", "list", "table", "inet", FIREWALL_TABLE], { encoding: "utf8", timeout: 5000 }).stdout;
  const counterIn = (chain: string) => Number(new RegExp(`chain ${chain} \\{[^}]*counter packets (\\d+)`).exec(listed)?.[1] ?? NaN);
  return { inbound: counterIn("guarded_port"), outbound: counterIn("redis_user_out") };
}
