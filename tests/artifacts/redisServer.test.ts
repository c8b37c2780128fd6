// The rendered redis.conf and sentinel.conf, as synth writes them, loaded by Debian's real
// redis-server and redis-sentinel. Only the port, the dir and the secrets include (rendered by
// the same function with test passwords) differ from what the containers get.
import * as fs from "node:fs";
import * as path from "node:path";
import Redis from "ioredis";
import { ACL_USERS, SENTINEL_USERS } from "../../components/redis/acl";
import { renderRedisSecretsConf } from "../../components/redis/redisConf";
import { renderSentinelSecretsConf } from "../../components/sentinel/sentinelConf";
import { computeSizing } from "../../components/redis/sizing";
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";
import { randomCredentials, sentinelMasterFields } from "../../drills/harness/localCluster";
import { freePortRange, ProcessGroup, redisCli, waitFor } from "../../drills/harness/processes";
import { synthToDir, type SynthDir } from "../helpers/cli";

describe("rendered configs in real redis-server and redis-sentinel", () => {
  const processes = new ProcessGroup();
  const credentials = randomCredentials();
  const config = requireValidStackConfig({ ...readStackConfigFile("dev").raw, tls: { enabled: false } });
  const sizing = computeSizing(config.redis);
  let synth: SynthDir;
  let port: number;
  const admin = { user: ACL_USERS.admin, password: credentials.admin };
  const app = { user: ACL_USERS.app, password: credentials.app };
  const sentinelAdmin = { user: SENTINEL_USERS.admin.name, password: credentials.sentinelAdmin };
  const sentinelUser = { user: ACL_USERS.sentinel, password: credentials.sentinel };
  // The pin compares host strings: with "localhost" declared, 127.0.0.1 is a host outside the
  // declared set, and the test still only ever reaches 127.0.0.1.
  const declaredHost = "localhost";

  beforeAll(async () => {
    // The plaintext rendering, run on a free port: the ACL, memory, eviction and AOF settings are
    // the same with TLS on (its half runs in redisTls.test.ts and containerTls.test.ts).
    synth = synthToDir("dev", ['tls={"enabled":false}']);
    // The server, the sentinel (port + 1), and a port nothing listens on (port + 2).
    port = await freePortRange(3);
    const work = path.join(synth.dir, "run-redis");
    fs.mkdirSync(work);
    fs.writeFileSync(path.join(work, "secrets.conf"), renderRedisSecretsConf(credentials, [declaredHost]));
    // `dir` must exist when the file is parsed, so it is replaced in the file, not appended.
    const conf = fs
      .readFileSync(synth.file("redis-0-container", "/etc/veza/redis.conf"), "utf8")
      .replace(/^include .*$/m, `include ${work}/secrets.conf`)
      .replace(/^dir .*$/m, `dir ${work}`);
    fs.writeFileSync(path.join(work, "redis.conf"), conf);
    processes.start("redis", "redis-server", [path.join(work, "redis.conf"), "--port", String(port)], path.join(work, "log"));
    await waitFor("redis-server to answer", () => redisCli(port, ["ping"], admin).out === "PONG", 15000);
  });

  afterAll(async () => {
    await processes.stop();
    fs.rmSync(synth.dir, { recursive: true, force: true });
  });

  const configGet = (name: string) => redisCli(port, ["config", "get", name], admin).out.split("\n")[1] ?? "";

  it("runs with the declared memory, eviction and AOF settings", () => {
    expect(configGet("maxmemory")).toBe(String(sizing.maxmemoryBytes));
    expect(configGet("maxmemory-policy")).toBe("allkeys-lru");
    expect(configGet("appendonly")).toBe("yes");
    expect(configGet("auto-aof-rewrite-percentage")).toBe("100");
    expect(configGet("auto-aof-rewrite-min-size")).toBe(String(sizing.aofRewriteMinSizeBytes));
    expect(configGet("save")).toBe("");
    // 7.0 reports the "relative" mode as "yes".
    expect(configGet("oom-score-adj")).toMatch(/^(relative|yes)$/);
    expect(configGet("oom-score-adj-values")).toBe("0 200 800");
    // Redis 7.0 still prints the replica class as "slave".
    expect(configGet("client-output-buffer-limit")).toMatch(new RegExp(`(replica|slave) ${sizing.replicaOutputBufferHardBytes} ${sizing.replicaOutputBufferSoftBytes} 60`));
    expect(configGet("min-replicas-to-write")).toBe("1");
  });

  it("refuses writes while it has no replica, as an isolated master must", () => {
    expect(redisCli(port, ["set", "session:1", "x"], app).out).toBe("NOREPLICAS Not enough good replicas to write.");
  });

  it("denies the app user FLUSHALL, FLUSHDB, CONFIG, KEYS, DEBUG and SHUTDOWN but lets it work with data", () => {
    // Standalone from here on, as if its replicas were attached.
    expect(redisCli(port, ["config", "set", "min-replicas-to-write", "0"], admin).out).toBe("OK");
    expect(redisCli(port, ["set", "session:1", "x"], app).out).toBe("OK");
    for (const command of [["flushall"], ["flushdb"], ["config", "get", "maxmemory"], ["keys", "*"], ["shutdown", "nosave"]]) {
      expect(redisCli(port, command, app).out).toMatch(/^NOPERM/);
    }
    // DEBUG is refused before the ACL is even consulted (enable-debug-command defaults to no).
    expect(redisCli(port, ["debug", "sleep", "0"], app).out).toMatch(/^(NOPERM|ERR DEBUG command not allowed)/);
    expect(redisCli(port, ["dbsize"], admin).out).toBe("1");
    // What Sentinel-aware clients send to check they reached the master.
    expect(redisCli(port, ["role"], app).out).toMatch(/^master/);
    expect(redisCli(port, ["info", "replication"], app).out).toContain("role:master");
  });

  it("lets the admin user reconfigure, and refuses the default user", () => {
    expect(redisCli(port, ["config", "get", "maxmemory"], admin).out).toContain("maxmemory");
    expect(redisCli(port, ["ping"]).out).toMatch(/NOAUTH|WRONGPASS|NOPERM/);
    expect(redisCli(port, ["get", "session:1"], { user: ACL_USERS.health, password: credentials.health }).out).toMatch(/^NOPERM/);
  });

  it("refuses the sentinel user's SLAVEOF toward a host outside the declared data nodes, alone or in Sentinel's MULTI, and allows NO ONE and a declared host", async () => {
    const unused = port + 2;
    expect(redisCli(port, ["slaveof", "127.0.0.1", String(unused)], sentinelUser).out).toMatch(/^NOPERM/);
    expect(redisCli(port, ["replicaof", declaredHost, String(unused)], sentinelUser).out).toMatch(/^NOPERM/);
    // Sentinel's reconfiguration: MULTI, SLAVEOF, CONFIG REWRITE, CLIENT KILL, EXEC (sentinel.c sentinelSendSlaveOf).
    const client = new Redis({ host: "127.0.0.1", port, username: sentinelUser.user, password: sentinelUser.password, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await client.connect();
      await expect(client.multi().slaveof("127.0.0.1", unused).config("REWRITE").exec()).rejects.toThrow(/EXECABORT/);
    } finally {
      client.disconnect();
    }
    expect(redisCli(port, ["role"], admin).out).toMatch(/^master/);
    // What Sentinel sends to move a node to a declared one, and to promote it: both go through.
    expect(redisCli(port, ["slaveof", declaredHost.toUpperCase(), String(unused)], sentinelUser).out).toBe("OK");
    expect(redisCli(port, ["role"], admin).out).toMatch(new RegExp(`^slave\n${declaredHost.toUpperCase()}\n${unused}`, "i"));
    expect(redisCli(port, ["slaveof", "NO", "ONE"], sentinelUser).out).toBe("OK");
    expect(redisCli(port, ["role"], admin).out).toMatch(/^master/);
  });

  it("loads sentinel.conf in redis-sentinel with the declared quorum and timings", async () => {
    const work = path.join(synth.dir, "run-sentinel");
    fs.mkdirSync(work);
    fs.writeFileSync(path.join(work, "secrets.conf"), renderSentinelSecretsConf(config.sentinel.masterName, credentials));
    const conf = fs
      .readFileSync(synth.file("sentinel-0-container", "/etc/veza/sentinel.conf"), "utf8")
      .replace(/^include .*$/m, `include ${work}/secrets.conf`)
      .replace(/^dir .*$/m, `dir ${work}`)
      .replace(/^(sentinel monitor \S+ \S+) \d+/m, `$1 ${port}`);
    fs.writeFileSync(path.join(work, "sentinel.conf"), conf);
    processes.start("sentinel", "redis-sentinel", [path.join(work, "sentinel.conf"), "--port", String(port + 1)], path.join(work, "log"));
    const fields = await waitFor(
      "sentinel to report its master",
      () => {
        const out = redisCli(port + 1, ["sentinel", "master", config.sentinel.masterName], sentinelAdmin);
        const master = out.status === 0 && out.out.includes("quorum") ? sentinelMasterFields(out.out) : undefined;
        // Its link to the master comes up a moment after the file is loaded (seen: "master,disconnected").
        return master && !master.flags.includes("disconnected") ? master : undefined;
      },
      15000,
    );
    expect(fields.quorum).toBe(String(config.sentinel.quorum));
    expect(fields["down-after-milliseconds"]).toBe(String(config.sentinel.downAfterMilliseconds));
    expect(fields["failover-timeout"]).toBe(String(config.sentinel.failoverTimeoutMilliseconds));
    expect(fields.flags).toBe("master");
    // It authenticated to Redis as the dedicated sentinel user: the master is not flagged down.
    await waitFor(
      "sentinel to see the master healthy",
      () => {
        const out = redisCli(port + 1, ["sentinel", "master", config.sentinel.masterName], sentinelAdmin).out;
        return /role-reported\nmaster/.test(out) && /last-ok-ping-reply\n\d+/.test(out);
      },
      15000,
    );
    expect(redisCli(port + 1, ["ping"]).out).toMatch(/NOAUTH/);
  });
});
