// backup-restore: nothing important lives in one place only. A cluster rendered from the stack
// holds a dataset and takes writes with known sequence numbers; the stack's backup job (its own
// script, run as a process with its container's environment) reads one snapshot from a replica
// into a restic repository; writes go on; then every data node dies and every data dir is
// deleted, and `npm run restore` rebuilds the initial master's data from the snapshot.
//
// Measured: the keys lost (only those acknowledged after the snapshot began may be: the RPO), the
// restore time, the master's write latency while the snapshot runs against its p99 before, and the
// master's fork count (a backup never forks the master). The alerts: the job's metrics go through
// node_exporter's textfile collector to a Prometheus evaluating the stack's backup rules. A run
// with no replica in sync must fail rather than read the master (RedisBackupFailed), and with the
// job stopped RedisBackupTooOld must page once the last snapshot is twice the interval old. The
// drill's interval is 10 s (or the snapshot's own duration, if longer) instead of the stack's
// minutes, so the page comes within the run: the same renderers, a shorter clock.
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import type Redis from "ioredis";
import { ACL_USERS } from "../../components/redis/acl";
import { BACKUP_METRICS, BACKUP_METRICS_FILE, backupJobEnv, backupSettings, renderBackupJobScript, jobPathsIn } from "../../components/backup/backupJob";
import { stackModelPlacedAt } from "../../components/topology/model";
import type { StackConfig } from "../../components/config/types";
import { PROJECT_ROOT } from "../../lib/stackFiles";
import { AlertCheck, startAlerting } from "../harness/alerting";
import { LocalCluster } from "../harness/localCluster";
import { freePortRange, redisCli, sleep, waitFor } from "../harness/processes";
import { Workspace } from "../harness/workspace";
import { directClient } from "../harness/writer";
import { Checks, seconds, type Figure, type Scenario } from "../harness/types";

/** The drill's backup interval: the page comes at twice this after the last snapshot. */
const DRILL_INTERVAL_SECONDS = 10;
const FILL_VALUE_BYTES = 4096;

/** The stack's config with room for the dataset (maxmemory from the limit, as sizing computes it) and the drill's interval. */
function drillConfig(config: StackConfig, datasetMiB: number): StackConfig {
  // maxmemory = limit x (100 - headroom)%: room for the dataset twice over, so nothing is evicted.
  const memoryLimitMiB = Math.ceil((datasetMiB * 2 * 100) / (100 - config.redis.forkHeadroomPercent) / 256) * 256;
  return {
    ...config,
    redis: { ...config.redis, memoryLimitMiB, maxmemoryMiB: undefined, dataVolumeMiB: undefined },
    backup: { ...config.backup, intervalMinutes: DRILL_INTERVAL_SECONDS / 60 },
  };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One sequential writer on the master: seq:<n> = n, each acknowledged write's time and latency kept. */
class SequenceWriter {
  readonly acked: Array<{ n: number; at: number; latencyMs: number }> = [];
  private running = true;
  private done: Promise<void>;
  constructor(private readonly client: Redis) {
    this.done = this.loop();
  }
  private async loop(): Promise<void> {
    for (let n = 1; this.running; n++) {
      const sent = performance.now();
      await this.client.set(`seq:${n}`, String(n));
      this.acked.push({ n, at: Date.now(), latencyMs: performance.now() - sent });
    }
  }
  lastAcked(): number {
    return this.acked.at(-1)?.n ?? 0;
  }
  latencies(from: number, to: number): number[] {
    return this.acked.filter((a) => a.at >= from && a.at <= to).map((a) => a.latencyMs);
  }
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

/** The job's script, once (VEZA_BACKUP_ONCE), with its container's environment at the drill's paths. */
function runJobOnce(script: string, env: Record<string, string>, logFile: string): Promise<{ status: number; ms: number; log: string }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const log = fs.openSync(logFile, "a");
    const child = spawn("sh", [script], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env, VEZA_BACKUP_ONCE: "1" }, stdio: ["ignore", log, log] });
    const timer = setTimeout(() => child.kill("SIGKILL"), 600_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      fs.closeSync(log);
      resolve({ status: code ?? 1, ms: Date.now() - started, log: fs.readFileSync(logFile, "utf8") });
    });
  });
}

