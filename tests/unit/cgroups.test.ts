// The drills' cgroups (drills/harness/cgroups.ts) against a fake /sys/fs/cgroup that enforces the
// kernel's rules (tests/helpers/fakeCgroupFs.ts): this machine runs v1, GitHub's runners v2, and
// the v2 path must be right before a hosted runner ever runs it.
import * as path from "node:path";
import { cgroupsUnusable, createCgroup, detectCgroups, leftoverCgroups, type Controller, type Detection, type HostView } from "../../drills/harness/cgroups";
import { FakeCgroupFs, type FakeKernelOptions } from "../helpers/fakeCgroupFs";
import { cleanedTempDirs } from "../helpers/tempDirs";

const tempDir = cleanedTempDirs();
const MiB = 1024 * 1024;
const DRILL_PID = 4242;
const NO_SWAP = "Filename\tType\tSize\tUsed\tPriority\n";
const SWAP_ON = `${NO_SWAP}/swapfile\tfile\t4194300\t0\t-2\n`;

function fakeHost(options: FakeKernelOptions, host: Partial<Omit<HostView, "fs" | "root">> = {}): { kernel: FakeCgroupFs; host: HostView } {
  const root = tempDir("veza-fake-cgroup-");
  const kernel = new FakeCgroupFs(root, options);
  return { kernel, host: { root, fs: kernel, selfCgroup: "0::/\n", swaps: NO_SWAP, pid: DRILL_PID, ...host } };
}

const under = (root: string) => (file: string) => file === root || file.startsWith(`${root}/`);
const relative = (host: HostView, detection: Detection) =>
  detection.version === "v2" ? { ...detection, mount: path.relative(host.root, detection.mount), parent: path.relative(host.root, detection.parent) } : detection;

