// npm run restore -- --stack <name> --snapshot latest|<id> --repository <repo> --password-file <file> --data-dir <dir> [--node <name>] [--replace-data] [--force]
// Restores a snapshot of the backup job into a stopped data node's data dir, as the AOF the node
// loads when it starts (scripts/lib/restore.ts says how). Refuses, changing nothing (exit 2): an
// unknown snapshot, a wrong password, a missing repository, a disk too small for it, a
// redis-server of another major.minor than the stack deploys, a data dir holding data (unless
// --replace-data), and, unless --force, a server answering on the node's address and port or a
// data dir whose runtime redis.conf names another port. Two flags, so that replacing a stopped
// master's AOF (every restore in place) never also skips the live-server check. A restore that
// starts and fails leaves the data dir as it was (exit 1). docs/backup.md.
import * as fs from "node:fs";
import * as path from "node:path";
import { formatProblem } from "../components/config/reader";
import { validateStackConfig } from "../components/validation/validate";
import { applyOverrides, readStackConfigFile } from "../lib/stackFiles";
import { CONFIG_OPTION, EXIT_FINDING, EXIT_OK, parseOrHelp, runMain, STACK_OPTION, UsageError, type CommandSpec } from "./lib/args";
import {
  asideName,
  boundMs,
  checkPasswordFile,
  chownTree,
  Cleanup,
  dataDirNodeProblem,
  deployedRedisVersion,
  existingData,
  formatBytes,
  freeBytes,
  listSnapshots,
  liveServers,
  pickSnapshot,
  rdbToAof,
  redisServerVersion,
  resticRestore,
  RestoreFailure,
  RestoreRefusal,
  restoreTarget,
  shortId,
  snapshotSize,
  snapshotSource,
  snapshotTime,
  spaceProblem,
  versionProblem,
  formatVersion,
  type Repository,
} from "./lib/restore";

const MiB = 1024 * 1024;

const SPEC: CommandSpec = {
  name: "restore",
  invocation: "npm run restore --",
  summary:
    "Restores a backup snapshot (restic, /dump.rdb) into a stopped data node's data dir as the AOF it loads at start; refuses an unknown snapshot, a wrong password, a missing repository, too little disk, a redis-server of another major.minor than the stack deploys, unless --replace-data a data dir holding data, and unless --force a live server or a data dir of another node (docs/backup.md).",
  finding: "the restore started and failed; the data dir is as it was",
  options: {
    stack: STACK_OPTION,
    config: CONFIG_OPTION,
    snapshot: { type: "string", value: "<latest|id>", required: true, description: "latest (the newest snapshot tagged veza-redis) or a snapshot id as `restic snapshots` prints it" },
    repository: {
      type: "string",
      value: "<repo>",
      required: true,
      description: "the restic repository, as restic -r takes it; on the dev stack: docker volume inspect -f '{{.Mountpoint}}' veza-backup-repository",
    },
    "password-file": {
      type: "string",
      value: "<file>",
      required: true,
      description: "a file holding the repository's password (pulumi stack output backupRepositoryPassword --show-secrets; on the backup host: restic-password in the volume veza-backup-credentials)",
    },
    "data-dir": {
      type: "string",
      value: "<dir>",
      required: true,
      description: "the node's data dir, its server stopped (on Docker: docker volume inspect -f '{{.Mountpoint}}' veza-<node>-data), or an empty scratch dir to copy the AOF from (docs/backup.md)",
    },
    node: {
      type: "string",
      value: "<name>",
      description: "the data node restored: its AOF names, its address and port (the live check, the data dir's redis.conf) come from its rendered redis.conf (default: the stack's initial master)",
    },
    "replace-data": { type: "boolean", description: "the data dir holds an AOF or RDB (the damaged data): move it aside to <name>.before-restore-<UTC time> and restore" },
    force: {
      type: "boolean",
      description:
        "restore even when a server answers on the node's address and port, or the data dir's redis.conf names another port: a live master keeps serving, then rolls the cluster back to the snapshot when it restarts; never needed to restore a stopped node's own data dir",
    },
  },
  notes: ["progress: a line on stderr at least every 5 s; the result and the next step on stdout"],
};

function progress(line: string): void {
  process.stderr.write(`restore: ${line}\n`);
}

function dataDirOf(dir: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch (error) {
    throw new RestoreRefusal(`--data-dir ${dir}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : `cannot read it (${(error as NodeJS.ErrnoException).code})`}`);
  }
  if (!stat.isDirectory()) throw new RestoreRefusal(`--data-dir ${dir}: not a directory`);
  return fs.realpathSync(dir);
}

