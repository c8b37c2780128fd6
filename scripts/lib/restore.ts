// `npm run restore`: a snapshot of the backup job (restic, one file /dump.rdb) made into a data
// node's AOF, in its data dir, for the node to load when it starts.
//
// Why a conversion: every node runs with appendonly yes, and Redis 7.0 then ignores a dump.rdb when
// its data dir holds no AOF (it starts empty). So a scratch redis-server, on a unix socket in a
// private dir and no TCP port, loads the RDB with appendonly off, then CONFIG SET appendonly yes
// rewrites it into the node's multi-part AOF (its appendfilename and appenddirname).
//
// Nothing in the data dir changes before the last step: the snapshot is restored, loaded and
// rewritten in a staging dir inside it (same file system: the final move is a rename), and a
// failure or Ctrl-C removes the staging dir and stops every process started, by its PID.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SNAPSHOT_FILE_NAME, SNAPSHOT_TAG } from "../../components/backup/backupJob";
import { parseImageReference } from "../../components/config/imageReference";
import type { StackConfig } from "../../components/config/types";
import { BUILT_REDIS_IMAGE, REDIS_DEBIAN_VERSION } from "../../components/images/redisImage";
import { RUNTIME_REDIS_CONF_NAME } from "../../components/redis/dataNodeScripts";
import { parseConfDirectives, renderRedisConf } from "../../components/redis/redisConf";
import { stackModel } from "../../components/topology/model";
import { dataNodeSettings } from "../../components/topology/settings";
import { UsageError } from "./args";
import { probeServer, respCommand, RespErrorReply, type RespValue } from "./resp";

/** A precondition failed: nothing was changed. One line, exit 2. */
export class RestoreRefusal extends UsageError {}

/** The restore started and failed: the staging dir is removed, the data dir is as it was. Exit 1. */
export class RestoreFailure extends Error {}

const MiB = 1024 * 1024;

/** Redis 7.0's defaults for what the rendered redis.conf does not set. */
export const REDIS_FILE_DEFAULTS = { appendfilename: "appendonly.aof", appenddirname: "appendonlydir", dbfilename: "dump.rdb" } as const;

export interface RestoreTarget {
  node: string;
  role: "master" | "replica";
  /** Where the node's server is reached on its host: its bind address and its declared address. */
  addresses: string[];
  port: number;
  appendFilename: string;
  appendDirname: string;
  dbFilename: string;
}

function unquote(value: string): string {
  return /^"(.*)"$/.exec(value)?.[1] ?? value;
}

/**
 * The node's files and address as its rendered redis.conf declares them (the program's own
 * renderers), the node being `nodeName` or else the stack's initial master.
 */
export function restoreTarget(config: StackConfig, nodeName?: string): RestoreTarget {
  const model = stackModel(config);
  const nodes = model.topology.dataNodes;
  const node = nodeName === undefined ? model.topology.master : nodes.find((n) => n.name === nodeName);
  if (!node) throw new RestoreRefusal(`--node ${JSON.stringify(nodeName)}: not a data node of this stack; its data nodes: ${nodes.map((n) => n.name).join(", ")}`);
  const conf = parseConfDirectives(renderRedisConf(dataNodeSettings(config, model, node)));
  const last = (key: string) => {
    const value = conf.get(key)?.at(-1);
    return value === undefined ? undefined : unquote(value);
  };
  const bind = (last("bind") ?? "").split(/\s+/).map((a) => a.replace(/^-/, ""));
  const addresses = [...new Set([...bind, last("replica-announce-ip") ?? ""].filter((a) => a !== ""))];
  return {
    node: node.name,
    role: node.role,
    addresses,
    port: Number(listeningPort(conf)),
    appendFilename: last("appendfilename") ?? REDIS_FILE_DEFAULTS.appendfilename,
    appendDirname: last("appenddirname") ?? REDIS_FILE_DEFAULTS.appenddirname,
    dbFilename: last("dbfilename") ?? REDIS_FILE_DEFAULTS.dbfilename,
  };
}

