// Policies that evict under memory pressure. `noeviction` is deliberately absent:
// with it a full Redis refuses writes, and the runbook's OOM kill came from exactly that.
export const EVICTING_POLICIES = ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] as const;
export type EvictionPolicy = (typeof EVICTING_POLICIES)[number];
