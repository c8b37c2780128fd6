// The failure-mode registry: one key per way Redis can fail Veza, and for each what guards it
// (the settings and components), what checks the guards in a PR (policies), what tells on-call
// (alerts), what on-call reads (the runbook section), what proves it (drill scenarios, tests).
// docs/failure-modes.md is rendered from it (npm run failure-modes). tests/unit/failureModes.test.ts
// fails when a mode lacks a guard, an alert, a drill or a runbook section, when a name here does
// not exist, and when a policy, an alert or a drill belongs to no mode. New work starts here.
import { RUNBOOK_PAGES, type RunbookPage } from "./monitoring/runbooks";

export const FAILURE_MODES_FILE = "docs/failure-modes.md";

export interface Guard {
  /** What it does against the failure, in a few words. */
  what: string;
  /** Where it is computed or declared (a path from the repository's root). */
  file: string;
}

export interface FailureMode {
  title: string;
  /** What goes wrong, as on-call would see it. */
  failure: string;
  guards: Guard[];
  /** Policy names of the pack (policy/). */
  policies: string[];
  /** Alert names both stacks render. */
  alerts: string[];
  /** The runbook page and its `## ` heading that handles it. */
  runbook: { page: RunbookPage; section: string };
  /** Drill scenarios (npm run drill -- --scenario NAME). */
  drills: string[];
  /** Test files that prove the guards (paths from the repository's root). */
  tests: string[];
}

