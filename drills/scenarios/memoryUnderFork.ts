// memory-under-fork: BGSAVE/BGREWRITEAOF forks of a full dataset under flat-out overwrites in a
// memory-limited cgroup, at the declared headroom and, for contrast, with the runbook's config.
import * as fs from "node:fs";
import type { EvictionPolicy, StackConfig } from "../../components/config/types";
import { computeSizing, FORK_PEAK_TARGET, MiB, modelledServerBytes } from "../../components/redis/sizing";
import { AlertCheck } from "../harness/alerting";
import type { LocalCluster, LocalNode } from "../harness/localCluster";
import { redisCli, sleep, waitFor } from "../harness/processes";
import { Workspace } from "../harness/workspace";
import { cgroupsUnusable } from "../harness/cgroups";
import { standalone, startOverwriter, startStandalone } from "../harness/standalone";
import { Checks, namedPart, type DrillContext, type Figure, type Scenario, type ScenarioAlerts } from "../harness/types";

/**
 * Fills the overwriter's own keys (redis-benchmark's key:%012d, 100 B values) up to `untilBytes`
 * of used memory before the load starts, in server-side batches: every fork then copies a full dataset from its
 * first second, however slowly this machine writes (a short run at 12k SET/s never reached it).
 * Batches of 10,000 keys (1.5 MiB): Redis evicts before a script, not during it, so a batch of
 * 100,000 overshot maxmemory by 15 MiB and left that much fragmentation behind.
 */
function prefill(cluster: LocalCluster, node: LocalNode, keyspace: number, untilBytes: number): void {
  const batch = 10_000;
  const script = "local v = string.rep('x', 100) for i = ARGV[1], ARGV[2] do redis.call('SET', string.format('key:%012d', i), v) end return 1";
  for (let first = 0; first < keyspace; first += batch) {
    const reply = redisCli(node.port, ["eval", script, "0", String(first), String(Math.min(first + batch, keyspace) - 1)], cluster.admin(), 30000).out;
    const memory = cluster.info(node, "memory");
    // noeviction (the runbook's config) answers OOM once full; allkeys-lru starts evicting.
    if (!reply.startsWith("1") || Number(memory.used_memory) >= untilBytes) return;
  }
}

/** One BGSAVE or BGREWRITEAOF under the load, as INFO and the clock saw it. */
export interface ForkRecord {
  command: "bgsave" | "bgrewriteaof";
  usedBytesAtStart: number;
  rssBytesAtStart: number;
  /** mem_fragmentation_ratio at the fork: RSS over used_memory. */
  fragmentationAtStart: number;
  /** Its parts (INFO memory): holes in jemalloc's pages (active / allocated), and pages it has not returned (resident / active). */
  allocatorFragmentationAtStart: number;
  allocatorRssAtStart: number;
  /** The server's anonymous resident memory (RssAnon) at the fork: what the sizing model budgets. */
  serverAnonBytesAtStart: number;
  /** rdb_last_cow_size or aof_last_cow_size: the pages the child and the server stopped sharing. */
  copyOnWriteBytes: number;
  /** From the command to the child's end, polled every 100 ms. */
  durationMs: number;
}

export interface ForkLoadOptions {
  label: string;
  redis: Partial<StackConfig["redis"]>;
  limitMiB: number;
  durationMs: number;
  extraArgs?: string[];
  /** The runbook contrast: filled less (its maxmemory sits near the limit), ends at the kill. */
  untilKilled?: boolean;
  /** The alerts this run must raise, watched on a Prometheus scraping the node (outside its cgroup). */
  alerts?: ScenarioAlerts;
}