/** One entry of `restic snapshots --json`. */
export interface Snapshot {
  id: string;
  short_id?: string;
  time: string;
  hostname?: string;
  tags?: string[] | null;
  paths?: string[];
}

/** restic's times carry nanoseconds and the host's offset: milliseconds since the epoch. */
export function snapshotTime(snapshot: Snapshot): number {
  return Date.parse(snapshot.time.replace(/(\.\d{3})\d+/, "$1"));
}

export function shortId(snapshot: Snapshot): string {
  return snapshot.short_id ?? snapshot.id.slice(0, 8);
}

/** The data node a snapshot was read from (its tag node=<name>), when tagged. */
export function snapshotSource(snapshot: Snapshot): string | undefined {
  return snapshot.tags?.find((t) => t.startsWith("node="))?.slice("node=".length);
}

const listHint = (repository: string) => `list them with: restic -r ${repository} snapshots`;

/** `latest` (the newest snapshot tagged veza-redis) or the one snapshot whose id starts with `wanted`. */
export function pickSnapshot(snapshots: Snapshot[], wanted: string, repository: string): Snapshot {
  let chosen: Snapshot;
  if (wanted === "latest") {
    const tagged = snapshots.filter((s) => s.tags?.includes(SNAPSHOT_TAG)).sort((a, b) => snapshotTime(a) - snapshotTime(b));
    if (tagged.length === 0)
      throw new RestoreRefusal(`no snapshot tagged ${SNAPSHOT_TAG} in ${repository} (${snapshots.length} snapshot${snapshots.length === 1 ? "" : "s"} in all); ${listHint(repository)}`);
    chosen = tagged[tagged.length - 1];
  } else {
    if (!/^[0-9a-f]{1,64}$/.test(wanted)) throw new RestoreRefusal(`--snapshot ${JSON.stringify(wanted)}: expected latest or a snapshot id (hex, as restic snapshots prints it)`);
    const matches = snapshots.filter((s) => s.id.startsWith(wanted));
    if (matches.length === 0) throw new RestoreRefusal(`snapshot ${wanted} not found in ${repository}; ${listHint(repository)}`);
    if (matches.length > 1) throw new RestoreRefusal(`snapshot ${wanted} is ambiguous in ${repository}: ${matches.map(shortId).join(", ")} start with it; give more of the id`);
    chosen = matches[0];
  }
  const file = `/${SNAPSHOT_FILE_NAME}`;
  if (!(chosen.paths ?? []).includes(file)) throw new RestoreRefusal(`snapshot ${shortId(chosen)} holds ${JSON.stringify(chosen.paths ?? [])}, not ${file}: not a snapshot of the backup job`);
  return chosen;
}

/** 1.5 MiB; bytes below 1 KiB as "812 B". */
export function humanBytes(bytes: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = "B";
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return unit === "B" ? `${bytes} B` : `${value.toFixed(1)} ${unit}`;
}

