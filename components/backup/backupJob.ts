// The backup job as data and a script: which host runs it, which replicas it may read, when, how
// long snapshots are kept, and the metrics it leaves for node_exporter's textfile collector.
// Pure: the Backup component uploads the script, the drill runs the same script as a process.
//
// Why a replica, read with `redis-cli --rdb`: the snapshot's fork runs on the replica (never on
// the master, whose fork doubles the memory the runbook's OOM line is about), and the job needs
// no access to the data volume, only a least-privilege user (ACL `backup`: REPLCONF, SYNC).
// Why restic: encrypted at rest with a generated password, deduplicated, and `forget --prune`
// applies retention in the repository itself.

import type { HostConfig, StackConfig } from "../config/types";
import type { StackModel } from "../topology/model";
import { ACL_USERS } from "../redis/acl";
import { redisCliTlsArguments, type ClientTlsFiles } from "../tls/certificates";

/** The job's metrics, one file read by node_exporter's textfile collector on the backup host. */
export const BACKUP_METRICS = {
  /** The declared interval: the alerts compare a snapshot's age with it. */
  interval: "veza_backup_interval_seconds",
  lastRun: "veza_backup_last_run_timestamp_seconds",
  /** 1 when the last run stored a snapshot and applied retention, 0 when it failed. */
  lastRunSuccess: "veza_backup_last_run_success",
  /** The newest snapshot in the repository (absent while there is none). */
  lastSuccess: "veza_backup_last_success_timestamp_seconds",
  /** When the job first ran against this repository (kept across restarts): the age of "never". */
  firstStart: "veza_backup_first_start_timestamp_seconds",
  lastSnapshotBytes: "veza_backup_last_snapshot_bytes",
  lastDurationSeconds: "veza_backup_last_duration_seconds",
} as const;
export const BACKUP_METRICS_FILE = "veza_backup.prom";

/** Paths inside the job's container (images/backup creates them, owned by the job's user). */
export const BACKUP_PATHS = {
  script: "/etc/veza/backup.sh",
  repository: "/repository",
  state: "/state",
  textfile: "/textfile",
  credentials: "/credentials",
} as const;
/** File names in the credentials volume: the backup user's password and the repository's. */
export const BACKUP_PASSWORD_FILE = "backup-password";
export const RESTIC_PASSWORD_FILE = "restic-password";
/** Where the backup host's node_exporter reads the job's metrics (its textfile volume). */
export const NODE_EXPORTER_TEXTFILE_DIR = "/textfile";
/** restic's snapshot file name and tag: `npm run restore` restores this file. */
export const SNAPSHOT_FILE_NAME = "dump.rdb";
export const SNAPSHOT_TAG = "veza-redis";

/** A transfer of maxmemory (GiB) over a slow link fits in an hour; a shorter interval does not cut it off. */
const MINIMUM_TRANSFER_TIMEOUT_SECONDS = 3600;

export interface BackupDataNode {
  name: string;
  address: string;
  port: number;
}

export interface BackupSettings {
  host: HostConfig;
  intervalSeconds: number;
  keepHourly: number;
  keepDaily: number;
  /** restic's snapshot host: one retention group whichever replica a snapshot came from. */
  cluster: string;
  /** The only servers the job reads from: the declared data nodes. */
  dataNodes: BackupDataNode[];
  /**
   * The longest one snapshot's transfer may take: a guard against a hung replica, not a schedule
   * (runs never overlap: the next starts when this one has ended). A slow run shows as
   * RedisBackupTooOld, not as a killed transfer.
   */
  transferTimeoutSeconds: number;
  /**
   * How the job shows on the replica it reads (`slave_ip:slave_port` in INFO replication): the
   * backup host's address and no listening port. RedisUndeclaredReplica excuses exactly this one.
   */
  readerAddress: string;
}

export function backupSettings(config: StackConfig, model: StackModel): BackupSettings {
  const host = config.hosts.find((h) => h.name === config.backup.host)!;
  return {
    host,
    intervalSeconds: config.backup.intervalMinutes * 60,
    keepHourly: config.backup.keepHourly,
    keepDaily: config.backup.keepDaily,
    cluster: config.monitoring.cluster,
    dataNodes: model.topology.dataNodes.map((n) => ({ name: n.name, address: n.host.address, port: n.port })),
    transferTimeoutSeconds: Math.max(config.backup.intervalMinutes * 60, MINIMUM_TRANSFER_TIMEOUT_SECONDS),
    readerAddress: `${host.bindAddress}:0`,
  };
}

