// aof-repair cannot harm what it is pointed at: every bad input is refused in
// one line with exit 2 and left byte-for-byte as it was; a valid AOF is left alone; a damaged one
// is backed up first, repaired, and then loaded by a real redis-server (Debian's, like the drills).
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AofRefusal, repairAofFile, resolveAofTarget } from "../../scripts/lib/aofRepair";
import { runScript } from "../helpers/cli";

/** Commands as Redis appends them to an AOF (RESP arrays of bulk strings). */
function resp(...commands: string[][]): Buffer {
  return Buffer.from(commands.map((args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`).join(""));
}
const sets = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ["SET", `k${from + i}`, `v${from + i}`]);
const GOOD = resp(["SELECT", "0"], ...sets(0, 5));
/** What the disk-full drill leaves: a short write undone to a stale size (a NUL run), then the writes that followed. */
const NUL_RUN = Buffer.concat([GOOD, Buffer.alloc(777), resp(...sets(5, 8))]);
/** A command cut short at the end. */
const TRUNCATED = Buffer.concat([GOOD, resp(["SET", "k5", "v5"]).subarray(0, 12)]);

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "veza-aof-"));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function file(name: string, content: Buffer | string): string {
  const target = path.join(work, name);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, content);
  return target;
}

/** A Redis 7 multi-part AOF directory whose one INCR file holds `incr`. */
function appendonlyDir(name: string, incr: Buffer): { dir: string; incr: string; manifest: string } {
  const dir = path.join(work, name, "appendonlydir");
  const manifest = file(`${name}/appendonlydir/appendonly.aof.manifest`, "file appendonly.aof.1.incr.aof seq 1 type i\n");
  return { dir, incr: file(`${name}/appendonlydir/appendonly.aof.1.incr.aof`, incr), manifest };
}

/** The directory's files and their bytes: what "nothing changed" compares. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((name) => [name, fs.statSync(path.join(dir, name)).isFile() ? fs.readFileSync(path.join(dir, name)).toString("base64") : "<dir>"]),
  );
}

/** Starts Debian's redis-server on the directory above `appendonlydir`: the key count, or how it refused. */
async function redisLoads(dataDir: string): Promise<{ keys?: number; log: string }> {
  const socket = path.join(dataDir, "redis.sock");
  const child = spawn("redis-server", ["--port", "0", "--unixsocket", socket, "--dir", dataDir, "--appendonly", "yes", "--save", "", "--logfile", ""], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (chunk) => (log += chunk));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  try {
    for (let i = 0; i < 100 && child.exitCode === null; i++) {
      const ping = spawnSync("redis-cli", ["-s", socket, "dbsize"], { encoding: "utf8" });
      if (/^\d+$/.test(ping.stdout.trim())) return { keys: Number(ping.stdout.trim()), log };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { log };
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}

describe("aof-repair refuses what is not a damaged AOF, changing nothing", () => {
  it("on the command line: exit 2, one line naming the file and the problem, the file untouched", () => {
    const target = file("notes.txt", "maxmemory 100mb\nsave 60 1\n");
    const result = runScript("aof-repair", [target]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`aof-repair: ${target}: not an AOF (starts with "maxmemory 100mb\\n"; an AOF starts with *<n>\\r\\n$<len>\\r\\n or an RDB preamble REDIS<version>)\n`);
    expect(fs.readFileSync(target, "utf8")).toBe("maxmemory 100mb\nsave 60 1\n");
  });

  // The command line prints any AofRefusal as `aof-repair: <message>` and exits 2 (runMain, shown
  // above and in cli.test.ts); here the same refusals, in-process.
  it.each<[string, () => string, RegExp]>([
    ["a missing file", () => path.join(work, "missing.aof"), /missing\.aof: no such file$/],
    [
      "a directory with no manifest",
      () => (fs.mkdirSync(path.join(work, "plain-dir"), { recursive: true }), path.join(work, "plain-dir")),
      /plain-dir: a directory, and not an appendonlydir with one manifest/,
    ],
    ["an empty file", () => file("empty.aof", ""), /empty\.aof: empty, nothing to repair/],
    ["a text file", () => file("notes.txt", "maxmemory 100mb\nsave 60 1\n"), /notes\.txt: not an AOF \(starts with "maxmemory 100mb\\n/],
    ["a binary file", () => file("blob.bin", Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0])), /blob\.bin: not an AOF/],
    ["a damaged RDB preamble", () => file("rdb.aof", Buffer.concat([Buffer.from("REDIS0010\xfa\x09redis-ver", "latin1"), Buffer.alloc(8)])), /rdb\.aof: its RDB preamble is damaged/],
    ["a BASE file", () => file("b/appendonly.aof.1.base.aof", TRUNCATED), /a BASE file/],
  ])("%s: one line naming the problem", (_, make, message) => {
    const target = make();
    const dir = path.dirname(target);
    const before = snapshot(dir);
    let refusal: unknown;
    try {
      const { file: chosen } = resolveAofTarget(target);
      repairAofFile(chosen!);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(AofRefusal);
    expect((refusal as Error).message).toMatch(message);
    expect((refusal as Error).message).not.toContain("\n");
    expect(snapshot(dir)).toEqual(before);
  });

  it("a manifest is never written: given the manifest or its directory, it works on the INCR file the manifest lists", () => {
    const { dir, manifest, incr } = appendonlyDir("by-manifest", GOOD);
    const before = snapshot(dir);
    expect(resolveAofTarget(manifest)).toEqual({ chosen: "appendonly.aof.manifest lists 1 INCR file(s), none damaged" });
    fs.writeFileSync(incr, TRUNCATED);
    expect(resolveAofTarget(dir)).toEqual({ file: incr, chosen: "the damaged INCR file appendonly.aof.manifest lists" });
    expect(resolveAofTarget(manifest).file).toBe(incr);
    expect(() => repairAofFile(manifest)).toThrow(/an AOF manifest, not an AOF/);
    expect(snapshot(dir)["appendonly.aof.manifest"]).toBe(before["appendonly.aof.manifest"]);
  });

  it("refuses a manifest that lists a missing INCR file, or two damaged ones", () => {
    const { dir, manifest } = appendonlyDir("two-damaged", TRUNCATED);
    fs.writeFileSync(manifest, "file appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n");
    expect(() => resolveAofTarget(dir)).toThrow(/lists INCR files that do not exist: appendonly\.aof\.2\.incr\.aof/);
    fs.writeFileSync(path.join(dir, "appendonly.aof.2.incr.aof"), NUL_RUN);
    expect(() => resolveAofTarget(dir)).toThrow(/2 damaged INCR files .*; repair each by name/);
  });

  it("refuses an offset beyond the end (what padded the manifest with NULs before)", () => {
    const target = file("beyond/appendonly.aof.1.incr.aof", TRUNCATED);
    // A redis-check-aof that claims more valid bytes than the file has.
    const bin = path.join(work, "fake-bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(
      path.join(bin, "redis-check-aof"),
      `#!/bin/sh\necho "AOF analyzed: filename=$1, size=${TRUNCATED.length}, ok_up_to=${TRUNCATED.length + 100}, ok_up_to_line=9, diff=0"\nexit 1\n`,
      { mode: 0o755 },
    );
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    try {
      expect(() => repairAofFile(target)).toThrow(AofRefusal);
      expect(() => repairAofFile(target)).toThrow(`valid offset ${TRUNCATED.length + 100} is beyond the end (${TRUNCATED.length} B); nothing changed`);
    } finally {
      process.env.PATH = savedPath;
    }
    expect(fs.readFileSync(target)).toEqual(TRUNCATED);
    expect(fs.readdirSync(path.dirname(target))).toEqual(["appendonly.aof.1.incr.aof"]);
  });
});

