// Memory, cpu and pids limits for the drills' processes, on cgroup v1 (a hierarchy per
// controller) or v2 (the unified hierarchy), as a container runtime would set them.
//
// Every path is under `HostView.root` and every operation goes through `HostView.fs`, so that the
// tests can run all of it on a fake /sys/fs/cgroup that applies the kernel's rules.
//
// v2 needs, besides root or a delegated subtree (see pickV2Parent):
// - the controllers enabled in the parent's cgroup.subtree_control (done here when missing);
// - the "no internal processes" rule: a non-root cgroup with processes cannot enable controllers
//   for its children, so those processes are first moved to a leaf (and moved back at the end).
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";

export type Controller = "memory" | "cpu" | "pids";
export type CgroupVersion = "v1" | "v2";

/** Every cgroup the drills make starts with this (the tests look for leftovers by it). */
export const CGROUP_PREFIX = "veza-drill-";

/**
 * The cgroup filesystem's operations, one system call each. The drills use the real one; the tests
 * a fake kernel on a temp dir that enforces the rules this file relies on.
 */
export interface CgroupFs {
  exists(file: string): boolean;
  read(file: string): string;
  /** One write(2) to an existing interface file (cgroupfs never creates files). */
  write(file: string, text: string): void;
  mkdir(dir: string): void;
  rmdir(dir: string): void;
  /** The child cgroups (directories) of a cgroup. */
  children(dir: string): string[];
  /** access(2) W_OK: sees root, file modes (a delegation chowns them) and read-only mounts. */
  writable(file: string): boolean;
}

