// Repairs the one AOF corruption the disk-full drill produces with Redis 7.0.15: after ENOSPC, a
// short write is "undone" with ftruncate to a stale size, which leaves a run of NUL bytes inside
// the INCR file, followed by the valid commands written once space came back. Redis then refuses
// to start ("Bad file format"). redis-check-aof --fix would truncate at the NULs and drop those
// later, acknowledged writes; removing only the NUL run keeps them.
//
// It cannot harm what it is pointed at (issue 11): it refuses, before touching anything, every
// file it does not recognize as an AOF (a RESP command stream, optionally after an RDB preamble),
// a manifest, an empty file, a damaged RDB preamble and an offset beyond the end; it copies the
// file to a backup before the first write; and it checks the result with redis-check-aof, putting
// the original back if that fails. Given an appendonlydir or its manifest (Redis 7 multi-part
// AOF), it finds the one INCR file the manifest lists that redis-check-aof says is damaged.
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

/** redis-check-aof (without --fix: it only reads) on one single-part AOF file. */
export function checkAof(file: string): AofCheck {
  const run = spawnSync("redis-check-aof", [file], { encoding: "utf8", env: process.env });
  if (run.error) throw new AofRefusal(`cannot run redis-check-aof (${(run.error as NodeJS.ErrnoException).code ?? run.error.message}): install redis-tools, or run this where Redis is installed`);
  const out = `${run.stdout}\n${run.stderr}`;
  const analyzed = /AOF analyzed: filename=.*, size=(\d+), ok_up_to=(\d+),/.exec(out);
  if (!analyzed) {
    if (/RDB preamble of AOF file is not sane/.test(out)) throw new AofRefusal(`${file}: its RDB preamble is damaged; aof-repair only repairs the command stream after it (restore from a backup, or resync this node from a replica)`);
    throw new AofRefusal(`${file}: redis-check-aof gave no verdict: ${out.trim().split("\n").pop()}`);
  }
  const size = Number(analyzed[1]);
  const okUpTo = Number(analyzed[2]);
  const rdbEnd = /\[offset (\d+)\] \\o\/ RDB looks OK! \\o\//.exec(out)?.[1];
  return { size, okUpTo, valid: okUpTo === size && run.status === 0, ...(rdbEnd !== undefined ? { rdbEnd: Number(rdbEnd) } : {}) };
}

/** The INCR files a Redis 7 manifest lists, in order (absolute paths). */
export function incrFilesOf(manifest: string): string[] {
  const dir = path.dirname(manifest);
  const incr: string[] = [];
  const lines = fs.readFileSync(manifest, "utf8").split("\n").filter((line) => line.trim() !== "");
  for (const line of lines) {
    const match = MANIFEST_LINE.exec(line);
    if (!match) throw new AofRefusal(`${manifest}: not an AOF manifest (line ${JSON.stringify(line.slice(0, 60))} is not "file <name> seq <n> type b|h|i")`);
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
  const isManifest = stat.isFile() && (target.endsWith(".manifest") || MANIFEST_LINE.test(readHead(target, 200).toString("latin1").split("\n")[0]));
  if (!stat.isDirectory() && !isManifest) {
    if (!stat.isFile()) throw new AofRefusal(`${target}: not a regular file`);
    return { file: target };
  }
  const manifest = stat.isDirectory() ? findManifest(target) : target;
  const incr = incrFilesOf(manifest);
  const missing = incr.filter((file) => !fs.existsSync(file));
  if (missing.length > 0) throw new AofRefusal(`${manifest} lists INCR files that do not exist: ${missing.map((f) => path.basename(f)).join(", ")}; aof-repair does not rebuild a manifest`);
  const damaged = incr.filter((file) => fs.statSync(file).size > 0 && !checkAof(file).valid);
  if (damaged.length === 0) return { chosen: `${path.basename(manifest)} lists ${incr.length} INCR file(s), none damaged` };
  if (damaged.length > 1) throw new AofRefusal(`${manifest} lists ${damaged.length} damaged INCR files (${damaged.map((f) => path.basename(f)).join(", ")}); repair each by name`);
  return { file: damaged[0], chosen: `the damaged INCR file ${path.basename(manifest)} lists` };
}

function readHead(file: string, bytes: number): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const buffer = Buffer.alloc(bytes);
    return buffer.subarray(0, fs.readSync(fd, buffer, 0, bytes, 0));
  } finally {
    fs.closeSync(fd);
  }
}

