// The v2 path against the real kernel, where this host has a cgroup2 mount: /sys/fs/cgroup on a
// unified host (GitHub's runners), /sys/fs/cgroup/unified on a hybrid one (this machine, where v2
// has only hugetlb: the rule is the same for every controller). The fake sysfs in
// tests/unit/cgroups.test.ts encodes these rules; this checks them against Linux itself. Root only.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { createCgroup, realCgroupFs, V2Parent, type HostView } from "../../drills/harness/cgroups";
import { waitFor } from "../../drills/harness/processes";

const mount = fs
  .readFileSync("/proc/mounts", "utf8")
  .split("\n")
  .map((l) => l.split(" "))
  .find((f) => f[2] === "cgroup2")?.[1];
const available = mount ? fs.readFileSync(path.join(mount, "cgroup.controllers"), "utf8").trim().split(/\s+/).filter(Boolean) : [];
const hasMemoryAndCpu = available.includes("memory") && available.includes("cpu");

/** `sleep`s bounded to 60 s, each killed by PID (killSleeper, or after each test). */
const sleepers = new Map<number, ChildProcess>();
function sleeper(): number {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  sleepers.set(child.pid!, child);
  return child.pid!;
}
async function killSleeper(pid: number): Promise<void> {
  const child = sleepers.get(pid)!;
  sleepers.delete(pid);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(pid, "SIGKILL");
  await exited;
}
afterEach(async () => {
  for (const pid of [...sleepers.keys()]) await killSleeper(pid);
});

const cgroupOf = (pid: number) => /^0::(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/cgroup`, "utf8"))?.[1];
const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), "utf8").trim();
const childCgroups = (dir: string) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);

interface Parent {
  dir: string;
  pid: number;
  rootSetup: V2Parent;
}

/** A parent holding a process, as a delegated scope with the drill's own processes does; the mount's root enables `controllers` for it. */
function parentWithAProcess(name: string, controllers: string[]): Parent {
  // The root cgroup may enable controllers while holding processes: no leaf there.
  const rootSetup = new V2Parent(realCgroupFs, mount!, process.pid);
  rootSetup.acquire(controllers);
  const dir = path.join(mount!, `veza-drill-${process.pid}-${name}`);
  fs.mkdirSync(dir);
  const pid = sleeper();
  fs.writeFileSync(path.join(dir, "cgroup.procs"), String(pid));
  return { dir, pid, rootSetup };
}

async function removeParent(parent: Parent): Promise<void> {
  await killSleeper(parent.pid);
  await waitFor("the parent to be empty", () => read(parent.dir, "cgroup.procs") === "", 5000, 50);
  fs.rmdirSync(parent.dir);
  parent.rootSetup.release();
}

(mount ? describe : describe.skip)(`cgroup v2 on this kernel (${mount ?? "no cgroup2 mount here"}; controllers: ${available.join(" ") || "none"})`, () => {
  // Preferably a controller the drills use; any makes the rule apply.
  const controller = ["memory", "cpu"].find((c) => available.includes(c)) ?? available[0];

  it(`refuses ${controller} in a parent holding a process (EBUSY); the leaf setup moves it out, enables it, and undoes both after the last group`, async () => {
    expect({ controller }).toEqual({ controller: expect.any(String) });
    const parent = parentWithAProcess("kernel-parent", [controller]);
    try {
      // The rule itself, from Linux: what the leaf exists for.
      expect(() => fs.writeFileSync(path.join(parent.dir, "cgroup.subtree_control"), `+${controller}`)).toThrow(/EBUSY/);
      const setup = new V2Parent(realCgroupFs, parent.dir, process.pid);
      setup.acquire([controller]);
      const relativeParent = `/${path.relative(mount!, parent.dir)}`;
      expect(cgroupOf(parent.pid)).toBe(`${relativeParent}/${setup.leafName}`);
      expect(read(parent.dir, "cgroup.subtree_control").split(" ")).toContain(controller);

      // A group beside the leaf, with the controller, and a member.
      const group = path.join(parent.dir, `veza-drill-${process.pid}-kernel-group`);
      fs.mkdirSync(group);
      expect(read(group, "cgroup.controllers").split(" ")).toContain(controller);
      const member = sleeper();
      fs.writeFileSync(path.join(group, "cgroup.procs"), String(member));
      expect(cgroupOf(member)).toBe(`${relativeParent}/veza-drill-${process.pid}-kernel-group`);
      await killSleeper(member);
      await waitFor("the group to be empty", () => read(group, "cgroup.procs") === "", 5000, 50);
      fs.rmdirSync(group);

      setup.release();
      expect(read(parent.dir, "cgroup.subtree_control")).toBe("");
      expect(cgroupOf(parent.pid)).toBe(relativeParent);
      expect(childCgroups(parent.dir)).toEqual([]);
    } finally {
      await removeParent(parent);
    }
  });

  (hasMemoryAndCpu ? it : it.skip)(
    `memory.max, memory.swap.max and cpu.max as createCgroup writes them, and the counters it reads${hasMemoryAndCpu ? "" : " (not here: memory and cpu are on v1)"}`,
    async () => {
      const parent = parentWithAProcess("kernel-limits", ["memory", "cpu"]);
      try {
        const host: HostView = { root: mount!, fs: realCgroupFs, selfCgroup: "", swaps: fs.readFileSync("/proc/swaps", "utf8"), pid: process.pid };
        const group = createCgroup(
          { version: "v2", mount: mount!, parent: parent.dir, via: "delegated" },
          `veza-drill-${process.pid}-kernel-limits`,
          { memoryBytes: 64 * 1024 * 1024, swapOff: true, cpuPercent: 10 },
          host,
        );
        const member = sleeper();
        try {
          group.join(member);
          expect(cgroupOf(member)).toBe(`/${path.relative(mount!, group.dirs[0])}`);
          expect(read(group.dirs[0], "memory.max")).toBe(String(64 * 1024 * 1024));
          if (fs.existsSync(path.join(group.dirs[0], "memory.swap.max"))) expect(read(group.dirs[0], "memory.swap.max")).toBe("0");
          expect(read(group.dirs[0], "cpu.max")).toBe("10000 100000");
          expect(group.oomKills().kills).toBe(0);
          expect(group.sampleMemory().usageBytes).toBeGreaterThan(0);
          expect(group.peakUsage().bytes).toBeGreaterThan(0);
        } finally {
          await killSleeper(member);
          group.remove();
        }
        expect(fs.existsSync(group.dirs[0])).toBe(false);
        expect(read(parent.dir, "cgroup.subtree_control")).toBe("");
        expect(cgroupOf(parent.pid)).toBe(`/${path.relative(mount!, parent.dir)}`);
      } finally {
        await removeParent(parent);
      }
    },
  );
});
