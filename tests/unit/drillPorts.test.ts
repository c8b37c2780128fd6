import { drillPortWindow } from "../../drills/harness/processes";

describe("drill port window", () => {
  it("stays below the kernel's ephemeral range, where clients' outgoing ports would collide", () => {
    expect(drillPortWindow(32768, "")).toEqual({ from: 10000, to: 32668 });
    expect(drillPortWindow(20000, "").to).toBeLessThan(20000);
  });

  it("gives jest workers running drill files side by side disjoint shares", () => {
    const first = drillPortWindow(32768, "1");
    const second = drillPortWindow(32768, "2");
    expect(first.to).toBeLessThanOrEqual(second.from);
    expect(second.to).toBeLessThan(32768);
    expect(first.to - first.from).toBeGreaterThan(1000);
  });
});
