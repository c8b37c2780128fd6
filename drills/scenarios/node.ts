// Single-node scenarios: memory under fork, disk full, crash and restart.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { EvictionPolicy, StackConfig } from "../../components/config/types";
import { ACL_USERS } from "../../components/redis/acl";
import { computeSizing, MiB } from "../../components/redis/sizing";
import { renderAofHealScript } from "../../components/redis/aofHeal";
import { LocalCluster, type LocalNode } from "../harness/localCluster";
import { redisCli, sleep, waitFor } from "../harness/processes";
import { directorySize, Workspace } from "../harness/workspace";
import { cgroupsUnusable } from "../harness/cgroups";
import { countMissing, directClient } from "../harness/writer";
import { Checks, seconds, type DrillContext, type Figure, type Scenario } from "../harness/types";

/** The stack's Redis settings on one standalone node, with the memory limit scaled for this machine. */
function standalone(config: StackConfig, redis: Partial<StackConfig["redis"]>): StackConfig {
  return { ...config, sentinel: { ...config.sentinel, enabled: false }, redis: { ...config.redis, ...redis } };
}

async function startStandalone(ws: Workspace, config: StackConfig, label: string, root?: string, extraArgs: string[] = []): Promise<{ cluster: LocalCluster; node: LocalNode }> {
  const cluster = await LocalCluster.render(config, { label, workspace: ws, root });
  const node = cluster.nodes[0];
  cluster.startNode(node, extraArgs);
  await cluster.waitReady(node);
  return { cluster, node };
}

/**
 * redis-benchmark overwriting random keys, stopped by PID. `flat out` pipelines 32 deep over 4
 * connections (>100k SET/s here, the fork-memory stress); otherwise 2 connections, no pipeline.
 */
function startOverwriter(ws: Workspace, cluster: LocalCluster, node: LocalNode, keyspace: number, valueBytes: number, logDir: string, flatOut: boolean) {
  return ws.processes.start("overwriter", "redis-benchmark", [
    "-h", "127.0.0.1", "-p", String(node.port), "--user", ACL_USERS.app, "-a", cluster.credentials.app,
    "-t", "set", "-n", "1000000000", "-r", String(keyspace), "-d", String(valueBytes), "-P", flatOut ? "32" : "1", "-c", flatOut ? "4" : "2", "-q",
  ], path.join(logDir, "overwriter.log"));
}

/**
 * Fills the overwriter's own keys (redis-benchmark's key:%012d, 100 B values) up to `untilBytes`
 * of used memory before the load starts, in server-side batches: every fork then copies a full dataset from its
 * first second, however slowly this machine writes (a short run at 12k SET/s never reached it).
 */
function prefill(cluster: LocalCluster, node: LocalNode, keyspace: number, untilBytes: number): void {
  const batch = 100_000;
  const script = "local v = string.rep('x', 100) for i = ARGV[1], ARGV[2] do redis.call('SET', string.format('key:%012d', i), v) end return 1";
  for (let first = 0; first < keyspace; first += batch) {
    const reply = redisCli(node.port, ["eval", script, "0", String(first), String(Math.min(first + batch, keyspace) - 1)], cluster.admin(), 30000).out;
    const memory = cluster.info(node, "memory");
    // noeviction (the runbook's config) answers OOM once full; allkeys-lru starts evicting.
    if (!reply.startsWith("1") || Number(memory.used_memory) >= untilBytes) return;
  }
}