/** The exact figure and its readable size: "1048576 B (1.0 MiB)". */
export function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${bytes} B (${humanBytes(bytes)})`;
}

/**
 * The free space a restore needs: the restored RDB and the AOF base written from it exist side by
 * side until the RDB is removed, plus a margin (10%, at least 16 MiB) so the node does not start
 * on a full disk.
 */
export function requiredSpace(snapshotBytes: number): { required: number; margin: number } {
  const both = 2 * snapshotBytes;
  const margin = Math.max(16 * MiB, Math.ceil(both * 0.1));
  return { required: both + margin, margin };
}

/** The refusal when `freeBytes` is short of what the snapshot needs; undefined when it fits. */
export function spaceProblem(dataDir: string, snapshot: string, snapshotBytes: number, freeBytes: number): string | undefined {
  const { required, margin } = requiredSpace(snapshotBytes);
  if (freeBytes >= required) return undefined;
  return `${dataDir}: not enough free space for snapshot ${snapshot}: it needs ${formatBytes(required)}, twice its ${formatBytes(snapshotBytes)} (the RDB and the AOF base written from it) plus a ${humanBytes(margin)} margin, and the file system has ${formatBytes(freeBytes)} free; free space or restore into a larger data dir`;
}

export function freeBytes(dir: string): number {
  const stat = fs.statfsSync(dir);
  return stat.bavail * stat.bsize;
}

/** What in the data dir the restore would replace: the node's AOF dir, a legacy one-file AOF, its RDB. */
export function existingData(dataDir: string, target: RestoreTarget): string[] {
  const found: string[] = [];
  const aofDir = path.join(dataDir, target.appendDirname);
  if (fs.existsSync(aofDir)) found.push(target.appendDirname);
  for (const name of [target.appendFilename, target.dbFilename]) if (fs.existsSync(path.join(dataDir, name))) found.push(name);
  return found;
}

/**
 * The refusal when the data dir holds a node's runtime conf (the entry script's copy,
 * <data dir>/redis.conf) naming another port than the node's: the data dir of another node, or
 * --node wrong. Undefined when it matches or there is no such file (a scratch dir).
 */
export function dataDirNodeProblem(dataDir: string, target: RestoreTarget): string | undefined {
  const file = path.join(dataDir, RUNTIME_REDIS_CONF_NAME);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    return `${file}: cannot read it to check that --data-dir is node ${target.node}'s (${code ?? (error as Error).message}); run as root or give --force`;
  }
  const port = listeningPort(parseConfDirectives(text));
  if (port === undefined || Number(port) === target.port) return undefined;
  return `${file} names port ${port}, node ${target.node} is declared on port ${target.port}: --data-dir is another node's, or --node is wrong; give node ${target.node}'s data dir or the --node it belongs to (--force to restore all the same)`;
}

/** The port a conf's server listens on: its last `port`, or with `port 0` (TLS on) its last `tls-port`. */
function listeningPort(conf: ReturnType<typeof parseConfDirectives>): string | undefined {
  const last = (key: string) => {
    const value = conf.get(key)?.at(-1);
    return value === undefined ? undefined : unquote(value);
  };
  const port = last("port");
  return port === "0" ? (last("tls-port") ?? port) : port;
}

/** Every server answering on the node's addresses and port, described; empty when none. */
export async function liveServers(target: RestoreTarget, timeoutMs = 2000): Promise<string[]> {
  const probes = await Promise.all(target.addresses.map(async (address) => ({ address, probe: await probeServer(address, target.port, timeoutMs) })));
  return probes.flatMap(({ address, probe }) => {
    if (probe.state === "answered") return [`${address}:${target.port} answers PING (${probe.reply.split(" ")[0]})`];
    if (probe.state === "silent") return [`something listens on ${address}:${target.port} (no reply to PING)`];
    return [];
  });
}

// --- the Redis version ---

export interface RedisVersion {
  major: number;
  minor: number;
  patch?: number;
}

export const formatVersion = (v: RedisVersion) => `${v.major}.${v.minor}${v.patch === undefined ? "" : `.${v.patch}`}`;

/** `redis-server --version`'s "Redis server v=7.0.15 sha=...". */
export function parseRedisServerVersion(output: string): RedisVersion | undefined {
  const m = /\bv=(\d+)\.(\d+)\.(\d+)/.exec(output);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/**
 * The Redis version the stack's redis.image runs: the built image's Debian package version, or
 * the version its tag starts with (redis:7.2.11, bitnami/redis:7.2.4-debian-12-r0). Undefined for
 * a digest-only reference or a tag that is no version.
 */
export function deployedRedisVersion(image: string): { version: RedisVersion; from: string } | undefined {
  const reference = parseImageReference(image);
  if (!reference) return undefined;
  const named = reference.tag === undefined ? reference.name : `${reference.name}:${reference.tag}`;
  if (named === BUILT_REDIS_IMAGE) {
    const m = /^(?:\d+:)?(\d+)\.(\d+)\.(\d+)/.exec(REDIS_DEBIAN_VERSION);
    if (m) return { version: { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) }, from: `Debian's redis ${REDIS_DEBIAN_VERSION}, the image built from images/redis` };
  }
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-_.+].*)?$/.exec(reference.tag ?? "");
  if (!m) return undefined;
  return { version: { major: Number(m[1]), minor: Number(m[2]), ...(m[3] === undefined ? {} : { patch: Number(m[3]) }) }, from: "its tag" };
}

