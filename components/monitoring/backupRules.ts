// Alerts on the backup job (components/backup): its metrics come from node_exporter's textfile
// collector on the backup host, so every rule reads the node job's target there. The thresholds
// follow config.backup.intervalMinutes: a snapshot older than two intervals means a run was
// missed or failed, not merely late (a run waits one interval and takes at most one more).
import { BACKUP_METRICS } from "../backup/backupJob";
import { alertRule, RUNBOOK_PAGES, type AlertLinks, type AlertRow, type RuleFile } from "./runbooks";

/** The job the rules watch, when backup is enabled. */
export interface BackupJobTarget {
  /** Whole seconds. */
  intervalSeconds: number;
  /** The labels prometheus.yml gives the backup host's node_exporter (job, instance, host). */
  labels: Record<string, string>;
}

export interface BackupRulesInput extends AlertLinks {
  job?: BackupJobTarget;
}

/** A Prometheus duration: 7200 -> "2h", 5400 -> "1h30m", 600 -> "10m". */
export function promDuration(totalSeconds: number): string {
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return `${h > 0 ? `${h}h` : ""}${m > 0 ? `${m}m` : ""}${s > 0 || totalSeconds === 0 ? `${s}s` : ""}`;
}

/**
 * RedisBackupTooOld's `for`, a quarter of the interval in whole seconds (at least 1): the newest
 * snapshot's time is when `restic backup` started, and the run's metrics land only after the
 * store, forget --prune and a scrape. After one failed run, the next run's snapshot turns the
 * previous one twice the interval old before its metrics say so: the `for` outlasts that gap.
 */
export function tooOldForSeconds(intervalSeconds: number): number {
  return Math.max(1, Math.ceil(intervalSeconds / 4));
}

export function renderBackupRules(input: BackupRulesInput): RuleFile {
  // Backup disabled: the file Prometheus loads stays, empty.
  if (!input.job) return { groups: [] };
  const { intervalSeconds, labels } = input.job;
  const selector = `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`;
  const m = (name: string) => `${name}${selector}`;
  const twice = promDuration(2 * intervalSeconds);
  const interval = promDuration(intervalSeconds);
  const tooOld = promDuration(tooOldForSeconds(intervalSeconds));

  const rows: AlertRow[] = [
    {
      alert: "RedisBackupTooOld",
      // The newest snapshot's age; before the first one, the age of the job's first start (kept
      // across restarts, so a job crash-looping since it was deployed still pages).
      expr: `time() - (${m(BACKUP_METRICS.lastSuccess)} or ${m(BACKUP_METRICS.firstStart)}) > ${2 * intervalSeconds}`,
      // Not at once: after one failed run, the next run's snapshot is stored right when the
      // previous one turns two intervals old, and its metrics land only after retention and a scrape.
      for: tooOld,
      severity: "page",
      summary: `No Redis snapshot stored for more than ${twice} (twice the backup interval of ${interval})`,
      description:
        `The newest snapshot in the backup repository on {{ $labels.instance }} has been older than ${twice} for ${tooOld}, or the job has run that long without storing one: ` +
        "a restore now would lose every write since. The job is stopped, removed or crash-looping (container veza-backup), or each run fails (RedisBackupFailed, and the job's log say why).",
      runbook: RUNBOOK_PAGES.backup,
    },
    {
      alert: "RedisBackupMissing",
      // The job writes its metrics at the end of each run (a run takes at most one interval):
      // none for two intervals means it never ran to the end, or node_exporter does not read its
      // file. A stopped or removed container leaves its last file in the volume: RedisBackupTooOld's.
      expr: `absent(${m(BACKUP_METRICS.firstStart)})`,
      for: twice,
      severity: "page",
      summary: `The backup job's metrics on {{ $labels.instance }} have been missing for ${twice}`,
      description:
        "node_exporter on the backup host exposes no veza_backup_* metrics: the job never finished a run (a new stack's first run, or a job that dies before the end of each), the textfile volume is not mounted in node_exporter, or the metrics file was deleted (or node_exporter itself is down: TargetDown). " +
        "A stopped or removed job is not this: its last metrics file stays in the volume, node_exporter keeps exposing it, and RedisBackupTooOld pages instead. While this fires, whether snapshots are stored is unknown and RedisBackupTooOld cannot fire.",
      runbook: RUNBOOK_PAGES.backup,
    },
    {
      alert: "RedisBackupFailed",
      // The value changes once per run: a `for` shorter than the interval would add nothing.
      expr: `${m(BACKUP_METRICS.lastRunSuccess)} == 0`,
      severity: "ticket",
      summary: "The last backup run on {{ $labels.instance }} failed",
      description:
        "No declared replica was in sync with a declared master (the master is never read), the replica refused the read, redis-check-rdb refused the snapshot, or restic failed (repository full, locked, wrong password); " +
        `or the snapshot was stored and retention (forget --prune) failed. The next run is ${interval} after this one started; RedisBackupTooOld pages when no snapshot is stored for ${twice}.`,
      runbook: RUNBOOK_PAGES.backup,
    },
  ];
  return { groups: [{ name: "redis-backup", rules: rows.map((row) => alertRule(row, input)) }] };
}
