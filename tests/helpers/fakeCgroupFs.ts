// A fake cgroup filesystem: a temp dir laid out like /sys/fs/cgroup (v2, v1 or hybrid), with the
// kernel's rules applied on every write, so that a test fails where the real kernel would refuse:
// - mkdir creates the interface files of the controllers the parent enables (none otherwise);
// - cgroup.subtree_control: only controllers the cgroup has, never while a non-root cgroup holds
//   processes (the no-internal-processes rule), never disabling one a child still enables;
// - cgroup.procs moves a PID (ESRCH for an unknown one; EBUSY into a non-root cgroup that enables
//   controllers);
// - limits are validated as the kernel parses them (memory.max, cpu.max, v1 memsw >= memory);
// - interface files are never created by a write, and rmdir refuses a cgroup with members.
// Counters (memory.events, memory.peak, ...) are the kernel's to change: tests set them with setFile.
import * as fs from "node:fs";
import * as path from "node:path";
import type { CgroupFs } from "../../drills/harness/cgroups";

export interface FakeKernelOptions {
  layout: "v2" | "v1" | "hybrid";
  /** v2: the controllers the root offers, and those its cgroup.subtree_control enables. */
  controllers?: string[];
  rootEnables?: string[];
  /** Kernel features: memory.peak (5.19+), memory.swap.max (swap accounting), oom_group_kill (5.17+), v1 oom_kill (4.13+). */
  memoryPeak?: boolean;
  swapAccounting?: boolean;
  oomGroupKill?: boolean;
  v1OomKill?: boolean;
  /** access(2): which files this process may write (default all: root). */
  writable?: (file: string) => boolean;
}

const V1_UNLIMITED = "9223372036854771712";
const words = (text: string) => text.split(/\s+/).filter(Boolean);

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

export class FakeCgroupFs implements CgroupFs {
  readonly options: Required<Omit<FakeKernelOptions, "writable">> & Pick<FakeKernelOptions, "writable">;
  /** Every write that succeeded, in order (file relative to the root, text). */
  readonly writes: Array<[string, string]> = [];

  constructor(
    readonly root: string,
    options: FakeKernelOptions,
  ) {
    this.options = { controllers: ["cpuset", "cpu", "io", "memory", "pids"], rootEnables: ["memory", "pids"], memoryPeak: true, swapAccounting: true, oomGroupKill: true, v1OomKill: true, ...options };
    const { layout } = this.options;
    if (layout === "v2") this.v2Root(root, this.options.controllers, this.options.rootEnables);
    else {
      for (const controller of ["memory", "cpu", "pids"]) {
        fs.mkdirSync(path.join(root, controller), { recursive: true });
        this.setFile(path.join(root, controller), "cgroup.procs", "1\n");
        this.setFile(path.join(root, controller), "tasks", "1\n");
      }
      // systemd's hybrid mode: v2 beside, with the controllers v1 did not take.
      if (layout === "hybrid") this.v2Root(path.join(root, "unified"), ["hugetlb"], []);
    }
  }

  private v2Root(dir: string, controllers: string[], enables: string[]): void {
    fs.mkdirSync(dir, { recursive: true });
    this.setFile(dir, "cgroup.controllers", controllers.join(" "));
    this.setFile(dir, "cgroup.subtree_control", enables.join(" "));
    this.setFile(dir, "cgroup.procs", "1\n");
    // The root cgroup has no cgroup.type (nor memory.max, cpu.max ...).
  }

  /**
   * A cgroup as systemd would have made it, with these processes; `enables` is enabled on the way
   * down to it and in it, as systemd does for a unit that asks for those controllers.
   */
  makeCgroup(relative: string, options: { procs?: number[]; enables?: string[] } = {}): string {
    let dir = this.root;
    for (const part of relative.split("/").filter(Boolean)) {
      const enable = (options.enables ?? []).filter((c) => !words(this.read(path.join(dir, "cgroup.subtree_control"))).includes(c));
      if (enable.length > 0) this.write(path.join(dir, "cgroup.subtree_control"), enable.map((c) => `+${c}`).join(" "));
      dir = path.join(dir, part);
      if (!fs.existsSync(dir)) this.mkdir(dir);
    }
    if (options.enables?.length) this.write(path.join(dir, "cgroup.subtree_control"), options.enables.map((c) => `+${c}`).join(" "));
    for (const pid of options.procs ?? []) this.spawn(dir, pid);
    return dir;
  }

  /** A new process (not moved from anywhere): what fork+exec in that cgroup gives. */
  spawn(dir: string, pid: number): void {
    this.setFile(dir, "cgroup.procs", [...this.procs(dir), String(pid)].join("\n"));
  }

  /** A process exits: it leaves its cgroup. */
  exit(pid: number): void {
    for (const dir of this.cgroupsOf(pid))
      this.setFile(
        dir,
        "cgroup.procs",
        this.procs(dir)
          .filter((p) => p !== String(pid))
          .join("\n"),
      );
  }

  /** What the kernel writes itself (counters, peaks, stats). */
  setFile(dir: string, file: string, text: string): void {
    fs.writeFileSync(path.join(dir, file), text.endsWith("\n") || text === "" ? text : `${text}\n`);
  }