/** `npm run restore`, as an operator runs it, bounded in time. */
function runRestore(args: string[], logFile: string): Promise<{ status: number; ms: number; output: string }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(PROJECT_ROOT, "node_modules/.bin/tsx"), [path.join(PROJECT_ROOT, "scripts/restore.ts"), ...args], { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 900_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      fs.writeFileSync(logFile, output);
      resolve({ status: code ?? 1, ms: Date.now() - started, output });
    });
  });
}

export const backupRestore: Scenario = {
  name: "backup-restore",
  runbook: "AOF and replicas do not protect against FLUSHALL, a corrupted dataset replicated everywhere, or losing every volume: a snapshot off the data hosts does",
  targets: [
    { figure: "acked_writes_lost_before_snapshot", kind: "equals", value: 0, why: "every write acknowledged before the snapshot began is in it: the RPO is the interval" },
    { figure: "fill_keys_missing", kind: "equals", value: 0, why: "the whole dataset comes back" },
    { figure: "snapshot_read_from", kind: "equals", value: "replica", why: "the snapshot's fork runs on a replica" },
    { figure: "master_forks_during_backups", kind: "equals", value: 0, why: "no backup ever forks the master, not even when no replica is in sync" },
    { figure: "run_without_replica", kind: "equals", value: "failed", why: "with no replica in sync the job fails (a ticket) instead of reading the master" },
    { figure: "backup_too_old_late_s", kind: "at most", value: 15, why: "the page comes once the newest snapshot is twice the interval old, within scrapes and an evaluation (1 s each here)" },
    { figure: "restore_s", kind: "at most", value: 300, why: "a 1 GiB dataset back within minutes", fullOnly: true },
    {
      figure: "master_write_p99_added_ms",
      kind: "at most",
      value: 5,
      // In npm test other drills share the two cores (a clean .ci/run measured 5.08 ms with the
      // TLS rotation's sentinel restarts beside it); the fork count is what proves the guard.
      shortValue: 20,
      why: "the snapshot forks a replica, never the master (master_forks_during_backups proves it); what is left is CPU contention on this 2-core host, where the replica's fork, the transfer and restic share the cores with the master: its p99 moved 0.24-4.84 ms between runs before any snapshot",
    },
  ],
  alerts: { raises: ["RedisBackupFailed", "RedisBackupTooOld"] },
  run: async (ctx) => {
    const checks = new Checks();
    const ws = new Workspace("backup-restore");
    let check: AlertCheck | undefined;
    const clients: Redis[] = [];
    try {
      const datasetMiB = ctx.short ? 32 : 1024;
      const config = drillConfig(ctx.config, datasetMiB);
      const cluster = await LocalCluster.render(config, { label: "backup-restore", workspace: ws });
      await cluster.start();
      const master = cluster.nodes[0];
      const admin = cluster.admin();
      const forks = () => Number(cluster.info(master, "stats").total_forks);

      // The dataset: random values (incompressible, as sessions and tokens are), pipelined.
      const filler = directClient(master.port, ACL_USERS.app, cluster.credentials.app);
      clients.push(filler);
      const fillKeys = Math.ceil((datasetMiB * 1024 * 1024) / FILL_VALUE_BYTES);
      for (let i = 0; i < fillKeys; i += 500) {
        const pipeline = filler.pipeline();
        for (let j = i; j < Math.min(fillKeys, i + 500); j++) pipeline.set(`fill:${j}`, randomBytes(FILL_VALUE_BYTES));
        await pipeline.exec();
      }
      await waitFor(
        "the replicas to catch up with the dataset",
        () => cluster.nodes.slice(1).every((replica) => Number(cluster.info(replica, "keyspace").db0?.match(/keys=(\d+)/)?.[1] ?? 0) >= fillKeys),
        300_000,
        500,
      );
      const forksBefore = forks();

      // The job's inputs where its container has them: password files, repository, state, textfile.
      const settings = backupSettings(config, stackModelPlacedAt(config, cluster.topology));
      const dir = ws.tempDir("backup");
      const paths = jobPathsIn(dir);
      for (const d of [paths.state, paths.textfile]) fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(paths.backupPasswordFile, cluster.credentials.backup, { mode: 0o600 });
      fs.writeFileSync(paths.resticPasswordFile, randomBytes(24).toString("hex"), { mode: 0o600 });
      const script = path.join(dir, "backup.sh");
      fs.writeFileSync(script, renderBackupJobScript());
      const env = backupJobEnv(settings, paths);

      // Writes with known sequence numbers, a baseline of their latency, then the snapshot.
      const client = directClient(master.port, ACL_USERS.app, cluster.credentials.app);
      clients.push(client);
      const writer = new SequenceWriter(client);
      const baselineFrom = Date.now();
      await sleep(ctx.short ? 2000 : 5000);
      const jobStarted = Date.now();
      const ackedBeforeSnapshot = writer.lastAcked();
      const backup = await runJobOnce(script, env, path.join(dir, "job.log"));
      const jobEnded = Date.now();
      checks.expect(backup.status === 0, `the backup job failed (exit ${backup.status}): ${backup.log.trim().split("\n").slice(-3).join(" | ")}`);
      const readFrom = /reading a snapshot from replica (\S+)/.exec(backup.log)?.[1];
      const readRole = readFrom === undefined ? "none" : readFrom === master.name ? "master" : "replica";
      // Writes go on after the snapshot: these are the ones a restore may lose.
      await sleep(1000);
      await writer.stop();
      const ackedTotal = writer.lastAcked();
      const baselineP99 = percentile(writer.latencies(baselineFrom, jobStarted), 99);
      const duringP99 = percentile(writer.latencies(jobStarted, jobEnded), 99);

      // The alert path: node_exporter's textfile collector on the job's metrics, Prometheus on the
      // backup rules. Their interval: the drill's, or the snapshot's own duration when that is
      // longer (a 1 GiB dataset), so that a healthy job is one whose snapshot is fresh.
      const intervalSeconds = Math.max(DRILL_INTERVAL_SECONDS, Math.ceil(backup.ms / 1000));
      const alertConfig: StackConfig = { ...config, backup: { ...config.backup, intervalMinutes: intervalSeconds / 60 } };
      const [nodeExporterPort, prometheusPort] = [await freePortRange(1), await freePortRange(1)];
      ws.processes.start(
        "node-exporter",
        "prometheus-node-exporter",
        [`--web.listen-address=127.0.0.1:${nodeExporterPort}`, "--collector.disable-defaults", "--collector.textfile", `--collector.textfile.directory=${paths.textfile}`],
        path.join(dir, "node-exporter.log"),
      );
      const alerting = await startAlerting({
        config: alertConfig,
        exporters: [],
        exporterPassword: "",
        dir: ws.tempDir("alerting"),
        processes: ws.processes,
        prometheus: { address: "127.0.0.1", port: prometheusPort },
        ruleFamilies: ["backup"],
        nodeExporters: [{ address: `127.0.0.1:${nodeExporterPort}`, host: settings.host.name }],
      });
      const snapshotAt = Number(/^veza_backup_last_success_timestamp_seconds (\d+)$/m.exec(fs.readFileSync(path.join(paths.textfile, BACKUP_METRICS_FILE), "utf8"))?.[1] ?? NaN) * 1000;

      // Healthy: a fresh snapshot raises nothing, once Prometheus has read the job's first metrics
      // (before them RedisBackupMissing is pending, as on a new stack). Then a run with no replica
      // in sync, and the job stopped.
      await waitFor(
        "Prometheus to read the job's metrics and RedisBackupMissing to clear",
        async () => (await alerting.query(BACKUP_METRICS.firstStart)).length === 1 && !(await alerting.alerts()).some((a) => a.labels.alertname === "RedisBackupMissing"),
        15_000,
        250,
      );
      check = await AlertCheck.begin(alerting, ctx.alerts ?? { raises: [] });
      for (const replica of cluster.nodes.slice(1)) await cluster.processes.kill9(replica.process!);
      const withoutReplica = await runJobOnce(script, backupJobEnv(backupSettings(alertConfig, stackModelPlacedAt(alertConfig, cluster.topology)), paths), path.join(dir, "job-without-replica.log"));
      const masterForks = forks() - forksBefore;
      const tooOldAt = await check.firstSeen("RedisBackupTooOld", "pending", Math.max(0, snapshotAt + 2 * intervalSeconds * 1000 - Date.now()) + 30_000);
      await check.untilRaised(30_000);
      const alerts = await check.verdict();
      check = undefined;

      // Every data node lost with its data: only the snapshot remains.
      for (const node of cluster.nodes) if (node.process?.child.exitCode === null && node.process.child.signalCode === null) await cluster.processes.kill9(node.process);
      for (const node of cluster.nodes)
        for (const entry of fs.readdirSync(node.dir)) if (!entry.endsWith(".conf") && !entry.endsWith(".log")) fs.rmSync(path.join(node.dir, entry), { recursive: true, force: true });
      const restore = await runRestore(
        [
          "--stack",
          ctx.stack,
          // The drill's ports: the node's runtime conf names its own, and the live check probes it.
          "--config",
          `redis.port=${master.port}`,
          "--config",
          `sentinel.port=${cluster.sentinels[0].port}`,
          "--snapshot",
          "latest",
          "--repository",
          paths.repository,
          "--password-file",
          paths.resticPasswordFile,
          "--data-dir",
          master.dir,
          "--node",
          master.name,
        ],
        path.join(dir, "restore.log"),
      );
      checks.expect(restore.status === 0, `npm run restore failed (exit ${restore.status}): ${restore.output.trim().split("\n").slice(-3).join(" | ")}`);
      cluster.startNode(master);
      await cluster.waitReady(master, 120_000);
      const restoredKeys = Number(redisCli(master.port, ["dbsize"], admin).out);
      const missingFill = fillKeys - Number(redisCli(master.port, ["eval", "return #redis.call('keys', 'fill:*')", "0"], admin, 60_000).out);
      // The newest sequence number restored, and any gap below it.
      const restoredSeq = redisCli(
        master.port,
        ["eval", "local n = 0 for _, k in ipairs(redis.call('keys', 'seq:*')) do n = math.max(n, tonumber(string.sub(k, 5))) end return n", "0"],
        admin,
        60_000,
      ).out;
      const newest = Number(restoredSeq);
      const seqCount = Number(redisCli(master.port, ["eval", "return #redis.call('keys', 'seq:*')", "0"], admin, 60_000).out);
      checks.expect(seqCount === newest, `${newest - seqCount} gaps among the restored sequence numbers up to ${newest}`);
      const lostBefore = Math.max(0, ackedBeforeSnapshot - newest);
      const newestAckedAt = writer.acked.find((a) => a.n === newest)?.at;
      const figures: Record<string, Figure> = {
        dataset_mib: datasetMiB,
        snapshot_read_from: readRole,
        snapshot_s: seconds(backup.ms),
        master_write_p99_ms_before: Math.round(baselineP99 * 100) / 100,
        master_write_p99_ms_during_snapshot: Math.round(duringP99 * 100) / 100,
        master_write_p99_added_ms: Math.max(0, Math.round((duringP99 - baselineP99) * 100) / 100),
        master_forks_during_backups: masterForks,
        run_without_replica:
          withoutReplica.status === 0 ? "succeeded" : /no declared replica in sync/.test(withoutReplica.log) ? "failed" : `failed otherwise: ${withoutReplica.log.trim().split("\n").at(-1)}`,
        alert_interval_s: intervalSeconds,
        // When the page came, past the moment the snapshot turned twice the interval old.
        backup_too_old_late_s: tooOldAt === undefined || Number.isNaN(snapshotAt) ? "not raised" : seconds(tooOldAt - (snapshotAt + 2 * intervalSeconds * 1000)),
        restore_s: seconds(restore.ms),
        keys_restored: restoredKeys,
        fill_keys_missing: missingFill,
        acked_writes: ackedTotal,
        acked_before_snapshot: ackedBeforeSnapshot,
        acked_writes_lost_before_snapshot: lostBefore,
        acked_writes_lost_after_snapshot: ackedTotal - newest,
        // The data a restore loses: what was acknowledged after the snapshot's moment.
        rpo_s: newestAckedAt === undefined ? "n/a" : seconds((writer.acked.at(-1)?.at ?? newestAckedAt) - newestAckedAt),
        ...alerts.figures,
      };
      return { passed: checks.passed && alerts.failures.length === 0, failures: [...checks.failures, ...alerts.failures], figures };
    } finally {
      await check?.stop();
      for (const client of clients) client.disconnect();
      await ws.cleanup();
    }
  },
};
