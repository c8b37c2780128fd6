// Everything a drill makes (processes, temp dirs, cgroups, tmpfs mounts) is registered here and
// undone by cleanup(): at the end of a scenario, on failure, and on Ctrl-C.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CGROUP_PREFIX, controllersOf, createCgroup, detectCgroups, type Cgroup, type CgroupLimits } from "./cgroups";
import { ProcessGroup } from "./processes";

/**
 * Whose drill artifacts these are: every temp dir, mount, cgroup and nftables table a drill makes
 * carries it, so drill tests running side by side each check only their own leftovers. The
 * process's pid, or VEZA_DRILL_OWNER for a drill started as a child whose pid the test can't know.
 */
export const DRILL_OWNER = (process.env.VEZA_DRILL_OWNER ?? String(process.pid)).replace(/[^A-Za-z0-9]/g, "");
/** The prefix of every temp dir and cgroup a drill of this owner makes. */
export const DRILL_PREFIX = `${CGROUP_PREFIX}${DRILL_OWNER}-`;

export class Workspace {
  readonly processes = new ProcessGroup(false);
  private readonly dirs: string[] = [];
  private readonly mounts: string[] = [];
  private readonly cgroups: Cgroup[] = [];
  /** Undo steps of other kinds (e.g. a partition's nftables table), run first, synchronously. */
  private readonly undoSteps: Array<() => void> = [];
  private cleaned = false;
  private readonly onSignal = () => {
    this.cleanupSync();
    process.exit(130);
  };

  constructor(readonly label: string) {
    process.on("SIGINT", this.onSignal);
    process.on("SIGTERM", this.onSignal);
  }

  tempDir(name: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${DRILL_PREFIX}${this.label}-${name}-`));
    this.dirs.push(dir);
    return dir;
  }

  /** A tmpfs of `bytes` mounted at a fresh directory. */
  tmpfs(name: string, bytes: number): string {
    const dir = this.tempDir(name);
    const result = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`mount tmpfs at ${dir} failed (needs root): ${result.stderr.trim()}`);
    this.mounts.push(dir);
    return dir;
  }

  /**
   * An empty directory on the host to bind-mount over in a private namespace. It is left in place
   * (empty): removing it would race another drill about to mount on it.
   */
  mountPoint(dir: string): void {
    if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  }

  /** A cgroup with a container's limits (v1 or v2, whichever this host offers; see cgroups.ts). */
  cgroup(name: string, limits: CgroupLimits): Cgroup {
    const group = createCgroup(detectCgroups(controllersOf(limits)), `${DRILL_PREFIX}${this.label}-${name}`, limits);
    this.cgroups.push(group);
    return group;
  }

  onCleanup(undo: () => void): void {
    this.undoSteps.push(undo);
  }

  async cleanup(): Promise<void> {
    await this.processes.stop();
    this.cleanupSync();
  }

  /** Synchronous part, also used from a signal handler. */
  cleanupSync(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    this.processes.killAll();
    for (const undo of this.undoSteps.reverse()) undo();
    // VEZA_DRILL_KEEP_FILES=1 keeps dirs and mounts for a post-mortem (processes are still killed).
    if (process.env.VEZA_DRILL_KEEP_FILES === "1") {
      process.stderr.write(`drill: kept ${[...this.mounts, ...this.dirs].join(", ")}\n`);
      this.mounts.length = 0;
      this.dirs.length = 0;
    }
    for (const mount of this.mounts.reverse()) spawnSync("umount", ["-l", mount]);
    // Members must be gone first: remove() waits briefly for killed processes to leave. What is
    // left in a group (an exec's children outlive a killed script) is killed here.
    for (const cgroup of this.cgroups.reverse()) {
      killAll(cgroup.members());
      cgroup.remove();
    }
    for (const dir of this.dirs.reverse()) fs.rmSync(dir, { recursive: true, force: true });
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
  }
}

/** Total size of the files in a directory tree (bytes). */
export function directorySize(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += directorySize(full);
    // A live Redis renames and deletes its AOF files during a rewrite: one listed a moment ago
    // may be gone by its stat (a temp manifest was, and failed the disk-full drill).
    else if (entry.isFile()) total += fs.statSync(full, { throwIfNoEntry: false })?.size ?? 0;
  }
  return total;
}

/** SIGKILL to each PID; one already gone is passed over. */
export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
}