async function forkUnderLoad(ctx: DrillContext, ws: Workspace, label: string, redis: Partial<StackConfig["redis"]>, limitMiB: number, extraArgs: string[] = [], untilKilled = false) {
  const config = standalone(ctx.config, { ...redis, memoryLimitMiB: limitMiB });
  const sizing = computeSizing(config.redis);
  // Swap off as in the container (the declared memorySwap equals the limit): a group that swaps
  // is slowed down instead of killed, and hosted runners have swap.
  const cgroup = ws.cgroup(label, { memoryBytes: limitMiB * MiB, swapOff: true });
  const { cluster, node } = await startStandalone(ws, config, label, undefined, extraArgs);
  cgroup.join(node.process!.pid);
  const keyspace = 3_000_000;
  // The runbook contrast is filled to 75% of its maxmemory only: its maxmemory sits near the
  // limit, and a fuller fill got it killed by the fill itself, before any fork.
  prefill(cluster, node, keyspace, sizing.maxmemoryBytes * (untilKilled ? 0.75 : 0.95));
  const writer = startOverwriter(ws, cluster, node, keyspace, 100, cluster.root, true);
  const started = Date.now();
  const commandsAtStart = Number(cluster.info(node, "stats").total_commands_processed ?? 0);
  // The runbook contrast always runs the full 40 s (it ends early once the server is killed): it
  // is the proof the drill sees an OOM kill, and a short run may not reach one.
  const duration = ctx.short && !untilKilled ? 12000 : 40000;
  let forks = 0;
  let peakRss = 0;
  let serverExit: string | undefined;
  // Anonymous memory of the server and its fork child (v1 total_rss, v2 anon), sampled: the
  // cgroup's own peak also counts the page cache of the AOF writes, which is reclaimable.
  let samplingError: string | undefined;
  const sampler = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, cgroup.sampleMemory().anonBytes);
    } catch (error) {
      samplingError ??= (error as Error).message;
    }
  }, 50);
  node.process!.child.once("exit", (code, signal) => (serverExit = signal ?? `code ${code}`));
  while (Date.now() - started < duration && serverExit === undefined) {
    for (const command of ["bgsave", "bgrewriteaof"]) {
      if (serverExit !== undefined) break;
      const reply = redisCli(node.port, [command], cluster.admin(), 3000).out;
      if (/started|scheduled/i.test(reply)) forks++;
      await waitFor("the fork to finish", () => {
        if (serverExit !== undefined) return true;
        const persistence = cluster.info(node, "persistence");
        return persistence.rdb_bgsave_in_progress === "0" && persistence.aof_rewrite_in_progress === "0";
      }, 30000, 100).catch(() => undefined);
    }
  }
  ws.processes.signal(writer, "SIGKILL");
  const loadSeconds = (Date.now() - started) / 1000;
  clearInterval(sampler);
  await sleep(300);
  const alive = serverExit === undefined;
  const stats = alive ? cluster.info(node, "stats") : {};
  const errorstats = alive ? cluster.info(node, "errorstats") : {};
  const ofLimit = (bytes: number) => Math.round((bytes / (limitMiB * MiB)) * 100) / 100;
  const log = fs.readFileSync(node.process!.logFile, "utf8");
  const childKills = (log.match(/terminated by signal 9|killed by signal 9/g) ?? []).length;
  const figures: Record<string, Figure> = {
    limit_mib: limitMiB,
    maxmemory_mib: Math.round((sizing.maxmemoryBytes / MiB) * 10) / 10,
    policy: config.redis.evictionPolicy,
    forks,
    // Copy-on-write grows with the overwrite rate during a fork: the headroom floor holds at a rate.
    overwrites_per_s: alive ? Math.round((Number(stats.total_commands_processed ?? 0) - commandsAtStart) / loadSeconds) : "n/a (server dead)",
    cgroup: cgroup.version,
    peak_rss_of_limit: samplingError ? `unmeasured: ${samplingError}` : ofLimit(peakRss),
    // The kernel's peak charge, page cache included: 1.0 means the limit was reached and reclaimed.
    peak_charged_of_limit: measured(() => ofLimit(cgroup.peakUsage().bytes)),
    evicted_keys: alive ? Number(stats.evicted_keys ?? 0) : "n/a (server dead)",
    error_replies: alive ? Number(stats.total_error_replies ?? 0) : "n/a (server dead)",
    oom_errors: alive ? Number(/count=(\d+)/.exec(errorstats.errorstat_OOM ?? "")?.[1] ?? 0) : "n/a",
    oom_kills: measured(() => cgroup.oomKills().kills),
    killed: [alive ? "" : "server", childKills > 0 ? `fork child x${childKills}` : ""].filter(Boolean).join(", ") || "none",
  };
  return { alive, figures, evicted: Number(stats.evicted_keys ?? 0) };
}