export const FAILURE_MODES = {
  "master-lost": {
    title: "The master process dies or hangs",
    failure: "the master is killed, crashes or stops answering: writes fail until a replica is promoted",
    guards: [
      { what: "Sentinel fails over after down-after to the best replica", file: "components/sentinel/sentinelConf.ts" },
      { what: "a restarted node rejoins as a replica of whoever the sentinels name, never as a second master", file: "components/redis/dataNodeScripts.ts" },
      { what: "min-replicas-to-write bounds the writes an isolated master acknowledges", file: "components/redis/redisConf.ts" },
      { what: "restart policy and a healthcheck per container", file: "components/host/containerDefaults.ts" },
    ],
    policies: ["sentinel-quorum-and-spread", "redis-restart-and-healthcheck"],
    alerts: ["RedisUnreachable", "RedisFailoverHappened", "RedisNoMaster", "SentinelFailoverStuck", "RedisDownPostmortemRequired"],
    runbook: { page: RUNBOOK_PAGES.redisDown, section: "Instance down" },
    drills: ["master-killed", "master-killed-lagging-replica", "master-hung", "master-lost-after-sentinel-restart", "failover-with-tls"],
    tests: ["tests/drills/failover.test.ts", "tests/drills/containerStart.test.ts", "tests/component/redisNode.test.ts", "tests/artifacts/redisTls.test.ts"],
  },
  "restart-loop": {
    title: "A process keeps crashing",
    failure: "a node or sentinel restarts again and again: each restart is a failover or a lost vote",
    guards: [
      { what: "the restart policy brings it back; a damaged AOF is healed before Redis starts", file: "components/redis/aofHeal.ts" },
      { what: "restart policy and a healthcheck per container", file: "components/host/containerDefaults.ts" },
    ],
    policies: ["redis-restart-and-healthcheck"],
    alerts: ["RedisRestartLoop"],
    runbook: { page: RUNBOOK_PAGES.redisDown, section: "A process that keeps restarting (RedisRestartLoop)" },
    drills: ["crash-restart"],
    tests: ["tests/unit/aofHeal.test.ts", "tests/component/redisNode.test.ts"],
  },
  "host-lost": {
    title: "A whole host is lost or cut off",
    failure: "a host goes down or is partitioned away: every process on it is gone at once, or keeps running on the wrong side",
    guards: [
      { what: "data nodes and sentinels spread over hosts, so no host holds a quorum or every copy", file: "components/topology/placement.ts" },
      { what: "an isolated master stops acknowledging writes after min-replicas-max-lag", file: "components/redis/redisConf.ts" },
    ],
    policies: ["sentinel-quorum-and-spread"],
    alerts: ["HostUnreachable", "RedisUnreachable", "SentinelUnreachable"],
    runbook: { page: RUNBOOK_PAGES.redisDown, section: "A whole host down (HostUnreachable)" },
    drills: ["master-partitioned", "prod-topology"],
    tests: ["tests/unit/hostNetwork.test.ts", "tests/component/topology.test.ts"],
  },
  "sentinel-quorum-lost": {
    title: "Sentinels lost",
    failure: "sentinels die or cannot reach each other: below the quorum no failover can happen",
    guards: [
      { what: "three or more sentinels, a majority quorum, spread over hosts", file: "components/cluster/SentinelCluster.ts" },
      { what: "sentinel timings derived from one set of inputs", file: "components/sentinel/sentinelConf.ts" },
    ],
    policies: ["sentinel-quorum-and-spread"],
    alerts: ["SentinelQuorumLost", "SentinelsBelowQuorumReachable", "SentinelQuorumAtRisk", "SentinelUnreachable", "SentinelTilt"],
    runbook: { page: RUNBOOK_PAGES.replication, section: "First moves (under 5 minutes)" },
    drills: ["sentinel-minority-lost", "quorum-lost"],
    tests: ["tests/component/topology.test.ts"],
  },
  "replication-degraded": {
    title: "Replicas behind, broken or missing",
    failure: "replicas lag, lose their link or disappear: the next failover loses writes or has nothing to promote",
    guards: [
      { what: "a full resync starts at once (repl-diskless-sync-delay 0), so a new master regains a replica fast", file: "components/redis/redisConf.ts" },
      { what: "a lagging replica is never promoted over one that holds every write (handoff catch-up)", file: "components/redis/dataNodeScripts.ts" },
    ],
    policies: ["sentinel-quorum-and-spread"],
    alerts: ["RedisReplicationBroken", "RedisReplicaLagBytes", "RedisReplicaLagSeconds", "RedisReplicasMissing", "RedisMasterWithoutReplicas"],
    runbook: { page: RUNBOOK_PAGES.replication, section: "First moves (under 5 minutes)" },
    drills: ["master-killed-lagging-replica"],
    tests: ["tests/unit/redisConf.test.ts"],
  },
  "split-brain": {
    title: "Two masters, or Sentinel and the nodes disagree",
    failure: "two nodes take writes, the sentinels name a node that is not master, or the master keeps moving",
    guards: [
      { what: "a node starts as a replica of whoever a majority of the sentinels names", file: "components/redis/dataNodeScripts.ts" },
      { what: "an isolated old master refuses writes (min-replicas-to-write)", file: "components/redis/redisConf.ts" },
    ],
    policies: ["sentinel-quorum-and-spread", "redis-safe-replacement"],
    alerts: ["RedisMultipleMasters", "RedisSentinelMasterMismatch", "RedisMasterFlapping"],
    runbook: { page: RUNBOOK_PAGES.masterMismatch, section: "First moves (under 5 minutes)" },
    drills: ["master-partitioned", "redeploy-after-failover"],
    tests: ["tests/drills/containerStart.test.ts"],
  },
  "memory-exhausted": {
    title: "Out of memory",
    failure: "the dataset or a fork's copy-on-write outgrows the container: the kernel OOM-kills Redis",
    guards: [
      { what: "maxmemory = the memory limit minus the fork headroom, computed once", file: "components/redis/sizing.ts" },
      { what: "allkeys-lru evicts instead of refusing writes", file: "components/redis/redisConf.ts" },
      { what: "overcommit and transparent huge pages set on every host", file: "components/host/hostTuning.ts" },
    ],
    policies: ["redis-memory-limit-and-fork-headroom", "redis-evicting-maxmemory-policy", "sessions-and-revocations-evictable"],
    alerts: ["RedisRssNearContainerLimit", "RedisMaxmemoryDrift", "RedisEvictionsSpiking", "RedisRejectedConnections", "RedisUnreachable"],
    runbook: { page: RUNBOOK_PAGES.redisMemory, section: "Why the numbers are what they are" },
    drills: ["memory-under-fork"],
    tests: ["tests/unit/sizing.test.ts", "tests/unit/cgroups.test.ts", "tests/artifacts/redisServer.test.ts"],
  },
  "disk-full": {
    title: "The data volume fills up",
    failure: "AOF writes or rewrites fail on a full disk: writes are refused, and a damaged AOF keeps Redis from starting",
    guards: [
      { what: "AOF with automatic rewrite bounds the file", file: "components/redis/redisConf.ts" },
      { what: "the data volume sized for the dataset, its rewrite and headroom", file: "components/redis/sizing.ts" },
      { what: "a truncated AOF is healed before Redis starts", file: "components/redis/aofHeal.ts" },
    ],
    policies: ["redis-aof-auto-rewrite", "redis-data-volume-sized"],
    alerts: ["RedisAofWriteFailed", "RedisAofRewriteFailed", "RedisRdbSaveFailed", "RedisDataVolumeLow", "RedisDataVolumeFillingUp"],
    runbook: { page: RUNBOOK_PAGES.diskFull, section: "First moves (under 5 minutes)" },
    drills: ["disk-full"],
    tests: ["tests/unit/aofHeal.test.ts", "tests/unit/aofRepair.test.ts", "tests/unit/sizing.test.ts"],
  },
  "data-lost": {
    title: "The data is gone everywhere at once",
    failure:
      "a mistaken FLUSHALL, a corrupted dataset that replication copies to every node, or every data volume lost: AOF and replicas keep nothing, and lost JWT revocations make revoked tokens valid again",
    guards: [
      {
        what: "a replica's snapshot every interval (never the master's fork), checked with redis-check-rdb, in an encrypted restic repository off the data hosts, with retention",
        file: "components/backup/backupJob.ts",
      },
      { what: "the job's container, its repository volume kept on destroy and protected in production, its password a protected generated secret", file: "components/backup/Backup.ts" },
      { what: "a restore that rebuilds a node's AOF from a snapshot and refuses a live server, a wrong password or too little disk", file: "scripts/lib/restore.ts" },
    ],
    policies: ["backup-required", "backup-recommended", "backup-off-data-hosts", "backup-repository-retained"],
    alerts: ["RedisBackupTooOld", "RedisBackupMissing", "RedisBackupFailed"],
    runbook: { page: RUNBOOK_PAGES.backup, section: "How to restore" },
    drills: ["backup-restore"],
    tests: ["tests/artifacts/backupJob.test.ts", "tests/artifacts/restore.test.ts", "tests/component/backup.test.ts", "tests/policy/backup.test.ts"],
  },
  "planned-change": {
    title: "A planned change: redeploy, upgrade, restart",
    failure: "`pulumi up` replaces or restarts a node: without a handoff every replace is an unplanned failover",
    guards: [
      { what: "the stopping master hands off: writes paused, replicas caught up, SENTINEL FAILOVER", file: "components/redis/dataNodeScripts.ts" },
      { what: "a stop grace that covers the handoff, and replacements one at a time", file: "components/host/containerDefaults.ts" },
      { what: "images pinned to a version (Debian's redis-server package, a digest-pinned base)", file: "components/images/redisImage.ts" },
    ],
    policies: ["redis-safe-replacement", "images-pinned"],
    alerts: ["RedisFailoverHappened"],
    runbook: { page: RUNBOOK_PAGES.replication, section: "Planned maintenance" },
    drills: ["planned-switchover", "planned-restart-of-master", "rolling-image-upgrade", "redeploy-after-failover"],
    tests: ["tests/component/dayTwo.test.ts", "tests/unit/planDiff.test.ts"],
  },
  "credential-rotation": {
    title: "A credential must change",
    failure: "a password or a certificate leaks or nears its end: rotating it (for a certificate, its CA) must not lock a consumer out",
    guards: [
      { what: "three-step rotation (add, switch, retire), each consumer moved before the old password goes", file: "components/redis/rotation.ts" },
      { what: "the live-apply scripts that load new passwords and end the retired one's sessions", file: "components/topology/credentialScripts.ts" },
      { what: "a certificate per process and per role, from one plan; a CA bundle trusts the old and the new CA while a rotation runs", file: "components/tls/certificates.ts" },
    ],
    policies: ["credentials-retire-after-consumers"],
    alerts: ["RedisAuthFailures"],
    runbook: { page: RUNBOOK_PAGES.credentialRotation, section: "The three steps" },
    drills: ["credential-rotation", "tls-ca-rotation"],
    tests: ["tests/component/rotation.test.ts", "tests/component/rotationGate.test.ts", "tests/unit/rotation.test.ts", "tests/component/stackCertificates.test.ts"],
  },
  "certificate-expiry": {
    title: "A certificate nears its end, or is refused",
    failure: "a process's certificate or its CA reaches its end, or presents one its peers refuse: every TLS link to it fails at once",
    guards: [
      { what: "every certificate reissued by `up` within a lead time above the expiry ticket's days", file: "components/tls/StackCertificates.ts" },
      { what: "a lead time at or below the ticket, or leaves outliving their CA, refused", file: "components/validation/validate.ts" },
      { what: "a brought CA's files checked before anything is declared", file: "components/validation/tlsFiles.ts" },
      { what: "reissued files loaded live by data nodes, sentinels replaced one at a time", file: "components/cluster/RedisNode.ts" },
      { what: "every endpoint probed with mutual TLS and a PING; every client certificate's declared end exported", file: "components/monitoring/certificateRules.ts" },
    ],
    policies: [],
    alerts: ["RedisCertificateExpiringSoon", "RedisCertificateExpiresThisWeek", "RedisTlsProbeFailed", "RedisClientCertificateExpiringSoon", "RedisClientCertificateExpiresThisWeek"],
    runbook: { page: RUNBOOK_PAGES.certificates, section: "First checks" },
    drills: ["tls-ca-rotation"],
    tests: [
      "tests/artifacts/certificateExpiry.test.ts",
      "tests/artifacts/certificateChecks.test.ts",
      "tests/artifacts/broughtCa.test.ts",
      "tests/component/stackTls.test.ts",
      "tests/drills/containerTls.test.ts",
    ],
  },
  intruder: {
    title: "A stolen credential or a compromised container",
    failure: "someone holds a credential or runs code in a container: each must stay harmless beyond its role",
    guards: [
      { what: "one ACL user per role, each with only its commands", file: "components/redis/acl.ts" },
      { what: "masters and replicas pinned to the declared data nodes", file: "components/redis/dataNodeScripts.ts" },
      { what: "the data hosts' Redis, Sentinel and exporter ports reachable only from the declared hosts and the API", file: "components/base/firewall.ts" },
      { what: "a sentinel moved to an undeclared master by a forged hello is stopped and restarts on the declared one", file: "components/sentinel/sentinelScripts.ts" },
      { what: "Alertmanager behind a gate that lets each client do only its job (Prometheus: post alerts, no silence)", file: "components/monitoring/alertmanagerGate.ts" },
      { what: "containers read-only, without capabilities, pids limited", file: "components/base/hardening.ts" },
      { what: "no image known to be end-of-life or to miss a security fix", file: "components/images/redisImage.ts" },
    ],
    policies: [
      "redis-auth-required",
      "redis-least-privilege",
      "redis-not-exposed",
      "redis-hosts-firewalled",
      "alertmanager-behind-gate",
      "images-not-known-vulnerable",
      "containers-hardened",
      "containers-config-read-only",
      "containers-pids-limited",
      "api-runs-as-declared-user",
    ],
    alerts: ["RedisUndeclaredMaster", "RedisUndeclaredReplica", "RedisReplicasAboveDeclared", "RedisSentinelUnknownPeer", "RedisReplicationCommandRefused", "RedisAuthFailures"],
    runbook: { page: RUNBOOK_PAGES.security, section: "First moves (under 5 minutes)" },
    drills: ["security"],
    tests: [
      "tests/artifacts/leastPrivilege.test.ts",
      "tests/artifacts/hostFirewall.test.ts",
      "tests/artifacts/alertingAuth.test.ts",
      "tests/component/hardening.test.ts",
      "tests/unit/threatModel.test.ts",
    ],
  },
  "api-impact": {
    title: "The API while Redis is down",
    failure: "sessions, the rate limiter and JWT revocation fail: the runbook's toggles must reach the API at once",
    guards: [
      { what: "MAINTENANCE_MODE and RATELIMIT_FAIL_CLOSED as stack config, with the incident preset", file: "components/api/env.ts" },
      { what: "the API restarted with a stop grace, so no request in flight is cut", file: "components/api/ApiService.ts" },
    ],
    policies: ["api-declares-redis-toggles", "slo-rules-complete"],
    alerts: [
      "ApiAvailabilitySLOFastBurn",
      "ApiAvailabilitySLOSlowBurn",
      "ApiAvailabilitySLODailyBurn",
      "ApiAvailabilitySLOThreeDayBurn",
      "ApiLatencySLOFastBurn",
      "ApiLatencySLOSlowBurn",
      "ApiLatencySLODailyBurn",
      "ApiLatencySLOThreeDayBurn",
      "PaymentSuccessSLOFastBurn",
      "PaymentSuccessSLOSlowBurn",
      "PaymentSuccessSLODailyBurn",
      "PaymentSuccessSLOThreeDayBurn",
    ],
    runbook: { page: RUNBOOK_PAGES.redisDown, section: "What breaks while Redis is down" },
    drills: ["incident-toggle"],
    tests: ["tests/component/apiService.test.ts", "tests/artifacts/apiStandin.test.ts"],
  },
  "monitoring-blind": {
    title: "The alerting itself fails",
    failure: "a scrape target, Prometheus or Alertmanager stops: the alerts that read it go silent without a word",
    guards: [
      { what: "Watchdog to an outside dead man's switch; every alert with a severity and a runbook", file: "components/monitoring/monitoringRules.ts" },
      { what: "page and ticket routes, inhibitions", file: "components/monitoring/alertmanagerConfig.ts" },
    ],
    policies: ["alerts-have-severity-and-runbook", "alerting-has-dead-mans-switch"],
    alerts: [
      "Watchdog",
      "TargetDown",
      "NodeExporterDown",
      "SLOBlind",
      "PrometheusRuleEvaluationFailing",
      "PrometheusConfigReloadFailed",
      "PrometheusNotificationsFailing",
      "AlertmanagerNotificationsFailing",
      "AlertmanagerConfigReloadFailed",
    ],
    runbook: { page: RUNBOOK_PAGES.monitoring, section: "Watchdog and the dead man's switch" },
    drills: ["scrape-target-lost"],
    tests: ["tests/artifacts/prometheusRules.test.ts", "tests/artifacts/alertingAuth.test.ts", "tests/drills/monitoringReadOnly.test.ts"],
  },
} satisfies Record<string, FailureMode>;

