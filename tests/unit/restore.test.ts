// npm run restore's pure parts: which node and files it restores, which snapshot it picks, the
// disk space it asks for, the Redis versions it compares, the data dir's node it checks, how
// restic's failures read, and the few RESP replies it parses.
// tests/artifacts/restore.test.ts runs the command against real restic and redis-server.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BUILT_REDIS_IMAGE } from "../../components/images/redisImage";
import { requireValidStackConfig } from "../../components/validation/validate";
import { applyOverrides, readStackConfigFile } from "../../lib/stackFiles";
import {
  asideName,
  dataDirNodeProblem,
  deployedRedisVersion,
  keyspaceKeys,
  parseRedisServerVersion,
  pickSnapshot,
  requiredSpace,
  resticProblem,
  restoreTarget,
  spaceProblem,
  versionProblem,
  type Snapshot,
} from "../../scripts/lib/restore";
import { encodeCommand, parseReply, RespErrorReply } from "../../scripts/lib/resp";
import { runScript } from "../helpers/cli";

const MiB = 1024 * 1024;
const dev = requireValidStackConfig(readStackConfigFile("dev").raw);

describe("the node restored", () => {
  it("defaults to the stack's initial master, with the address, port and AOF names its rendered redis.conf gives", () => {
    expect(restoreTarget(dev)).toEqual({
      node: "redis-0",
      role: "master",
      addresses: ["127.0.0.1"],
      port: 6379,
      appendFilename: "appendonly.aof",
      appendDirname: "appendonlydir",
      dbFilename: "dump.rdb",
    });
  });

  it("is any declared data node with --node, on its own port", () => {
    expect(restoreTarget(dev, "redis-2")).toMatchObject({ node: "redis-2", role: "replica", port: 6381 });
  });

  it("follows a --config override of the port, as the program would render it", () => {
    const config = requireValidStackConfig(applyOverrides(readStackConfigFile("dev").raw, ["redis.port=16379"]));
    expect(restoreTarget(config).port).toBe(16379);
  });

  it("is refused when not a data node of the stack, naming the ones there are", () => {
    expect(() => restoreTarget(dev, "redis-9")).toThrow('--node "redis-9": not a data node of this stack; its data nodes: redis-0, redis-1, redis-2');
  });
});

describe("the data dir's node, from the runtime redis.conf the entry script writes there", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-restore-unit-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("another node's port: refused, naming the file, both ports and the way out", () => {
    fs.writeFileSync(path.join(dir, "redis.conf"), "bind 127.0.0.1\nport 6380\nappendonly yes\n");
    expect(dataDirNodeProblem(dir, restoreTarget(dev))).toBe(
      `${dir}/redis.conf names port 6380, node redis-0 is declared on port 6379: --data-dir is another node's, or --node is wrong; give node redis-0's data dir or the --node it belongs to (--force to restore all the same)`,
    );
  });

  it("the node's own port, the last port line winning as in Redis: accepted", () => {
    fs.writeFileSync(path.join(dir, "redis.conf"), "port 6380\n# CONFIG REWRITE\nport 6381\n");
    expect(dataDirNodeProblem(dir, restoreTarget(dev, "redis-2"))).toBeUndefined();
  });

  it("no redis.conf (a scratch dir) or one without a port line: nothing to check", () => {
    expect(dataDirNodeProblem(dir, restoreTarget(dev))).toBeUndefined();
    fs.writeFileSync(path.join(dir, "redis.conf"), "# the node's runtime copy\n");
    expect(dataDirNodeProblem(dir, restoreTarget(dev))).toBeUndefined();
  });
});