export const realCgroupFs: CgroupFs = {
  exists: (file) => fs.existsSync(file),
  read: (file) => fs.readFileSync(file, "utf8"),
  write: (file, text) => fs.writeFileSync(file, text),
  mkdir: (dir) => fs.mkdirSync(dir),
  rmdir: (dir) => fs.rmdirSync(dir),
  children: (dir) =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name),
  writable: (file) => {
    try {
      fs.accessSync(file, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/** What detection reads from the host. A parameter so that the tests can fake all of it. */
export interface HostView {
  /** Where the cgroup filesystems are mounted (/sys/fs/cgroup). */
  root: string;
  fs: CgroupFs;
  /** /proc/self/cgroup: on v2 the drill's own cgroup ("0::/path"). */
  selfCgroup: string;
  /** /proc/swaps: whether active swap must be turned off per group. */
  swaps: string;
  /** VEZA_DRILL_CGROUP_PARENT: a delegated v2 subtree (relative to the v2 mount) to use instead. */
  delegatedParent?: string;
  pid: number;
}

export function hostView(): HostView {
  const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
  return {
    root: "/sys/fs/cgroup",
    fs: realCgroupFs,
    selfCgroup: read("/proc/self/cgroup"),
    swaps: read("/proc/swaps"),
    delegatedParent: process.env.VEZA_DRILL_CGROUP_PARENT || undefined,
    pid: process.pid,
  };
}

export type Detection =
  { version: "v1"; dirs: Record<Controller, string> } | { version: "v2"; mount: string; parent: string; via: "delegated" | "mount root" | "own cgroup" } | { version: "none"; reason: string };

const words = (text: string) => text.split(/\s+/).filter(Boolean);

/**
 * v2 where a cgroup2 mount offers the controllers and a parent is writable, else v1 where each
 * controller's hierarchy is writable, else none with every reason found. /sys/fs/cgroup itself is
 * the v2 mount on a unified host; a hybrid host (systemd's default before v2) mounts v2 at
 * /sys/fs/cgroup/unified, usually without memory or cpu, which stay on v1 there.
 */
export function detectCgroups(controllers: Controller[], host: HostView = hostView()): Detection {
  const { fs: cgfs } = host;
  const problems: string[] = [];
  for (const mount of [host.root, path.join(host.root, "unified")]) {
    if (!cgfs.exists(path.join(mount, "cgroup.controllers"))) continue;
    const available = words(cgfs.read(path.join(mount, "cgroup.controllers")));
    const missing = controllers.filter((c) => !available.includes(c));
    if (missing.length > 0) {
      problems.push(`cgroup v2 at ${mount} has no ${missing.join(", ")} controller (it has: ${available.join(" ") || "none"})`);
      continue;
    }
    const parent = pickV2Parent(mount, controllers, host);
    if ("parent" in parent) return { version: "v2", mount, parent: parent.parent, via: parent.via };
    // A delegated parent was asked for by name: never fall back to another place.
    if (host.delegatedParent) return { version: "none", reason: parent.problem };
    problems.push(parent.problem);
  }
  const dirs = {} as Record<Controller, string>;
  for (const controller of controllers) {
    const dir = path.join(host.root, controller);
    if (!cgfs.exists(path.join(dir, "cgroup.procs"))) problems.push(`no cgroup v1 ${controller} hierarchy at ${dir}`);
    else if (!cgfs.writable(dir)) problems.push(`cgroup v1 ${dir} is not writable (run as root)`);
    else dirs[controller] = dir;
  }
  if (controllers.every((c) => dirs[c])) return { version: "v1", dirs };
  return { version: "none", reason: `no usable cgroup for ${controllers.join(" and ")}: ${problems.join("; ")}` };
}

/**
 * Where v2 groups go: the delegated subtree if one is named; else the mount's root cgroup when
 * writable (root; the root cgroup is exempt from the no-internal-processes rule, and the groups
 * then sit beside systemd's slices, as a cgroupfs container runtime's do); else the drill's own
 * cgroup when it was delegated to this user (systemd-run --user --scope -p Delegate=yes).
 */
function pickV2Parent(mount: string, controllers: Controller[], host: HostView): { parent: string; via: "delegated" | "mount root" | "own cgroup" } | { problem: string } {
  const { fs: cgfs } = host;
  const problemWith = (dir: string) => {
    if (!cgfs.exists(path.join(dir, "cgroup.controllers"))) return `${dir} is not a cgroup`;
    const available = words(cgfs.read(path.join(dir, "cgroup.controllers")));
    const missing = controllers.filter((c) => !available.includes(c));
    if (missing.length > 0) return `${dir} cannot give its children ${missing.join(", ")} (its own parent's cgroup.subtree_control lacks it)`;
    const unwritable = [dir, path.join(dir, "cgroup.procs"), path.join(dir, "cgroup.subtree_control")].filter((f) => !cgfs.writable(f));
    return unwritable.length > 0 ? `cannot write ${unwritable.join(", ")}` : undefined;
  };
  if (host.delegatedParent) {
    const dir = path.join(mount, host.delegatedParent);
    const problem = problemWith(dir);
    return problem ? { problem: `VEZA_DRILL_CGROUP_PARENT=${host.delegatedParent}: ${problem}` } : { parent: dir, via: "delegated" };
  }
  if (problemWith(mount) === undefined) return { parent: mount, via: "mount root" };
  const own = ownCgroup(host);
  const ownDir = own === undefined ? undefined : path.join(mount, own);
  const ownProblem = ownDir === undefined ? "this process has no cgroup v2 entry in /proc/self/cgroup" : problemWith(ownDir);
  if (ownDir !== undefined && ownProblem === undefined) return { parent: ownDir, via: "own cgroup" };
  return {
    problem: `cgroup v2 at ${mount}: its root cgroup is not writable (run as root), and this process's own cgroup is not usable either (${ownProblem}; delegate one with systemd-run --scope -p Delegate=yes, or name one in VEZA_DRILL_CGROUP_PARENT)`,
  };
}

function ownCgroup(host: HostView): string | undefined {
  return /^0::(\/.*)$/m.exec(host.selfCgroup)?.[1];
}

export interface CgroupLimits {
  memoryBytes?: number;
  /** No swap for the group: a limit that swaps is not the container's limit (hosted runners have swap). */
  swapOff?: boolean;
  /** Percent of one CPU (a container's --cpus x 100). */
  cpuPercent?: number;
  /** Most tasks (processes and threads) in the group: a container's --pids-limit. */
  pidsMax?: number;
}

export interface MemorySample {
  usageBytes: number;
  anonBytes: number;
  /** File pages charged to the group (v1 total_cache, v2 file): the AOF and RDB writes' page cache, reclaimable. */
  pageCacheBytes: number;
}

export interface OomKills {
  /** Processes of the group killed by the OOM killer. */
  kills: number;
  /** Whole-group OOM kills (v2 with memory.oom.group; undefined on v1 and on kernels without the counter). */
  groupKills?: number;
}

export interface Cgroup {
  readonly version: CgroupVersion;
  /** The group's directories: one per controller on v1, one on v2. */
  readonly dirs: string[];
  join(pid: number): void;
  /** Current charge, anonymous memory and page cache (which the charge includes); the charge is kept for peakUsage's fallback. */
  sampleMemory(): MemorySample;
  /** The peak charge: the kernel's (v1 memory.max_usage_in_bytes, v2 memory.peak) or, on v2 kernels before 5.19, the largest sample. */
  peakUsage(): { bytes: number; source: string };
  oomKills(): OomKills;
  /** Tasks (processes and threads) in the group now. */
  pidsCurrent(): number;
  /** The processes in the group now (cgroup.procs). */
  members(): number[];
  /** Removes the group once its members are gone (waits up to 5 s for killed processes to exit). */
  remove(): void;
}

/** A counter a figure needs: missing is an error with the reason, never read as 0. */
function counter(cgfs: CgroupFs, file: string, key: string, why: string): number {
  const value = optionalCounter(cgfs, file, key);
  if (value === undefined) throw new Error(`${file} has no ${key} line (${why})`);
  return value;
}

function optionalCounter(cgfs: CgroupFs, file: string, key: string): number | undefined {
  const match = new RegExp(`^${key} (\\d+)$`, "m").exec(cgfs.read(file));
  return match ? Number(match[1]) : undefined;
}

function number(cgfs: CgroupFs, file: string): number {
  const text = cgfs.read(file).trim();
  if (!/^\d+$/.test(text)) throw new Error(`${file} reads ${JSON.stringify(text)}, not a byte count`);
  return Number(text);
}

function removeDir(cgfs: CgroupFs, dir: string): void {
  for (let i = 0; i < 50; i++) {
    try {
      cgfs.rmdir(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      // EBUSY while killed members are still exiting.
      spawnSync("sleep", ["0.1"]);
    }
  }
  process.stderr.write(`drill: could not remove cgroup ${dir} (members still in it)\n`);
}

/** The interface file a limit is written to, checked first: a missing one means the controller is off. */
function writeLimit(cgfs: CgroupFs, dir: string, file: string, value: string, controller: Controller, where: string): void {
  if (!cgfs.exists(path.join(dir, file))) throw new Error(`${dir} has no ${file}: the ${controller} controller is not enabled ${where}`);
  cgfs.write(path.join(dir, file), value);
}

function swapActive(host: HostView): boolean {
  return host.swaps
    .split("\n")
    .slice(1)
    .some((line) => line.trim() !== "");
}

export const CPU_PERIOD_US = 100000;
const cpuQuota = (percent: number) => Math.round((percent / 100) * CPU_PERIOD_US);

class V1Cgroup implements Cgroup {
  readonly version = "v1";
  constructor(
    private readonly cgfs: CgroupFs,
    private readonly byController: Partial<Record<Controller, string>>,
  ) {}

  get dirs(): string[] {
    return Object.values(this.byController);
  }

  private memory(file: string): string {
    if (!this.byController.memory) throw new Error("this group has no memory limit");
    return path.join(this.byController.memory, file);
  }

  join(pid: number): void {
    for (const dir of this.dirs) this.cgfs.write(path.join(dir, "cgroup.procs"), String(pid));
  }

  sampleMemory(): MemorySample {
    const stat = this.memory("memory.stat");
    // total_rss: anonymous memory and swap cache, transparent huge pages included.
    return {
      usageBytes: number(this.cgfs, this.memory("memory.usage_in_bytes")),
      anonBytes: counter(this.cgfs, stat, "total_rss", "anonymous memory"),
      pageCacheBytes: counter(this.cgfs, stat, "total_cache", "page cache"),
    };
  }

  peakUsage() {
    return { bytes: number(this.cgfs, this.memory("memory.max_usage_in_bytes")), source: "memory.max_usage_in_bytes" };
  }

  oomKills(): OomKills {
    return { kills: counter(this.cgfs, this.memory("memory.oom_control"), "oom_kill", "kernels before 4.13 do not count OOM kills per group") };
  }

  members(): number[] {
    return [...new Set(this.dirs.flatMap((dir) => words(this.cgfs.read(path.join(dir, "cgroup.procs"))).map(Number)))];
  }

  pidsCurrent(): number {
    if (!this.byController.pids) throw new Error("this group has no pids limit");
    return number(this.cgfs, path.join(this.byController.pids, "pids.current"));
  }

  remove(): void {
    for (const dir of this.dirs.reverse()) removeDir(this.cgfs, dir);
  }
}

class V2Cgroup implements Cgroup {
  readonly version = "v2";
  private sampledPeak = 0;
  private removed = false;
  constructor(
    private readonly cgfs: CgroupFs,
    readonly dir: string,
    private readonly parent: V2Parent,
  ) {}

  get dirs(): string[] {
    return [this.dir];
  }

  join(pid: number): void {
    this.cgfs.write(path.join(this.dir, "cgroup.procs"), String(pid));
  }

  sampleMemory(): MemorySample {
    const usageBytes = number(this.cgfs, path.join(this.dir, "memory.current"));
    // v2's memory.stat is hierarchical without v1's total_ prefix; anon includes THP.
    const stat = path.join(this.dir, "memory.stat");
    const anonBytes = counter(this.cgfs, stat, "anon", "anonymous memory");
    const pageCacheBytes = counter(this.cgfs, stat, "file", "page cache");
    this.sampledPeak = Math.max(this.sampledPeak, usageBytes);
    return { usageBytes, anonBytes, pageCacheBytes };
  }

  peakUsage() {
    const kernelPeak = path.join(this.dir, "memory.peak");
    if (this.cgfs.exists(kernelPeak)) return { bytes: number(this.cgfs, kernelPeak), source: "memory.peak" };
    if (this.sampledPeak === 0) throw new Error(`${kernelPeak} is missing (kernel before 5.19) and memory.current was never sampled`);
    return { bytes: this.sampledPeak, source: "sampled memory.current" };
  }

  oomKills(): OomKills {
    const events = path.join(this.dir, "memory.events");
    return { kills: counter(this.cgfs, events, "oom_kill", "the memory controller's event counters"), groupKills: optionalCounter(this.cgfs, events, "oom_group_kill") };
  }

  pidsCurrent(): number {
    return number(this.cgfs, path.join(this.dir, "pids.current"));
  }

  members(): number[] {
    return words(this.cgfs.read(path.join(this.dir, "cgroup.procs"))).map(Number);
  }

  remove(): void {
    if (this.removed) return;
    this.removed = true;
    removeDir(this.cgfs, this.dir);
    this.parent.release();
  }
}

/**
 * A v2 parent's setup, shared by every group under it in this process: the controllers enabled in
 * its cgroup.subtree_control, and the leaf its processes were moved to. Undone when the last group
 * is removed, unless other cgroups now sit under it (they may be using the controllers).
 */
export class V2Parent {
  private users = 0;
  private enabled: string[] = [];
  private leaf?: string;
  constructor(
    private readonly cgfs: CgroupFs,
    readonly dir: string,
    private readonly pid: number,
  ) {}

  get leafName(): string {
    return `${CGROUP_PREFIX}${this.pid}-leaf`;
  }

  /** Enables `controllers` for the children, first moving the parent's processes to a leaf where the rule demands. */
  acquire(controllers: string[]): void {
    const enabled = words(this.cgfs.read(path.join(this.dir, "cgroup.subtree_control")));
    const missing = controllers.filter((c) => !enabled.includes(c));
    if (missing.length > 0) {
      // Only the root cgroup has no cgroup.type, and only it may hold processes and enable controllers.
      const rootCgroup = !this.cgfs.exists(path.join(this.dir, "cgroup.type"));
      for (let attempt = 1; ; attempt++) {
        if (!rootCgroup) this.moveProcessesToLeaf();
        try {
          this.cgfs.write(path.join(this.dir, "cgroup.subtree_control"), missing.map((c) => `+${c}`).join(" "));
          break;
        } catch (error) {
          // EBUSY: a process forked into the parent while the others moved; move it as well.
          if ((error as NodeJS.ErrnoException).code !== "EBUSY" || rootCgroup || attempt >= 5) {
            this.restoreIfUnused();
            throw new Error(`cannot enable ${missing.join(", ")} in ${path.join(this.dir, "cgroup.subtree_control")}: ${(error as Error).message}`);
          }
        }
      }
      this.enabled.push(...missing);
    }
    this.users++;
  }

  private moveProcessesToLeaf(): void {
    const pids = words(this.cgfs.read(path.join(this.dir, "cgroup.procs")));
    if (pids.length === 0) return;
    const leaf = path.join(this.dir, this.leafName);
    if (!this.cgfs.exists(leaf)) this.cgfs.mkdir(leaf);
    this.leaf = leaf;
    for (const pid of pids) {
      try {
        this.cgfs.write(path.join(leaf, "cgroup.procs"), pid);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error; // ESRCH: exited meanwhile
      }
    }
  }

  /** Once per acquire: the last one restores the parent. */
  release(): void {
    this.users--;
    this.restoreIfUnused();
  }

  private restoreIfUnused(): void {
    if (this.users > 0) return;
    if (this.cgfs.children(this.dir).some((name) => name !== this.leafName)) return;
    try {
      if (this.enabled.length > 0) this.cgfs.write(path.join(this.dir, "cgroup.subtree_control"), this.enabled.map((c) => `-${c}`).join(" "));
      this.enabled = [];
      if (this.leaf) {
        // Back where they were, now that the parent may hold processes again.
        for (const pid of words(this.cgfs.read(path.join(this.leaf, "cgroup.procs")))) {
          try {
            this.cgfs.write(path.join(this.dir, "cgroup.procs"), pid);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
          }
        }
        removeDir(this.cgfs, this.leaf);
        this.leaf = undefined;
      }
    } catch (error) {
      process.stderr.write(`drill: could not restore ${this.dir}: ${(error as Error).message}\n`);
    }
  }
}

const v2Parents = new Map<string, V2Parent>();

function v2Parent(cgfs: CgroupFs, dir: string, pid: number): V2Parent {
  const key = `${pid}:${dir}`;
  if (!v2Parents.has(key)) v2Parents.set(key, new V2Parent(cgfs, dir, pid));
  return v2Parents.get(key)!;
}

export function controllersOf(limits: CgroupLimits): Controller[] {
  return [...(limits.memoryBytes !== undefined ? ["memory" as const] : []), ...(limits.cpuPercent !== undefined ? ["cpu" as const] : []), ...(limits.pidsMax !== undefined ? ["pids" as const] : [])];
}

/** Makes the group `name` with `limits` where `detection` says, each limit written the version's way. */
export function createCgroup(detection: Detection, name: string, limits: CgroupLimits, host: HostView = hostView()): Cgroup {
  if (detection.version === "none") throw new Error(detection.reason);
  if (!name.startsWith(CGROUP_PREFIX) || name.includes("/")) throw new Error(`cgroup ${name}: a single name starting with ${CGROUP_PREFIX}`);
  const cgfs = host.fs;
  const controllers = controllersOf(limits);
  const noSwapFile = (dir: string, file: string) => `swap is on and ${dir} has no ${file} (kernel without swap accounting: boot with swapaccount=1, or swapoff -a)`;
  if (detection.version === "v1") {
    const byController: Partial<Record<Controller, string>> = {};
    const group = new V1Cgroup(cgfs, byController);
    try {
      for (const controller of controllers) {
        if (!detection.dirs[controller]) throw new Error(`no cgroup v1 ${controller} hierarchy was detected`);
        const dir = path.join(detection.dirs[controller], name);
        cgfs.mkdir(dir);
        byController[controller] = dir;
      }
      const where = "(v1 hierarchy)";
      if (limits.memoryBytes !== undefined) {
        const dir = byController.memory!;
        writeLimit(cgfs, dir, "memory.limit_in_bytes", String(limits.memoryBytes), "memory", where);
        // memory+swap may not be below memory: set second, to the same value (no swap).
        if (limits.swapOff && cgfs.exists(path.join(dir, "memory.memsw.limit_in_bytes"))) cgfs.write(path.join(dir, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes));
        else if (limits.swapOff && swapActive(host)) throw new Error(noSwapFile(dir, "memory.memsw.limit_in_bytes"));
      }
      if (limits.cpuPercent !== undefined) {
        writeLimit(cgfs, byController.cpu!, "cpu.cfs_period_us", String(CPU_PERIOD_US), "cpu", where);
        writeLimit(cgfs, byController.cpu!, "cpu.cfs_quota_us", String(cpuQuota(limits.cpuPercent)), "cpu", where);
      }
      if (limits.pidsMax !== undefined) writeLimit(cgfs, byController.pids!, "pids.max", String(limits.pidsMax), "pids", where);
    } catch (error) {
      group.remove();
      throw error;
    }
    return group;
  }
  const parent = v2Parent(cgfs, detection.parent, host.pid);
  parent.acquire(controllers);
  const dir = path.join(detection.parent, name);
  try {
    cgfs.mkdir(dir);
  } catch (error) {
    parent.release();
    throw error;
  }
  const group = new V2Cgroup(cgfs, dir, parent);
  try {
    const where = `in ${path.join(detection.parent, "cgroup.subtree_control")}`;
    if (limits.memoryBytes !== undefined) {
      writeLimit(cgfs, dir, "memory.max", String(limits.memoryBytes), "memory", where);
      if (limits.swapOff && cgfs.exists(path.join(dir, "memory.swap.max"))) cgfs.write(path.join(dir, "memory.swap.max"), "0");
      else if (limits.swapOff && swapActive(host)) throw new Error(noSwapFile(dir, "memory.swap.max"));
    }
    if (limits.cpuPercent !== undefined) writeLimit(cgfs, dir, "cpu.max", `${cpuQuota(limits.cpuPercent)} ${CPU_PERIOD_US}`, "cpu", where);
    if (limits.pidsMax !== undefined) writeLimit(cgfs, dir, "pids.max", String(limits.pidsMax), "pids", where);
  } catch (error) {
    group.remove();
    throw error;
  }
  return group;
}

/**
 * Whether a scenario can have its cgroups here: undefined when it can, else its outcome. Where
 * neither version is usable the reason is the message: a failure in CI (CI set, as GitHub, Gitea
 * and Forgejo set it), where a skip would pass a job that measured nothing; a skip elsewhere.
 */
export function cgroupsUnusable(
  controllers: Controller[],
  host: HostView = hostView(),
  env: NodeJS.ProcessEnv = process.env,
): { passed: boolean; failures: string[]; figures: Record<string, never>; skipped?: string } | undefined {
  const detection = detectCgroups(controllers, host);
  if (detection.version !== "none") return undefined;
  if (inCi(env)) return { passed: false, failures: [`${detection.reason} (CI is set: a drill that cannot run fails here, it is not skipped)`], figures: {} };
  return { passed: true, failures: [], figures: {}, skipped: detection.reason };
}

export function inCi(env: NodeJS.ProcessEnv): boolean {
  return env.CI !== undefined && env.CI !== "" && env.CI !== "false" && env.CI !== "0";
}

/** Every drill cgroup on this host: v1 hierarchies, v2 mounts, own and delegated parents. */
export function leftoverCgroups(host: HostView = hostView()): string[] {
  const { fs: cgfs } = host;
  const places = new Set<string>(["memory", "cpu", "pids"].map((c) => path.join(host.root, c)));
  for (const mount of [host.root, path.join(host.root, "unified")]) {
    if (!cgfs.exists(path.join(mount, "cgroup.controllers"))) continue;
    places.add(mount);
    const own = ownCgroup(host);
    if (own) places.add(path.join(mount, own));
    if (host.delegatedParent) places.add(path.join(mount, host.delegatedParent));
  }
  return [...places]
    .filter((dir) => cgfs.exists(dir))
    .flatMap((dir) =>
      cgfs
        .children(dir)
        .filter((d) => d.startsWith(CGROUP_PREFIX))
        .map((d) => path.join(dir, d)),
    );
}