/** A figure read from the kernel, or why it could not be (a target on it then fails, never reads 0). */
function measured(read: () => number): Figure {
  try {
    return read();
  } catch (error) {
    return `unmeasured: ${(error as Error).message}`;
  }
}

export const memoryUnderFork: Scenario = {
  name: "memory-under-fork",
  runbook: "OOM-killed by RDB snapshot: maxmemory reached, no eviction policy, fork doubled the RSS",
  targets: [
    { figure: "declared_forks", kind: "at least", value: 5, shortValue: 3, why: "the guard is only proven under repeated BGSAVE/BGREWRITEAOF forks of a full dataset" },
    { figure: "declared_oom_kills", kind: "equals", value: 0, why: "the declared headroom: no OOM kill of any kind" },
    { figure: "declared_killed", kind: "equals", value: "none", why: "neither the server nor a fork child killed (a killed child is a failed rewrite: the AOF grows until the disk fills)" },
    { figure: "declared_peak_rss_of_limit", kind: "at most", value: 0.95, why: "the peak stays below the container limit" },
    { figure: "declared_evicted_keys", kind: "at least", value: 1, why: "the load reached maxmemory: eviction, not a kill" },
    { figure: "runbook_killed", kind: "equals", value: "server", why: "the runbook's config is OOM-killed: proof the drill can see an OOM kill" },
  ],
  run: async (ctx) => {
    const unusable = cgroupsUnusable(["memory"]);
    if (unusable) return unusable;
    const checks = new Checks();
    const figures: Record<string, Figure> = {};
    const limitMiB = 256;
    let ws = new Workspace("memory-declared");
    try {
      const declared = await forkUnderLoad(ctx, ws, "declared", {}, limitMiB);
      for (const [k, v] of Object.entries(declared.figures)) figures[`declared_${k}`] = v;
      checks.expect(declared.alive, "the server was killed with the declared settings");
      checks.expect(declared.evicted > 0, "no key was evicted: the load never reached maxmemory");
    } finally {
      await ws.cleanup();
    }
    // The runbook's configuration, for contrast: maxmemory near the limit, noeviction, and Redis's
    // default oom-score-adj (no preference between the server and its fork child).
    ws = new Workspace("memory-runbook");
    try {
      const runbook = await forkUnderLoad(ctx, ws, "runbook", { maxmemoryMiB: 240, evictionPolicy: "noeviction" as EvictionPolicy }, limitMiB, ["--oom-score-adj", "no"], true);
      for (const [k, v] of Object.entries(runbook.figures)) figures[`runbook_${k}`] = v;
    } finally {
      await ws.cleanup();
    }
    return { passed: checks.passed, failures: checks.failures, figures };
  },
};

