// Placement is data: which process runs on which declared host, on which port. The program,
// the validator and the drills all call this one function; the drills only swap the hosts
// for 127.0.0.1.

export interface PlacementHost {
  name: string;
  address: string;
  bindAddress: string;
}

export type DataRole = "master" | "replica";

export interface DataNodePlacement<H extends PlacementHost = PlacementHost> {
  /** Resource-safe name, e.g. redis-0; index 0 starts as master. */
  name: string;
  index: number;
  role: DataRole;
  host: H;
  port: number;
}

export interface SentinelPlacement<H extends PlacementHost = PlacementHost> {
  name: string;
  index: number;
  host: H;
  port: number;
}

export interface Topology<H extends PlacementHost = PlacementHost> {
  dataNodes: DataNodePlacement<H>[];
  sentinels: SentinelPlacement<H>[];
  master: DataNodePlacement<H>;
}

export interface TopologyInput<H extends PlacementHost> {
  hosts: H[];
  redisPort: number;
  sentinelPort: number;
  /** 0 when Sentinel is off: a single standalone node. */
  replicas: number;
  sentinels: number;
}

/**
 * Round-robin over the hosts, in declared order: data node i on host i mod H, sentinel j on
 * host j mod H. With H >= replicas + 1 the master and every replica land on different hosts,
 * and with H >= 3 no host holds a majority of three sentinels. Processes sharing a host get
 * consecutive ports from the base port.
 */
export function placeTopology<H extends PlacementHost>(input: TopologyInput<H>): Topology<H> {
  const nextPort = portAllocator();
  const dataNodes = Array.from({ length: 1 + input.replicas }, (_, index): DataNodePlacement<H> => {
    const host = input.hosts[index % input.hosts.length];
    return { name: `redis-${index}`, index, role: index === 0 ? "master" : "replica", host, port: nextPort(host.name, "redis", input.redisPort) };
  });
  const sentinels = Array.from({ length: input.sentinels }, (_, index): SentinelPlacement<H> => {
    const host = input.hosts[index % input.hosts.length];
    return { name: `sentinel-${index}`, index, host, port: nextPort(host.name, "sentinel", input.sentinelPort) };
  });
  return { dataNodes, sentinels, master: dataNodes[0] };
}

/** Hands out base, base+1, ... per (host, kind). */
export function portAllocator(): (hostName: string, kind: string, base: number) => number {
  const used = new Map<string, number>();
  return (hostName, kind, base) => {
    const key = `${hostName}/${kind}`;
    const offset = used.get(key) ?? 0;
    used.set(key, offset + 1);
    return base + offset;
  };
}

/** The largest number of these processes (sentinels, data nodes) any single host holds. */
export function largestShareOnOneHost(placed: Array<{ host: PlacementHost }>): number {
  const perHost = new Map<string, number>();
  for (const process of placed) perHost.set(process.host.name, (perHost.get(process.host.name) ?? 0) + 1);
  return Math.max(0, ...perHost.values());
}
