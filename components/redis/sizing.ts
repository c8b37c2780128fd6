// Memory and disk sizing for one Redis data node: plain arithmetic, computed once, and fed to
// redis.conf, the container spec, the policy pack, the alert thresholds and the drills.

export const MiB = 1024 * 1024;

/**
 * The fork headroom floor, from the memory drill (memory-under-fork: a 256 MiB memory cgroup, the
 * dataset filled to maxmemory, overwrites 32-deep over 4 connections, BGSAVE and BGREWRITEAOF back
 * to back for 40 s; 2026-11-26). While a fork runs, the child shares pages with the server
 * copy-on-write and overwrites copy them, so the two approach 2 x the dataset (Redis docs,
 * persistence), plus fragmentation, client buffers and the baseline:
 *   40%: 15 fork children OOM-killed, peak 0.99 of the limit;  45%: 0 kills, peak 0.94;
 *   50%: 0 kills but peak 0.97 (and 13 kills in issue 15's run, 3 of 3 runs killed at ~90k
 *        overwrites/s before);  55%: 0 kills, peak 0.75 and 0.91;  60%: 0 kills, peak 0.83.
 * Smallest headroom clean in every run: 55%, plus a 5-point margin for faster machines.
 */
export const MINIMUM_FORK_HEADROOM_PERCENT = 60;

/**
 * Default: 60% headroom, i.e. maxmemory = 40% of the limit. 2 x 40% leaves 20% of the limit for
 * what maxmemory does not count (fragmentation, replica output buffers, the server's own baseline).
 * ElastiCache reserves 25% (30% on small nodes) but throttles writes during snapshots; a plain
 * container does not, so we budget for the full copy-on-write doubling instead.
 */
export const DEFAULT_FORK_HEADROOM_PERCENT = 60;

/** Redis's own smallest useful dataset budget; below this the node is a toy. */
export const MINIMUM_MAXMEMORY_MIB = 16;

/** The nofile ulimit of every Redis-family container (containerDefaults.ts declares it). */
export const CONTAINER_NOFILE_LIMIT = 65536;
/** Descriptors Redis keeps for itself (CONFIG_MIN_RESERVED_FDS): maxclients above limit - 32 is lowered at start. */
export const REDIS_RESERVED_FDS = 32;
export const MAX_CLIENTS_LIMIT = CONTAINER_NOFILE_LIMIT - REDIS_RESERVED_FDS;

export interface SizingInput {
  memoryLimitMiB: number;
  forkHeadroomPercent: number;
  maxmemoryMiB?: number;
  aofRewritePercentage: number;
  aofRewriteMinSizeMiB: number;
  rdbSnapshots: boolean;
  dataVolumeMiB?: number;
  volumeHeadroomFactor: number;
}

export interface Sizing {
  memoryLimitBytes: number;
  /** Memory the declared headroom keeps free of dataset: limit x headroom%. */
  forkHeadroomBytes: number;
  maxmemoryBytes: number;
  /** What is left after a full copy-on-write doubling: limit - 2 x maxmemory. */
  nonDatasetReserveBytes: number;
  /** Replica output buffers are not counted by maxmemory, so they are capped inside the reserve. */
  replicaOutputBufferHardBytes: number;
  replicaOutputBufferSoftBytes: number;
  aofRewriteMinSizeBytes: number;
  minimumDataVolumeBytes: number;
  dataVolumeBytes: number;
  /** Free bytes a rewrite needs on the volume: its new base file can be as large as the dataset. */
  rewriteReserveBytes: number;
  /** RSS above this is close to an OOM kill: 90% of the container limit. */
  rssDangerBytes: number;
}

export function maxmemoryFor(memoryLimitMiB: number, forkHeadroomPercent: number): number {
  return Math.floor((memoryLimitMiB * MiB * (100 - forkHeadroomPercent)) / 100);
}

/**
 * The smallest data volume that cannot be filled by Redis 7 persistence of a full dataset:
 * - the multi-part AOF (base + incremental files) grows to base x (1 + rewrite%) before the
 *   automatic rewrite starts, or to auto-aof-rewrite-min-size while the base is small;
 * - during the rewrite the new base file (up to the dataset size) is written beside the old files;
 * - an RDB snapshot (up to the dataset size) when RDB is enabled.
 * The dataset on disk is bounded by maxmemory (RDB encoding is usually smaller; this errs safe).
 */
export function minimumDataVolumeBytes(maxmemoryBytes: number, aofRewritePercentage: number, aofRewriteMinSizeBytes: number, rdbSnapshots: boolean): number {
  const aofAtTrigger = Math.max(maxmemoryBytes * (1 + aofRewritePercentage / 100), aofRewriteMinSizeBytes);
  const rewriteNewBase = maxmemoryBytes;
  const rdb = rdbSnapshots ? maxmemoryBytes : 0;
  return Math.ceil(aofAtTrigger + rewriteNewBase + rdb);
}

export function computeSizing(input: SizingInput): Sizing {
  const memoryLimitBytes = input.memoryLimitMiB * MiB;
  const forkHeadroomBytes = Math.floor((memoryLimitBytes * input.forkHeadroomPercent) / 100);
  const maxmemoryBytes = input.maxmemoryMiB !== undefined ? input.maxmemoryMiB * MiB : maxmemoryFor(input.memoryLimitMiB, input.forkHeadroomPercent);
  const nonDatasetReserveBytes = Math.max(0, memoryLimitBytes - 2 * maxmemoryBytes);
  const replicaOutputBufferHardBytes = Math.max(16 * MiB, Math.floor(nonDatasetReserveBytes / 2 / MiB) * MiB);
  const aofRewriteMinSizeBytes = input.aofRewriteMinSizeMiB * MiB;
  const minimum = minimumDataVolumeBytes(maxmemoryBytes, input.aofRewritePercentage, aofRewriteMinSizeBytes, input.rdbSnapshots);
  const dataVolumeBytes = input.dataVolumeMiB !== undefined ? input.dataVolumeMiB * MiB : Math.ceil((minimum * input.volumeHeadroomFactor) / MiB) * MiB;
  return {
    memoryLimitBytes,
    forkHeadroomBytes,
    maxmemoryBytes,
    nonDatasetReserveBytes,
    replicaOutputBufferHardBytes,
    replicaOutputBufferSoftBytes: replicaOutputBufferHardBytes / 2,
    aofRewriteMinSizeBytes,
    minimumDataVolumeBytes: minimum,
    dataVolumeBytes,
    rewriteReserveBytes: maxmemoryBytes,
    rssDangerBytes: Math.floor(memoryLimitBytes * 0.9),
  };
}
