import { computeSizing, maxmemoryFor, minimumDataVolumeBytes, MiB } from "../../components/redis/sizing";

const base = { memoryLimitMiB: 512, forkHeadroomPercent: 60, aofRewritePercentage: 100, aofRewriteMinSizeMiB: 64, rdbSnapshots: false, volumeHeadroomFactor: 1.5 };

describe("sizing", () => {
  it("keeps maxmemory at (100 - headroom)% of the container limit", () => {
    expect(maxmemoryFor(512, 60)).toBe(Math.floor(512 * MiB * 0.4));
    expect(maxmemoryFor(256, 60)).toBe(107374182);
  });

  it("leaves room for a full copy-on-write doubling plus a reserve at the default headroom", () => {
    const sizing = computeSizing(base);
    expect(2 * sizing.maxmemoryBytes).toBeLessThan(sizing.memoryLimitBytes);
    expect(sizing.nonDatasetReserveBytes).toBe(sizing.memoryLimitBytes - 2 * sizing.maxmemoryBytes);
    expect(sizing.nonDatasetReserveBytes / sizing.memoryLimitBytes).toBeCloseTo(0.2, 2);
  });

  it("caps replica output buffers inside the reserve, never below 16 MiB", () => {
    const sizing = computeSizing(base);
    expect(sizing.replicaOutputBufferHardBytes).toBeLessThanOrEqual(sizing.nonDatasetReserveBytes / 2);
    expect(computeSizing({ ...base, forkHeadroomPercent: 50 }).replicaOutputBufferHardBytes).toBe(16 * MiB);
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
