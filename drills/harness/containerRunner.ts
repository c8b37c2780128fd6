// Runs a container's definition (components/topology/containers.ts) as a process, the way Docker
// would: the declared files at their container paths and the data volume at /data, through bind
// mounts in a private mount namespace, with the entry script as PID 1 of its own PID namespace
// (so SIGTERM reaches only its trap, and SIGKILL of PID 1 takes every process of the "container"
// with it). The network is the host's, as with the containers' host networking: this machine's,
// or a host's network namespace (hostNetwork.ts) when the drill runs several hosts. Needs root.
// The entry script and the healthcheck run with the container's capabilities only (setpriv
// --bounding-set from components/base/hardening.ts) and no-new-privileges, as Docker runs them
// with `capabilities` and `securityOpts`: a script that needed a dropped capability fails here.
// Each container has a pids cgroup with its kind's limit (what `<name>-pids-limit` sets with
// docker update), and its healthchecks and execs start in it, as Docker starts them in the
// container's cgroup: a script that needed more tasks than the declared limit fails here too.
//
// The provider semantics it replays (terraform-provider-docker, resource_docker_container_funcs.go):
// delete = stop with destroy_grace_seconds (SIGTERM, then SIGKILL) and remove; create = fresh
// files (read-only, as from the config carrier's volume) on a read-only root, the named volume
// kept; wait = healthy before create returns. Before each create, the program's
// `<name>-credentials-seed` command (it runs before the container, which depends on it): the
// definition's seed script with the volume at /data, under the seed container's capabilities.

import { spawnSync, execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Credentials } from "../../components/redis/acl";
import { CREDENTIAL_SEED_CAPABILITIES, CREDENTIAL_SEED_MOUNT, renderTlsFilesScript } from "../../components/topology/credentialScripts";
import { CONTAINER_CREDENTIALS_DIR } from "../../components/topology/settings";
import type { TlsMaterial } from "../../components/tls/certificates";
import { asCredentialState, type CredentialState } from "../../components/redis/rotation";
import { CONTAINER_DATA_DIR } from "../../components/redis/redisConf";
import type { ContainerDefinition } from "../../components/topology/containers";
import { CONTAINER_CONFIG_DIR } from "../../components/base/shell";
import { boundingSetOf, CONTAINER_HARDENING, setprivBoundingSet } from "../../components/base/hardening";
import { detectCgroups, type Cgroup } from "./cgroups";
import { sleep, type TrackedProcess } from "./processes";
import { killAll, type Workspace } from "./workspace";

/** Shell steps, in a private mount namespace: `source` mounted at `target`, read-only (a config volume). */
export function bindReadOnly(source: string, target: string): string[] {
  return [`mount --bind ${source} ${target}`, `mount -o remount,bind,ro ${target}`];
}

/**
 * Docker's `readOnly: true` as shell steps, in a private mount namespace, after the writable
 * mounts: the root remounted read-only, and /tmp too where it is a mount of its own (a tmpfs).
 */
export const READ_ONLY_ROOT = ["mount -o remount,bind,ro /", "{ ! mountpoint -q /tmp || mount -o remount,bind,ro /tmp; }"];

export interface RunningContainer {
  name: string;
  /** The `unshare` process we track; the entry script is its only child (PID 1 inside). */
  process: TrackedProcess;
  generation: number;
  logFile: string;
  /** The pids cgroup (the kind's limit) its processes, healthchecks and execs run in. */
  group: Cgroup;
}

export interface ContainerSlot {
  name: string;
  definition: ContainerDefinition;
  /** A named volume survives replacements; an anonymous one (a sentinel's /data) does not. */
  persistentVolume: boolean;
  generations: number;
  current?: RunningContainer;
  volumeDir: string;
  /** The network namespace of the container's host (a path for nsenter --net), or this machine's. */
  network?: string;
  /** With TLS on: what the program's `<name>-tls-files` command writes into the volume before each create. */
  tls?: TlsMaterial;
}

