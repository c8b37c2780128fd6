// Failure mode memory-exhausted (components/failureModes.ts): the OOM kill by snapshot.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { FORK_PEAK_TARGET, FRAGMENTATION_ALLOWANCE, MiB, modelledForkPeakBytes, SERVER_BASELINE_MIB } from "../shared/redis/sizing";
import { CONTAINER, componentOf, directive, isRedisFamily, labelsOf, redisConf } from "../resources";

const REDIS_HOLDS_SENSITIVE = ["sessions", "refresh-tokens", "jwt-revocation"];

export const redisMemory: ResourceValidationPolicy = {
  name: "redis-memory-limit-and-fork-headroom",
  description:
    "Runbook: OOM-killed by RDB snapshot (maxmemory reached, fork doubled the RSS). Every Redis/Sentinel container has a memory limit, no swap, and redis.conf's maxmemory fits the sizing model (a fork's full copy of a fragmented dataset within 90% of the limit) and leaves the declared fork headroom.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || !isRedisFamily(args.props)) return;
    const memory = args.props.memory;
    if (typeof memory !== "number" || memory <= 0) {
      report("no memory limit: a Redis without one grows until the host OOM-killer picks a victim");
      return;
    }
    if (args.props.memorySwap !== memory) report(`memorySwap ${String(args.props.memorySwap)} != memory ${memory}: swap lets Redis stall for seconds instead of evicting`);
    if (componentOf(args.props) !== "redis") return;
    const conf = redisConf(args.props);
    if (!conf) return;
    const maxmemory = Number(directive(conf, "maxmemory"));
    const headroomPercent = Number(labelsOf(args.props)["fork-headroom-percent"]);
    const limitBytes = memory * 1024 * 1024;
    if (!Number.isFinite(maxmemory) || maxmemory <= 0) {
      report("redis.conf sets no maxmemory: the dataset can grow to the container limit and the next fork is OOM-killed");
    } else if (modelledForkPeakBytes(maxmemory) > FORK_PEAK_TARGET * limitBytes) {
      const largest = Math.floor((FORK_PEAK_TARGET * limitBytes - SERVER_BASELINE_MIB * MiB) / (2 * FRAGMENTATION_ALLOWANCE));
      report(
        `maxmemory ${maxmemory} B is too large for the ${memory} MiB limit: a fork's full copy of it at ${FRAGMENTATION_ALLOWANCE}x fragmentation, plus ${SERVER_BASELINE_MIB} MiB of baseline, reaches ${Math.ceil(modelledForkPeakBytes(maxmemory) / MiB)} MiB, over ${FORK_PEAK_TARGET * 100}% of the limit (at most ${largest} B)`,
      );
    } else if (!Number.isFinite(headroomPercent)) {
      report(`no fork-headroom-percent label (${String(labelsOf(args.props)["fork-headroom-percent"])}): the declared headroom cannot be checked`);
    } else if (maxmemory > limitBytes - Math.floor((limitBytes * headroomPercent) / 100)) {
      report(`maxmemory ${maxmemory} B leaves less than the declared ${headroomPercent}% fork headroom of the ${memory} MiB limit`);
    }
  },
};

export const evictingPolicy: ResourceValidationPolicy = {
  name: "redis-evicting-maxmemory-policy",
  description: "Runbook: OOM-killed by RDB snapshot ('no eviction policy'). maxmemory-policy is an evicting policy allowed by the stack config, never noeviction.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "redis") return;
    const conf = redisConf(args.props);
    if (!conf) return;
    const policy = directive(conf, "maxmemory-policy") ?? "noeviction";
    const allowed = (labelsOf(args.props)["allowed-eviction-policies"] ?? "").split(",").filter(Boolean);
    if (policy === "noeviction") report("maxmemory-policy noeviction: a full Redis refuses writes and its fork can be OOM-killed (the runbook's failure)");
    else if (allowed.length > 0 && !allowed.includes(policy)) report(`maxmemory-policy ${policy} is not one of the allowed policies (${allowed.join(", ")})`);
  },
};

export const sensitiveKeysEvictable: ResourceValidationPolicy = {
  name: "sessions-and-revocations-evictable",
  description:
    "Runbook: JWT revocation ('revoked tokens accepted again', a silent security failure). Advisory: a Redis holding sessions or JWT revocations under an allkeys-* policy can evict them under memory pressure; use a separate instance, or volatile-lru with TTLs on cache keys only.",
  enforcementLevel: "advisory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "redis" || labelsOf(args.props).role !== "master") return;
    const conf = redisConf(args.props);
    const policy = conf ? directive(conf, "maxmemory-policy") : undefined;
    const holds = (labelsOf(args.props).holds ?? "").split(",");
    const sensitive = holds.filter((h) => REDIS_HOLDS_SENSITIVE.includes(h));
    if (policy?.startsWith("allkeys-") && sensitive.length > 0) {
      report(
        `${policy} may evict ${sensitive.join(", ")} under memory pressure (users logged out, revoked JWTs accepted again): keep them on a separate instance, or use volatile-lru with TTLs on cache keys only`,
      );
    }
  },
};

/** Docker volumes by their name, as container mounts refer to them. */