export const diskFull: Scenario = {
  name: "disk-full",
  runbook: "Disk full: AOF or RDB filling /var/lib/redis",
  targets: [
    { figure: "aof_rewrites", kind: "at least", value: 1, why: "automatic rewrite keeps the AOF bounded" },
    { figure: "acked_writes_lost", kind: "equals", value: 0, why: "a full disk refuses writes loudly; nothing acknowledged is lost" },
    { figure: "writes_resume_after_free_s", kind: "at most", value: 5, why: "writes come back by themselves once space is freed" },
    { figure: "restarted_unaided", kind: "equals", value: "yes", why: "a node restarted after the disk filled comes back without a person: its start script heals the AOF" },
  ],
  run: async (ctx) => {
    const checks = new Checks();
    const ws = new Workspace("disk-full");
    const clients: ReturnType<typeof directClient>[] = [];
    try {
      // Scaled down: a 64 MiB container, its sizing's data volume as a tmpfs.
      const config = standalone(ctx.config, { memoryLimitMiB: 64, aofRewriteMinSizeMiB: 4 });
      const sizing = computeSizing(config.redis);
      const volume = ws.tmpfs("data", sizing.dataVolumeBytes);
      const { cluster, node } = await startStandalone(ws, config, "disk-full", volume);
      const aofDir = path.join(node.dir, "appendonlydir");

      // 1. Overwrites: automatic rewrite keeps the AOF bounded. Paced to a few MB/s of AOF: the
      // sizing bounds the dataset, not a write rate that outgrows the disk within one rewrite.
      const writer = startOverwriter(ws, cluster, node, 20000, 100, volume, false);
      let maxAof = 0;
      const phaseEnd = Date.now() + (ctx.short ? 8000 : 30000);
      while (Date.now() < phaseEnd) {
        if (fs.existsSync(aofDir)) maxAof = Math.max(maxAof, directorySize(aofDir));
        await sleep(100);
      }
      ws.processes.signal(writer, "SIGKILL");
      const rewrites = Number(cluster.info(node, "persistence").aof_rewrites ?? 0);
      checks.expect(rewrites > 0, "no automatic AOF rewrite happened");
      checks.expect(maxAof < sizing.dataVolumeBytes, `the AOF reached ${maxAof} B on a ${sizing.dataVolumeBytes} B volume`);

      // 2. Fill the disk with something else; clients must see errors, not silent loss. Wait for
      // any rewrite and its background deletion of history files first, and top the filler up
      // before every write, so space freed by Redis itself cannot make the disk look healthy.
      await waitFor("rewrites to settle", () => cluster.info(node, "persistence").aof_rewrite_in_progress === "0", 30000, 100);
      await sleep(500);
      const filler = path.join(volume, "filler");
      const fd = fs.openSync(filler, "w");
      const client = directClient(node.port, ACL_USERS.app, cluster.credentials.app);
      clients.push(client);
      const acked: string[] = [];
      let firstError = "";
      let errors = 0;
      const fillEnd = Date.now() + 4000;
      for (let i = 0; Date.now() < fillEnd && errors < 200; i++) {
        fillUntilFull(fd);
        try {
          await client.set(`full:${i}`, "x".repeat(1000));
          acked.push(`full:${i}`);
        } catch (error) {
          errors++;
          firstError ||= (error as Error).message;
        }
        await sleep(5);
      }
      fs.closeSync(fd);
      const persistence = cluster.info(node, "persistence");
      checks.expect(errors > 0, "writes never failed on a full disk");

      // 3. Free the space: how long until writes resume?
      fs.rmSync(filler);
      const freedAt = Date.now();
      const resumedAt = await waitFor("writes to resume", async () => {
        try {
          await client.set("after-free", "1");
          return Date.now();
        } catch {
          return undefined;
        }
      }, 60000, 50).catch(() => undefined);
      checks.expect(resumedAt !== undefined, "writes did not resume within 60 s of freeing space");
      acked.push("after-free");

      // 4. Nothing acknowledged was lost: restart from the AOF the way the container does (its
      // start script's heal_aof, then Redis) and look. After ENOSPC, Redis 7.0.15 leaves a NUL run
      // inside an INCR file and refuses to start ("Bad file format") unless that is healed.
      client.disconnect();
      await cluster.processes.kill9(node.process!);
      const restart = await restartAsTheContainerDoes(ws, cluster, node);
      const lost = restart.ready ? await countMissing(node.port, acked, cluster.admin()) : acked.length;
      checks.expect(lost === 0, `${lost} acknowledged writes were lost`);
      return {
        passed: checks.passed,
        failures: checks.failures,
        figures: {
          volume_mib: Math.round(sizing.dataVolumeBytes / MiB),
          max_aof_mib: Math.round((maxAof / MiB) * 10) / 10,
          aof_rewrites: rewrites,
          client_error_when_full: firstError.slice(0, 80),
          info_aof_last_write_status: persistence.aof_last_write_status ?? "?",
          acked_during_fill: acked.length - 1,
          writes_resume_after_free_s: resumedAt ? seconds(resumedAt - freedAt) : "never",
          aof_repair_needed: restart.healed.length > 0 ? "yes" : "no",
          start_script_log: restart.healed.join(" | ") || "nothing to heal",
          restarted_unaided: restart.ready ? "yes" : `no: ${restart.error}`,
          acked_writes_lost: lost,
        },
      };
    } finally {
      for (const client of clients) client.disconnect();
      await ws.cleanup();
    }
  },
};