/** RssAnon, or NaN for a server that has just died (a zombie's status has no memory lines): its fork then fails and is not recorded. */
function residentAnonymousBytes(pid: number): number {
  try {
    const kib = /^RssAnon:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return kib ? Number(kib[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (USER_HZ is 100 on Linux). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const round2 = (value: number) => Math.round(value * 100) / 100;
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;

export async function forkUnderLoad(ws: Workspace, stackConfig: StackConfig, options: ForkLoadOptions) {
  const { label, limitMiB } = options;
  const config = standalone(stackConfig, { ...options.redis, memoryLimitMiB: limitMiB });
  const sizing = computeSizing(config.redis);
  // Swap off as in the container (the declared memorySwap equals the limit): a group that swaps
  // is slowed down instead of killed, and hosted runners have swap.
  const cgroup = ws.cgroup(label, { memoryBytes: limitMiB * MiB, swapOff: true });
  const { cluster, node } = await startStandalone(ws, config, label, undefined, options.extraArgs ?? []);
  cgroup.join(node.process!.pid);
  // The exporter and Prometheus run outside the cgroup: they add no memory to the figures, and a
  // scrape a second is a few INFO calls beside a load of thousands of SET/s.
  const check = await AlertCheck.onLoopback(options.alerts, config, cluster.topology, cluster.credentials.exporter, ws);
  try {
    return await loadAndFork(ws, cluster, node, config, sizing, cgroup, options, check);
  } finally {
    await check?.stop();
  }
}

async function loadAndFork(
  ws: Workspace,
  cluster: LocalCluster,
  node: LocalNode,
  config: StackConfig,
  sizing: ReturnType<typeof computeSizing>,
  cgroup: ReturnType<Workspace["cgroup"]>,
  options: ForkLoadOptions,
  check: AlertCheck | undefined,
) {
  const { limitMiB, untilKilled = false } = options;
  let serverExit: string | undefined;
  node.process!.child.once("exit", (code, signal) => (serverExit = signal ?? `code ${code}`));
  const keyspace = 3_000_000;
  // The runbook contrast is filled to 75% of its maxmemory only: its maxmemory sits near the
  // limit, and a fuller fill got it killed by the fill itself, before any fork.
  prefill(cluster, node, keyspace, sizing.maxmemoryBytes * (untilKilled ? 0.75 : 0.95));
  // Even at 75% the runbook's server is sometimes OOM-killed by the fill on a busy machine (CI
  // saw it): that is the kill the contrast exists to show, so no load starts on a dead server.
  await sleep(300);
  const writer = serverExit === undefined ? await startOverwriterUnlessKilled(ws, cluster, node, keyspace, () => serverExit) : undefined;
  const started = Date.now();
  const commandsAtStart = serverExit === undefined ? Number(cluster.info(node, "stats").total_commands_processed ?? 0) : 0;
  const writerCpuAtStart = writer ? cpuSeconds(writer.pid) : 0;
  const serverCpuAtStart = serverExit === undefined ? cpuSeconds(node.process!.pid) : 0;
  const forks: ForkRecord[] = [];
  let peakRss = 0;
  let peakPageCache = 0;
  // Anonymous memory of the server and its fork child (v1 total_rss, v2 anon), sampled: the
  // cgroup's own peak also counts the page cache of the AOF writes, which is reclaimable.
  let samplingError: string | undefined;
  const sampler = setInterval(() => {
    try {
      const sample = cgroup.sampleMemory();
      peakRss = Math.max(peakRss, sample.anonBytes);
      peakPageCache = Math.max(peakPageCache, sample.pageCacheBytes);
    } catch (error) {
      samplingError ??= (error as Error).message;
    }
  }, 50);
  let writerCpu = 0;
  let serverCpu = 0;
  while (Date.now() - started < options.durationMs && serverExit === undefined) {
    for (const command of ["bgsave", "bgrewriteaof"] as const) {
      if (serverExit !== undefined) break;
      const memory = cluster.info(node, "memory");
      const serverAnonBytesAtStart = residentAnonymousBytes(node.process!.pid);
      const forkStarted = Date.now();
      const reply = redisCli(node.port, [command], cluster.admin(), 3000).out;
      // Waited for even when refused (an automatic rewrite's child is running): the sampler and
      // the server's exit event run only while this loop awaits.
      await waitFor(
        "the fork to finish",
        () => {
          if (serverExit !== undefined) return true;
          const persistence = cluster.info(node, "persistence");
          return persistence.rdb_bgsave_in_progress === "0" && persistence.aof_rewrite_in_progress === "0";
        },
        30000,
        100,
      ).catch(() => undefined);
      if (serverExit !== undefined) break;
      if (!/started|scheduled/i.test(reply)) continue;
      const persistence = cluster.info(node, "persistence");
      forks.push({
        command,
        usedBytesAtStart: Number(memory.used_memory),
        rssBytesAtStart: Number(memory.used_memory_rss),
        fragmentationAtStart: Number(memory.mem_fragmentation_ratio),
        allocatorFragmentationAtStart: Number(memory.allocator_frag_ratio),
        allocatorRssAtStart: Number(memory.allocator_rss_ratio),
        serverAnonBytesAtStart,
        copyOnWriteBytes: Number(command === "bgsave" ? persistence.rdb_last_cow_size : persistence.aof_last_cow_size),
        durationMs: Date.now() - forkStarted,
      });
    }
    // Read while both live: a process that has exited has no /proc entry.
    if (writer && serverExit === undefined) {
      writerCpu = cpuSeconds(writer.pid) - writerCpuAtStart;
      serverCpu = cpuSeconds(node.process!.pid) - serverCpuAtStart;
    }
  }
  if (writer) ws.processes.signal(writer, "SIGKILL");
  const loadSeconds = (Date.now() - started) / 1000;
  clearInterval(sampler);
  await sleep(300);
  const alive = serverExit === undefined;
  const stats = alive ? cluster.info(node, "stats") : {};
  const errorstats = alive ? cluster.info(node, "errorstats") : {};
  const ofLimit = (bytes: number) => round2(bytes / (limitMiB * MiB));
  const log = fs.readFileSync(node.process!.logFile, "utf8");
  const childKills = (log.match(/terminated by signal 9|killed by signal 9/g) ?? []).length;
  const most = (of: (fork: ForkRecord) => number) => (forks.length > 0 ? Math.max(...forks.map(of)) : "n/a (no fork)");
  const figures: Record<string, Figure> = {
    limit_mib: limitMiB,
    maxmemory_mib: mib(sizing.maxmemoryBytes),
    policy: config.redis.evictionPolicy,
    forks: forks.length,
    // The stated load (a target): above a few thousand SET/s a fork copies most pages already.
    overwrites_per_s: alive ? Math.round((Number(stats.total_commands_processed ?? 0) - commandsAtStart) / loadSeconds) : "n/a (server dead)",
    // Shares of one core: how much CPU the load and the server got (the fork children's time aside).
    overwriter_cpu_share: writer ? round2(writerCpu / loadSeconds) : "n/a (no load)",
    server_cpu_share: writer ? round2(serverCpu / loadSeconds) : "n/a (no load)",
    // Per fork, the worst: what the server held when it forked, and what the fork then copied.
    used_mib_at_fork_max: most((f) => mib(f.usedBytesAtStart)),
    rss_mib_at_fork_max: most((f) => mib(f.rssBytesAtStart)),
    fragmentation_at_fork_max: most((f) => f.fragmentationAtStart),
    // The model's premise: at most 1.0 (FRAGMENTATION_ALLOWANCE x maxmemory + SERVER_BASELINE_MIB).
    server_anon_of_model_max: most((f) => round2(f.serverAnonBytesAtStart / modelledServerBytes(sizing.maxmemoryBytes))),
    copy_on_write_mib_max: most((f) => mib(f.copyOnWriteBytes)),
    // 1.0: the fork copied every page the server held (the sizing model's assumption).
    copy_on_write_of_rss_max: most((f) => round2(f.copyOnWriteBytes / f.rssBytesAtStart)),
    fork_s_max: most((f) => round2(f.durationMs / 1000)),
    cgroup: cgroup.version,
    peak_rss_of_limit: samplingError ? `unmeasured: ${samplingError}` : ofLimit(peakRss),
    peak_page_cache_mib: samplingError ? `unmeasured: ${samplingError}` : mib(peakPageCache),
    // The kernel's peak charge, page cache included: 1.0 means the limit was reached and reclaimed.
    peak_charged_of_limit: measured(() => ofLimit(cgroup.peakUsage().bytes)),
    evicted_keys: alive ? Number(stats.evicted_keys ?? 0) : "n/a (server dead)",
    error_replies: alive ? Number(stats.total_error_replies ?? 0) : "n/a (server dead)",
    oom_errors: alive ? Number(/count=(\d+)/.exec(errorstats.errorstat_OOM ?? "")?.[1] ?? 0) : "n/a",
    oom_kills: measured(() => cgroup.oomKills().kills),
    killed: [alive ? "" : "server", childKills > 0 ? `fork child x${childKills}` : ""].filter(Boolean).join(", ") || "none",
  };
  const alerts = await check?.verdict();
  return { alive, figures: { ...figures, ...alerts?.figures }, failures: alerts?.failures ?? [], forks, evicted: Number(stats.evicted_keys ?? 0) };
}

/**
 * The overwriter, unless the server is OOM-killed while it starts: adding its ACL user then fails
 * to connect, which is the kill being measured, not a drill error. Any other failure is thrown.
 */
async function startOverwriterUnlessKilled(ws: Workspace, cluster: LocalCluster, node: LocalNode, keyspace: number, serverExit: () => string | undefined) {
  try {
    return startOverwriter(ws, cluster, node, keyspace, 100, cluster.root, true);
  } catch (error) {
    await waitFor("the server's exit", () => serverExit() !== undefined, 2000, 50).catch(() => undefined);
    if (serverExit() === undefined) throw error;
    return undefined;
  }
}

/** A figure read from the kernel, or why it could not be (a target on it then fails, never reads 0). */
function measured(read: () => number): Figure {
  try {
    return read();
  } catch (error) {
    return `unmeasured: ${(error as Error).message}`;
  }
}

/** Flat-out overwrites and forks at the declared headroom: eviction, as designed, pages nobody. */
const DECLARED_ALERTS: ScenarioAlerts = { raises: [] };

export const memoryUnderFork: Scenario = {
  name: "memory-under-fork",
  runbook: "OOM-killed by RDB snapshot: maxmemory reached, no eviction policy, fork doubled the RSS",
  // The runbook's config is OOM-killed: the node is gone. The declared run pages nobody
  // (DECLARED_ALERTS): at maxmemory it evicts, as designed.
  alerts: { raises: ["RedisUnreachable"] },
  targets: [
    { figure: "declared_forks", kind: "at least", value: 5, shortValue: 3, why: "the guard is only proven under repeated BGSAVE/BGREWRITEAOF forks of a full dataset" },
    { figure: "declared_oom_kills", kind: "equals", value: 0, why: "the declared headroom: no OOM kill of any kind" },
    { figure: "declared_killed", kind: "equals", value: "none", why: "neither the server nor a fork child killed (a killed child is a failed rewrite: the AOF grows until the disk fills)" },
    {
      figure: "declared_overwrites_per_s",
      kind: "at least",
      value: 2000,
      why: "the stated load: at least 2,000 SET/s of 100 B values over a keyspace 4x the keys that fit, so every write overwrites or evicts",
    },
    {
      figure: "declared_copy_on_write_of_rss_max",
      kind: "at least",
      value: 0.5,
      shortValue: 0.2,
      why: "a fork copied a large share of the server's pages: the load reached toward the full copy the sizing model budgets for",
    },
    {
      figure: "declared_server_anon_of_model_max",
      kind: "at most",
      value: 1,
      why: "the server held no more than the sizing model allows when it forked (fragmentation x maxmemory + baseline): the model's premise holds at this load",
    },
    { figure: "declared_peak_rss_of_limit", kind: "at most", value: FORK_PEAK_TARGET, why: "the server and its fork child stay within the sizing model's peak target (components/redis/sizing.ts)" },
    { figure: "declared_evicted_keys", kind: "at least", value: 1, why: "the load reached maxmemory: eviction, not a kill" },
    { figure: "runbook_killed", kind: "equals", value: "server", why: "the runbook's config is OOM-killed: proof the drill can see an OOM kill" },
  ],
  run: (ctx) => runMemoryUnderFork(ctx, true),
};

/**
 * The declared phase alone, on the config it is given: the 20%-headroom test asserts that phase
 * fails, and the runbook contrast (40 s) would prove nothing more there.
 */
export const memoryUnderForkDeclaredOnly: Scenario = {
  ...memoryUnderFork,
  name: "memory-under-fork-declared-only",
  // No alert watch: the test judges the kills, and the pages belong to the full scenario.
  alerts: undefined,
  targets: memoryUnderFork.targets.filter((t) => t.figure.startsWith("declared_")),
  run: (ctx) => runMemoryUnderFork(ctx, false),
};

async function runMemoryUnderFork(ctx: DrillContext, withRunbookContrast: boolean): ReturnType<Scenario["run"]> {
  const unusable = cgroupsUnusable(["memory"]);
  if (unusable) return unusable;
  const checks = new Checks();
  const figures: Record<string, Figure> = {};
  const limitMiB = 256;
  let ws = new Workspace("memory-declared");
  try {
    const declared = await forkUnderLoad(ws, ctx.config, { label: "declared", redis: {}, limitMiB, durationMs: ctx.short ? 12000 : 40000, alerts: ctx.alerts && DECLARED_ALERTS });
    const part = namedPart("declared", declared);
    Object.assign(figures, part.figures);
    part.failures.forEach((failure) => checks.expect(false, failure));
    checks.expect(declared.alive, "the server was killed with the declared settings");
    checks.expect(declared.evicted > 0, "no key was evicted: the load never reached maxmemory");
  } finally {
    await ws.cleanup();
  }
  if (!withRunbookContrast) return { passed: checks.passed, failures: checks.failures, figures };
  // The runbook's configuration, for contrast: maxmemory near the limit, noeviction, and Redis's
  // default oom-score-adj (no preference between the server and its fork child).
  ws = new Workspace("memory-runbook");
  try {
    // It always runs the full 40 s (it ends early once the server is killed): it is the proof
    // the drill sees an OOM kill, and a short run may not reach one.
    const runbook = await forkUnderLoad(ws, ctx.config, {
      label: "runbook",
      redis: { maxmemoryMiB: 240, evictionPolicy: "noeviction" as EvictionPolicy },
      limitMiB,
      durationMs: 40000,
      extraArgs: ["--oom-score-adj", "no"],
      untilKilled: true,
      alerts: ctx.alerts,
    });
    const part = namedPart("runbook", runbook);
    Object.assign(figures, part.figures);
    part.failures.forEach((failure) => checks.expect(false, failure));
  } finally {
    await ws.cleanup();
  }
  return { passed: checks.passed, failures: checks.failures, figures };
}
