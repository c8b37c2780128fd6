import * as fc from "fast-check";
import {
  computeSizing,
  DEFAULT_FORK_HEADROOM_PERCENT,
  FORK_PEAK_TARGET,
  maxmemoryFor,
  minimumDataVolumeBytes,
  MiB,
  MINIMUM_FORK_HEADROOM_PERCENT,
  minimumForkHeadroomPercent,
  modelledForkPeakBytes,
} from "../../components/redis/sizing";

const base = { memoryLimitMiB: 512, forkHeadroomPercent: 75, aofRewritePercentage: 100, aofRewriteMinSizeMiB: 64, rdbSnapshots: false, volumeHeadroomFactor: 1.5 };

describe("sizing", () => {
  it("keeps maxmemory at (100 - headroom)% of the container limit", () => {
    expect(maxmemoryFor(512, 60)).toBe(Math.floor(512 * MiB * 0.4));
    expect(maxmemoryFor(256, 60)).toBe(107374182);
  });

  it("at the default headroom, a full copy of a 1.5x fragmented dataset plus the baseline and the reserve stays within 90% of the limit", () => {
    const sizing = computeSizing(base);
    // 512 MiB: maxmemory 128 MiB; the server 1.5 x 128 + 16 = 208, its child's copy 192: 400 MiB.
    expect(sizing.maxmemoryBytes).toBe(128 * MiB);
    expect(modelledForkPeakBytes(sizing.maxmemoryBytes)).toBe(400 * MiB);
    expect(sizing.nonDatasetReserveBytes).toBe(Math.floor(0.9 * 512 * MiB) - 400 * MiB);
    expect(modelledForkPeakBytes(sizing.maxmemoryBytes) + sizing.nonDatasetReserveBytes).toBeLessThanOrEqual(0.9 * sizing.memoryLimitBytes);
  });

  it("derives the headroom floor from the model: 70% at any limit, more where the baseline weighs (75% at 128 MiB, 73% at 256, 72% at 512)", () => {
    expect(MINIMUM_FORK_HEADROOM_PERCENT).toBe(70);
    expect([128, 256, 512, 4096].map(minimumForkHeadroomPercent)).toEqual([75, 73, 72, 71]);
    expect(DEFAULT_FORK_HEADROOM_PERCENT).toBe(75);
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 1024 * 1024 }), (limitMiB) => {
        const headroom = minimumForkHeadroomPercent(limitMiB);
        const fits = (percent: number) => modelledForkPeakBytes(maxmemoryFor(limitMiB, percent)) <= FORK_PEAK_TARGET * limitMiB * MiB;
        // The smallest headroom that fits: the one below it does not.
        return fits(headroom) && !fits(headroom - 1) && headroom >= MINIMUM_FORK_HEADROOM_PERCENT;
      }),
      { numRuns: 300 },
    );
  });

  it("caps replica output buffers inside the reserve, never below 16 MiB", () => {
    const sizing = computeSizing(base);
    expect(sizing.replicaOutputBufferHardBytes).toBeLessThanOrEqual(sizing.nonDatasetReserveBytes / 2);
    expect(computeSizing({ ...base, forkHeadroomPercent: 60 }).replicaOutputBufferHardBytes).toBe(16 * MiB);
  });

  it("sizes the volume for the AOF at its rewrite trigger, the rewrite's new base, and an RDB when enabled", () => {
    const maxmemory = 100 * MiB;
    expect(minimumDataVolumeBytes(maxmemory, 100, 64 * MiB, false)).toBe(200 * MiB + 100 * MiB);
    expect(minimumDataVolumeBytes(maxmemory, 100, 64 * MiB, true)).toBe(400 * MiB);
    // A small dataset still lets the AOF reach the min size before the first rewrite.
    expect(minimumDataVolumeBytes(10 * MiB, 100, 64 * MiB, false)).toBe(74 * MiB);
  });

  it("applies the headroom factor to the minimum unless a volume size is given", () => {
    const sizing = computeSizing(base);
    expect(sizing.dataVolumeBytes).toBeGreaterThanOrEqual(sizing.minimumDataVolumeBytes * 1.5);
    expect(sizing.dataVolumeBytes % MiB).toBe(0);
    expect(computeSizing({ ...base, dataVolumeMiB: 4096 }).dataVolumeBytes).toBe(4096 * MiB);
  });

  it("uses an explicit maxmemory when one is given", () => {
    expect(computeSizing({ ...base, maxmemoryMiB: 100 }).maxmemoryBytes).toBe(100 * MiB);
  });
});
