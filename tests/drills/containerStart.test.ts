// The data node's start script run as its container would (containerRunner: the uploaded files
// at /etc/veza, the volume at /data), with nobody else up: which role it takes, and why.
import * as fs from "node:fs";
import * as path from "node:path";
import { requireValidStackConfig } from "../../components/validation/validate";
import { SENTINEL_HELLO_CHANNEL, SENTINEL_USERS } from "../../components/redis/acl";
import { dataNodeContainer, sentinelContainer } from "../../components/topology/containers";
import { placeTopology } from "../../components/topology/placement";
import { ContainerRunner } from "../../drills/harness/containerRunner";
import { CONTAINER_HARDENING } from "../../components/base/hardening";
import { LOCAL_HOST, randomCredentials } from "../../drills/harness/localCluster";
import { freePortRange, redisCli, waitFor } from "../../drills/harness/processes";
import { forgedHelloMessage, startRogueReplica } from "../../drills/harness/standalone";
import { Workspace } from "../../drills/harness/workspace";
import { PLANTED, removePlanted, writeProbeScript } from "../helpers/writeProbe";
import { readStackConfigFile } from "../../lib/stackFiles";
import { stackModelPlacedAt } from "../../components/topology/model";

afterAll(removePlanted);

// The start scripts' decisions (roles, guards, files), in plaintext: the same scripts with the dev
// stack's TLS on start, link and reload in containerTls.test.ts.
const config = requireValidStackConfig({ ...readStackConfigFile("dev").raw, tls: { enabled: false } });

