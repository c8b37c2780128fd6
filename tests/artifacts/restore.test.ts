// npm run restore against real restic (0.14) and redis-server (7.0.15): a snapshot taken the way
// the backup job takes it (redis-cli --rdb, then restic backup --stdin as dump.rdb with its host
// and tags) comes back as the dev stack's node's AOF, which a redis-server with appendonly yes
// loads in full; and every refusal leaves the data dir as it was. The node's port is moved off
// 6379 with --config redis.port=<free port>, which the command takes like the other scripts.
// --replace-data (existing data moved aside) and --force (a live server, another node's data dir)
// are separate: one never implies the other.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { requireValidStackConfig } from "../../components/validation/validate";
import { applyOverrides, readStackConfigFile } from "../../lib/stackFiles";
import { freePortRange, ProcessGroup, redisCli, waitFor, type TrackedProcess } from "../../drills/harness/processes";
import { formatBytes, requiredSpace, restoreTarget } from "../../scripts/lib/restore";
import { PROJECT_ROOT } from "../../lib/stackFiles";
import { runScript, scriptCommand } from "../helpers/cli";

const isRoot = process.getuid?.() === 0;
/** What the tmpfs test and the ownership check need; the drills' tmpfs needs root too. */
const rootOnly = isRoot ? it : it.skip;
/** The uid the restored files are given when the data dir is that user's (the container's redis user stands in). */
const VOLUME_UID = 65534;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("npm run restore", () => {
  const processes = new ProcessGroup();
  let work: string;
  let repo: string;
  let passwordFile: string;
  let nodePort: number;
  let snapshotId: string;
  let snapshotShortId: string;
  let snapshotBytes: number;
  let tmpfs: string | undefined;
  const values = new Map<string, string>();
  const target = () => restoreTarget(requireValidStackConfig(applyOverrides(readStackConfigFile("dev").raw, [`redis.port=${nodePort}`])));

  function restic(args: string[], input?: Buffer): string {
    const run = spawnSync("restic", ["-r", repo, "--password-file", passwordFile, "--no-cache", ...args], { input, encoding: "utf8", timeout: 60000, killSignal: "SIGKILL" });
    if (run.status !== 0) throw new Error(`restic ${args[0]} failed (${run.status}): ${run.stderr}`);
    return run.stdout;
  }

  function emptyDir(name: string): string {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    return dir;
  }

  function restoreArgs(dataDir: string, options: { snapshot?: string; password?: string; repository?: string; extra?: string[] } = {}): string[] {
    return [
      "--stack",
      "dev",
      "--config",
      `redis.port=${nodePort}`,
      "--snapshot",
      options.snapshot ?? "latest",
      "--repository",
      options.repository ?? repo,
      "--password-file",
      options.password ?? passwordFile,
      "--data-dir",
      dataDir,
      ...(options.extra ?? []),
    ];
  }

  function restore(dataDir: string, options: Parameters<typeof restoreArgs>[1] = {}) {
    return runScript("restore", restoreArgs(dataDir, options));
  }

  /** Every file under dir with its content: what "untouched" is compared on. */
  function contents(dir: string): Record<string, string> {
    return Object.fromEntries(
      (fs.readdirSync(dir, { recursive: true, encoding: "utf8" }) as string[])
        .sort()
        .map((name) => [name, fs.statSync(path.join(dir, name)).isDirectory() ? "<dir>" : fs.readFileSync(path.join(dir, name), "latin1")]),
    );
  }

  async function startServer(name: string, args: string[]): Promise<{ port: number; server: TrackedProcess }> {
    const port = await freePortRange(1);
    const logDir = fs.mkdtempSync(path.join(work, `${name}-log-`));
    const server = processes.start(name, "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...args], path.join(logDir, "log"));
    await waitFor(`${name} to answer PING`, () => redisCli(port, ["ping"]).out === "PONG", 15000);
    return { port, server };
  }

  /** The restored dir loaded the way the node loads it: appendonly yes, the stack's AOF names. */
  async function loadedAsTheNode(dataDir: string): Promise<{ port: number; server: TrackedProcess }> {
    const { appendFilename, appendDirname } = target();
    return startServer("restored", ["--dir", dataDir, "--appendonly", "yes", "--appendfilename", appendFilename, "--appenddirname", appendDirname]);
  }

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "veza-restore-test-"));
    // Others pass through to the data dirs a non-root owner gets.
    fs.chmodSync(work, 0o711);
    repo = path.join(work, "repository");
    passwordFile = path.join(work, "password");
    fs.writeFileSync(passwordFile, "correct horse battery staple\n", { mode: 0o600 });
    restic(["init"]);
    // Below the sentinels' 26379, so that the stack with the override still validates.
    do nodePort = await freePortRange(3);
    while (nodePort + 2 >= 26379);

    const source = await startServer("source", ["--appendonly", "no"]);
    for (let i = 0; i < 300; i++) values.set(`key:${i}`, `value-${i}-${"x".repeat(i % 50)}`);
    expect(redisCli(source.port, ["mset", ...[...values].flat()]).out).toBe("OK");
    redisCli(source.port, ["hset", "session:1", "user", "alice", "scope", "read"]);
    redisCli(source.port, ["rpush", "queue", "a", "b", "c"]);
    redisCli(source.port, ["sadd", "revoked", "jti-1", "jti-2"]);
    redisCli(source.port, ["set", "expiring", "soon", "ex", "86400"]);
    redisCli(source.port, ["-n", "2", "set", "in-db-2", "yes"]);
    const rdb = path.join(work, "snapshot.rdb");
    const read = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(source.port), "--rdb", rdb], { encoding: "utf8", timeout: 30000, killSignal: "SIGKILL" });
    expect(read.status).toBe(0);
    await processes.kill9(source.server);
    restic(["backup", "--stdin", "--stdin-filename", "dump.rdb", "--host", "veza", "--tag", "veza-redis", "--tag", "node=redis-1"], fs.readFileSync(rdb));
    const [snapshot] = JSON.parse(restic(["snapshots", "--json"])) as Array<{ id: string; short_id: string }>;
    snapshotId = snapshot.id;
    snapshotShortId = snapshot.short_id;
    snapshotBytes = fs.statSync(rdb).size;
    fs.rmSync(rdb);
  }, 60000);

  afterAll(async () => {
    await processes.stop();
    if (tmpfs) spawnSync("umount", [tmpfs], { timeout: 10000 });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("restores the latest snapshot into an empty data dir as the node's AOF, which loads every key, owned by the data dir's owner", async () => {
    const dataDir = emptyDir("fresh");
    if (isRoot) fs.chownSync(dataDir, VOLUME_UID, VOLUME_UID);
    const result = restore(dataDir);
    expect(result.stderr).not.toMatch(/failed/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^restore: snapshot ${snapshotShortId} of \\S+Z \\(read from redis-1\\), ${snapshotBytes} B[^:]*: 305 keys restored into ${dataDir}/appendonlydir for node redis-0 of stack dev in [\\d.]+ s$`,
        "m",
      ),
    );
    expect(result.stdout).toMatch(/^next: start redis-0 first .* Then start its replicas with emptied data dirs: they resync from it \(docs\/backup\.md\)$/m);
    // Only the AOF is left: no restored RDB, no staging dir.
    expect(fs.readdirSync(dataDir)).toEqual(["appendonlydir"]);
    expect(fs.readdirSync(path.join(dataDir, "appendonlydir")).sort()).toEqual(["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"]);
    if (isRoot)
      for (const name of ["appendonlydir", "appendonlydir/appendonly.aof.manifest", "appendonlydir/appendonly.aof.1.base.rdb"]) expect(fs.statSync(path.join(dataDir, name)).uid).toBe(VOLUME_UID);

    const { port, server } = await loadedAsTheNode(dataDir);
    try {
      expect(redisCli(port, ["dbsize"]).out).toBe("304");
      const keys = [...values.keys()];
      expect(redisCli(port, ["mget", ...keys]).out.split("\n")).toEqual(keys.map((k) => values.get(k)));
      expect(redisCli(port, ["hgetall", "session:1"]).out).toBe("user\nalice\nscope\nread");
      expect(redisCli(port, ["lrange", "queue", "0", "-1"]).out).toBe("a\nb\nc");
      expect(redisCli(port, ["smembers", "revoked"]).out.split("\n").sort()).toEqual(["jti-1", "jti-2"]);
      expect(Number(redisCli(port, ["ttl", "expiring"]).out)).toBeGreaterThan(80000);
      expect(redisCli(port, ["-n", "2", "get", "in-db-2"]).out).toBe("yes");
    } finally {
      await processes.kill9(server);
    }
  });

  it("restores a snapshot given by its short id", async () => {
    const dataDir = emptyDir("by-id");
    const result = restore(dataDir, { snapshot: snapshotShortId });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(`restore: snapshot ${snapshotShortId} of `);
    const { port, server } = await loadedAsTheNode(dataDir);
    try {
      expect(redisCli(port, ["dbsize"]).out).toBe("304");
    } finally {
      await processes.kill9(server);
    }
  });

  it("takes no restic lock: restores from a repository where none can be created", () => {
    // A lock left by a restore killed as root (Ctrl-C, its timeout) would block the job's next run.
    const lockless = path.join(work, "lockless-repository");
    fs.cpSync(repo, lockless, { recursive: true });
    fs.rmSync(path.join(lockless, "locks"), { recursive: true, force: true });
    fs.writeFileSync(path.join(lockless, "locks"), "not a directory: creating a lock fails\n");
    const dataDir = emptyDir("lockless");
    const result = restore(dataDir, { repository: lockless });
    expect(result.stderr).not.toMatch(/failed|unable to create lock/);
    expect(result.status).toBe(0);
    expect(fs.readdirSync(dataDir)).toEqual(["appendonlydir"]);
  });

  it("a wrong password: exit 2, one line saying so, nothing written", () => {
    const dataDir = emptyDir("wrong-password");
    const wrong = path.join(work, "wrong-password.txt");
    fs.writeFileSync(wrong, "not the password\n");
    const result = restore(dataDir, { password: wrong });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `restore: wrong password for ${repo}: restic says "wrong password or no key found" with --password-file ${wrong} (the stack's: pulumi stack output backupRepositoryPassword --show-secrets)\n`,
    );
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it("an unknown snapshot id: exit 2, saying how to list them, nothing written", () => {
    const dataDir = emptyDir("unknown-snapshot");
    const unknown = snapshotId.startsWith("0badc0de") ? "1badc0de" : "0badc0de";
    const result = restore(dataDir, { snapshot: unknown });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`restore: snapshot ${unknown} not found in ${repo}; list them with: restic -r ${repo} snapshots\n`);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it("no repository at the path: exit 2, saying so", () => {
    const dataDir = emptyDir("no-repository");
    const missing = path.join(work, "no-such-repository");
    const result = restore(dataDir, { repository: missing });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(`^restore: no restic repository at ${missing} \\(restic: unable to open config file: .*\\); give the backup repository's path \\(docs/backup\\.md\\)\\n$`),
    );
  });

  it("a live server on the node's port (even one answering NOAUTH): exit 2, --replace-data or not, the data dir untouched; --force restores, warning loudly", async () => {
    const dataDir = emptyDir("live");
    fs.writeFileSync(path.join(dataDir, "redis.conf"), "# the node's runtime copy\n");
    const before = contents(dataDir);
    const logDir = fs.mkdtempSync(path.join(work, "live-log-"));
    const live = processes.start("live", "redis-server", ["--port", String(nodePort), "--bind", "127.0.0.1", "--save", "", "--requirepass", "not-known-to-restore"], path.join(logDir, "log"));
    try {
      await waitFor("the live server to answer", () => /NOAUTH/.test(redisCli(nodePort, ["ping"]).out), 15000);
      const refusal = `restore: node redis-0 is live: 127.0.0.1:${nodePort} answers PING (NOAUTH); stop it first (docs/backup.md), or give --force to restore its data dir all the same; nothing changed\n`;
      const result = restore(dataDir);
      expect(result.status).toBe(2);
      expect(result.stderr).toBe(refusal);
      expect(contents(dataDir)).toEqual(before);
      // Moving data aside is no licence to restore under a live server.
      const replacing = restore(dataDir, { extra: ["--replace-data"] });
      expect(replacing.status).toBe(2);
      expect(replacing.stderr).toBe(refusal);
      expect(contents(dataDir)).toEqual(before);

      const forced = restore(dataDir, { extra: ["--force"] });
      expect(forced.status).toBe(0);
      const warning = `restore: WARNING: --force: node redis-0 is live: 127.0.0.1:${nodePort} answers PING (NOAUTH). Restoring all the same: `;
      expect(forced.stderr).toMatch(new RegExp(`^${escape(warning)}.*the cluster goes back to the snapshot\\. Stop it now$`, "m"));
      expect(forced.stdout).toMatch(new RegExp(`^${escape(warning)}`, "m"));
      expect(fs.readdirSync(dataDir).sort()).toEqual(["appendonlydir", "redis.conf"]);
    } finally {
      await processes.kill9(live);
    }
  });

  it("a data dir holding an AOF: exit 2 without --replace-data; with it the AOF and RDB are moved aside and the snapshot restored, without --force", async () => {
    const dataDir = emptyDir("holding-data");
    fs.mkdirSync(path.join(dataDir, "appendonlydir"));
    fs.writeFileSync(path.join(dataDir, "appendonlydir", "appendonly.aof.manifest"), "file appendonly.aof.3.base.rdb seq 3 type b\n");
    fs.writeFileSync(path.join(dataDir, "dump.rdb"), "an old snapshot");
    const before = contents(dataDir);
    const refused = restore(dataDir);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(
      `restore: ${dataDir} already holds appendonlydir, dump.rdb: restore into an empty data dir, or give --replace-data to replace it (moved aside to <name>.before-restore-<UTC time>); nothing changed\n`,
    );
    expect(contents(dataDir)).toEqual(before);
    // --force overrides the live check only: the data stays refused.
    const forced = restore(dataDir, { extra: ["--force"] });
    expect(forced.status).toBe(2);
    expect(forced.stderr).toMatch(/already holds appendonlydir, dump\.rdb: .* give --replace-data /);
    expect(contents(dataDir)).toEqual(before);

    const replaced = restore(dataDir, { extra: ["--replace-data"] });
    expect(replaced.status).toBe(0);
    expect(replaced.stderr).not.toMatch(/WARNING/);
    expect(replaced.stdout).toMatch(/^restore: --replace-data: moved appendonlydir aside to appendonlydir\.before-restore-\d{8}T\d{6}Z; /m);
    expect(replaced.stdout).toMatch(/^restore: --replace-data: moved dump\.rdb aside to dump\.rdb\.before-restore-\d{8}T\d{6}Z; /m);
    const aside = fs.readdirSync(dataDir).find((name) => name.startsWith("appendonlydir.before-restore-"))!;
    expect(fs.readFileSync(path.join(dataDir, aside, "appendonly.aof.manifest"), "utf8")).toBe(before["appendonlydir/appendonly.aof.manifest"]);
    const { port, server } = await loadedAsTheNode(dataDir);
    try {
      expect(redisCli(port, ["dbsize"]).out).toBe("304");
    } finally {
      await processes.kill9(server);
    }
  });

  it("another node's data dir (its redis.conf names another port): exit 2 naming both ports, untouched; --force restores, warning loudly", () => {
    const dataDir = emptyDir("other-node");
    fs.writeFileSync(path.join(dataDir, "redis.conf"), `bind 127.0.0.1\nport ${nodePort + 1}\nappendonly yes\n`);
    const before = contents(dataDir);
    const refused = restore(dataDir);
    expect(refused.status).toBe(2);
    const problem = `${dataDir}/redis.conf names port ${nodePort + 1}, node redis-0 is declared on port ${nodePort}: --data-dir is another node's, or --node is wrong; give node redis-0's data dir or the --node it belongs to (--force to restore all the same)`;
    expect(refused.stderr).toBe(`restore: ${problem}; nothing changed\n`);
    expect(contents(dataDir)).toEqual(before);

    const forced = restore(dataDir, { extra: ["--force"] });
    expect(forced.status).toBe(0);
    expect(forced.stderr).toMatch(new RegExp(`^${escape(`restore: WARNING: --force: ${problem}. Restoring all the same: `)}`, "m"));
    expect(fs.readdirSync(dataDir).sort()).toEqual(["appendonlydir", "redis.conf"]);
  });

  it("a redis-server of another major.minor than the stack deploys: exit 2 naming both versions, nothing written", () => {
    // The stack's image says 7.2 while the redis-server here is 7.0.15.
    const dataDir = emptyDir("other-version");
    const upstream = restore(dataDir, { extra: ["--config", "redis.image=redis:7.2.11"] });
    expect(upstream.status).toBe(2);
    expect(upstream.stderr).toBe(
      "restore: redis-server on PATH is 7.0.15 (redis-server --version), the stack deploys Redis 7.2.11 (redis.image redis:7.2.11: its tag): an AOF written by 7.0 may not load on 7.2; run the restore where redis-server 7.2 comes first on PATH (Debian bookworm's redis-server for the built image); nothing changed\n",
    );
    // A newer redis-server first on PATH, against the built image.
    const bin = fs.mkdtempSync(path.join(work, "bin-"));
    fs.writeFileSync(path.join(bin, "redis-server"), "#!/bin/sh\necho 'Redis server v=8.2.2 sha=00000000:0 malloc=libc bits=64 build=0'\n", { mode: 0o755 });
    const [node, ...command] = scriptCommand("restore");
    const newer = spawnSync(node, [...command, ...restoreArgs(dataDir)], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      timeout: 120000,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
    });
    expect(newer.status).toBe(2);
    expect(newer.stderr).toMatch(
      /^restore: redis-server on PATH is 8\.2\.2 \(redis-server --version\), the stack deploys Redis 7\.0\.15 \(redis\.image veza\/redis:7\.0\.15-1-deb12u10: Debian's redis 5:7\.0\.15-1~deb12u10, .*; nothing changed\n$/,
    );
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it("a damaged snapshot: exit 1 naming what Redis said, the data dir as it was", () => {
    // A repository of its own: "latest" in the main one stays the good snapshot.
    const damagedRepo = path.join(work, "damaged-repository");
    const resticDamaged = (args: string[], input?: Buffer) =>
      spawnSync("restic", ["-r", damagedRepo, "--password-file", passwordFile, "--no-cache", ...args], { input, encoding: "utf8", timeout: 60000, killSignal: "SIGKILL" });
    expect(resticDamaged(["init"]).status).toBe(0);
    const damaged = Buffer.concat([Buffer.from("REDIS0010"), Buffer.alloc(4096, 0xff)]);
    expect(resticDamaged(["backup", "--stdin", "--stdin-filename", "dump.rdb", "--host", "veza", "--tag", "veza-redis", "--tag", "node=redis-1"], damaged).status).toBe(0);
    const dataDir = emptyDir("damaged");
    fs.writeFileSync(path.join(dataDir, "redis.conf"), "# the node's runtime copy\n");
    const before = contents(dataDir);
    const result = restore(dataDir, { repository: damagedRepo });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^restore: failed: the scratch redis-server exited while loading the snapshot \(exit 1\) \(its log: .*\)$/m);
    expect(contents(dataDir)).toEqual(before);
  });

  rootOnly("a file system too small for twice the snapshot plus the margin: exit 2 naming both figures, nothing written", () => {
    const small = path.join(work, "small");
    fs.mkdirSync(small);
    const mount = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", small], { encoding: "utf8", timeout: 10000 });
    if (mount.status !== 0) throw new Error(`mount tmpfs at ${small} failed (needs root and CAP_SYS_ADMIN): ${mount.stderr.trim()}`);
    tmpfs = small;
    const result = restore(small);
    expect(result.status).toBe(2);
    const { required } = requiredSpace(snapshotBytes);
    expect(result.stderr).toBe(
      `restore: ${small}: not enough free space for snapshot ${snapshotShortId}: it needs ${formatBytes(required)}, twice its ${formatBytes(snapshotBytes)} (the RDB and the AOF base written from it) plus a 16.0 MiB margin, and the file system has 1048576 B (1.0 MiB) free; free space or restore into a larger data dir; nothing changed\n`,
    );
    expect(fs.readdirSync(small)).toEqual([]);
  });
});