/**
 * The refusal when the redis-server writing the AOF is another major.minor than the deployed one:
 * a newer one writes an RDB base (format version) the node cannot load, an older one no
 * multi-part AOF. Undefined when they match.
 */
export function versionProblem(binary: RedisVersion, image: string, deployed: { version: RedisVersion; from: string }): string | undefined {
  if (binary.major === deployed.version.major && binary.minor === deployed.version.minor) return undefined;
  const want = `${deployed.version.major}.${deployed.version.minor}`;
  return `redis-server on PATH is ${formatVersion(binary)} (redis-server --version), the stack deploys Redis ${formatVersion(deployed.version)} (redis.image ${image}: ${deployed.from}): an AOF written by ${binary.major}.${binary.minor} may not load on ${want}; run the restore where redis-server ${want} comes first on PATH (Debian bookworm's redis-server for the built image)`;
}

/** What `redis-server --version` says, or a refusal. */
export function redisServerVersion(): RedisVersion {
  const run = spawnSync("redis-server", ["--version"], { encoding: "utf8", timeout: 10_000, killSignal: "SIGKILL" });
  if (run.error && (run.error as NodeJS.ErrnoException).code === "ENOENT") throw new RestoreRefusal("redis-server not found: install it (apt-get install redis-server; the stack runs 7.0.15)");
  const version = parseRedisServerVersion(run.stdout ?? "");
  if (!version) throw new RestoreRefusal(`redis-server --version printed no version (v=X.Y.Z): ${JSON.stringify((run.stdout ?? "").trim().slice(0, 100))}`);
  return version;
}

// --- restic ---

export interface Repository {
  repository: string;
  passwordFile: string;
}

function resticArgs(repo: Repository, args: string[]): string[] {
  // No cache: a restore is one read, and the operator's home gets nothing of the repository.
  return ["-r", repo.repository, "--password-file", repo.passwordFile, "--no-cache", ...args];
}

/** What restic's failure means for the operator, in one line. */
export function resticProblem(repo: Repository, command: string, status: number | null, stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const fatal = lines.find((l) => l.startsWith("Fatal:"))?.replace(/^Fatal:\s*/, "") ?? lines.at(-1) ?? "";
  if (/wrong password or no key found/.test(stderr))
    return `wrong password for ${repo.repository}: restic says "wrong password or no key found" with --password-file ${repo.passwordFile} (the stack's: pulumi stack output backupRepositoryPassword --show-secrets)`;
  if (/Is there a repository at the following location\?|unable to open config file|repository does not exist/.test(stderr))
    return `no restic repository at ${repo.repository} (restic: ${fatal}); give the backup repository's path (docs/backup.md)`;
  return `restic ${command} failed (${status === null ? "timed out, killed" : `exit ${status}`}): ${fatal || "no message"}`;
}

export interface ResticResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function resticMissing(error: Error | undefined): void {
  if (error && (error as NodeJS.ErrnoException).code === "ENOENT") throw new RestoreRefusal("restic not found: install it (apt-get install restic; 0.14 is what the backup job runs)");
}

/** A short restic command, killed (by its PID, SIGKILL) after `timeoutMs`. */
export function runRestic(repo: Repository, args: string[], timeoutMs = 120_000): ResticResult {
  const run = spawnSync("restic", resticArgs(repo, args), { encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 256 * MiB });
  resticMissing(run.error);
  return { status: run.status, stdout: run.stdout ?? "", stderr: run.stderr ?? "" };
}

/** restic's JSON output, or a refusal naming what went wrong. */
function resticJson<T>(repo: Repository, args: string[]): T {
  const run = runRestic(repo, args);
  if (run.status !== 0) throw new RestoreRefusal(resticProblem(repo, args[0], run.status, run.stderr));
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new RestoreRefusal(`restic ${args[0]} --json printed no JSON: ${run.stdout.slice(0, 100)}`);
  }
}