/** The host PID of the entry script: the child `unshare --fork` made. */
export function entryPid(container: RunningContainer): number | undefined {
  try {
    const children = fs.readFileSync(`/proc/${container.process.pid}/task/${container.process.pid}/children`, "utf8").trim();
    return children ? Number(children.split(/\s+/)[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** The prefix that gives a command the container's capabilities and no-new-privileges. */
function confined(definition: ContainerDefinition): string[] {
  return ["setpriv", "--no-new-privs", "--bounding-set", setprivBoundingSet(definition.kind)];
}

/**
 * `command` started inside `group`: the shell joins it (writes its own PID to cgroup.procs) and
 * execs, so every process the command forks is counted from its first instruction.
 */
function inGroup(group: Cgroup, command: string[]): string[] {
  return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', path.join(group.dirs[0], "cgroup.procs"), ...command];
}

/** `docker exec`: `command` in the container's mount (and host's network) namespace, cgroup, capabilities and no-new-privileges. */
function inContainer(slot: ContainerSlot, current: RunningContainer, entry: number, command: string[]): string[] {
  return inGroup(current.group, ["nsenter", "-t", String(entry), "-m", ...(slot.network ? ["-n"] : []), "--", ...confined(slot.definition), ...command]);
}

function exited(process: TrackedProcess): boolean {
  return process.child.exitCode !== null || process.child.signalCode !== null;
}

export class ContainerRunner {
  private readonly slots = new Map<string, ContainerSlot>();
  private starts = 0;

  /** The step the program is at: what the seed writes into a fresh volume (a rotation drill moves it). */
  state: CredentialState;

  constructor(
    private readonly ws: Workspace,
    credentials: Credentials | CredentialState,
  ) {
    this.state = asCredentialState(credentials);
    // Mount points for the bind mounts; created empty if this machine has none.
    ws.mountPoint(CONTAINER_DATA_DIR);
    ws.mountPoint(CONTAINER_CONFIG_DIR);
    ws.mountPoint(CREDENTIAL_SEED_MOUNT);
  }

  define(name: string, definition: ContainerDefinition, persistentVolume: boolean, network?: string, tls?: TlsMaterial): ContainerSlot {
    const root = this.ws.tempDir(name);
    fs.chmodSync(root, 0o755);
    const slot: ContainerSlot = { name, definition, persistentVolume, generations: 0, volumeDir: path.join(root, "volume"), ...(network ? { network } : {}), ...(tls ? { tls } : {}) };
    fs.mkdirSync(slot.volumeDir);
    this.slots.set(name, slot);
    return slot;
  }

  /**
   * A changed declaration for an existing slot (the engine's replacement: new files, the named
   * volume kept): what the next create runs. With `tls`, what `<name>-tls-files` writes.
   */
  redefine(name: string, definition: ContainerDefinition, tls?: TlsMaterial): ContainerSlot {
    const slot = this.slot(name);
    slot.definition = definition;
    if (tls) slot.tls = tls;
    else delete slot.tls;
    return slot;
  }

  slot(name: string): ContainerSlot {
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`no container ${name}`);
    return slot;
  }

  /**
   * `<name>-credentials-seed`: the seed script on stdin, the volume at /data in a private mount
   * namespace, root with the seed container's capabilities only (`docker run --cap-drop ALL
   * --cap-add ...`). Its log lines go to the container's log, before the entry script's.
   */
  private seed(slot: ContainerSlot, volume: string, logFile: string): void {
    this.runOnVolume(slot, volume, logFile, "the credentials seed", slot.definition.seed(this.state));
    if (slot.tls) this.runOnVolume(slot, volume, logFile, "the TLS files", renderTlsFilesScript(slot.name, CONTAINER_CREDENTIALS_DIR, slot.tls));
  }

  /** A throwaway container's script with the volume at /data, under the seed container's capabilities. */
  private runOnVolume(slot: ContainerSlot, volume: string, logFile: string, what: string, script: string): void {
    const bounding = boundingSetOf(Object.keys(CREDENTIAL_SEED_CAPABILITIES));
    const result = spawnSync(
      "unshare",
      ["--mount", "--propagation", "private", "sh", "-c", `mount --bind "$1" ${CREDENTIAL_SEED_MOUNT} && exec setpriv --no-new-privs --bounding-set ${bounding} sh -s`, "seed", volume],
      { input: script, encoding: "utf8", timeout: 10000 },
    );
    fs.appendFileSync(logFile, `${result.stdout ?? ""}${result.stderr ?? ""}`);
    if (result.status !== 0) throw new Error(`${slot.name}: ${what} failed (exit ${result.status}): ${result.stderr}`);
  }

  /** `<name>-tls-files` re-run on a running container's volume (a reissued certificate), as the program does. */
  rewriteTls(name: string, material: TlsMaterial): void {
    const slot = this.slot(name);
    slot.tls = material;
    const generationDir = path.join(path.dirname(slot.volumeDir), `generation-${slot.generations}`);
    const volume = slot.persistentVolume ? slot.volumeDir : path.join(generationDir, "anonymous-volume");
    this.runOnVolume(slot, volume, path.join(generationDir, "container.log"), "the TLS files", renderTlsFilesScript(name, CONTAINER_CREDENTIALS_DIR, material));
  }

  /** `docker create` + `start`: fresh declared files; the named volume kept (seeded if fresh), an anonymous one new. */
  create(name: string): RunningContainer {
    const slot = this.slot(name);
    if (slot.current && !exited(slot.current.process)) throw new Error(`${name} is still running (the name is taken)`);
    slot.generations++;
    const generationDir = path.join(path.dirname(slot.volumeDir), `generation-${slot.generations}`);
    const configDir = path.join(generationDir, "config");
    fs.mkdirSync(configDir, { recursive: true, mode: 0o755 });
    for (const file of slot.definition.files) {
      if (path.dirname(file.path) !== CONTAINER_CONFIG_DIR) throw new Error(`${name}: ${file.path} is outside ${CONTAINER_CONFIG_DIR}`);
      // Uploads land as root-owned 0644 files (what the docker provider's tar upload gives).
      fs.writeFileSync(path.join(configDir, path.basename(file.path)), file.content, { mode: 0o644 });
    }
    let volume = slot.volumeDir;
    if (!slot.persistentVolume) {
      volume = path.join(generationDir, "anonymous-volume");
      fs.mkdirSync(volume);
    }
    this.seed(slot, volume, path.join(generationDir, "container.log"));
    return this.start(slot, generationDir, volume);
  }

  /**
   * The restart policy (unless-stopped) for `names`: each whose entry script has exited is started
   * again, as Docker would. Returns the names restarted.
   */
  restartExited(names: string[]): string[] {
    return names.filter((name) => {
      const current = this.slot(name).current;
      if (!current || !exited(current.process)) return false;
      this.restart(name);
      return true;
    });
  }

  /** `docker restart` after a crash (restart: unless-stopped): the same container, files and volumes. */
  restart(name: string): RunningContainer {
    const slot = this.slot(name);
    const generationDir = path.join(path.dirname(slot.volumeDir), `generation-${slot.generations}`);
    return this.start(slot, generationDir, slot.persistentVolume ? slot.volumeDir : path.join(generationDir, "anonymous-volume"));
  }

  private start(slot: ContainerSlot, generationDir: string, volume: string): RunningContainer {
    if (slot.current && !exited(slot.current.process)) throw new Error(`${slot.name} is still running (the name is taken)`);
    const logFile = path.join(generationDir, "container.log");
    // A new cgroup per start, as Docker gives each container its own (a restart keeps the limit).
    const group = this.ws.cgroup(`${slot.name}-${slot.generations}-${++this.starts}`, { pidsMax: CONTAINER_HARDENING[slot.definition.kind].pidsLimit });
    // The container's mounts, then its read-only root (`readOnly: true`): the config volume is
    // mounted read-only (from the config carrier) and, in this mount namespace only, the root
    // too, so an entry script that writes outside /data fails here as it would in Docker.
    const mountAndRun = [
      `mount --bind "$1" ${CONTAINER_DATA_DIR}`,
      ...bindReadOnly('"$2"', CONTAINER_CONFIG_DIR),
      ...READ_ONLY_ROOT,
      `exec ${confined(slot.definition).join(" ")} ${slot.definition.entrypoint.join(" ")}`,
    ].join(" && ");
    const [command, ...args] = inGroup(group, [
      ...(slot.network ? ["nsenter", `--net=${slot.network}`] : []),
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "--pid",
      "--fork",
      "--kill-child",
      "sh",
      "-c",
      mountAndRun,
      "container",
      volume,
      path.join(generationDir, "config"),
    ]);
    const process = this.ws.processes.start(`${slot.name}#${slot.generations}`, command, args, logFile);
    slot.current = { name: slot.name, process, generation: slot.generations, logFile, group };
    return slot.current;
  }

  /** Docker's healthcheck: the declared test run inside the container (its mount namespace). */
  health(name: string): Promise<{ healthy: boolean; output: string }> {
    const current = this.slot(name).current;
    const pid = current ? entryPid(current) : undefined;
    if (!current || pid === undefined || exited(current.process)) return Promise.resolve({ healthy: false, output: "not running" });
    const test = this.slot(name).definition.healthcheck;
    if (test[0] !== "CMD") throw new Error(`${name}: only CMD healthchecks are replayed`);
    const [command, ...args] = inContainer(this.slot(name), current, pid, test.slice(1));
    return new Promise((resolve) => {
      execFile(command, args, { encoding: "utf8", timeout: 5000 }, (error, stdout, stderr) => resolve({ healthy: !error, output: `${stdout}${stderr}`.trim() }));
    });
  }

  /**
   * `docker exec -i <container> <command>`: runs inside the container's mount namespace with its
   * capabilities, `input` on stdin (how a rotation step reaches a running container).
   */
  exec(name: string, command: string[], input: string, timeoutMs = 30000): Promise<{ status: number; output: string }> {
    const current = this.slot(name).current;
    const pid = current ? entryPid(current) : undefined;
    if (!current || pid === undefined || exited(current.process)) return Promise.resolve({ status: -1, output: "not running" });
    const [program, ...args] = inContainer(this.slot(name), current, pid, command);
    return new Promise((resolve) => {
      const child = execFile(program, args, { encoding: "utf8", timeout: timeoutMs }, (error, stdout, stderr) =>
        resolve({ status: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: `${stdout}${stderr}`.trim() }),
      );
      child.stdin?.end(input);
    });
  }

  /** `wait: true`: polls the healthcheck at Docker's interval until healthy, or fails like the provider. */
  async waitHealthy(name: string, intervalMs: number, timeoutMs = this.slot(name).definition.healthyWithinSeconds * 1000): Promise<number> {
    const started = Date.now();
    let last = "";
    for (;;) {
      const current = this.slot(name).current;
      if (!current || exited(current.process)) throw new Error(`${name} exited before it was healthy; log:\n${this.tail(name)}`);
      const result = await this.health(name);
      if (result.healthy) return Date.now() - started;
      last = result.output;
      if (Date.now() - started > timeoutMs) throw new Error(`${name} not healthy within ${timeoutMs} ms (container failed to be in healthy state): ${last}`);
      await sleep(intervalMs);
    }
  }

  /** The provider's delete: stop (SIGTERM to PID 1, destroy_grace_seconds, then SIGKILL), remove. */
  async delete(name: string, graceSeconds = this.slot(name).definition.stopGraceSeconds): Promise<{ stoppedMs: number; killed: boolean }> {
    const current = this.slot(name).current;
    if (!current || exited(current.process)) return { stoppedMs: 0, killed: false };
    const started = Date.now();
    const pid = entryPid(current);
    if (pid !== undefined) process.kill(pid, "SIGTERM");
    const done = new Promise<void>((resolve) => current.process.child.once("exit", () => resolve()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.kill(name);
    }, graceSeconds * 1000);
    await done;
    clearTimeout(timer);
    // Docker's execs are in the container's PID namespace and die with it; ours (nsenter -m) are
    // only in its cgroup: what is left there goes now, as it would with the container.
    killAll(current.group.members());
    return { stoppedMs: Date.now() - started, killed };
  }

  /** SIGKILL the container's PID 1 (every process in its PID namespace dies with it: a crash) and its execs. */
  kill(name: string): void {
    const current = this.slot(name).current;
    if (!current) return;
    const pid = entryPid(current);
    if (pid !== undefined) killAll([pid]);
    killAll(current.group.members().filter((member) => member !== current.process.pid));
  }

  async killAndWait(name: string): Promise<void> {
    const current = this.slot(name).current;
    if (!current || exited(current.process)) return;
    const done = new Promise<void>((resolve) => current.process.child.once("exit", () => resolve()));
    this.kill(name);
    await done;
  }

  tail(name: string, lines = 8): string {
    const current = this.slot(name).current;
    if (!current || !fs.existsSync(current.logFile)) return "";
    return fs.readFileSync(current.logFile, "utf8").trim().split("\n").slice(-lines).join("\n");
  }

  /** Every log line of every generation of this container, oldest first. */
  logLines(name: string): string[] {
    const slot = this.slot(name);
    const lines: string[] = [];
    for (let generation = 1; generation <= slot.generations; generation++) {
      const file = path.join(path.dirname(slot.volumeDir), `generation-${generation}`, "container.log");
      if (fs.existsSync(file)) lines.push(...fs.readFileSync(file, "utf8").split("\n"));
    }
    return lines;
  }

  /** The entry scripts' own log lines (`veza <name> <time>: ...`), for the report. */
  entryLog(name: string): string[] {
    return this.logLines(name).filter(isEntryLine);
  }
}

/** A line the entry scripts' `log` wrote (components/base/shell.ts), not Redis's own. */
export const isEntryLine = (line: string): boolean => line.startsWith("veza ");

/** unshare, nsenter and bind mounts need root and util-linux. */
export function containerRunnerAvailable(): string | undefined {
  if (process.getuid?.() !== 0) return "the container runner needs root (mount namespaces and bind mounts)";
  for (const tool of ["unshare", "nsenter", "setpriv"]) if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} (util-linux) is missing`;
  const pids = detectCgroups(["pids"]);
  return pids.version === "none" ? `the containers' pids limits need a pids cgroup: ${pids.reason}` : undefined;
}
