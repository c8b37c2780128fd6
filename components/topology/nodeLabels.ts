import type { StackConfig } from "../config/types";
import type { DataRole } from "./placement";
import type { Sizing } from "../redis/sizing";

/** Labels on every data node container: what the policy pack and operators read. */
export function dataNodeLabels(config: StackConfig, sizing: Sizing, role: DataRole, hostName: string): Record<string, string> {
  return {
    component: "redis",
    role,
    environment: config.environment,
    host: hostName,
    "memory-limit-mib": String(config.redis.memoryLimitMiB),
    "fork-headroom-percent": String(config.redis.forkHeadroomPercent),
    "allowed-eviction-policies": config.redis.allowedEvictionPolicies.join(","),
    // The volume's declared size lives on the container, not the volume: every volume input forces
    // a replacement, and a volume in use cannot be replaced (the policy pack reads it here).
    "data-volume-bytes": String(sizing.dataVolumeBytes),
    // What the backend keeps here (runbook table); the advisory eviction policy reads it.
    holds: "sessions,refresh-tokens,jwt-revocation,rate-limiter,cache",
  };
}