describe("a data node's start script, alone", () => {
  let ws: Workspace;
  let runner: ContainerRunner;
  const credentials = randomCredentials();
  let ports: { redis0: number; redis1: number; redis2: number; sentinel0: number };
  let topology: ReturnType<typeof placeTopology>;

  beforeEach(async () => {
    ws = new Workspace("container-start");
    runner = new ContainerRunner(ws, credentials);
    const base = await freePortRange(6);
    ports = { redis0: base, redis1: base + 1, redis2: base + 2, sentinel0: base + 3 };
    topology = placeTopology({ hosts: [LOCAL_HOST], redisPort: base, sentinelPort: base + 3, replicas: 2, sentinels: 3 });
    runner.define("redis-1", dataNodeContainer(config, stackModelPlacedAt(config, topology), topology.dataNodes[1]), true);
    runner.define("sentinel-0", sentinelContainer(config, stackModelPlacedAt(config, topology), topology.sentinels[0]), false);
  });
  afterEach(async () => ws.cleanup());

  const role = () => redisCli(ports.redis1, ["role"], { user: "veza-admin", password: credentials.admin }).out.split("\n").slice(0, 3);

  it("on a first boot with no sentinel and no peer answering, follows the declared topology and is healthy (nothing to sync with yet)", async () => {
    runner.create("redis-1");
    await runner.waitHealthy("redis-1", 500, 30000);
    expect(role()).toEqual(["slave", "127.0.0.1", String(ports.redis0)]);
    expect(runner.entryLog("redis-1").join("\n")).toMatch(/starting as a replica of 127\.0\.0\.1:\d+ \(from the declared topology \(first boot\)\)/);
  }, 60000);

  it("restarted with nobody answering, keeps the role its previous run ended with (Sentinel's rewrite), not the declared one", async () => {
    const slot = runner.slot("redis-1");
    fs.writeFileSync(path.join(slot.volumeDir, "redis.conf"), `port ${ports.redis1}\nreplicaof 127.0.0.1 ${ports.redis2}\n`);
    runner.create("redis-1");
    await runner.waitHealthy("redis-1", 500, 30000);
    expect(role()).toEqual(["slave", "127.0.0.1", String(ports.redis2)]);
    expect(runner.entryLog("redis-1").join("\n")).toContain("(from this node's previous run)");
  }, 60000);

  it("refuses to start as a replica of an address outside the declared data nodes (its previous run's config rewritten to a rogue master): it says why and is never healthy", async () => {
    const rogue = `127.0.0.1 ${ports.sentinel0 + 100}`;
    fs.writeFileSync(path.join(runner.slot("redis-1").volumeDir, "redis.conf"), `port ${ports.redis1}\nreplicaof ${rogue}\n`);
    runner.create("redis-1");
    await expect(runner.waitHealthy("redis-1", 500, 15000)).rejects.toThrow(/exited before it was healthy/);
    expect(runner.entryLog("redis-1").join("\n")).toMatch(new RegExp(`refusing to start: this node's previous run named ${rogue.replace(" ", ":")} as master, which is not a declared data node`));
  }, 60000);

  it("a sentinel restarted after Sentinel rewrote its config (users and passwords added) starts again", async () => {
    const sentinelAdmin = { user: SENTINEL_USERS.admin.name, password: credentials.sentinelAdmin };
    const sentinelUp = () => redisCli(ports.sentinel0, ["ping"], sentinelAdmin).out === "PONG";
    runner.create("sentinel-0");
    await waitFor("sentinel-0 to answer", sentinelUp, 20000, 200);
    // FLUSHCONFIG rewrites the runtime file the way every failover does: with the included users.
    expect(redisCli(ports.sentinel0, ["sentinel", "flushconfig"], sentinelAdmin).out).toBe("OK");
    await runner.killAndWait("sentinel-0");
    runner.restart("sentinel-0");
    await waitFor("sentinel-0 to answer again after the restart", sentinelUp, 20000, 200);
    expect(runner.tail("sentinel-0", 50)).not.toMatch(/FATAL CONFIG FILE ERROR/);
  }, 60000);

  it("leaves no password readable by another uid: every file in a node's and a sentinel's volumes that holds one is owner-only, after Redis's CONFIG REWRITE and Sentinel's FLUSHCONFIG", async () => {
    runner.create("redis-1");
    runner.create("sentinel-0");
    await runner.waitHealthy("redis-1", 500, 30000);
    const sentinelAdmin = { user: SENTINEL_USERS.admin.name, password: credentials.sentinelAdmin };
    await waitFor("sentinel-0 to answer", () => redisCli(ports.sentinel0, ["ping"], sentinelAdmin).out === "PONG", 20000, 200);
    // Both rewrite their runtime file in place with masterauth / auth-pass and sentinel-pass.
    expect(redisCli(ports.redis1, ["config", "rewrite"], { user: "veza-admin", password: credentials.admin }).out).toBe("OK");
    expect(redisCli(ports.sentinel0, ["sentinel", "flushconfig"], sentinelAdmin).out).toBe("OK");
    const passwords = Object.values(credentials);
    const filesIn = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesIn(path.join(dir, entry.name)) : entry.isFile() ? [path.join(dir, entry.name)] : []));
    const holding = ["redis-1", "sentinel-0"]
      .flatMap((name) => filesIn(path.dirname(runner.slot(name).volumeDir)))
      .filter((file) => passwords.some((password) => fs.readFileSync(file, "utf8").includes(password)));
    expect(holding.map((file) => path.basename(file))).toEqual(expect.arrayContaining(["redis.conf", "sentinel.conf"]));
    expect(holding.map((file) => ({ file, mode: (fs.statSync(file).mode & 0o777).toString(8) })).filter((f) => f.mode !== "600")).toEqual([]);
  }, 60000);

  it("a sentinel restarted with its previous run moved to an undeclared master (a forged hello, then Sentinel's rewrite) does not follow it: it says so and monitors the declared master", async () => {
    const sentinelAdmin = { user: SENTINEL_USERS.admin.name, password: credentials.sentinelAdmin };
    const master = () => redisCli(ports.sentinel0, ["sentinel", "get-master-addr-by-name", config.sentinel.masterName], sentinelAdmin).out.split("\n").join(":");
    runner.create("sentinel-0");
    await waitFor("sentinel-0 to answer", () => master() === `127.0.0.1:${ports.redis0}`, 20000, 200);
    await runner.killAndWait("sentinel-0");
    const generation = path.join(path.dirname(runner.slot("sentinel-0").volumeDir), `generation-${runner.slot("sentinel-0").generations}`, "anonymous-volume", "sentinel.conf");
    const rogue = `127.0.0.1 ${ports.sentinel0 + 100}`;
    fs.writeFileSync(generation, fs.readFileSync(generation, "utf8").replace(/^(sentinel monitor \S+) \S+ \d+/m, `$1 ${rogue}`));
    runner.restart("sentinel-0");
    await waitFor("sentinel-0 to answer again", () => /^[\d.]+:\d+$/.test(master()), 20000, 200);
    expect(master()).toBe(`127.0.0.1:${ports.redis0}`);
    expect(runner.entryLog("sentinel-0").join("\n")).toContain(`this sentinel's previous run monitored ${rogue.replace(" ", ":")}, which is not a declared data node: not followed`);
  }, 60000);

  it("a running sentinel moved by a forged hello is stopped by its master guard, which says why; restarted, it monitors the declared master and still knows the made-up peer (RedisSentinelUnknownPeer keeps paging), but not one whose runid Sentinel could not read back", async () => {
    const sentinelAdmin = { user: SENTINEL_USERS.admin.name, password: credentials.sentinelAdmin };
    const master = () => redisCli(ports.sentinel0, ["sentinel", "get-master-addr-by-name", config.sentinel.masterName], sentinelAdmin).out.split("\n").join(":");
    const field = (name: string) => {
      const lines = redisCli(ports.sentinel0, ["sentinel", "master", config.sentinel.masterName], sentinelAdmin).out.split("\n");
      return lines[lines.indexOf(name) + 1];
    };
    runner.create("sentinel-0");
    await waitFor("sentinel-0 to answer", () => master() === `127.0.0.1:${ports.redis0}`, 20000, 200);
    const first = runner.slot("sentinel-0").current!;
    const roguePort = ports.sentinel0 + 100;
    const epoch = Number(field("config-epoch")) + 10;
    const hello = (runid: string, port: number) => forgedHelloMessage(config.sentinel.masterName, { host: "127.0.0.1", port: roguePort }, epoch, { port, runid });
    const peer = { user: SENTINEL_USERS.peer.name, password: credentials.sentinelPeer };
    // Sentinel takes a hello's runid unchecked and writes it back unquoted: one holding a space
    // and a quote would make the file unreadable at the next start.
    expect(redisCli(ports.sentinel0, ["publish", SENTINEL_HELLO_CHANNEL, hello('bad "runid', roguePort + 2)], peer).out).toBe("1");
    expect(redisCli(ports.sentinel0, ["publish", SENTINEL_HELLO_CHANNEL, hello("f".repeat(40), roguePort + 1)], peer).out).toBe("1");
    await waitFor("the master guard to stop the moved sentinel", () => runner.restartExited(["sentinel-0"]).length > 0, 20000, 100);
    expect(runner.slot("sentinel-0").current).not.toBe(first);
    expect(runner.entryLog("sentinel-0").join("\n")).toContain(`Sentinel names 127.0.0.1:${roguePort} as master, which is not a declared data node`);
    await waitFor("sentinel-0 to answer again", () => /^[\d.]+:\d+$/.test(master()), 20000, 200);
    expect(master()).toBe(`127.0.0.1:${ports.redis0}`);
    expect(Number(field("num-other-sentinels"))).toBe(1);
    expect(runner.entryLog("sentinel-0").join("\n")).toContain("dropping 1 known-sentinel lines not in the shape Sentinel writes");
  }, 60000);

  it("a sentinel knows every declared replica from its first second, with no data node answering, and once each after a restart carries over what it learned", async () => {
    const sentinelAdmin = { user: SENTINEL_USERS.admin.name, password: credentials.sentinelAdmin };
    // SENTINEL REPLICAS prints field/value lines per replica; `name` is its host:port.
    const replicaNames = () => {
      const lines = redisCli(ports.sentinel0, ["sentinel", "replicas", config.sentinel.masterName], sentinelAdmin).out.split("\n");
      return lines.flatMap((line, i) => (line === "name" ? [lines[i + 1]] : [])).sort();
    };
    const declaredReplicas = [`127.0.0.1:${ports.redis1}`, `127.0.0.1:${ports.redis2}`];
    runner.create("sentinel-0");
    await waitFor("sentinel-0 to answer", () => redisCli(ports.sentinel0, ["ping"], sentinelAdmin).out === "PONG", 20000, 200);
    expect(replicaNames()).toEqual(declaredReplicas);
    // Sentinel's rewrite now holds them as known-replica lines: written again, it would not start.
    expect(redisCli(ports.sentinel0, ["sentinel", "flushconfig"], sentinelAdmin).out).toBe("OK");
    await runner.killAndWait("sentinel-0");
    runner.restart("sentinel-0");
    await waitFor("sentinel-0 to answer again after the restart", () => redisCli(ports.sentinel0, ["ping"], sentinelAdmin).out === "PONG", 20000, 200);
    expect(runner.entryLog("sentinel-0").join("\n")).toContain("carrying over what the previous run learned");
    expect(replicaNames()).toEqual(declaredReplicas);
  }, 60000);

  it("runs on a read-only root: neither its root nor its config files take a write, even from root in the container; its data volume does", async () => {
    runner.create("redis-1");
    await runner.waitHealthy("redis-1", 500, 30000);
    const result = await runner.exec("redis-1", ["sh", "-s"], `${writeProbeScript(["/etc/veza/redis.conf", "/etc/veza/new-file", PLANTED.bin, PLANTED.tmp, "/data/written-by-test"])}\n`);
    expect(result.output.split("\n")).toEqual(["/etc/veza/redis.conf refused", "/etc/veza/new-file refused", `${PLANTED.bin} refused`, `${PLANTED.tmp} refused`, "/data/written-by-test written"]);
  }, 60000);

  it("a fork bomb inside the container stops at its kind's pids limit: Redis keeps serving, the healthcheck fails until the tasks end, the host can still fork", async () => {
    const limit = CONTAINER_HARDENING.redis.pidsLimit;
    const container = runner.create("redis-1");
    await runner.waitHealthy("redis-1", 500, 30000);
    const before = container.group.pidsCurrent();
    // 4x the limit of sleeps: the shell dies at the first fork the pids cgroup refuses.
    const bomb = await runner.exec("redis-1", ["sh", "-s"], `i=0; while [ $i -lt ${4 * limit} ]; do sleep 60 >/dev/null 2>&1 & i=$((i+1)); done; echo all-started\n`);
    const atLimit = container.group.pidsCurrent();
    const health = await runner.health("redis-1");
    // A redis-cli forked on the host: the host's forks are not counted against the container.
    const ping = redisCli(ports.redis1, ["ping"], { user: "veza-admin", password: credentials.admin }).out;
    // End the sleeps from outside (nothing inside can fork a kill): the group's tasks named sleep.
    const procs = fs.readFileSync(path.join(container.group.dirs[0], "cgroup.procs"), "utf8").split("\n").filter(Boolean);
    for (const pid of procs) if (fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "sleep") process.kill(Number(pid), "SIGKILL");
    await waitFor("the sleeps to be gone", () => container.group.pidsCurrent() <= before + 1, 10000, 100);
    const healthAfter = await runner.health("redis-1");
    expect({
      before: before < 20,
      bombStatus: bomb.status !== 0,
      bombFinished: bomb.output.includes("all-started"),
      atLimit,
      healthy: health.healthy,
      ping,
      healthyAfter: healthAfter.healthy,
    }).toEqual({ before: true, bombStatus: true, bombFinished: false, atLimit: expect.any(Number), healthy: false, ping: "PONG", healthyAfter: true });
    // Every task the bomb could start fit under the limit, and it got close to it.
    expect(atLimit).toBeLessThanOrEqual(limit);
    expect(atLimit).toBeGreaterThanOrEqual(limit - 2);
    expect(bomb.output).toMatch(/fork/i);
  }, 60000);

  it("as master, stops without a handoff while a replica outside the declared data nodes is attached (Sentinel could promote it), naming it", async () => {
    runner.define("redis-0", dataNodeContainer(config, stackModelPlacedAt(config, topology), topology.dataNodes[0]), true);
    runner.create("redis-0");
    await runner.waitHealthy("redis-0", 500, 30000);
    // A server outside the stack, logged in with the stolen replication password.
    const roguePort = await startRogueReplica(ws, ports.redis0, credentials.replication);
    const admin = { user: "veza-admin", password: credentials.admin };
    await waitFor("the rogue replica to attach", () => redisCli(ports.redis0, ["info", "replication"], admin).out.includes(`port=${roguePort},state=online`), 20000, 200);
    await runner.delete("redis-0");
    expect(runner.entryLog("redis-0").join("\n")).toContain(`a replica outside the declared data nodes is attached (127.0.0.1:${roguePort}): stopping without a handoff`);
  }, 60000);

  it("stops within its grace on SIGTERM, without a handoff when no sentinel answers, and leaves no process", async () => {
    runner.create("redis-1");
    await runner.waitHealthy("redis-1", 500, 30000);
    const stopped = await runner.delete("redis-1");
    expect(stopped.killed).toBe(false);
    expect(runner.entryLog("redis-1").join("\n")).toMatch(/server exited with status 0/);
    expect(redisCli(ports.redis1, ["ping"]).status).not.toBe(0);
  }, 60000);
});