export function listSnapshots(repo: Repository): Snapshot[] {
  return resticJson<Snapshot[] | null>(repo, ["snapshots", "--json", "--no-lock"]) ?? [];
}

/** The bytes the snapshot restores to. */
export function snapshotSize(repo: Repository, snapshot: Snapshot): number {
  const stats = resticJson<{ total_size?: number }>(repo, ["stats", "--json", "--no-lock", "--mode", "restore-size", snapshot.id]);
  if (typeof stats.total_size !== "number") throw new RestoreRefusal(`restic stats printed no total_size for snapshot ${shortId(snapshot)}`);
  return stats.total_size;
}

/** The password file must be readable before restic is asked anything: its error would be vaguer. */
export function checkPasswordFile(file: string): void {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    if (!fs.statSync(file).isFile()) throw Object.assign(new Error("not a file"), { code: "not a regular file" });
  } catch (error) {
    throw new RestoreRefusal(`--password-file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

// --- processes ---

/** How long a step may take: a fixed part plus the time at a slow rate for the bytes. */
export function boundMs(bytes: number, fixedSeconds: number, bytesPerSecond: number): number {
  return Math.round((fixedSeconds + bytes / bytesPerSecond) * 1000);
}

export type Progress = (line: string) => void;

/** Every process and dir a restore made, undone by PID and path on failure, Ctrl-C or exit. */
export class Cleanup {
  private readonly children = new Set<ChildProcess>();
  private readonly dirs = new Set<string>();
  private readonly onSignal = () => {
    this.run();
    process.exit(130);
  };
  private readonly onExit = () => this.run();

  constructor() {
    process.on("SIGINT", this.onSignal);
    process.on("SIGTERM", this.onSignal);
    process.on("exit", this.onExit);
  }

  track(child: ChildProcess): ChildProcess {
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    return child;
  }

  dir(dir: string): string {
    this.dirs.add(dir);
    return dir;
  }

  /** Kills what still runs (SIGKILL by PID) and removes the dirs: synchronous, safe in a signal handler. */
  run(): void {
    for (const child of this.children) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      }
    }
    this.children.clear();
    for (const dir of this.dirs) fs.rmSync(dir, { recursive: true, force: true });
    this.dirs.clear();
  }

  close(): void {
    this.run();
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
    process.off("exit", this.onExit);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(0)} s`;

/** Calls `report` at most every `everyMs`, starting after the first `everyMs`. */
function throttled(everyMs: number, report: Progress): Progress {
  let next = Date.now() + everyMs;
  return (line) => {
    if (Date.now() < next) return;
    next = Date.now() + everyMs;
    report(line);
  };
}

export const PROGRESS_EVERY_MS = 5000;

/**
 * What a process has written so far: its write calls' bytes (/proc/<pid>/io wchar). Not the file's
 * size or blocks: restic 0.14 allocates the whole file before it writes into it.
 */
export function bytesWritten(pid: number, file: string): number {
  try {
    const wchar = /^wchar:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, "utf8"));
    if (wchar) return Number(wchar[1]);
  } catch {
    /* not Linux, or the process is gone: the file's size below */
  }
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * `restic restore --no-lock <id> --target <dir> --include /dump.rdb`, bounded by `timeoutMs` (then killed
 * by PID). restic 0.14 prints no restore progress: what it has written is polled instead.
 */
export async function resticRestore(repo: Repository, snapshot: Snapshot, bytes: number, targetDir: string, cleanup: Cleanup, progress: Progress, timeoutMs: number): Promise<string> {
  const file = path.join(targetDir, SNAPSHOT_FILE_NAME);
  // --no-lock: a read takes no lock, so a restore run as root and killed (Ctrl-C, the timeout) leaves none behind for the job.
  const child = cleanup.track(
    spawn("restic", resticArgs(repo, ["restore", "--no-lock", snapshot.id, "--target", targetDir, "--include", `/${SNAPSHOT_FILE_NAME}`]), { stdio: ["ignore", "ignore", "pipe"] }),
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-8192)));
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  const done = exited(child);
  const started = Date.now();
  const report = throttled(PROGRESS_EVERY_MS, progress);
  for (;;) {
    const outcome = await Promise.race([done.then(() => "exited" as const), spawnError, sleep(500).then(() => "tick" as const)]);
    if (outcome instanceof Error) {
      resticMissing(outcome);
      throw new RestoreFailure(`restic restore did not start: ${outcome.message}`);
    }
    if (outcome === "exited") break;
    const elapsed = Date.now() - started;
    if (elapsed > timeoutMs) {
      process.kill(child.pid!, "SIGKILL");
      await done;
      throw new RestoreFailure(`restic restore of ${shortId(snapshot)} took longer than ${seconds(timeoutMs)}: killed`);
    }
    const written = Math.min(bytes, bytesWritten(child.pid!, file));
    report(`restic restore ${shortId(snapshot)}: ${humanBytes(written)} of ${humanBytes(bytes)}${bytes > 0 ? ` (${Math.floor((100 * written) / bytes)}%)` : ""}, ${seconds(elapsed)}`);
  }
  if (child.exitCode !== 0) throw new RestoreFailure(resticProblem(repo, "restore", child.exitCode, stderr));
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    throw new RestoreFailure(`restic restore of ${shortId(snapshot)} wrote no ${SNAPSHOT_FILE_NAME}`);
  }
  if (size !== bytes) throw new RestoreFailure(`restic restored ${formatBytes(size)} for snapshot ${shortId(snapshot)}, restic stats said ${formatBytes(bytes)}`);
  return file;
}