export type FailureModeKey = keyof typeof FAILURE_MODES;

/** GitHub's anchor for a `## ` heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

const code = (names: string[]) => names.map((n) => `\`${n}\``).join(", ");

export function renderFailureModes(): string {
  const rows = Object.entries(FAILURE_MODES as Record<string, FailureMode>).map(([key, m]) => {
    const runbook = `[${m.runbook.page}: ${m.runbook.section}](runbooks/${m.runbook.page}.md#${headingAnchor(m.runbook.section)})`;
    const guards = m.guards.map((g) => `${g.what} ([${g.file.split("/").pop()}](../${g.file}))`).join("<br>");
    const tests = m.tests.map((t) => `[${t.split("/").pop()}](../${t})`).join(", ");
    return `| \`${key}\` | **${m.title}**: ${m.failure} | ${guards} | ${code(m.policies)} | ${code(m.alerts)} | ${runbook} | ${code(m.drills)} | ${tests} |`;
  });
  return [
    "# Failure modes: what guards each, and what proves it",
    "",
    "Generated by `npm run failure-modes` from components/failureModes.ts. tests/unit/failureModes.test.ts",
    "holds it complete: every mode has a guard, an alert, a drill and a runbook section; every policy of",
    "the pack, every alert the stacks render and every drill scenario belongs to a mode; every name and",
    "file here exists.",
    "",
    "| mode | what fails | guards | policies | alerts | runbook | drills | tests |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}
