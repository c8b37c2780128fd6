// Hosts as network namespaces: each declared host of a stack gets a namespace of its own holding
// the host's declared address on a veth link to one bridge on this machine, which also holds an
// address of that subnet so the drill's clients (in this machine's own namespace) reach every
// host. Traffic never leaves this machine: the bridge has no other port. Losing a whole host is
// its link going down: every process on it keeps running, and nothing reaches it or leaves it.
//
// Names carry the drill's owner (workspace.ts), so a check for leftovers finds what a crashed
// drill left; the workspace removes all of it on cleanup, after the processes are gone.

import { spawnSync } from "node:child_process";
import { isIPv4 } from "node:net";
import { DRILL_OWNER, DRILL_PREFIX, type Workspace } from "./workspace";

/** Interface names are at most 15 characters: a short tag of the owner. */
const ownerTag = (owner: string) => owner.slice(-6);
/** The bridge and veth names of an owner's drills start with this. */
export const linkPrefix = (owner = DRILL_OWNER) => `vz${ownerTag(owner)}`;

function ip(args: string[]): { ok: boolean; out: string } {
  const result = spawnSync("ip", args, { encoding: "utf8", timeout: 5000 });
  return { ok: result.status === 0, out: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
}

function must(args: string[]): string {
  const result = ip(args);
  if (!result.ok) throw new Error(`ip ${args.join(" ")} failed: ${result.out}`);
  return result.out;
}

/** Why hosts cannot be made here, or undefined when they can (iproute2 and root). */
export function hostNetworkUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "network namespaces need root";
  const probe = ip(["netns", "list"]);
  return probe.ok ? undefined : `ip netns is not usable here (${probe.out || "iproute2 missing"})`;
}

/** The namespaces and links an owner's drills left behind, by name (for the tests' leftover check). */
export function networkLeftovers(owner = DRILL_OWNER, prefix = DRILL_PREFIX): string[] {
  const namespaces = ip(["netns", "list"])
    .out.split("\n")
    .map((line) => line.split(" ")[0])
    .filter((name) => name.startsWith(prefix));
  const links = ip(["-o", "link", "show"])
    .out.split("\n")
    .map((line) => line.split(": ")[1]?.split("@")[0] ?? "")
    .filter((name) => name.startsWith(linkPrefix(owner)));
  return [...namespaces.map((name) => `netns ${name}`), ...links.map((name) => `link ${name}`)];
}

export interface DeclaredHost {
  name: string;
  address: string;
}

/** The /24 holding every host, and an address in it that no host holds, for the bridge. */
export function bridgeAddressFor(hosts: DeclaredHost[]): { subnet: string; address: string } {
  const bad = hosts.find((host) => !isIPv4(host.address));
  if (bad) throw new Error(`host ${bad.name}: address ${bad.address} is not an IPv4 address; the host network needs each host's own IPv4 address`);
  const networks = new Set(hosts.map((host) => host.address.split(".").slice(0, 3).join(".")));
  if (networks.size !== 1) throw new Error(`the hosts' addresses ${hosts.map((h) => h.address).join(", ")} are not in one /24`);
  const [network] = networks;
  const taken = new Set(hosts.map((host) => Number(host.address.split(".")[3])));
  const free = [1, 254, ...Array.from({ length: 252 }, (_, i) => i + 2)].find((last) => !taken.has(last))!;
  return { subnet: `${network}.0/24`, address: `${network}.${free}` };
}

export class HostNetwork {
  private readonly namespaces = new Map<string, string>();
  private readonly hostLinks = new Map<string, string>();
  readonly bridge: string;
  readonly bridgeAddress: string;

  private constructor(ws: Workspace, hosts: DeclaredHost[]) {
    const { subnet, address } = bridgeAddressFor(hosts);
    // Two bridges in one subnet would make the routes ambiguous: another drill (or this machine's
    // own network) holding an address there comes first.
    const inUse = must(["-o", "-4", "addr", "show"])
      .split("\n")
      .filter((line) => line.includes(` ${subnet.split(".").slice(0, 3).join(".")}.`));
    if (inUse.length > 0) throw new Error(`the hosts' subnet ${subnet} is already in use on this machine: ${inUse.join("; ")}`);
    this.bridge = `${linkPrefix()}br`;
    this.bridgeAddress = address;
    ws.onCleanup(() => this.remove());
    must(["link", "add", this.bridge, "type", "bridge"]);
    must(["addr", "add", `${address}/24`, "dev", this.bridge]);
    must(["link", "set", this.bridge, "up"]);
    hosts.forEach((host, index) => {
      const namespace = `${DRILL_PREFIX}${ws.label}-${host.name}`;
      const outside = `${linkPrefix()}h${index}`;
      const inside = `${linkPrefix()}n${index}`;
      must(["netns", "add", namespace]);
      this.namespaces.set(host.name, namespace);
      must(["link", "add", outside, "type", "veth", "peer", "name", inside]);
      must(["link", "set", inside, "netns", namespace]);
      must(["link", "set", outside, "master", this.bridge]);
      must(["link", "set", outside, "up"]);
      must(["-n", namespace, "addr", "add", `${host.address}/24`, "dev", inside]);
      must(["-n", namespace, "link", "set", inside, "up"]);
      must(["-n", namespace, "link", "set", "lo", "up"]);
      this.hostLinks.set(host.name, outside);
    });
  }

  static create(ws: Workspace, hosts: DeclaredHost[]): HostNetwork {
    return new HostNetwork(ws, hosts);
  }

  /** The namespace's path, for `nsenter --net=<path>`. */
  namespacePath(hostName: string): string {
    const namespace = this.namespaces.get(hostName);
    if (!namespace) throw new Error(`no host ${hostName} in the host network`);
    return `/run/netns/${namespace}`;
  }

  /** The host is lost: its link is down, so nothing reaches it and nothing leaves it. */
  cut(hostName: string): void {
    must(["link", "set", this.linkOf(hostName), "down"]);
  }

  heal(hostName: string): void {
    must(["link", "set", this.linkOf(hostName), "up"]);
  }

  private linkOf(hostName: string): string {
    const link = this.hostLinks.get(hostName);
    if (!link) throw new Error(`no host ${hostName} in the host network`);
    return link;
  }

  /** Every namespace and link gone (the veth peers go with their namespaces). */
  private remove(): void {
    for (const link of this.hostLinks.values()) ip(["link", "del", link]);
    for (const namespace of this.namespaces.values()) ip(["netns", "del", namespace]);
    ip(["link", "del", this.bridge]);
  }
}