async function main(): Promise<number> {
  const args = parseOrHelp(SPEC);
  if (!args) return EXIT_OK;
  const stack = args.values.stack as string;
  const force = args.values.force === true;
  const replaceData = args.values["replace-data"] === true;
  const validation = validateStackConfig(applyOverrides(readStackConfigFile(stack).raw, args.values.config as string[]));
  if (!validation.ok) throw new UsageError(`stack ${stack}: invalid config, nothing restored: ${validation.problems.map(formatProblem).join("; ")}`);
  const target = restoreTarget(validation.config, args.values.node as string | undefined);
  const dataDir = dataDirOf(args.values["data-dir"] as string);
  const repo: Repository = { repository: args.values.repository as string, passwordFile: args.values["password-file"] as string };

  // Every refusal before anything is written. The scratch server writes the AOF: it must be the
  // deployed major.minor, or the node may not load what it wrote.
  const image = validation.config.redis.image;
  const binary = redisServerVersion();
  const deployed = deployedRedisVersion(image);
  const mismatch = deployed && versionProblem(binary, image, deployed);
  if (mismatch) throw new RestoreRefusal(`${mismatch}; nothing changed`);
  // What --force got past, and what it costs: said loudly, before and after.
  const overridden: string[] = [];
  const otherNode = dataDirNodeProblem(dataDir, target);
  if (otherNode && !force) throw new RestoreRefusal(`${otherNode}; nothing changed`);
  if (otherNode) overridden.push(`${otherNode}. Restoring all the same: the node this data dir belongs to loads the snapshot when it starts`);
  const live = await liveServers(target);
  if (live.length > 0 && !force)
    throw new RestoreRefusal(`node ${target.node} is live: ${live.join("; ")}; stop it first (docs/backup.md), or give --force to restore its data dir all the same; nothing changed`);
  if (live.length > 0)
    overridden.push(
      `node ${target.node} is live: ${live.join("; ")}. Restoring all the same: it keeps serving its old data, its next AOF rewrite replaces the restored AOF, and when it restarts (a crash included) it loads the snapshot and its replicas resync from it: the cluster goes back to the snapshot. Stop it now`,
    );
  const existing = existingData(dataDir, target);
  if (!replaceData && existing.length > 0)
    throw new RestoreRefusal(
      `${dataDir} already holds ${existing.join(", ")}: restore into an empty data dir, or give --replace-data to replace it (moved aside to <name>.before-restore-<UTC time>); nothing changed`,
    );
  checkPasswordFile(repo.passwordFile);
  const snapshot = pickSnapshot(listSnapshots(repo), args.values.snapshot as string, repo.repository);
  const bytes = snapshotSize(repo, snapshot);
  const space = spaceProblem(dataDir, shortId(snapshot), bytes, freeBytes(dataDir));
  if (space) throw new RestoreRefusal(`${space}; nothing changed`);
  if (!deployed)
    progress(
      `warning: cannot tell the Redis version of redis.image ${image} (no version tag): the AOF is written by redis-server ${formatVersion(binary)}; the node must run ${binary.major}.${binary.minor}`,
    );
  const warnings = overridden.map((what) => `WARNING: --force: ${what}`);
  for (const warning of warnings) progress(warning);

  const started = Date.now();
  const cleanup = new Cleanup();
  const when = new Date(snapshotTime(snapshot)).toISOString().replace(/\.\d+Z$/, "Z");
  const source = snapshotSource(snapshot);
  try {
    // Staged inside the data dir (one file system: the last step is a rename), private to this user.
    const staging = cleanup.dir(fs.mkdtempSync(path.join(dataDir, ".veza-restore-")));
    progress(`snapshot ${shortId(snapshot)} of ${when}${source ? ` (read from ${source})` : ""}, ${formatBytes(bytes)}: restoring into ${staging}`);
    await resticRestore(repo, snapshot, bytes, staging, cleanup, progress, boundMs(bytes, 300, MiB));
    const keys = await rdbToAof({ dir: staging, target, bytes, cleanup, progress, loadTimeoutMs: boundMs(bytes, 120, 10 * MiB), rewriteTimeoutMs: boundMs(bytes, 120, 10 * MiB) });

    const staged = path.join(staging, target.appendDirname);
    const owner = fs.statSync(dataDir);
    const root = process.getuid?.() === 0;
    if (root) chownTree(staged, owner.uid, owner.gid);
    // Checked again: the node may have been started meanwhile.
    const now = existingData(dataDir, target);
    if (!replaceData && now.length > 0) throw new RestoreFailure(`${dataDir} now holds ${now.join(", ")} (written during the restore: is the node running?); nothing changed`);
    const moved: Array<[string, string]> = now.map((name) => [path.join(dataDir, name), path.join(dataDir, asideName(name, new Date(started)))]);
    for (const [from, to] of moved) fs.renameSync(from, to);
    const restored = path.join(dataDir, target.appendDirname);
    try {
      fs.renameSync(staged, restored);
    } catch (error) {
      for (const [from, to] of moved.reverse()) fs.renameSync(to, from);
      throw new RestoreFailure(`could not move the restored AOF into ${restored} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing changed`);
    }
    cleanup.close();

    const elapsed = ((Date.now() - started) / 1000).toFixed(1);
    const lines = [
      `restore: snapshot ${shortId(snapshot)} of ${when}${source ? ` (read from ${source})` : ""}, ${formatBytes(bytes)}: ${keys} keys restored into ${restored} for node ${target.node} of stack ${stack} in ${elapsed} s`,
      // A snapshot taken after the data was lost (a FLUSHALL copied to every replica) is empty.
      ...(keys === 0
        ? [`restore: warning: snapshot ${shortId(snapshot)} holds no keys; if it was taken after the data was lost, restore an earlier one (restic -r ${repo.repository} snapshots)`]
        : []),
      ...moved.map(([from, to]) => `restore: --replace-data: moved ${path.basename(from)} aside to ${path.basename(to)}; delete it once the node serves the restored data`),
      ...warnings.map((warning) => `restore: ${warning}`),
      ...(!root && owner.uid !== process.getuid?.()
        ? [`restore: the restored files belong to uid ${process.getuid?.()}, the data dir to uid ${owner.uid}: chown -R ${owner.uid}:${owner.gid} ${restored}`]
        : []),
      `next: start ${target.node} first (on Docker: docker start veza-${target.node}) and check it holds ${keys} keys; it must be the node the sentinels name master, or it resyncs from that one and drops this data. Then start its replicas with emptied data dirs: they resync from it (docs/backup.md)`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    return EXIT_OK;
  } catch (error) {
    cleanup.close();
    if (!(error instanceof RestoreFailure)) throw error;
    process.stderr.write(`restore: failed: ${error.message}\n`);
    return EXIT_FINDING;
  }
}

runMain("restore", main);