/** `<dir>/<name>.bak-<UTC time>`, never an existing file: COPYFILE_EXCL, and a counter on a clash. */
export function writeBackup(file: string, options: RepairOptions = {}): string {
  const dir = options.backupDir ?? path.dirname(file);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new AofRefusal(`--backup-dir ${dir}: no such directory`);
  const stamp = (options.now ?? new Date()).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  for (let attempt = 0; attempt < 100; attempt++) {
    const backup = path.join(dir, `${path.basename(file)}.bak-${stamp}${attempt ? `-${attempt}` : ""}`);
    try {
      fs.copyFileSync(file, backup, fs.constants.COPYFILE_EXCL);
      return backup;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      fs.rmSync(backup, { force: true });
      throw new AofRefusal(`${file}: could not write the backup ${backup} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}), nothing changed; free space or give --backup-dir`);
    }
  }
  throw new AofRefusal(`${file}: 100 backups already exist for this second`);
}

/** Writes in place (same inode, owner and mode), then flushes. */
function rewrite(file: string, data: Buffer): void {
  const fd = fs.openSync(file, "r+");
  try {
    fs.writeSync(fd, data, 0, data.length, 0);
    fs.ftruncateSync(fd, data.length);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Repairs one single-part AOF file in place, after a backup. Throws AofRefusal, changing nothing,
 * on anything it does not recognize; a valid file is left alone (method "none", no backup).
 */
export function repairAofFile(file: string, options: RepairOptions = {}): AofRepair {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new AofRefusal(`${file}: no such file`);
  if (!stat.isFile()) throw new AofRefusal(`${file}: not a regular file`);
  if (stat.size === 0) throw new AofRefusal(`${file}: empty, nothing to repair (Redis loads an empty AOF; check the file name Redis gave)`);
  const head = readHead(file, 64);
  if (MANIFEST_LINE.test(head.toString("latin1").split("\n")[0])) throw new AofRefusal(`${file}: an AOF manifest, not an AOF; give the appendonlydir or the INCR file Redis named`);
  const format = aofFormat(head);
  if (!format) throw new AofRefusal(`${file}: not an AOF (starts with ${JSON.stringify(head.subarray(0, 16).toString("latin1"))}; an AOF starts with *<n>\\r\\n$<len>\\r\\n or an RDB preamble REDIS<version>)`);
  if (path.basename(file).includes(".base.")) throw new AofRefusal(`${file}: a BASE file (the last rewrite's snapshot); aof-repair only repairs INCR files: restore it from a backup or resync this node`);

  const check = checkAof(file);
  if (check.okUpTo > stat.size) throw new AofRefusal(`${file}: redis-check-aof's valid offset ${check.okUpTo} is beyond the end (${stat.size} B); nothing changed`);
  if (check.size !== stat.size) throw new AofRefusal(`${file}: changed while being checked (${stat.size} B, redis-check-aof read ${check.size} B); stop Redis first`);
  if (check.valid) return { file, offset: check.okUpTo, removedBytes: 0, method: "none" };
  if (format === "rdb-preamble" && (check.rdbEnd === undefined || check.okUpTo < check.rdbEnd)) {
    throw new AofRefusal(`${file}: the damage is inside the RDB preamble (valid up to ${check.okUpTo}); aof-repair only repairs the command stream after it`);
  }

  const data = fs.readFileSync(file);
  const offset = check.okUpTo;
  let end = offset;
  while (end < data.length && data[end] === 0) end++;
  const backup = writeBackup(file, options);
  try {
    if (end > offset && (end === data.length || data[end] === 0x2a /* '*' starts a command */)) {
      rewrite(file, Buffer.concat([data.subarray(0, offset), data.subarray(end)]));
      if (checkAof(file).valid) return { file, offset, removedBytes: end - offset, method: "removed NUL run", backup };
      rewrite(file, data);
    }
    rewrite(file, data.subarray(0, offset));
    if (!checkAof(file).valid) throw new Error(`still not valid after truncating at ${offset}`);
    return { file, offset, removedBytes: data.length - offset, method: "truncated", backup };
  } catch (error) {
    // Put the original back: whatever went wrong, the file ends as it started.
    rewrite(file, data);
    throw new AofRefusal(`${file}: repair failed (${(error as Error).message}); the original is back in place, and in ${backup}`);
  }
}