function infoFields(reply: RespValue): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of String(reply).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** The keys of every database (INFO keyspace; DBSIZE counts db0 only). */
export function keyspaceKeys(info: string): number {
  return [...info.matchAll(/^db\d+:keys=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

export interface ScratchOptions {
  /** Where the RDB is and the AOF dir is written: the staging dir. */
  dir: string;
  target: RestoreTarget;
  bytes: number;
  cleanup: Cleanup;
  progress: Progress;
  loadTimeoutMs: number;
  rewriteTimeoutMs: number;
}

/** The log's last two lines, without their pid and time, nor the host warnings (overcommit, THP) Redis prints at every start. */
function logTail(log: string): string {
  try {
    return fs
      .readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .filter((line) => !/ # WARNING /.test(line))
      .slice(-2)
      .map((line) => line.replace(/^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [#*.-] /, ""))
      .join(" | ");
  } catch {
    return "no log";
  }
}

/**
 * Loads `<dir>/dump.rdb` in a scratch redis-server (unix socket only, in a private 0700 dir) and
 * has it write the node's AOF from it. Returns the number of keys.
 */
export async function rdbToAof(options: ScratchOptions): Promise<number> {
  const { dir, target, cleanup, progress } = options;
  const socketDir = cleanup.dir(fs.mkdtempSync(path.join(os.tmpdir(), "veza-restore-")));
  fs.chmodSync(socketDir, 0o700);
  const socket = path.join(socketDir, "redis.sock");
  const log = path.join(socketDir, "redis.log");
  const args = [
    "--port", "0",
    "--unixsocket", socket,
    "--unixsocketperm", "700",
    "--dir", dir,
    "--dbfilename", SNAPSHOT_FILE_NAME,
    "--appendonly", "no",
    "--appendfilename", target.appendFilename,
    "--appenddirname", target.appendDirname,
    "--aof-use-rdb-preamble", "yes",
    "--save", "",
    "--maxmemory", "0",
    "--daemonize", "no",
    "--logfile", log,
  ]; // prettier-ignore
  const child = cleanup.track(spawn("redis-server", args, { stdio: "ignore", cwd: socketDir }));
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  const done = exited(child);
  const failed = (what: string) => new RestoreFailure(`the scratch redis-server ${what} (its log: ${logTail(log)})`);
  const ask = (command: string[], timeoutMs = 5000) => respCommand({ path: socket }, command, timeoutMs);

  // Until it runs (or fails), ticking; a step's progress line at most every 5 s.
  const step = async (what: string, timeoutMs: number, poll: () => Promise<true | RestoreFailure | undefined>, describe: () => Promise<string>): Promise<void> => {
    const started = Date.now();
    const report = throttled(PROGRESS_EVERY_MS, progress);
    for (;;) {
      // A poll that cannot connect yet counts as not ready; one that found a failure returns it.
      const outcome = await Promise.race([done.then(() => "exited" as const), spawnError, poll().catch(() => undefined)]);
      if (outcome instanceof RestoreFailure) throw outcome;
      if (outcome instanceof Error) {
        if ((outcome as NodeJS.ErrnoException).code === "ENOENT") throw new RestoreRefusal("redis-server not found: install it (apt-get install redis-server; the stack runs 7.0.15)");
        throw failed(`did not start: ${outcome.message}`);
      }
      if (outcome === "exited") throw failed(`exited while ${what} (exit ${child.exitCode ?? child.signalCode})`);
      if (outcome === true) return;
      if (Date.now() - started > timeoutMs) throw failed(`took longer than ${seconds(timeoutMs)} ${what}: killed`);
      const line = await describe().catch(() => "");
      report(`${what}: ${line ? `${line}, ` : ""}${seconds(Date.now() - started)}`);
      await sleep(200);
    }
  };

  await step(
    "loading the snapshot",
    options.loadTimeoutMs,
    async () => ((await ask(["PING"], 2000)) === "PONG" ? true : undefined),
    async () => `${infoFields(await ask(["INFO", "persistence"])).get("loading_loaded_perc") ?? "?"}% loaded`,
  );
  // Redis starts empty, without a word on the socket, when it finds no RDB to load.
  if (!/DB loaded from disk/.test(fs.readFileSync(log, "utf8"))) throw failed("did not load the snapshot");
  const set = await ask(["CONFIG", "SET", "appendonly", "yes"]);
  if (set !== "OK") throw failed(`refused CONFIG SET appendonly yes: ${set instanceof RespErrorReply ? set.message : String(set)}`);
  const manifest = path.join(dir, target.appendDirname, `${target.appendFilename}.manifest`);
  await step(
    "writing the AOF",
    options.rewriteTimeoutMs,
    async () => {
      const info = infoFields(await ask(["INFO", "persistence"]));
      if (info.get("aof_last_bgrewrite_status") === "err") return failed("failed to write the AOF (aof_last_bgrewrite_status:err)");
      const finished =
        info.get("aof_enabled") === "1" &&
        info.get("aof_rewrite_in_progress") === "0" &&
        info.get("aof_rewrite_scheduled") === "0" &&
        info.get("aof_last_bgrewrite_status") === "ok" &&
        fs.existsSync(manifest);
      return finished ? true : undefined;
    },
    async () => `${infoFields(await ask(["INFO", "persistence"])).get("aof_current_rewrite_time_sec") ?? "?"} s into the rewrite`,
  );
  const keys = keyspaceKeys(String(await ask(["INFO", "keyspace"])));
  await ask(["SHUTDOWN", "NOSAVE"]).catch(() => undefined);
  const stopped = await Promise.race([done.then(() => true), sleep(10_000).then(() => false)]);
  if (!stopped) {
    process.kill(child.pid!, "SIGKILL");
    await done;
    throw failed("did not stop within 10 s of SHUTDOWN NOSAVE: killed");
  }
  if (child.exitCode !== 0) throw failed(`exited with ${child.exitCode ?? child.signalCode} on SHUTDOWN`);
  return keys;
}

/** Gives `target` and everything under it to uid:gid (the data dir's owner: the container's redis user). */
export function chownTree(target: string, uid: number, gid: number): void {
  fs.lchownSync(target, uid, gid);
  if (fs.lstatSync(target).isDirectory()) for (const entry of fs.readdirSync(target)) chownTree(path.join(target, entry), uid, gid);
}

/** `<name>.before-restore-<UTC time>`: where --replace-data moves what the restore replaces. */
export function asideName(name: string, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${name}.before-restore-${stamp}`;
}