describe("detecting which cgroup version the drills can use", () => {
  const both: Controller[] = ["memory", "cpu"];

  it("unified (v2) as root: groups go under the mount's root cgroup", () => {
    const { host } = fakeHost({ layout: "v2" });
    expect(relative(host, detectCgroups(both, host))).toEqual({ version: "v2", mount: "", parent: "", via: "mount root" });
  });

  it("hybrid, as this machine is: v2 at unified offers only hugetlb, so memory and cpu come from v1", () => {
    const { host } = fakeHost({ layout: "hybrid" });
    expect(detectCgroups(both, host)).toEqual({ version: "v1", dirs: { memory: path.join(host.root, "memory"), cpu: path.join(host.root, "cpu") } });
  });

  it("v2 without root, in a scope delegated to this user: groups go under that own cgroup", () => {
    const scope = "user.slice/user-1000.slice/user@1000.service/app.slice/run-drill.scope";
    const { kernel, host } = fakeHost({ layout: "v2", rootEnables: ["cpu", "memory", "pids"] }, { selfCgroup: `0::/${scope}\n` });
    // systemd enables the controllers down to the scope (its parent's subtree_control) and chowns it.
    kernel.makeCgroup("user.slice/user-1000.slice/user@1000.service/app.slice", { enables: ["cpu", "memory"] });
    kernel.makeCgroup(scope, { procs: [DRILL_PID] });
    kernel.options.writable = under(path.join(host.root, scope));
    expect(relative(host, detectCgroups(both, host))).toEqual({ version: "v2", mount: "", parent: scope, via: "own cgroup" });
  });

  it("v2 with nothing writable: none, and the reason says to run as root or delegate a scope", () => {
    const { host, kernel } = fakeHost({ layout: "v2" }, { selfCgroup: "0::/system.slice/runner.service\n" });
    kernel.makeCgroup("system.slice/runner.service", { procs: [100, DRILL_PID] });
    kernel.options.writable = () => false;
    const detection = detectCgroups(both, host);
    expect(detection.version).toBe("none");
    expect(detection.version === "none" && detection.reason).toMatch(
      /^no usable cgroup for memory and cpu: cgroup v2 at .*: its root cgroup is not writable \(run as root\), and this process's own cgroup is not usable either \(.*system\.slice\/runner\.service cannot give its children memory, cpu .*Delegate=yes.*VEZA_DRILL_CGROUP_PARENT\); no cgroup v1 memory hierarchy at .*$/,
    );
  });

  it("VEZA_DRILL_CGROUP_PARENT names the delegated subtree to use, and one that cannot serve is refused with no fallback to the root", () => {
    const { kernel, host } = fakeHost({ layout: "v2", rootEnables: ["memory", "cpu"] }, { delegatedParent: "drills.slice" });
    kernel.makeCgroup("drills.slice");
    expect(relative(host, detectCgroups(both, host))).toEqual({ version: "v2", mount: "", parent: "drills.slice", via: "delegated" });

    const other = fakeHost({ layout: "v2", rootEnables: ["memory"] }, { delegatedParent: "drills.slice" });
    other.kernel.makeCgroup("drills.slice");
    expect(detectCgroups(both, other.host)).toEqual({ version: "none", reason: expect.stringMatching(/^VEZA_DRILL_CGROUP_PARENT=drills\.slice: .*drills\.slice cannot give its children cpu /) });
  });

  it("v2 lacking a controller and no v1: none, naming the missing controller and what the mount has", () => {
    const { host } = fakeHost({ layout: "v2", controllers: ["memory", "pids"] });
    expect(detectCgroups(["cpu"], host)).toEqual({ version: "none", reason: expect.stringContaining("has no cpu controller (it has: memory pids)") });
    expect(detectCgroups(["memory"], host).version).toBe("v2");
  });

  it("v1 not writable (not root): none, saying so", () => {
    const { host, kernel } = fakeHost({ layout: "v1" });
    kernel.options.writable = () => false;
    expect(detectCgroups(["memory"], host)).toEqual({ version: "none", reason: `no usable cgroup for memory: cgroup v1 ${path.join(host.root, "memory")} is not writable (run as root)` });
  });

  it("no cgroup filesystem at all: none, naming what is missing", () => {
    const root = tempDir("veza-no-cgroup-");
    const host: HostView = { root, fs: new FakeCgroupFs(tempDir("veza-unused-"), { layout: "v1" }), selfCgroup: "", swaps: NO_SWAP, pid: DRILL_PID };
    expect(detectCgroups(["memory", "cpu"], host)).toEqual({
      version: "none",
      reason: `no usable cgroup for memory and cpu: no cgroup v1 memory hierarchy at ${root}/memory; no cgroup v1 cpu hierarchy at ${root}/cpu`,
    });
  });
});

describe("a scenario on a host without usable cgroups", () => {
  const { host, kernel } = fakeHost({ layout: "v1" });
  kernel.options.writable = () => false;

  it("fails in CI, with the reason: a skipped drill would pass a job that measured nothing", () => {
    const outcome = cgroupsUnusable(["memory"], host, { CI: "true" });
    expect(outcome).toEqual({
      passed: false,
      failures: [expect.stringMatching(/^no usable cgroup for memory: .*not writable \(run as root\) \(CI is set: a drill that cannot run fails here, it is not skipped\)$/)],
      figures: {},
    });
  });

  it.each([
    ["CI unset", {}],
    ["CI=false", { CI: "false" }],
    ["CI empty", { CI: "" }],
  ])("is skipped with the reason elsewhere (%s)", (_, env) => {
    expect(cgroupsUnusable(["memory"], host, env)).toEqual({ passed: true, failures: [], figures: {}, skipped: expect.stringMatching(/^no usable cgroup for memory: .*not writable/) });
  });

  it("runs where a version is usable, in CI or not", () => {
    const usable = fakeHost({ layout: "v2" });
    expect(cgroupsUnusable(["memory", "cpu"], usable.host, { CI: "true" })).toBeUndefined();
    expect(cgroupsUnusable(["memory", "cpu"], usable.host, {})).toBeUndefined();
  });
});