  procs(dir: string): string[] {
    return words(fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8"));
  }

  exists(file: string): boolean {
    return fs.existsSync(file);
  }

  read(file: string): string {
    return fs.readFileSync(file, "utf8");
  }

  children(dir: string): string[] {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  }

  writable(file: string): boolean {
    return this.options.writable ? this.options.writable(file) : true;
  }

  private isV2(dir: string): boolean {
    return fs.existsSync(path.join(dir, "cgroup.controllers"));
  }

  private isRootCgroup(dir: string): boolean {
    return !fs.existsSync(path.join(dir, "cgroup.type"));
  }

  private check(file: string): void {
    if (!this.writable(file)) throw errno("EACCES", `permission denied, open '${file}'`);
  }

  mkdir(dir: string): void {
    const parent = path.dirname(dir);
    this.check(parent);
    if (!fs.existsSync(path.join(parent, "cgroup.procs"))) throw errno("ENOENT", `${parent} is not a cgroup`);
    if (fs.existsSync(dir)) throw errno("EEXIST", `mkdir '${dir}'`);
    fs.mkdirSync(dir);
    this.setFile(dir, "cgroup.procs", "");
    if (this.isV2(parent)) {
      this.setFile(dir, "cgroup.type", "domain");
      this.setFile(dir, "cgroup.subtree_control", "");
      this.setFile(dir, "cgroup.events", "populated 0\nfrozen 0");
      this.setFile(dir, "cgroup.controllers", "");
      this.setControllers(dir, words(this.read(path.join(parent, "cgroup.subtree_control"))));
    } else {
      const hierarchy = path.relative(this.root, dir).split("/")[0];
      this.setFile(dir, "tasks", "");
      if (hierarchy === "memory") {
        for (const file of ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes"]) this.setFile(dir, file, V1_UNLIMITED);
        if (!this.options.swapAccounting) fs.rmSync(path.join(dir, "memory.memsw.limit_in_bytes"));
        for (const file of ["memory.usage_in_bytes", "memory.max_usage_in_bytes", "memory.failcnt"]) this.setFile(dir, file, "0");
        this.setFile(dir, "memory.stat", "cache 0\nrss 0\ntotal_cache 0\ntotal_rss 0");
        this.setFile(dir, "memory.oom_control", `oom_kill_disable 0\nunder_oom 0${this.options.v1OomKill ? "\noom_kill 0" : ""}`);
      } else if (hierarchy === "pids") {
        this.setFile(dir, "pids.max", "max");
        this.setFile(dir, "pids.current", "0");
      } else if (hierarchy === "cpu") {
        this.setFile(dir, "cpu.cfs_period_us", "100000");
        this.setFile(dir, "cpu.cfs_quota_us", "-1");
        this.setFile(dir, "cpu.shares", "1024");
      }
    }
  }

  /** A v2 cgroup's controllers as its parent enables them: interface files come and go with them. */
  private setControllers(dir: string, controllers: string[]): void {
    const before = words(this.read(path.join(dir, "cgroup.controllers")));
    this.setFile(dir, "cgroup.controllers", controllers.join(" "));
    const files: Record<string, Record<string, string>> = {
      memory: {
        "memory.max": "max",
        "memory.high": "max",
        "memory.low": "0",
        "memory.current": "0",
        "memory.stat": "anon 0\nfile 0\nkernel 0\nshmem 0",
        "memory.events": `low 0\nhigh 0\nmax 0\noom 0\noom_kill 0${this.options.oomGroupKill ? "\noom_group_kill 0" : ""}`,
        "memory.oom.group": "0",
        ...(this.options.memoryPeak ? { "memory.peak": "0" } : {}),
        ...(this.options.swapAccounting ? { "memory.swap.max": "max", "memory.swap.current": "0" } : {}),
      },
      cpu: { "cpu.max": "max 100000", "cpu.weight": "100" },
      pids: { "pids.max": "max", "pids.current": "0" },
    };
    for (const controller of controllers.filter((c) => !before.includes(c))) for (const [file, text] of Object.entries(files[controller] ?? {})) this.setFile(dir, file, text);
    for (const controller of before.filter((c) => !controllers.includes(c))) for (const file of Object.keys(files[controller] ?? {})) fs.rmSync(path.join(dir, file), { force: true });
  }

  rmdir(dir: string): void {
    this.check(path.dirname(dir));
    if (!fs.existsSync(dir)) throw errno("ENOENT", `rmdir '${dir}'`);
    if (this.children(dir).length > 0 || this.procs(dir).length > 0) throw errno("EBUSY", `resource busy, rmdir '${dir}'`);
    fs.rmSync(dir, { recursive: true });
  }

  write(file: string, text: string): void {
    this.check(file);
    if (!fs.existsSync(file)) throw errno("EACCES", `no interface file '${file}' (cgroupfs does not create files)`);
    const dir = path.dirname(file);
    const name = path.basename(file);
    const value = text.trim();
    const invalid = () => errno("EINVAL", `invalid argument, write '${value}' to '${file}'`);
    switch (name) {
      case "cgroup.subtree_control":
        this.writeSubtreeControl(dir, value);
        break;
      case "cgroup.procs":
      case "tasks":
        this.move(dir, value);
        break;
      case "pids.max":
      case "memory.max":
      case "memory.high":
      case "memory.swap.max":
        if (!/^(\d+|max)$/.test(value)) throw invalid();
        fs.writeFileSync(file, `${value}\n`);
        break;
      case "cpu.max":
        if (!/^(\d+|max)( \d+)?$/.test(value)) throw invalid();
        fs.writeFileSync(file, `${value.includes(" ") ? value : `${value} ${words(this.read(file))[1]}`}\n`);
        break;
      case "memory.limit_in_bytes":
      case "memory.memsw.limit_in_bytes": {
        if (!/^(\d+|-1)$/.test(value)) throw invalid();
        const bytes = value === "-1" ? V1_UNLIMITED : value;
        const memsw = path.join(dir, "memory.memsw.limit_in_bytes");
        // The kernel keeps memory+swap >= memory: each write must leave it so.
        const memory = name === "memory.limit_in_bytes" ? BigInt(bytes) : BigInt(this.read(path.join(dir, "memory.limit_in_bytes")).trim());
        const both = name === "memory.memsw.limit_in_bytes" ? BigInt(bytes) : fs.existsSync(memsw) ? BigInt(this.read(memsw).trim()) : undefined;
        if (both !== undefined && both < memory) throw invalid();
        fs.writeFileSync(file, `${bytes}\n`);
        break;
      }
      case "cpu.cfs_period_us":
        if (!/^\d+$/.test(value) || Number(value) < 1000 || Number(value) > 1000000) throw invalid();
        fs.writeFileSync(file, `${value}\n`);
        break;
      case "cpu.cfs_quota_us":
        if (!/^(\d+|-1)$/.test(value) || (value !== "-1" && Number(value) < 1000)) throw invalid();
        fs.writeFileSync(file, `${value}\n`);
        break;
      default:
        fs.writeFileSync(file, text);
    }
    this.writes.push([path.relative(this.root, file), value]);
  }

  private writeSubtreeControl(dir: string, value: string): void {
    const available = words(this.read(path.join(dir, "cgroup.controllers")));
    const enabled = new Set(words(this.read(path.join(dir, "cgroup.subtree_control"))));
    const children = this.children(dir).map((c) => path.join(dir, c));
    for (const token of words(value)) {
      const [sign, controller] = [token[0], token.slice(1)];
      if ((sign !== "+" && sign !== "-") || !controller) throw errno("EINVAL", `invalid argument '${token}'`);
      if (!available.includes(controller)) throw errno("ENOENT", `${controller} is not in ${dir}/cgroup.controllers`);
      if (sign === "+") {
        if (!this.isRootCgroup(dir) && this.procs(dir).length > 0) throw errno("EBUSY", `device or resource busy: ${dir} holds processes (no internal processes)`);
        enabled.add(controller);
      } else {
        if (children.some((c) => words(this.read(path.join(c, "cgroup.subtree_control"))).includes(controller))) throw errno("EBUSY", `a child of ${dir} still enables ${controller}`);
        enabled.delete(controller);
      }
    }
    fs.writeFileSync(path.join(dir, "cgroup.subtree_control"), `${[...enabled].join(" ")}\n`);
    for (const child of children) this.setControllers(child, [...enabled]);
  }

  private move(dir: string, value: string): void {
    if (!/^\d+$/.test(value)) throw errno("EINVAL", `invalid argument '${value}'`);
    if (this.isV2(dir) && !this.isRootCgroup(dir) && words(this.read(path.join(dir, "cgroup.subtree_control"))).length > 0) {
      throw errno("EBUSY", `device or resource busy: ${dir} enables controllers for its children (no internal processes)`);
    }
    // The hierarchy the destination is in: the PID leaves its cgroup there.
    const hierarchy = this.isV2(dir) ? this.v2MountOf(dir) : path.join(this.root, path.relative(this.root, dir).split("/")[0]);
    const from = this.cgroupsOf(Number(value)).filter((d) => d === hierarchy || d.startsWith(`${hierarchy}/`));
    if (from.length === 0) throw errno("ESRCH", `no such process ${value}`);
    for (const d of from)
      this.setFile(
        d,
        "cgroup.procs",
        this.procs(d)
          .filter((p) => p !== value)
          .join("\n"),
      );
    this.setFile(dir, "cgroup.procs", [...this.procs(dir), value].join("\n"));
  }

  private v2MountOf(dir: string): string {
    let mount = dir;
    while (fs.existsSync(path.join(mount, "cgroup.type"))) mount = path.dirname(mount);
    return mount;
  }

  /** Every cgroup (in any hierarchy) that lists `pid`. */
  cgroupsOf(pid: number): string[] {
    const found: string[] = [];
    const walk = (dir: string) => {
      if (fs.existsSync(path.join(dir, "cgroup.procs")) && this.procs(dir).includes(String(pid))) found.push(dir);
      for (const child of this.children(dir)) walk(path.join(dir, child));
    };
    walk(this.root);
    return found;
  }
}