export const crashRestart: Scenario = {
  name: "crash-restart",
  runbook: "Process crashed: systemctl restart redis",
  targets: [
    { figure: "acked_writes_lost", kind: "equals", value: 0, why: "the AOF replays every acknowledged write after the process dies (kill -9 keeps the page cache)" },
    { figure: "ready_after_restart_s", kind: "at most", value: 10, why: "back within a healthcheck period or two" },
  ],
  run: async (ctx) => {
    const checks = new Checks();
    const ws = new Workspace("crash-restart");
    try {
      const { cluster, node } = await startStandalone(ws, standalone(ctx.config, {}), "crash-restart");
      const client = directClient(node.port, ACL_USERS.app, cluster.credentials.app);
      const keys: string[] = [];
      const total = ctx.short ? 20000 : 200000;
      try {
        for (let i = 0; i < total; i += 1000) {
          const pipeline = client.pipeline();
          for (let j = i; j < i + 1000; j++) pipeline.set(`crash:${j}`, String(j));
          const results = (await pipeline.exec()) ?? [];
          results.forEach(([error], j) => !error && keys.push(`crash:${i + j}`));
        }
      } finally {
        client.disconnect();
      }
      const before = Number(redisCli(node.port, ["dbsize"], cluster.admin()).out);
      await cluster.processes.kill9(node.process!);
      const restartedAt = Date.now();
      cluster.startNode(node);
      await cluster.waitReady(node, 60000);
      const readyAfter = Date.now() - restartedAt;
      const after = Number(redisCli(node.port, ["dbsize"], cluster.admin()).out);
      const lost = await countMissing(node.port, keys, cluster.admin());
      checks.expect(lost === 0, `${lost} acknowledged writes missing after the restart`);
      checks.expect(after === before, `${before} keys before the kill, ${after} after`);
      return { passed: checks.passed, failures: checks.failures, figures: { acked_writes: keys.length, keys_before: before, keys_after: after, acked_writes_lost: lost, ready_after_restart_s: seconds(readyAfter) } };
    } finally {
      await ws.cleanup();
    }
  },
};

/**
 * Restarts a node as its container's entry script does: heal_aof (the very function the script
 * runs, as a process on the node's data dir), then Redis. No repair from the drill's side.
 */
async function restartAsTheContainerDoes(ws: Workspace, cluster: LocalCluster, node: LocalNode): Promise<{ ready: boolean; healed: string[]; error: string }> {
  const script = path.join(ws.tempDir("heal"), "heal-aof.sh");
  fs.writeFileSync(script, renderAofHealScript(node.name, node.dir));
  const heal = spawnSync("dash", [script], { encoding: "utf8", timeout: 60000 });
  const healed = `${heal.stdout}${heal.stderr}`.split("\n").filter((l) => l.includes("AOF ")).map((l) => l.replace(/^veza \S+ \S+ /, "").replaceAll(`${node.dir}/`, ""));
  cluster.startNode(node);
  try {
    await cluster.waitReady(node, 20000);
    return { ready: true, healed, error: "" };
  } catch (error) {
    return { ready: false, healed, error: (error as Error).message.split("\n")[0].slice(0, 160) };
  }
}

/** Appends to `fd` until the filesystem says ENOSPC, down to the last 4 KiB page. */
function fillUntilFull(fd: number): void {
  for (const size of [1024 * 1024, 4096]) {
    const chunk = Buffer.alloc(size, 1);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch {
      /* ENOSPC at this chunk size; try a smaller one */
    }
  }
}