describe("the Redis version the AOF is written with", () => {
  const v = (major: number, minor: number, patch?: number) => ({ major, minor, ...(patch === undefined ? {} : { patch }) });

  it("reads redis-server --version", () => {
    expect(parseRedisServerVersion("Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0\n")).toEqual(v(7, 0, 15));
    expect(parseRedisServerVersion("Redis server v=8.2.2 sha=00000000:1 malloc=libc bits=64 build=1")).toEqual(v(8, 2, 2));
    expect(parseRedisServerVersion("redis-server: command not understood")).toBeUndefined();
  });

  it("the built image runs Debian's package version, not its tag's text", () => {
    expect(deployedRedisVersion(BUILT_REDIS_IMAGE)).toEqual({ version: v(7, 0, 15), from: "Debian's redis 5:7.0.15-1~deb12u10, the image built from images/redis" });
    expect(deployedRedisVersion(dev.redis.image)?.version).toEqual(v(7, 0, 15));
  });

  it("an upstream or other tag: the version it starts with, digest or not", () => {
    expect(deployedRedisVersion("redis:7.2.11")).toEqual({ version: v(7, 2, 11), from: "its tag" });
    expect(deployedRedisVersion("docker.io/library/redis:8.2.2-bookworm@sha256:" + "a".repeat(64))?.version).toEqual(v(8, 2, 2));
    expect(deployedRedisVersion("registry.example.com:5000/bitnami/redis:7.4")?.version).toEqual(v(7, 4));
  });

  it("a digest-only reference or a tag that is no version: unknown", () => {
    expect(deployedRedisVersion("redis@sha256:" + "b".repeat(64))).toBeUndefined();
    expect(deployedRedisVersion("redis:bookworm")).toBeUndefined();
  });

  it("the same major.minor, whatever the patch: accepted", () => {
    expect(versionProblem(v(7, 0, 11), BUILT_REDIS_IMAGE, deployedRedisVersion(BUILT_REDIS_IMAGE)!)).toBeUndefined();
    expect(versionProblem(v(7, 2, 4), "redis:7.2", deployedRedisVersion("redis:7.2")!)).toBeUndefined();
  });

  it("a newer or an older major.minor: refused, naming both versions and where the deployed one comes from", () => {
    expect(versionProblem(v(7, 2, 4), BUILT_REDIS_IMAGE, deployedRedisVersion(BUILT_REDIS_IMAGE)!)).toBe(
      `redis-server on PATH is 7.2.4 (redis-server --version), the stack deploys Redis 7.0.15 (redis.image ${BUILT_REDIS_IMAGE}: Debian's redis 5:7.0.15-1~deb12u10, the image built from images/redis): an AOF written by 7.2 may not load on 7.0; run the restore where redis-server 7.0 comes first on PATH (Debian bookworm's redis-server for the built image)`,
    );
    expect(versionProblem(v(8, 0, 4), BUILT_REDIS_IMAGE, deployedRedisVersion(BUILT_REDIS_IMAGE)!)).toMatch(/^redis-server on PATH is 8\.0\.4 .* the stack deploys Redis 7\.0\.15 /);
    expect(versionProblem(v(7, 0, 15), "redis:7.4.6", deployedRedisVersion("redis:7.4.6")!)).toMatch(
      /^redis-server on PATH is 7\.0\.15 \(redis-server --version\), the stack deploys Redis 7\.4\.6 \(redis\.image redis:7\.4\.6: its tag\): an AOF written by 7\.0 may not load on 7\.4;/,
    );
  });
});

describe("the snapshot picked", () => {
  const repo = "/srv/repo";
  const snapshot = (id: string, time: string, tags: string[] = ["veza-redis", "node=redis-1"], paths = ["/dump.rdb"]): Snapshot => ({ id, short_id: id.slice(0, 8), time, tags, paths });
  const snapshots = [
    snapshot("aaaa1111ffff", "2026-01-02T10:00:00.123456789Z"),
    // Later by the clock though its offset makes the text sort first.
    snapshot("bbbb2222ffff", "2026-01-02T11:30:00.5+01:00"),
    snapshot("cccc3333ffff", "2026-01-02T10:15:00Z", ["something-else"]),
  ];

  it("latest: the newest snapshot tagged veza-redis, by time and not by text", () => {
    expect(pickSnapshot(snapshots, "latest", repo).id).toBe("bbbb2222ffff");
  });

  it("an id: the one snapshot it starts", () => {
    expect(pickSnapshot(snapshots, "aaaa1111", repo).id).toBe("aaaa1111ffff");
  });

  it("an unknown id: refused, saying how to list them", () => {
    expect(() => pickSnapshot(snapshots, "dddd4444", repo)).toThrow("snapshot dddd4444 not found in /srv/repo; list them with: restic -r /srv/repo snapshots");
  });

  it("an id several snapshots start with: refused as ambiguous", () => {
    const twins = [snapshot("abcd0001", "2026-01-01T00:00:00Z"), snapshot("abcd0002", "2026-01-01T01:00:00Z")];
    expect(() => pickSnapshot(twins, "abcd", repo)).toThrow("snapshot abcd is ambiguous in /srv/repo: abcd0001, abcd0002 start with it; give more of the id");
  });

  it("latest in a repository without a tagged snapshot: refused", () => {
    expect(() => pickSnapshot([], "latest", repo)).toThrow("no snapshot tagged veza-redis in /srv/repo (0 snapshots in all); list them with: restic -r /srv/repo snapshots");
  });

  it("something that is neither latest nor an id: refused", () => {
    expect(() => pickSnapshot(snapshots, "yesterday", repo)).toThrow('--snapshot "yesterday": expected latest or a snapshot id (hex, as restic snapshots prints it)');
  });

  it("a snapshot that does not hold /dump.rdb: refused", () => {
    expect(() => pickSnapshot([snapshot("eeee5555", "2026-01-01T00:00:00Z", ["veza-redis"], ["/etc"])], "eeee", repo)).toThrow(
      'snapshot eeee5555 holds ["/etc"], not /dump.rdb: not a snapshot of the backup job',
    );
  });
});

