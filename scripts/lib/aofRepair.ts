// Repairs the one AOF corruption the disk-full drill produces with Redis 7.0.15: after ENOSPC, a
// short write is "undone" with ftruncate to a stale size, which leaves a run of NUL bytes inside
// the INCR file, followed by the valid commands written once space came back. Redis then refuses
// to start ("Bad file format"). redis-check-aof --fix would truncate at the NULs and drop those
// later, acknowledged writes; removing only the NUL run keeps them.
//
// It cannot harm what it is pointed at: it refuses, before touching anything, every
// file it does not recognize as an AOF (a RESP command stream, optionally after an RDB preamble),
// a manifest, an empty file, a damaged RDB preamble and an offset beyond the end; it copies the
// file to a backup before the first write; and it checks the result with redis-check-aof, putting
// the original back if that fails. Given an appendonlydir or its manifest (Redis 7 multi-part
// AOF), it finds the one INCR file the manifest lists that redis-check-aof says is damaged.
//
// The directory may be hostile (the redis user, or whoever took over the server, writes it): every
// file is opened with O_NOFOLLOW and refused unless the descriptor's own path (/proc/self/fd) is
// the path named, so no symbolic link anywhere on the way is followed; the file repaired is opened
// once and checked, read, backed up and rewritten through that descriptor (redis-check-aof reads
// it as /dev/fd/3), so swapping the path mid-repair changes nothing; a manifest entry must be a
// plain file name inside the manifest's directory; the backup is created with O_EXCL.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** Bad input: nothing was changed. The CLI prints it in one line and exits 2. */
export class AofRefusal extends Error {}

export interface AofRepair {
  file: string;
  /** Where the valid data ended (redis-check-aof's ok_up_to). */
  offset: number;
  removedBytes: number;
  method: "removed NUL run" | "truncated" | "none";
  /** The copy made before the first change; absent when nothing was changed. */
  backup?: string;
  /** How the file was chosen when a directory or a manifest was given. */
  chosen?: string;
}

export interface RepairOptions {
  /** Where the backup goes (default: beside the file). On a full disk, point it elsewhere. */
  backupDir?: string;
  now?: Date;
}

const MANIFEST_LINE = /^file\s+(\S+)\s+seq\s+\d+\s+type\s+([bhi])\s*$/;
const RESP_START = /^\*\d+\r\n\$\d+\r\n/;
const RDB_MAGIC = /^REDIS\d{4}/;

/** What the first bytes say the file is; undefined when it is not an AOF. */
export function aofFormat(head: Buffer): "resp" | "rdb-preamble" | undefined {
  const text = head.subarray(0, 32).toString("latin1");
  if (RESP_START.test(text)) return "resp";
  if (RDB_MAGIC.test(text)) return "rdb-preamble";
  return undefined;
}

export interface AofCheck {
  size: number;
  okUpTo: number;
  valid: boolean;
  /** Set when the file starts with an RDB preamble: where the preamble ends. */
  rdbEnd?: number;
}

/**
 * Opens `file` itself: O_NOFOLLOW for its last component, and the descriptor's path compared with
 * the absolute path named for every other one. A regular file only.
 */
