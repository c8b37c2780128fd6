// Memory and disk sizing for one Redis data node: plain arithmetic, computed once, and fed to
// redis.conf, the container spec, the policy pack, the alert thresholds and the drills.

export const MiB = 1024 * 1024;

/*
 * The fork memory model (docs/memory-under-fork.md has the measurements). While a BGSAVE or
 * BGREWRITEAOF child runs, every page the server writes is copied. Writes spread over the keyspace
 * (sessions, rate-limit counters) touch most pages within one fork whatever the write rate, so the
 * model assumes a full copy, which no machine speed can exceed:
 *   peak anonymous memory = 2 x (fragmentation x maxmemory) + server baseline  <=  peak target x limit
 * A flat headroom with a 2x doubling alone (the earlier 60 %) ignored fragmentation: at 102 MiB of
 * dataset the server held 142-148 MiB (ratio 1.32-1.44), a fork copied up to 121 MiB of it, and
 * fork children were OOM-killed at 0.96-1.00 of the limit.
 */
/** The highest share of the limit the server and its fork child may reach together (the drill asserts it). */
export const FORK_PEAK_TARGET = 0.9;
/** Resident memory per byte of used_memory the model allows (measured at most 1.44, mem_fragmentation_ratio). */
export const FRAGMENTATION_ALLOWANCE = 1.5;
/** Anonymous memory that is not dataset: the server's own (2.7 MiB idle), client and AOF buffers. */
export const SERVER_BASELINE_MIB = 16;

/** Drops float noise before rounding up (100 x (1 - 0.9 / 3) is 70.00000000000001). */
const ceilPercent = (percent: number) => Math.ceil(Math.round(percent * 1e6) / 1e6);

/** The smallest headroom at which the model's peak stays within the target, for this limit. */
export function minimumForkHeadroomPercent(memoryLimitMiB: number): number {
  const datasetShare = (FORK_PEAK_TARGET * memoryLimitMiB - SERVER_BASELINE_MIB) / (2 * FRAGMENTATION_ALLOWANCE * memoryLimitMiB);
  return ceilPercent(100 * (1 - datasetShare));
}

/** What the model lets the server hold when it forks: its fragmented dataset and its baseline. */
export function modelledServerBytes(maxmemoryBytes: number): number {
  return Math.ceil(FRAGMENTATION_ALLOWANCE * maxmemoryBytes + SERVER_BASELINE_MIB * MiB);
}

/** The model's peak: the server, plus the child's copy of every dataset page. */
export function modelledForkPeakBytes(maxmemoryBytes: number): number {
  return modelledServerBytes(maxmemoryBytes) + Math.ceil(FRAGMENTATION_ALLOWANCE * maxmemoryBytes);
}

/** The floor at any limit: the model without its baseline (70 %); minimumForkHeadroomPercent adds it per limit. */
export const MINIMUM_FORK_HEADROOM_PERCENT = ceilPercent(100 * (1 - FORK_PEAK_TARGET / (2 * FRAGMENTATION_ALLOWANCE)));

/**
 * Default: 75 %, i.e. maxmemory = 25 % of the limit: the model's minimum for every limit from
 * 128 MiB up (73 % at 256 MiB, 72 % at 512 MiB). ElastiCache also reserves 25 %, but throttles
 * writes during snapshots; a plain container does not, so the full copy is budgeted instead.
 */
export const DEFAULT_FORK_HEADROOM_PERCENT = minimumForkHeadroomPercent(128);

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
  /** What the peak target leaves beside the model's fork peak: target x limit - modelledForkPeakBytes. */
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
  const nonDatasetReserveBytes = Math.max(0, Math.floor(FORK_PEAK_TARGET * memoryLimitBytes) - modelledForkPeakBytes(maxmemoryBytes));
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