describe("cgroup v2 groups", () => {
  function v2(options: Partial<FakeKernelOptions> = {}, host: Partial<Omit<HostView, "fs" | "root">> = {}) {
    const fake = fakeHost({ layout: "v2", ...options }, host);
    fake.kernel.spawn(fake.host.root, 555); // a redis-server, started beside the drill
    return { ...fake, detection: detectCgroups(["memory", "cpu"], fake.host) };
  }

  it("a memory limit: enables memory in the parent's subtree_control, writes memory.max and memory.swap.max=0, and joins the process", () => {
    const { kernel, host, detection } = v2({ rootEnables: ["pids"] }, { swaps: SWAP_ON });
    const group = createCgroup(detection, "veza-drill-1-memory-declared", { memoryBytes: 256 * MiB, swapOff: true }, host);
    group.join(555);
    const dir = path.join(host.root, "veza-drill-1-memory-declared");
    expect(group.version).toBe("v2");
    expect(group.dirs).toEqual([dir]);
    expect(kernel.read(path.join(host.root, "cgroup.subtree_control")).trim()).toBe("pids memory");
    expect(kernel.read(path.join(dir, "memory.max")).trim()).toBe(String(256 * MiB));
    expect(kernel.read(path.join(dir, "memory.swap.max")).trim()).toBe("0");
    expect(kernel.cgroupsOf(555)).toEqual([dir]);
    // The root cgroup may hold processes: nothing was moved to make room.
    expect(kernel.procs(host.root)).toEqual(["1"]);
  });

  it('a cpu limit: cpu.max is "quota period" (10% of a CPU: 10000 of 100000 µs)', () => {
    const { kernel, host, detection } = v2();
    const group = createCgroup(detection, "veza-drill-1-lagging-redis-1", { cpuPercent: 10 }, host);
    expect(kernel.read(path.join(group.dirs[0], "cpu.max")).trim()).toBe("10000 100000");
    expect(kernel.read(path.join(host.root, "cgroup.subtree_control")).trim()).toBe("memory pids cpu");
    expect(kernel.writes.map(([file]) => file)).not.toContain(path.join("veza-drill-1-lagging-redis-1", "memory.max"));
  });

  it("a pids limit (a container's --pids-limit): pids.max, and pids.current read back", () => {
    const { kernel, host } = v2({ rootEnables: [] });
    const group = createCgroup(detectCgroups(["pids"], host), "veza-drill-1-redis-0-pids", { pidsMax: 64 }, host);
    expect(kernel.read(path.join(host.root, "cgroup.subtree_control")).trim()).toBe("pids");
    expect(kernel.read(path.join(group.dirs[0], "pids.max")).trim()).toBe("64");
    expect(group.pidsCurrent()).toBe(0);
    expect(group.members()).toEqual([]);
    group.join(555);
    expect(group.members()).toEqual([555]);
  });

  it("reads anonymous memory from memory.stat anon, the peak from memory.peak, OOM kills from memory.events oom_kill and oom_group_kill", () => {
    const { kernel, host, detection } = v2();
    const group = createCgroup(detection, "veza-drill-1-memory-runbook", { memoryBytes: 256 * MiB }, host);
    const dir = group.dirs[0];
    kernel.setFile(dir, "memory.current", String(200 * MiB));
    kernel.setFile(dir, "memory.stat", `anon ${150 * MiB}\nfile ${50 * MiB}\nkernel 123`);
    kernel.setFile(dir, "memory.peak", String(256 * MiB));
    kernel.setFile(dir, "memory.events", "low 0\nhigh 0\nmax 917\noom 3\noom_kill 2\noom_group_kill 0");
    expect(group.sampleMemory()).toEqual({ usageBytes: 200 * MiB, anonBytes: 150 * MiB, pageCacheBytes: 50 * MiB });
    expect(group.peakUsage()).toEqual({ bytes: 256 * MiB, source: "memory.peak" });
    expect(group.oomKills()).toEqual({ kills: 2, groupKills: 0 });
  });

  it("before kernel 5.19 (no memory.peak) the peak is the largest sampled memory.current, and unsampled it is an error, not 0", () => {
    const { kernel, host, detection } = v2({ memoryPeak: false, oomGroupKill: false });
    const group = createCgroup(detection, "veza-drill-1-memory-old-kernel", { memoryBytes: 64 * MiB }, host);
    const dir = group.dirs[0];
    expect(() => group.peakUsage()).toThrow(/memory\.peak is missing \(kernel before 5\.19\) and memory\.current was never sampled/);
    for (const mib of [10, 60, 30]) {
      kernel.setFile(dir, "memory.current", String(mib * MiB));
      group.sampleMemory();
    }
    expect(group.peakUsage()).toEqual({ bytes: 60 * MiB, source: "sampled memory.current" });
    expect(group.oomKills()).toEqual({ kills: 0, groupKills: undefined });
  });

  it("a counter the kernel does not give is an error naming the file, never a 0 that would pass a target", () => {
    const { kernel, host, detection } = v2();
    const group = createCgroup(detection, "veza-drill-1-memory-counters", { memoryBytes: 64 * MiB }, host);
    kernel.setFile(group.dirs[0], "memory.events", "low 0\nhigh 0");
    kernel.setFile(group.dirs[0], "memory.stat", "file 0");
    expect(() => group.oomKills()).toThrow(`${group.dirs[0]}/memory.events has no oom_kill line`);
    expect(() => group.sampleMemory()).toThrow(`${group.dirs[0]}/memory.stat has no anon line`);
  });

  it("swap: active swap with no memory.swap.max (no swap accounting) is refused; without active swap there is nothing to turn off", () => {
    const { host, detection } = v2({ swapAccounting: false }, { swaps: SWAP_ON });
    expect(() => createCgroup(detection, "veza-drill-1-swap", { memoryBytes: 64 * MiB, swapOff: true }, host)).toThrow(
      /swap is on and .*veza-drill-1-swap has no memory\.swap\.max \(kernel without swap accounting/,
    );
    // The refused group is not left behind.
    expect(leftoverCgroups(host)).toEqual([]);
    const quiet = v2({ swapAccounting: false });
    const group = createCgroup(quiet.detection, "veza-drill-1-swap", { memoryBytes: 64 * MiB, swapOff: true }, quiet.host);
    expect(quiet.kernel.exists(path.join(group.dirs[0], "memory.swap.max"))).toBe(false);
  });

  it("removing the last group leaves the root's subtree_control as it is (other cgroups there may use the controllers)", () => {
    const { kernel, host, detection } = v2({ rootEnables: [] });
    kernel.makeCgroup("system.slice", { procs: [300] });
    const group = createCgroup(detection, "veza-drill-1-memory-declared", { memoryBytes: 64 * MiB }, host);
    group.join(555);
    kernel.exit(555);
    group.remove();
    expect(leftoverCgroups(host)).toEqual([]);
    expect(kernel.read(path.join(host.root, "cgroup.subtree_control")).trim()).toBe("memory");
  });

  describe("in a non-root parent that holds processes (the no-internal-processes rule)", () => {
    const scope = "user.slice/user-1000.slice/user@1000.service/app.slice/run-drill.scope";
    function delegated() {
      const fake = fakeHost({ layout: "v2", rootEnables: ["cpu", "memory", "pids"] }, { selfCgroup: `0::/${scope}\n` });
      fake.kernel.makeCgroup("user.slice/user-1000.slice/user@1000.service/app.slice", { enables: ["cpu", "memory"] });
      // npm, its shell, and this drill process, as `systemd-run --user --scope -p Delegate=yes npm run drill` leaves them.
      const dir = fake.kernel.makeCgroup(scope, { procs: [4000, 4001, DRILL_PID] });
      fake.kernel.options.writable = under(dir);
      return { ...fake, dir, detection: detectCgroups(["memory", "cpu"], fake.host) };
    }

    it("the fake kernel refuses to enable controllers there directly, as Linux does", () => {
      const { kernel, dir } = delegated();
      expect(() => kernel.write(path.join(dir, "cgroup.subtree_control"), "+memory")).toThrow(/EBUSY/);
    });

    it("moves the parent's processes to a leaf, enables the controllers, and puts the group beside the leaf", () => {
      const { kernel, host, dir, detection } = delegated();
      expect(detection).toEqual({ version: "v2", mount: host.root, parent: dir, via: "own cgroup" });
      const group = createCgroup(detection, "veza-drill-4242-memory-declared", { memoryBytes: 256 * MiB, cpuPercent: 50 }, host);
      kernel.spawn(path.join(dir, "veza-drill-4242-leaf"), 777); // the drill starts redis-server: it lands in the leaf
      group.join(777);
      expect(kernel.children(dir).sort()).toEqual(["veza-drill-4242-leaf", "veza-drill-4242-memory-declared"]);
      expect(kernel.procs(dir)).toEqual([]);
      expect(kernel.procs(path.join(dir, "veza-drill-4242-leaf"))).toEqual(["4000", "4001", String(DRILL_PID)]);
      expect(kernel.read(path.join(dir, "cgroup.subtree_control")).trim()).toBe("memory cpu");
      expect(kernel.read(path.join(group.dirs[0], "memory.max")).trim()).toBe(String(256 * MiB));
      expect(kernel.read(path.join(group.dirs[0], "cpu.max")).trim()).toBe("50000 100000");
      expect(kernel.procs(group.dirs[0])).toEqual(["777"]);
    });

    it("after the last group: controllers disabled again, the processes back in the parent, the leaf gone; a second group shares the setup", () => {
      const { kernel, host, dir, detection } = delegated();
      const first = createCgroup(detection, "veza-drill-4242-lagging-redis-1", { cpuPercent: 10 }, host);
      const second = createCgroup(detection, "veza-drill-4242-lagging-redis-2", { cpuPercent: 10 }, host);
      expect(kernel.writes.filter(([file]) => file.endsWith(`${scope}/cgroup.subtree_control`))).toEqual([[`${scope}/cgroup.subtree_control`, "+cpu"]]);
      first.remove();
      expect(kernel.children(dir).sort()).toEqual(["veza-drill-4242-lagging-redis-2", "veza-drill-4242-leaf"]);
      second.remove();
      expect(kernel.children(dir)).toEqual([]);
      expect(kernel.read(path.join(dir, "cgroup.subtree_control")).trim()).toBe("");
      expect(kernel.procs(dir).sort()).toEqual(["4000", "4001", String(DRILL_PID)]);
      expect(leftoverCgroups(host)).toEqual([]);
    });

    it("a process that exits between listing and moving (ESRCH) is passed over", () => {
      const { kernel, host, dir, detection } = delegated();
      const realWrite = kernel.write.bind(kernel);
      kernel.write = (file, text) => {
        if (file.endsWith("-leaf/cgroup.procs") && text === "4001") kernel.exit(4001);
        realWrite(file, text);
      };
      createCgroup(detection, "veza-drill-4242-memory-declared", { memoryBytes: 64 * MiB }, host);
      expect(kernel.procs(path.join(dir, "veza-drill-4242-leaf"))).toEqual(["4000", String(DRILL_PID)]);
    });
  });
});

describe("cgroup v1 groups", () => {
  function v1(options: Partial<FakeKernelOptions> = {}, swaps = NO_SWAP) {
    const fake = fakeHost({ layout: "v1", ...options }, { swaps });
    fake.kernel.spawn(path.join(fake.host.root, "memory"), 555);
    fake.kernel.spawn(path.join(fake.host.root, "cpu"), 555);
    return { ...fake, detection: detectCgroups(["memory", "cpu"], fake.host) };
  }

  it("memory: memory.limit_in_bytes, then memory+swap to the same value (the kernel refuses it below memory), and the process joins", () => {
    const { kernel, host, detection } = v1({}, SWAP_ON);
    const group = createCgroup(detection, "veza-drill-1-memory-declared", { memoryBytes: 256 * MiB, swapOff: true }, host);
    group.join(555);
    const dir = path.join(host.root, "memory", "veza-drill-1-memory-declared");
    expect(group.dirs).toEqual([dir]);
    expect(kernel.read(path.join(dir, "memory.limit_in_bytes")).trim()).toBe(String(256 * MiB));
    expect(kernel.read(path.join(dir, "memory.memsw.limit_in_bytes")).trim()).toBe(String(256 * MiB));
    expect(kernel.cgroupsOf(555)).toEqual([path.join(host.root, "cpu"), dir]);
  });

  it("cpu: cfs period 100000 µs and quota 10000 for 10% of a CPU", () => {
    const { kernel, host, detection } = v1();
    const group = createCgroup(detection, "veza-drill-1-lagging-redis-1", { cpuPercent: 10 }, host);
    const dir = path.join(host.root, "cpu", "veza-drill-1-lagging-redis-1");
    expect(group.dirs).toEqual([dir]);
    expect([kernel.read(path.join(dir, "cpu.cfs_period_us")).trim(), kernel.read(path.join(dir, "cpu.cfs_quota_us")).trim()]).toEqual(["100000", "10000"]);
  });

  it("pids: pids.max in the pids hierarchy, pids.current read back; a group without it says so", () => {
    const { kernel, host } = v1();
    const group = createCgroup(detectCgroups(["pids"], host), "veza-drill-1-redis-0-pids", { pidsMax: 64 }, host);
    const dir = path.join(host.root, "pids", "veza-drill-1-redis-0-pids");
    expect(group.dirs).toEqual([dir]);
    expect(kernel.read(path.join(dir, "pids.max")).trim()).toBe("64");
    expect(group.pidsCurrent()).toBe(0);
    kernel.spawn(path.join(host.root, "pids"), 556);
    group.join(556);
    expect(group.members()).toEqual([556]);
    expect(() => createCgroup(detectCgroups(["cpu"], host), "veza-drill-1-cpu-only", { cpuPercent: 10 }, host).pidsCurrent()).toThrow(/no pids limit/);
  });

  it("both limits: one directory per hierarchy, the process joins both, remove takes both away", () => {
    const { kernel, host, detection } = v1();
    const group = createCgroup(detection, "veza-drill-1-both", { memoryBytes: 64 * MiB, cpuPercent: 25 }, host);
    group.join(555);
    expect(kernel.cgroupsOf(555).sort()).toEqual(group.dirs.sort());
    expect(leftoverCgroups(host).sort()).toEqual(group.dirs.sort());
    kernel.exit(555);
    group.remove();
    expect(leftoverCgroups(host)).toEqual([]);
  });

  it("reads total_rss, memory.max_usage_in_bytes and memory.oom_control oom_kill; a kernel without oom_kill (before 4.13) is an error, not 0", () => {
    const { kernel, host, detection } = v1();
    const group = createCgroup(detection, "veza-drill-1-memory-runbook", { memoryBytes: 256 * MiB }, host);
    const dir = group.dirs[0];
    kernel.setFile(dir, "memory.usage_in_bytes", String(250 * MiB));
    kernel.setFile(dir, "memory.stat", `cache ${10 * MiB}\nrss ${200 * MiB}\ntotal_cache ${10 * MiB}\ntotal_rss ${240 * MiB}`);
    kernel.setFile(dir, "memory.max_usage_in_bytes", String(256 * MiB));
    kernel.setFile(dir, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2");
    expect(group.sampleMemory()).toEqual({ usageBytes: 250 * MiB, anonBytes: 240 * MiB, pageCacheBytes: 10 * MiB });
    expect(group.peakUsage()).toEqual({ bytes: 256 * MiB, source: "memory.max_usage_in_bytes" });
    expect(group.oomKills()).toEqual({ kills: 2 });

    const old = v1({ v1OomKill: false });
    const oldGroup = createCgroup(old.detection, "veza-drill-1-memory-runbook", { memoryBytes: 256 * MiB }, old.host);
    expect(() => oldGroup.oomKills()).toThrow(/memory\.oom_control has no oom_kill line \(kernels before 4\.13/);
  });

  it("active swap without memory.memsw (swapaccount=0) is refused, and the half-made group removed", () => {
    const { host, detection } = v1({ swapAccounting: false }, SWAP_ON);
    expect(() => createCgroup(detection, "veza-drill-1-memory-declared", { memoryBytes: 64 * MiB, swapOff: true }, host)).toThrow(/swap is on and .* has no memory\.memsw\.limit_in_bytes/);
    expect(leftoverCgroups(host)).toEqual([]);
  });

  it("refuses a name that is not a drill's (leftover checks look for the prefix)", () => {
    const { host, detection } = v1();
    expect(() => createCgroup(detection, "redis", { cpuPercent: 10 }, host)).toThrow(/must|single name starting with veza-drill-/);
  });
});