describe("aof-repair on real AOFs", () => {
  it("a valid AOF: nothing to repair, nothing written, no backup", () => {
    const { dir, incr } = appendonlyDir("good", GOOD);
    const before = snapshot(dir);
    expect(repairAofFile(incr)).toEqual({ file: incr, offset: GOOD.length, removedBytes: 0, method: "none" });
    expect(resolveAofTarget(dir)).toEqual({ chosen: "appendonly.aof.manifest lists 1 INCR file(s), none damaged" });
    expect(snapshot(dir)).toEqual(before);
  });

  it("the disk-full NUL run: Redis refuses the directory; after aof-repair (backup first) it loads every write, those after the NULs too", async () => {
    const { dir, incr } = appendonlyDir("nul-run", NUL_RUN);
    const dataDir = path.dirname(dir);
    const refused = await redisLoads(dataDir);
    expect(refused.keys).toBeUndefined();
    expect(refused.log).toMatch(/Bad file format reading the append only file appendonly\.aof\.1\.incr\.aof/);

    const result = runScript("aof-repair", [dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /appendonly\.aof\.1\.incr\.aof \(the damaged INCR file appendonly\.aof\.manifest lists\): removed NUL run, 777 bytes at offset \d+; original saved as .*appendonly\.aof\.1\.incr\.aof\.bak-\d{8}T\d{6}Z$/m,
    );
    const backup = fs.readdirSync(dir).find((name) => name.includes(".bak-"))!;
    expect(fs.readFileSync(path.join(dir, backup))).toEqual(NUL_RUN);
    expect(fs.readFileSync(incr)).toEqual(resp(["SELECT", "0"], ...sets(0, 8)));
    expect((await redisLoads(dataDir)).keys).toBe(8);
  });

  it("a command cut short: truncated where the valid data ends, the backup kept, never overwriting an earlier one", async () => {
    const { dir, incr } = appendonlyDir("truncated", TRUNCATED);
    const now = new Date("2026-11-26T18:00:00Z");
    const first = repairAofFile(incr, { now });
    expect(first).toMatchObject({ method: "truncated", offset: GOOD.length, removedBytes: TRUNCATED.length - GOOD.length });
    expect(fs.readFileSync(incr)).toEqual(GOOD);
    expect(fs.readFileSync(first.backup!)).toEqual(TRUNCATED);
    expect((await redisLoads(path.dirname(dir))).keys).toBe(5);

    // Damaged again in the same second: a second backup beside the first, which stays as it was.
    fs.writeFileSync(incr, TRUNCATED);
    const second = repairAofFile(incr, { now });
    expect(second.backup).toBe(`${first.backup}-1`);
    expect(fs.readFileSync(first.backup!)).toEqual(TRUNCATED);
  });

  it("--backup-dir puts the backup elsewhere (a full disk has no room beside the file)", () => {
    const { incr } = appendonlyDir("elsewhere", TRUNCATED);
    const backups = fs.mkdtempSync(path.join(work, "backups-"));
    const repair = repairAofFile(incr, { backupDir: backups });
    expect(path.dirname(repair.backup!)).toBe(backups);
    expect(() => repairAofFile(incr, { backupDir: path.join(work, "nope") })).not.toThrow(); // valid now: no backup needed
    fs.writeFileSync(incr, TRUNCATED);
    expect(() => repairAofFile(incr, { backupDir: path.join(work, "nope") })).toThrow(/--backup-dir .*nope: no such directory/);
    expect(fs.readFileSync(incr)).toEqual(TRUNCATED);
  });
});

describe("aof-repair on a hostile directory (whoever writes the data directory plants links and names)", () => {
  /** A file outside the data directory that must never change: what a planted link points to. */
  const outside = () => file(`outside-${Math.random().toString(36).slice(2)}/precious.aof`, TRUNCATED);

  it("refuses an INCR file that is a symbolic link, named or listed in the manifest: exit 2, the link's target untouched", () => {
    const target = outside();
    const { dir, incr } = appendonlyDir("planted-link", GOOD);
    fs.rmSync(incr);
    fs.symlinkSync(target, incr);
    expect(() => repairAofFile(incr)).toThrow(/a symbolic link; aof-repair opens only the file named/);
    expect(() => resolveAofTarget(dir)).toThrow(/a symbolic link/);
    const cli = runScript("aof-repair", [incr]);
    expect({ status: cli.status, lines: cli.stderr.trim().split("\n").length }).toEqual({ status: 2, lines: 1 });
    expect(fs.readFileSync(target)).toEqual(TRUNCATED);
  });

  it("refuses a path through a linked directory (an appendonlydir swapped for a link): the descriptor's own path must be the one named", () => {
    const target = outside();
    const linked = path.join(work, "linked-dir", "appendonlydir");
    fs.mkdirSync(path.dirname(linked), { recursive: true });
    fs.symlinkSync(path.dirname(target), linked);
    expect(() => repairAofFile(path.join(linked, "precious.aof"))).toThrow(/its path goes through a symbolic link \(it opened .*precious\.aof\); give the real path/);
    expect(fs.readFileSync(target)).toEqual(TRUNCATED);
  });

  it("accepts only plain file names inside the manifest's directory: ../ and absolute entries are refused before anything is opened", () => {
    const target = outside();
    for (const entry of [`../../${path.basename(path.dirname(target))}/precious.aof`, target, "..", "sub/appendonly.aof.1.incr.aof"]) {
      const { dir, manifest } = appendonlyDir(`escape-${Math.random().toString(36).slice(2)}`, GOOD);
      fs.writeFileSync(manifest, `file ${entry} seq 1 type i\n`);
      expect(() => resolveAofTarget(dir)).toThrow(/which is not a plain file name inside/);
      const cli = runScript("aof-repair", [dir]);
      expect({ entry, status: cli.status }).toEqual({ entry, status: 2 });
    }
    expect(fs.readFileSync(target)).toEqual(TRUNCATED);
  });

  it("never writes its backup through a planted link: the backup name taken by a link gets the next free name, the link's target untouched", () => {
    const target = outside();
    const { incr } = appendonlyDir("planted-backup", TRUNCATED);
    const now = new Date("2026-12-07T01:02:03Z");
    fs.symlinkSync(target, `${incr}.bak-20261207T010203Z`);
    const repair = repairAofFile(incr, { now });
    expect(repair.backup).toBe(`${incr}.bak-20261207T010203Z-1`);
    expect(fs.readFileSync(repair.backup!)).toEqual(TRUNCATED);
    expect(fs.readFileSync(target)).toEqual(TRUNCATED);
  });
});
