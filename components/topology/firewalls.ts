// Which data hosts get a firewall (components/base/firewall.ts renders it), and what it admits:
// from the stack config, with the ports every container listens on.
import { isIPv4 } from "node:net";
import type { StackConfig } from "../config/types";
import type { HostFirewall } from "../base/firewall";
import { portAllocations } from "./ports";

/** Port owners the firewall guards: everything of the Redis family on a data host, not the API nor the monitoring UIs. */
const GUARDED_OWNER = /^(redis-\d+|sentinel-\d+|.*-exporter|node-exporter-.*)$/;

/** The firewall of every data host, when `firewall.enabled`; none otherwise. */
export function hostFirewalls(config: StackConfig): HostFirewall[] {
  if (!config.firewall.enabled) return [];
  const members = [...new Set(config.hosts.flatMap((host) => [host.address, host.bindAddress]).filter((address) => isIPv4(address)))].sort(compareAddresses);
  const allocations = portAllocations(config).filter((allocation) => GUARDED_OWNER.test(allocation.owner));
  return config.hosts
    .filter((host) => host.role !== "monitoring")
    .map((host) => ({
      host: host.name,
      guardedPorts: [...new Set(allocations.filter((allocation) => allocation.host === host.name).map((allocation) => allocation.port))].sort((a, b) => a - b),
      members,
      clientSources: [...config.firewall.clientSources],
    }))
    .filter((firewall) => firewall.guardedPorts.length > 0);
}

function compareAddresses(a: string, b: string): number {
  const value = (address: string) => address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
  return value(a) - value(b);
}