export function openNoFollow(file: string, writable: boolean): number {
  let fd: number;
  try {
    fd = fs.openSync(file, (writable ? fs.constants.O_RDWR : fs.constants.O_RDONLY) | fs.constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new AofRefusal(`${file}: a symbolic link; aof-repair opens only the file named, never what a link points to`);
    if (code === "ENOENT") throw new AofRefusal(`${file}: no such file`);
    throw new AofRefusal(`${file}: cannot open it (${code ?? (error as Error).message})`);
  }
  try {
    const opened = fs.readlinkSync(`/proc/self/fd/${fd}`);
    if (opened !== path.resolve(file)) throw new AofRefusal(`${file}: its path goes through a symbolic link (it opened ${opened}); give the real path, aof-repair writes only the file named`);
    if (!fs.fstatSync(fd).isFile()) throw new AofRefusal(`${file}: not a regular file`);
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** `open` then `use`, the descriptor closed whatever happens. */
function withOpened<T>(file: string, writable: boolean, use: (fd: number) => T): T {
  const fd = openNoFollow(file, writable);
  try {
    return use(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** redis-check-aof (without --fix: it only reads) on one single-part AOF file, as its open descriptor (/dev/fd/3). */
export function checkAof(fd: number): AofCheck {
  const run = spawnSync("redis-check-aof", ["/dev/fd/3"], { encoding: "utf8", env: process.env, stdio: ["ignore", "pipe", "pipe", fd] });
  if (run.error) throw new AofRefusal(`cannot run redis-check-aof (${(run.error as NodeJS.ErrnoException).code ?? run.error.message}): install redis-tools, or run this where Redis is installed`);
  const out = `${run.stdout}\n${run.stderr}`;
  const analyzed = /AOF analyzed: filename=.*, size=(\d+), ok_up_to=(\d+),/.exec(out);
  if (!analyzed) {
    if (/RDB preamble of AOF file is not sane/.test(out))
      throw new AofRefusal("its RDB preamble is damaged; aof-repair only repairs the command stream after it (restore from a backup, or resync this node from a replica)");
    throw new AofRefusal(`redis-check-aof gave no verdict: ${out.trim().split("\n").pop()}`);
  }
  const size = Number(analyzed[1]);
  const okUpTo = Number(analyzed[2]);
  const rdbEnd = /\[offset (\d+)\] \\o\/ RDB looks OK! \\o\//.exec(out)?.[1];
  return { size, okUpTo, valid: okUpTo === size && run.status === 0, ...(rdbEnd !== undefined ? { rdbEnd: Number(rdbEnd) } : {}) };
}

/** What Redis names the parts of a multi-part AOF: a plain file name, no directory, no `..`. */
const PLAIN_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** The INCR files a Redis 7 manifest lists, in order (absolute paths, each inside the manifest's directory). */
export function incrFilesOf(manifest: string): string[] {
  const dir = path.dirname(manifest);
  const incr: string[] = [];
  const lines = withOpened(manifest, false, (fd) => fs.readFileSync(fd, "utf8"))
    .split("\n")
    .filter((line) => line.trim() !== "");
  for (const line of lines) {
    const match = MANIFEST_LINE.exec(line);
    if (!match) throw new AofRefusal(`${manifest}: not an AOF manifest (line ${JSON.stringify(line.slice(0, 60))} is not "file <name> seq <n> type b|h|i")`);
    if (!PLAIN_FILE_NAME.test(match[1]) || match[1] === "..")
      throw new AofRefusal(`${manifest}: lists ${JSON.stringify(match[1])}, which is not a plain file name inside ${dir}; Redis writes none such: nothing changed`);
    if (match[2] === "i") incr.push(path.join(dir, match[1]));
  }
  return incr;
}

function findManifest(dir: string): string {
  const manifests = fs.readdirSync(dir).filter((name) => name.endsWith(".manifest"));
  if (manifests.length !== 1) throw new AofRefusal(`${dir}: a directory, and not an appendonlydir with one manifest (found ${manifests.length}); give the INCR file Redis named`);
  return path.join(dir, manifests[0]);
}

/**
 * The single AOF file to repair. A directory or a manifest stands for its Redis 7 multi-part AOF:
 * the one INCR file it lists that redis-check-aof finds damaged (none: nothing to do).
 */
export function resolveAofTarget(target: string): { file?: string; chosen?: string } {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    throw new AofRefusal(`${target}: no such file`);
  }
  const isManifest =
    stat.isFile() &&
    (target.endsWith(".manifest") ||
      MANIFEST_LINE.test(
        withOpened(target, false, (fd) => readHead(fd, 200))
          .toString("latin1")
          .split("\n")[0],
      ));
  if (!stat.isDirectory() && !isManifest) {
    if (!stat.isFile()) throw new AofRefusal(`${target}: not a regular file`);
    return { file: target };
  }
  const manifest = stat.isDirectory() ? findManifest(target) : target;
  const incr = incrFilesOf(manifest);
  const missing = incr.filter((file) => !fs.existsSync(file));
  if (missing.length > 0) throw new AofRefusal(`${manifest} lists INCR files that do not exist: ${missing.map((f) => path.basename(f)).join(", ")}; aof-repair does not rebuild a manifest`);
  const damaged = incr.filter((file) => withOpened(file, false, (fd) => fs.fstatSync(fd).size > 0 && !describedCheck(file, fd).valid));
  if (damaged.length === 0) return { chosen: `${path.basename(manifest)} lists ${incr.length} INCR file(s), none damaged` };
  if (damaged.length > 1) throw new AofRefusal(`${manifest} lists ${damaged.length} damaged INCR files (${damaged.map((f) => path.basename(f)).join(", ")}); repair each by name`);
  return { file: damaged[0], chosen: `the damaged INCR file ${path.basename(manifest)} lists` };
}

/** checkAof, its refusals naming the file. */
function describedCheck(file: string, fd: number): AofCheck {
  try {
    return checkAof(fd);
  } catch (error) {
    if (error instanceof AofRefusal) throw new AofRefusal(`${file}: ${error.message}`);
    throw error;
  }
}

function readHead(fd: number, bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  return buffer.subarray(0, fs.readSync(fd, buffer, 0, bytes, 0));
}

/**
 * `<dir>/<name>.bak-<UTC time>` holding `data` (read through the descriptor), never an existing
 * file or link: O_CREAT | O_EXCL, and a counter on a clash. The original's mode.
 */
export function writeBackup(file: string, data: Buffer, mode: number, options: RepairOptions = {}): string {
  const dir = options.backupDir ?? path.dirname(file);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new AofRefusal(`--backup-dir ${dir}: no such directory`);
  const stamp = (options.now ?? new Date())
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  for (let attempt = 0; attempt < 100; attempt++) {
    const backup = path.join(dir, `${path.basename(file)}.bak-${stamp}${attempt ? `-${attempt}` : ""}`);
    try {
      const fd = fs.openSync(backup, "wx", mode & 0o777);
      try {
        fs.writeFileSync(fd, data);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      return backup;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      fs.rmSync(backup, { force: true });
      throw new AofRefusal(`${file}: could not write the backup ${backup} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}), nothing changed; free space or give --backup-dir`);
    }
  }
  throw new AofRefusal(`${file}: 100 backups already exist for this second`);
}

/** Writes in place through the descriptor (same inode, owner and mode), then flushes. */
function rewrite(fd: number, data: Buffer): void {
  fs.writeSync(fd, data, 0, data.length, 0);
  fs.ftruncateSync(fd, data.length);
  fs.fsyncSync(fd);
}

/**
 * Repairs one single-part AOF file in place, after a backup. Throws AofRefusal, changing nothing,
 * on anything it does not recognize; a valid file is left alone (method "none", no backup).
 */
export function repairAofFile(file: string, options: RepairOptions = {}): AofRepair {
  return withOpened(file, true, (fd) => repairOpened(file, fd, options));
}

function repairOpened(file: string, fd: number, options: RepairOptions): AofRepair {
  const stat = fs.fstatSync(fd);
  if (stat.size === 0) throw new AofRefusal(`${file}: empty, nothing to repair (Redis loads an empty AOF; check the file name Redis gave)`);
  const head = readHead(fd, 64);
  if (MANIFEST_LINE.test(head.toString("latin1").split("\n")[0])) throw new AofRefusal(`${file}: an AOF manifest, not an AOF; give the appendonlydir or the INCR file Redis named`);
  const format = aofFormat(head);
  if (!format)
    throw new AofRefusal(`${file}: not an AOF (starts with ${JSON.stringify(head.subarray(0, 16).toString("latin1"))}; an AOF starts with *<n>\\r\\n$<len>\\r\\n or an RDB preamble REDIS<version>)`);
  if (path.basename(file).includes(".base."))
    throw new AofRefusal(`${file}: a BASE file (the last rewrite's snapshot); aof-repair only repairs INCR files: restore it from a backup or resync this node`);

  const check = describedCheck(file, fd);
  if (check.okUpTo > stat.size) throw new AofRefusal(`${file}: redis-check-aof's valid offset ${check.okUpTo} is beyond the end (${stat.size} B); nothing changed`);
  if (check.size !== stat.size) throw new AofRefusal(`${file}: changed while being checked (${stat.size} B, redis-check-aof read ${check.size} B); stop Redis first`);
  if (check.valid) return { file, offset: check.okUpTo, removedBytes: 0, method: "none" };
  if (format === "rdb-preamble" && (check.rdbEnd === undefined || check.okUpTo < check.rdbEnd)) {
    throw new AofRefusal(`${file}: the damage is inside the RDB preamble (valid up to ${check.okUpTo}); aof-repair only repairs the command stream after it`);
  }

  const data = Buffer.alloc(stat.size);
  if (fs.readSync(fd, data, 0, stat.size, 0) !== stat.size) throw new AofRefusal(`${file}: changed while being read; stop Redis first`);
  const offset = check.okUpTo;
  let end = offset;
  while (end < data.length && data[end] === 0) end++;
  const backup = writeBackup(file, data, stat.mode, options);
  try {
    if (end > offset && (end === data.length || data[end] === 0x2a) /* '*' starts a command */) {
      rewrite(fd, Buffer.concat([data.subarray(0, offset), data.subarray(end)]));
      if (checkAof(fd).valid) return { file, offset, removedBytes: end - offset, method: "removed NUL run", backup };
      rewrite(fd, data);
    }
    rewrite(fd, data.subarray(0, offset));
    if (!checkAof(fd).valid) throw new Error(`still not valid after truncating at ${offset}`);
    return { file, offset, removedBytes: data.length - offset, method: "truncated", backup };
  } catch (error) {
    // Put the original back: whatever went wrong, the file ends as it started.
    rewrite(fd, data);
    throw new AofRefusal(`${file}: repair failed (${(error as Error).message}); the original is back in place, and in ${backup}`);
  }
}
