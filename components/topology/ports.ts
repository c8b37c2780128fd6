import type { StackConfig } from "../config/types";
import { placeTopology, portAllocator, type Topology } from "./placement";
import type { HostConfig } from "../config/types";

export interface PortAllocation {
  host: string;
  port: number;
  owner: string;
}

export interface ExporterPlacement {
  /** e.g. redis-0-exporter */
  name: string;
  /** The node it scrapes. */
  target: { name: string; kind: "redis" | "sentinel"; host: HostConfig; port: number };
  host: HostConfig;
  port: number;
}

export function stackTopology(config: Pick<StackConfig, "hosts" | "redis" | "sentinel">): Topology<HostConfig> {
  return placeTopology({
    // Hosts of role monitoring hold no Redis process.
    hosts: config.hosts.filter((h) => h.role !== "monitoring"),
    redisPort: config.redis.port,
    sentinelPort: config.sentinel.port,
    replicas: config.sentinel.enabled ? config.sentinel.replicas : 0,
    sentinels: config.sentinel.enabled ? config.sentinel.count : 0,
  });
}

/** One redis_exporter per Redis and Sentinel process, on that process's host. */
export function placeExporters(topology: Topology<HostConfig>, basePort: number): ExporterPlacement[] {
  const nextPort = portAllocator();
  const targets = [
    ...topology.dataNodes.map((n) => ({ name: n.name, kind: "redis" as const, host: n.host, port: n.port })),
    ...topology.sentinels.map((s) => ({ name: s.name, kind: "sentinel" as const, host: s.host, port: s.port })),
  ];
  return targets.map((target) => ({ name: `${target.name}-exporter`, target, host: target.host, port: nextPort(target.host.name, "exporter", basePort) }));
}

/** Every host port the stack listens on (all containers use host networking). */
export function portAllocations(config: StackConfig): PortAllocation[] {
  const topology = stackTopology(config);
  const allocations: PortAllocation[] = [
    ...topology.dataNodes.map((n) => ({ host: n.host.name, port: n.port, owner: n.name })),
    ...topology.sentinels.map((s) => ({ host: s.host.name, port: s.port, owner: s.name })),
  ];
  if (config.monitoring.enabled) {
    allocations.push(...placeExporters(topology, config.monitoring.redisExporterPort).map((e) => ({ host: e.host.name, port: e.port, owner: e.name })));
    allocations.push(...config.hosts.map((h) => ({ host: h.name, port: config.monitoring.nodeExporterPort, owner: `node-exporter-${h.name}` })));
    allocations.push({ host: config.monitoring.host, port: config.monitoring.prometheusPort, owner: "prometheus" });
    allocations.push({ host: config.monitoring.host, port: config.monitoring.alertmanagerPort, owner: "alertmanager-gate" });
    allocations.push({ host: config.monitoring.host, port: config.monitoring.alertmanagerLoopbackPort, owner: "alertmanager" });
    if (config.tls.enabled) allocations.push({ host: config.monitoring.host, port: config.monitoring.blackboxExporterPort, owner: "blackbox-exporter" });
  }
  if (config.monitoring.enabled) allocations.push({ host: config.monitoring.host, port: config.monitoring.grafanaPort, owner: "grafana" });
  if (config.api.mode === "container") {
    allocations.push({ host: config.api.host, port: config.api.port, owner: "api" });
    if (config.api.metrics.enabled && config.api.metrics.port !== config.api.port) allocations.push({ host: config.api.host, port: config.api.metrics.port, owner: "api-metrics" });
  }
  return allocations;
}