/** Where the job finds its inputs: the container's paths, or a drill's directories. */
export interface BackupJobPaths {
  repository: string;
  state: string;
  textfile: string;
  backupPasswordFile: string;
  resticPasswordFile: string;
}

/** The job's inputs under one directory: the drill's and the tests' layout of the container's volumes. */
export function jobPathsIn(dir: string): BackupJobPaths {
  return {
    repository: `${dir}/repository`,
    state: `${dir}/state`,
    textfile: `${dir}/textfile`,
    backupPasswordFile: `${dir}/${BACKUP_PASSWORD_FILE}`,
    resticPasswordFile: `${dir}/${RESTIC_PASSWORD_FILE}`,
  };
}

export function containerJobPaths(): BackupJobPaths {
  return {
    repository: BACKUP_PATHS.repository,
    state: BACKUP_PATHS.state,
    textfile: BACKUP_PATHS.textfile,
    backupPasswordFile: `${BACKUP_PATHS.credentials}/${BACKUP_PASSWORD_FILE}`,
    resticPasswordFile: `${BACKUP_PATHS.credentials}/${RESTIC_PASSWORD_FILE}`,
  };
}

/** With TLS on: the CA bundle and the backup role's client pair, beside the password files. */
export function backupTlsFilesIn(dir: string): ClientTlsFiles {
  return { caCertFile: `${dir}/redis-ca.crt`, certFile: `${dir}/redis-client.crt`, keyFile: `${dir}/redis-client.key` };
}

/** The job's environment: every setting the script reads. No secret: those are files. */
export function backupJobEnv(settings: BackupSettings, paths: BackupJobPaths, tls?: ClientTlsFiles): Record<string, string> {
  return {
    // redis-cli's TLS options (paths without spaces: split by the shell on purpose), or none.
    ...(tls ? { VEZA_BACKUP_REDIS_CLI_TLS: redisCliTlsArguments(tls).join(" ") } : {}),
    VEZA_BACKUP_INTERVAL_SECONDS: String(settings.intervalSeconds),
    VEZA_BACKUP_TRANSFER_TIMEOUT_SECONDS: String(settings.transferTimeoutSeconds),
    VEZA_BACKUP_KEEP_HOURLY: String(settings.keepHourly),
    VEZA_BACKUP_KEEP_DAILY: String(settings.keepDaily),
    VEZA_BACKUP_CLUSTER: settings.cluster,
    VEZA_BACKUP_DATA_NODES: settings.dataNodes.map((n) => `${n.name}=${n.address}:${n.port}`).join(" "),
    VEZA_BACKUP_USER: ACL_USERS.backup,
    VEZA_BACKUP_PASSWORD_FILE: paths.backupPasswordFile,
    VEZA_BACKUP_STATE_DIR: paths.state,
    VEZA_BACKUP_TEXTFILE_DIR: paths.textfile,
    RESTIC_REPOSITORY: paths.repository,
    RESTIC_PASSWORD_FILE: paths.resticPasswordFile,
    // The root filesystem is read-only: restic's cache and temporary packs go to the state volume.
    RESTIC_CACHE_DIR: `${paths.state}/cache`,
    TMPDIR: `${paths.state}/tmp`,
  };
}

/**
 * The job: every interval, pick a declared replica that is in sync with a declared master, read
 * one snapshot from it, check it with redis-check-rdb, store it with restic, apply retention, and
 * write the metrics. A run with no such replica fails (the ticket) rather than touch the master.
 * VEZA_BACKUP_ONCE=1 runs once and exits with the run's status (the drill, and a manual backup:
 * `docker exec veza-backup env VEZA_BACKUP_ONCE=1 sh /etc/veza/backup.sh`).
 */