describe("the free space a restore asks for", () => {
  it("twice the snapshot (the RDB and the AOF base written from it) plus a 10% margin", () => {
    expect(requiredSpace(1024 * MiB)).toEqual({ required: 2048 * MiB + Math.ceil(204.8 * MiB), margin: Math.ceil(204.8 * MiB) });
  });

  it("a margin of at least 16 MiB for a small snapshot", () => {
    expect(requiredSpace(1000)).toEqual({ required: 2000 + 16 * MiB, margin: 16 * MiB });
  });

  it("refuses a file system short of it, naming what it needs and what is free", () => {
    expect(spaceProblem("/data", "abcd0001", 100 * MiB, 200 * MiB)).toBe(
      "/data: not enough free space for snapshot abcd0001: it needs 230686720 B (220.0 MiB), twice its 104857600 B (100.0 MiB) (the RDB and the AOF base written from it) plus a 20.0 MiB margin, and the file system has 209715200 B (200.0 MiB) free; free space or restore into a larger data dir",
    );
    expect(spaceProblem("/data", "abcd0001", 100 * MiB, 220 * MiB)).toBeUndefined();
  });
});

describe("restic's failures, as the operator reads them", () => {
  const repo = { repository: "/srv/repo", passwordFile: "/root/pw" };

  it("a wrong password", () => {
    expect(resticProblem(repo, "snapshots", 1, "Fatal: wrong password or no key found\n")).toBe(
      'wrong password for /srv/repo: restic says "wrong password or no key found" with --password-file /root/pw (the stack\'s: pulumi stack output backupRepositoryPassword --show-secrets)',
    );
  });

  it("no repository there", () => {
    expect(
      resticProblem(repo, "snapshots", 1, "Fatal: unable to open config file: stat /srv/repo/config: no such file or directory\nIs there a repository at the following location?\n/srv/repo\n"),
    ).toBe("no restic repository at /srv/repo (restic: unable to open config file: stat /srv/repo/config: no such file or directory); give the backup repository's path (docs/backup.md)");
  });

  it("anything else: the command, its exit and restic's message", () => {
    expect(resticProblem(repo, "restore", 1, "Fatal: unable to create lock in backend: repository is already locked exclusively\n")).toBe(
      "restic restore failed (exit 1): unable to create lock in backend: repository is already locked exclusively",
    );
    expect(resticProblem(repo, "restore", null, "")).toBe("restic restore failed (timed out, killed): no message");
  });
});

describe("small parts", () => {
  it("counts the keys of every database, not only db0", () => {
    expect(keyspaceKeys("# Keyspace\r\ndb0:keys=200,expires=1,avg_ttl=0\r\ndb2:keys=1,expires=0,avg_ttl=0\r\n")).toBe(201);
    expect(keyspaceKeys("# Keyspace\r\n")).toBe(0);
  });

  it("names what --replace-data moves aside after the restore's UTC start", () => {
    expect(asideName("appendonlydir", new Date("2026-03-04T05:06:07.890Z"))).toBe("appendonlydir.before-restore-20260304T050607Z");
  });

  it("reads RESP replies whole, and none from a partial one", () => {
    expect(encodeCommand(["CONFIG", "SET", "save", ""]).toString()).toBe("*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$4\r\nsave\r\n$0\r\n\r\n");
    expect(parseReply(Buffer.from("+PONG\r\n"))).toEqual({ value: "PONG", next: 7 });
    expect(parseReply(Buffer.from("-NOAUTH Authentication required.\r\n"))?.value).toEqual(new RespErrorReply("NOAUTH Authentication required."));
    expect(parseReply(Buffer.from("*2\r\n$6\r\nmaster\r\n:42\r\n"))?.value).toEqual(["master", 42]);
    expect(parseReply(Buffer.from("$10\r\nhalf"))).toBeUndefined();
    expect(parseReply(Buffer.from("*2\r\n$6\r\nmaster\r\n"))).toBeUndefined();
    expect(parseReply(Buffer.from("$-1\r\n"))?.value).toBeNull();
  });
});

describe("npm run restore's command line", () => {
  it("--help: exit 0, a line per option", () => {
    const result = runScript("restore", ["--help"]);
    expect(result.status).toBe(0);
    for (const option of ["--stack", "--config", "--snapshot", "--repository", "--password-file", "--data-dir", "--node", "--replace-data", "--force", "--help"])
      expect(result.stdout).toMatch(new RegExp(`^  (-h, )?${option}\\b`, "m"));
    expect(result.stdout).toMatch(/^exit: 0 ok, 1 the restore started and failed; the data dir is as it was, 2 a usage or config error/m);
  });

  it("a missing required option or an unknown stack: exit 2 in one line, before anything is read", () => {
    const missing = runScript("restore", ["--snapshot", "latest"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^restore: --repository <repo> is required; usage: npm run restore -- .*\n$/);
    const unknown = runScript("restore", ["--stack", "staging", "--snapshot", "latest", "--repository", "/r", "--password-file", "/p", "--data-dir", "/d"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe('restore: unknown stack "staging": no Pulumi.staging.yaml; stacks here: dev, prod\n');
  });
});