export function renderBackupJobScript(): string {
  const m = BACKUP_METRICS;
  return `#!/bin/sh
# Scheduled Redis snapshots from a replica into a restic repository (components/backup/backupJob.ts).
set -u
# Secrets and snapshots are for this user only; the metrics file is made readable below.
umask 077
interval=$VEZA_BACKUP_INTERVAL_SECONDS
state=$VEZA_BACKUP_STATE_DIR
metrics="$VEZA_BACKUP_TEXTFILE_DIR/${BACKUP_METRICS_FILE}"
mkdir -p "$RESTIC_CACHE_DIR" "$TMPDIR"
log() { printf '%s backup: %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
ask() {
  ask_host=$1; ask_port=$2; shift 2
  REDISCLI_AUTH=$(cat "$VEZA_BACKUP_PASSWORD_FILE") timeout 5 redis-cli \${VEZA_BACKUP_REDIS_CLI_TLS:-} --no-auth-warning --user "$VEZA_BACKUP_USER" -h "$ask_host" -p "$ask_port" "$@" 2>/dev/null | tr -d '\\r'
}
is_declared() {
  local candidate
  for candidate in $VEZA_BACKUP_DATA_NODES; do [ "\${candidate#*=}" = "$1" ] && return 0; done
  return 1
}
# A declared replica whose link to a declared master is up: never the master, never a node that
# follows a server outside the stack.
pick_replica() {
  local declared address info master
  for declared in $VEZA_BACKUP_DATA_NODES; do
    address=\${declared#*=}
    info=$(ask "\${address%:*}" "\${address##*:}" INFO replication)
    case "$info" in *role:slave*) ;; *) continue ;; esac
    printf '%s\\n' "$info" | grep -q '^master_link_status:up$' || continue
    master="$(printf '%s\\n' "$info" | sed -n 's/^master_host://p'):$(printf '%s\\n' "$info" | sed -n 's/^master_port://p')"
    is_declared "$master" || { log "\${declared%%=*} follows $master, not a declared data node: not read"; continue; }
    echo "$declared"
    return 0
  done
  return 1
}
first_start=$(cat "$state/first-start" 2>/dev/null || true)
if [ -z "$first_start" ]; then first_start=$(date +%s); echo "$first_start" > "$state/first-start"; fi
last_success=""
last_bytes=0
last_duration=0
latest_snapshot_time() {
  iso=$(timeout 300 restic snapshots --no-lock --host "$VEZA_BACKUP_CLUSTER" --tag ${SNAPSHOT_TAG} --latest 1 --json 2>/dev/null | sed -n 's/.*"time":"\\([^"]*\\)".*/\\1/p' | tail -n 1)
  [ -n "$iso" ] && date -d "$iso" +%s
}
write_metrics() {
  run_time=$1; run_ok=$2
  tmp="$metrics.tmp"
  {
    echo "# HELP ${m.interval} Seconds between scheduled snapshots."
    echo "# TYPE ${m.interval} gauge"
    echo "${m.interval} $interval"
    echo "# HELP ${m.firstStart} When the job first ran against this repository."
    echo "# TYPE ${m.firstStart} gauge"
    echo "${m.firstStart} $first_start"
    echo "# HELP ${m.lastRun} When the last run ended."
    echo "# TYPE ${m.lastRun} gauge"
    echo "${m.lastRun} $run_time"
    echo "# HELP ${m.lastRunSuccess} 1 if the last run stored a snapshot and applied retention, else 0."
    echo "# TYPE ${m.lastRunSuccess} gauge"
    echo "${m.lastRunSuccess} $run_ok"
    if [ -n "$last_success" ]; then
      echo "# HELP ${m.lastSuccess} Time of the newest snapshot in the repository."
      echo "# TYPE ${m.lastSuccess} gauge"
      echo "${m.lastSuccess} $last_success"
    fi
    echo "# HELP ${m.lastSnapshotBytes} Size of the last snapshot read."
    echo "# TYPE ${m.lastSnapshotBytes} gauge"
    echo "${m.lastSnapshotBytes} $last_bytes"
    echo "# HELP ${m.lastDurationSeconds} Duration of the last run."
    echo "# TYPE ${m.lastDurationSeconds} gauge"
    echo "${m.lastDurationSeconds} $last_duration"
  } > "$tmp" && chmod 0644 "$tmp" && mv "$tmp" "$metrics"
}
# run <seconds> <command...>: one bounded child at a time, in the background so that a stop
# reaches it (dash runs a trap only once the foreground command ends) and restic can drop its lock.
running=""
run() {
  run_timeout=$1; shift
  timeout "$run_timeout" "$@" &
  running=$!
  wait "$running"; run_status=$?
  running=""
  return "$run_status"
}
run_once() {
  started=$(date +%s)
  rm -f "$dump"
  # Only stale locks (a job killed mid-run): a live run's lock stays.
  run 300 restic unlock >/dev/null 2>&1 || true
  if ! chosen=$(pick_replica); then
    log "no declared replica in sync with a declared master: no snapshot this run (the master is never read)"
    return 1
  fi
  node=\${chosen%%=*}; address=\${chosen#*=}
  log "reading a snapshot from replica $node ($address)"
  # Bounded against a hung replica only: a slow transfer finishes, and its lateness pages.
  # The password reaches redis-cli in its environment, never in its arguments (ps).
  REDISCLI_AUTH=$(cat "$VEZA_BACKUP_PASSWORD_FILE"); export REDISCLI_AUTH
  run "$VEZA_BACKUP_TRANSFER_TIMEOUT_SECONDS" redis-cli \${VEZA_BACKUP_REDIS_CLI_TLS:-} --no-auth-warning --user "$VEZA_BACKUP_USER" -h "\${address%:*}" -p "\${address##*:}" --rdb "$dump" >/dev/null 2>"$state/rdb.log"
  read_status=$?
  unset REDISCLI_AUTH
  if [ "$read_status" != 0 ]; then
    log "reading the snapshot from $node failed: $(tail -n 1 "$state/rdb.log")"
    return 1
  fi
  if ! run 600 redis-check-rdb "$dump" > "$state/check.log" 2>&1; then
    log "redis-check-rdb refused the snapshot from $node: not stored ($(grep -m1 -i 'error\\|wrong' "$state/check.log"))"
    return 1
  fi
  last_bytes=$(wc -c < "$dump")
  if ! run "$VEZA_BACKUP_TRANSFER_TIMEOUT_SECONDS" sh -c 'exec restic backup --quiet --host "$1" --tag ${SNAPSHOT_TAG} --tag "node=$2" --stdin --stdin-filename ${SNAPSHOT_FILE_NAME} < "$3"' restic-backup "$VEZA_BACKUP_CLUSTER" "$node" "$dump"; then
    log "restic backup failed"
    return 1
  fi
  rm -f "$dump"
  last_success=$(latest_snapshot_time || true)
  # One retention group for the cluster, whichever replica each snapshot came from.
  if ! run "$VEZA_BACKUP_TRANSFER_TIMEOUT_SECONDS" restic forget --quiet --host "$VEZA_BACKUP_CLUSTER" --tag ${SNAPSHOT_TAG} --group-by host --keep-hourly "$VEZA_BACKUP_KEEP_HOURLY" --keep-daily "$VEZA_BACKUP_KEEP_DAILY" --prune; then
    log "restic forget --prune failed: the snapshot is stored, retention was not applied"
    return 1
  fi
  last_duration=$(( $(date +%s) - started ))
  log "snapshot of $node stored: $last_bytes bytes in $last_duration s"
  return 0
}
dump="$state/${SNAPSHOT_FILE_NAME}"
on_stop() {
  log "stopping"
  [ -n "$running" ] && kill -TERM "$running" 2>/dev/null && wait "$running"
  rm -f "$dump"
  # A manual run that was interrupted stored nothing: say so in its exit status.
  if [ -n "\${VEZA_BACKUP_ONCE:-}" ]; then exit 143; fi
  exit 0
}
trap on_stop TERM INT
# One run at a time: the schedule and a manual run (VEZA_BACKUP_ONCE) share the state directory.
exec 9> "$state/run.lock"
take_run_lock() {
  if ! flock -w "$VEZA_BACKUP_TRANSFER_TIMEOUT_SECONDS" 9; then log "another run holds $state/run.lock: no run"; return 1; fi
}
if [ -f "$RESTIC_REPOSITORY/config" ]; then
  # A repository is there: never initialize over it, whatever fails to open it.
  if ! run 300 restic cat config >/dev/null 2>"$state/open.log"; then
    log "the repository at $RESTIC_REPOSITORY does not open with this password ($(tail -n 1 "$state/open.log")): was the stack's restic password regenerated? Runs fail until it opens (docs/backup.md)"
  fi
else
  log "initializing the repository at $RESTIC_REPOSITORY"
  run 300 restic init >/dev/null || log "restic init failed"
fi
last_success=$(latest_snapshot_time || true)
while :; do
  started_run=$(date +%s)
  ok=0
  if take_run_lock; then
    if run_once; then ok=1; else rm -f "$dump"; fi
    write_metrics "$(date +%s)" "$ok"
    flock -u 9
  fi
  if [ -n "\${VEZA_BACKUP_ONCE:-}" ]; then [ "$ok" = 1 ]; exit $?; fi
  wait_for=$(( started_run + interval - $(date +%s) ))
  [ "$wait_for" -gt 0 ] || wait_for=1
  sleep "$wait_for" & wait $!
done
`;
}
