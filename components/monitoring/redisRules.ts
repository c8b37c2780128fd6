// Redis and Sentinel alert rules, generated from the declared settings so every threshold
// follows maxmemory, the container limit, the volume and the sentinel count.
import YAML from "yaml";
import type { EvictionPolicy } from "../config/types";
import type { Sizing } from "../redis/sizing";
import { NODE_JOB, REDIS_JOB, SENTINEL_JOB } from "./prometheusConfig";
import { alertRule, RUNBOOK_PAGES, type AlertRow, type RuleFile } from "./runbooks";

export { NODE_JOB, REDIS_JOB, SENTINEL_JOB };

export interface RedisRulesInput {
  runbookBaseUrl: string;
  sizing: Sizing;
  /** Data nodes sharing the busiest host: their rewrites can need room at the same time. */
  dataNodesPerHost: number;
  replicas: number;
  minReplicasToWrite: number;
  /** min-replicas-max-lag: a replica silent for longer no longer counts for min-replicas-to-write. */
  minReplicasMaxLagSeconds: number;
  sentinel?: { count: number; quorum: number; masterName: string; failoverTimeoutMilliseconds: number };
  /** node_exporter mountpoint of the filesystem holding the Redis data volumes. */
  dataMountpoint: string;
  /** Grafana's base URL: every alert links the Redis dashboard. */
  grafanaUrl: string;
  /** RDB save points on: a failed BGSAVE then refuses writes (stop-writes-on-bgsave-error). */
  rdbSnapshots: boolean;
  evictionPolicy: EvictionPolicy;
  /**
   * How the backup job shows on the replica it reads (slave_ip:slave_port, its host's address and
   * port 0), when backup is enabled: the one replica address outside the data nodes that is ours.
   */
  backupReaderAddress?: string;
}

/** The target label holding the address Sentinel knows a data node by (host address:port). */
export const REDIS_ADDRESS_LABEL = "redis_address";

/**
 * repl-backlog-size, which redis.conf leaves at Redis's default (1 MiB): a replica that falls
 * further behind than this cannot resume with a partial resync after a disconnect.
 */
export const REPLICATION_BACKLOG_BYTES = 1024 * 1024;

/** Three master changes in an hour: each is a write outage, and with async replication may lose writes. */
export const FLAPPING_MASTER_CHANGES = 3;

/** What breaks when Redis is unreachable, from the runbook's table. */
export const REDIS_DOWN_IMPACT =
  "Logins and token refreshes fail (sessions and refresh tokens live in Redis); the rate limiter fails open; " +
  "revoked JWTs are accepted again (silent security failure); cache lookups fall back to Postgres (higher p95). " +
  "If recovery takes more than 5 minutes, apply the incident preset (incident=redis-down: MAINTENANCE_MODE and RATELIMIT_FAIL_CLOSED).";

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export function renderRedisAlertRules(input: RedisRulesInput): RuleFile {
  const { sizing } = input;
  const reachability = `(redis_up{job="${REDIS_JOB}"} == 0) or (up{job="${REDIS_JOB}"} == 0)`;
  const processJobs = input.sentinel ? `${REDIS_JOB}|${SENTINEL_JOB}` : REDIS_JOB;
  const volumeFloor = sizing.rewriteReserveBytes * input.dataNodesPerHost;
  const fs = `node_filesystem_avail_bytes{job="${NODE_JOB}",mountpoint="${input.dataMountpoint}",fstype!~"tmpfs|overlay"}`;

  const availability: AlertRow[] = [
    {
      alert: "RedisUnreachable",
      expr: reachability,
      for: "1m",
      severity: "page",
      summary: "Redis {{ $labels.instance }} is unreachable",
      description: `redis_exporter cannot reach {{ $labels.instance }} (or the exporter itself is down). ${REDIS_DOWN_IMPACT}`,
      runbook: RUNBOOK_PAGES.redisDown,
    },
    {
      alert: "HostUnreachable",
      // Every target on a host running Redis or Sentinel (node_exporter and each exporter) fails
      // its scrape: the host is down or cut off from monitoring. One page for the host;
      // Alertmanager's inhibition mutes the per-process alerts it causes (same host label). A
      // host without either (monitoring alone) is TargetDown's.
      expr: `max by (host) (up{job=~"${NODE_JOB}|${processJobs}",host!=""}) == 0 and on (host) count by (host) (up{job=~"${processJobs}"})`,
      for: "1m",
      severity: "page",
      summary: "Host {{ $labels.host }} is unreachable: every exporter on it fails its scrape",
      description: `node_exporter and every Redis and Sentinel exporter on {{ $labels.host }} stopped answering: the host is down, or cut off from the monitoring host. The Redis and Sentinel alerts of its processes are muted while this fires. ${REDIS_DOWN_IMPACT}`,
      runbook: RUNBOOK_PAGES.redisDown,
    },
    {
      alert: "RedisRestartLoop",
      // Uptime falls back to 0 at each start. The 30-minute window is the debounce that a `for`
      // would otherwise give: a process restarted 3 times in it is crash-looping now.
      expr: `resets(redis_uptime_in_seconds{job=~"${processJobs}"}[30m]) >= 3`,
      severity: "page",
      forOmittedBecause: "three restarts within the 30-minute window are already the persistence a `for` would wait for; waiting longer adds outages",
      summary: "{{ $labels.job }} {{ $labels.instance }} restarted {{ $value }} times in 30 minutes",
      description:
        "A crash loop: each restart of a master is a write outage (or a failover), each restart of a replica a full resync that forks the master. Usually an OOM kill (the container's memory limit), a corrupt AOF the entry script cannot load, or a bad config.",
      runbook: RUNBOOK_PAGES.redisDown,
    },
    {
      alert: "RedisDownPostmortemRequired",
      expr: reachability,
      for: "10m",
      severity: "ticket",
      summary: "Redis {{ $labels.instance }} has been unreachable for over 10 minutes: postmortem required",
      description: "The runbook's postmortem trigger: any Redis outage over 10 minutes. Record time-to-detect and time-to-recover.",
      runbook: RUNBOOK_PAGES.redisDown,
    },
  ];

  const memory: AlertRow[] = [
    {
      alert: "RedisRssNearContainerLimit",
      expr: `redis_memory_used_rss_bytes{job="${REDIS_JOB}"} > ${sizing.rssDangerBytes}`,
      for: "2m",
      severity: "page",
      summary: "Redis {{ $labels.instance }} RSS is within 10% of its container limit",
      description: `RSS {{ $value | humanize1024 }}B against a ${gib(sizing.memoryLimitBytes)} limit: the next fork may get the server OOM-killed (the runbook's RDB-snapshot OOM).`,
      runbook: RUNBOOK_PAGES.redisMemory,
    },
    {
      alert: "RedisMaxmemoryDrift",
      expr: `redis_memory_max_bytes{job="${REDIS_JOB}"} != ${sizing.maxmemoryBytes}`,
      for: "5m",
      severity: "ticket",
      summary: "Redis {{ $labels.instance }} maxmemory differs from the declared value",
      description: `Declared maxmemory is ${sizing.maxmemoryBytes} bytes (limit minus fork headroom); the running value is {{ $value }}. Someone ran CONFIG SET: restore it, or change the stack config.`,
      runbook: RUNBOOK_PAGES.redisMemory,
    },
    // Under an allkeys-* policy a dataset at maxmemory is the design (every write evicts): a
    // ticket there would fire for good and teach on-call to ignore it; RedisEvictionsSpiking says
    // when the churn is too much. Under volatile-* only keys with a TTL are evicted, and once none
    // is left writes fail with OOM: there, at maxmemory is a warning worth a ticket.
    ...(input.evictionPolicy.startsWith("volatile-")
      ? [
          {
            alert: "RedisMemoryNearMaxmemory",
            expr: `redis_memory_used_bytes{job="${REDIS_JOB}"} / redis_memory_max_bytes{job="${REDIS_JOB}"} > 0.95 and redis_memory_max_bytes{job="${REDIS_JOB}"} > 0`,
            for: "15m",
            severity: "ticket",
            summary: "Redis {{ $labels.instance }} dataset is at maxmemory",
            description: `maxmemory-policy ${input.evictionPolicy} evicts only keys with a TTL: once none is left, writes fail with OOM. Check which keys lack a TTL, or raise redis.memoryLimitMiB.`,
            runbook: RUNBOOK_PAGES.redisMemory,
          } satisfies AlertRow,
        ]
      : []),
    {
      alert: "RedisEvictionsSpiking",
      expr: `rate(redis_evicted_keys_total{job="${REDIS_JOB}"}[5m]) > 100`,
      for: "10m",
      severity: "ticket",
      summary: "Redis {{ $labels.instance }} evicts over 100 keys/s",
      description: "Sustained eviction: the working set no longer fits in maxmemory. Sessions or revoked-token entries may be evicted (users logged out, revoked JWTs accepted).",
      runbook: RUNBOOK_PAGES.redisMemory,
    },
    {
      alert: "RedisRejectedConnections",
      expr: `increase(redis_rejected_connections_total{job="${REDIS_JOB}"}[5m]) > 0`,
      severity: "ticket",
      summary: "Redis {{ $labels.instance }} rejected connections (maxclients reached)",
      description: "Clients were refused at maxclients: look for a connection leak in the API or raise redis.maxClients.",
      runbook: RUNBOOK_PAGES.redisMemory,
    },
    {
      alert: "RedisAuthFailures",
      // Redis 7.0.15 has no ACL authentication counter in INFO (acl_access_denied_auth arrived in
      // 7.2, redis_exporter's redis_acl_access_denied_auth_total): a refused AUTH (or HELLO ... AUTH)
      // counts in INFO commandstats' failed_calls (measured), which redis_exporter exports per command.
      // A burst (a client retrying a stale password a few times, then reloading it) leaves the
      // 2-minute window before the `for` ends and pages nobody; a consumer locked out, or someone
      // guessing, keeps failing.
      expr: `increase(redis_commands_failed_calls_total{job=~"${REDIS_JOB}|${SENTINEL_JOB}",cmd=~"auth|hello"}[2m]) > 2`,
      for: "4m",
      severity: "page",
      summary: "{{ $labels.instance }} keeps refusing authentications ({{ $labels.cmd }}): more than 2 every 2 minutes for 4 minutes",
      description:
        "Clients present passwords Redis or Sentinel no longer accepts: after a credential rotation's retire, a consumer that was not switched (or an API that did not re-read its password files) is locked out at its next connection. Otherwise someone is guessing passwords.",
      runbook: RUNBOOK_PAGES.credentialRotation,
    },
  ];

  const persistence: AlertRow[] = [
    {
      alert: "RedisRdbSaveFailed",
      expr: `redis_rdb_last_bgsave_status{job="${REDIS_JOB}"} == 0`,
      // Redis refuses writes after a failed BGSAVE only when save points are set: then someone
      // must act now. Without them (save ""), only a manual or a replica's disk-based BGSAVE
      // failed, no write is refused, and the status stays failed until the next BGSAVE: a ticket.
      severity: input.rdbSnapshots ? "page" : "ticket",
      forOmittedBecause: "every write is refused from the first failed save on; the status clears at the next good BGSAVE, so the alert resolves by itself",
      summary: "Redis {{ $labels.instance }} last background save failed",
      description: input.rdbSnapshots
        ? "With save points and stop-writes-on-bgsave-error, Redis now refuses writes (MISCONF) until a BGSAVE succeeds. Usually a full disk or a fork that failed for memory."
        : "No save points are set, so no write is refused; the status clears at the next successful BGSAVE. Usually a full disk or a fork that failed for memory.",
      runbook: RUNBOOK_PAGES.diskFull,
    },
    {
      alert: "RedisAofWriteFailed",
      // Clears by itself: Redis sets the status back to ok at its next successful write.
      expr: `redis_aof_last_write_status{job="${REDIS_JOB}"} == 0`,
      severity: "page",
      forOmittedBecause: "every write is refused while the status is failed; it turns ok at the next successful AOF write, and the alert resolves then",
      summary: "Redis {{ $labels.instance }} cannot write its AOF: writes are refused",
      description: "AOF writes failing means Redis refuses writes (MISCONF). Check the data volume (runbook: Disk full).",
      runbook: RUNBOOK_PAGES.diskFull,
    },
    {
      alert: "RedisAofRewriteFailed",
      // Writes go on after a failed rewrite, but the AOF keeps growing toward the disk limit; the
      // status clears at the next successful rewrite, which Redis retries by itself.
      expr: `redis_aof_last_bgrewrite_status{job="${REDIS_JOB}"} == 0`,
      for: "10m",
      severity: "ticket",
      summary: "Redis {{ $labels.instance }} cannot rewrite its AOF: the AOF keeps growing",
      description:
        "The last AOF rewrite failed and none has succeeded since: usually a fork child killed for memory (see the memory-under-fork sizing) or a full disk. Writes are still accepted; the disk-full alerts come next if nothing is done.",
      runbook: RUNBOOK_PAGES.diskFull,
    },
    {
      alert: "RedisDataVolumeLow",
      expr: `${fs} < ${volumeFloor}`,
      for: "5m",
      severity: "page",
      summary: "The Redis data filesystem on {{ $labels.instance }} has less room than one AOF rewrite needs",
      description: `Free {{ $value | humanize1024 }}B; each AOF rewrite writes a new base up to maxmemory (${gib(sizing.rewriteReserveBytes)}) per node, ${input.dataNodesPerHost} node(s) per host. Below this, the next rewrite fails and writes stop.`,
      runbook: RUNBOOK_PAGES.diskFull,
    },
    {
      alert: "RedisDataVolumeFillingUp",
      expr: `predict_linear(${fs}[6h], 24 * 3600) < ${volumeFloor}`,
      for: "30m",
      severity: "ticket",
      summary: "The Redis data filesystem on {{ $labels.instance }} will be too small within 24 h",
      description: "At the last 6 h trend, free space drops below what an AOF rewrite needs within a day.",
      runbook: RUNBOOK_PAGES.diskFull,
    },
  ];

  const masterFilter = `and on (instance) redis_instance_info{job="${REDIS_JOB}",role="master"}`;
  // A standalone node has no replication to watch.
  const replication: AlertRow[] =
    input.replicas === 0
      ? []
      : [
          {
            alert: "RedisMasterWithoutReplicas",
            expr: `(redis_connected_slaves{job="${REDIS_JOB}"} ${masterFilter}) < ${Math.max(1, input.minReplicasToWrite)}`,
            for: "1m",
            severity: "page",
            summary: "Redis master {{ $labels.instance }} has fewer connected replicas than min-replicas-to-write",
            description:
              input.minReplicasToWrite > 0
                ? `With min-replicas-to-write ${input.minReplicasToWrite}, the master refuses writes (NOREPLICAS) until a replica reconnects.`
                : "No replica holds a copy: losing the master now loses data.",
            runbook: RUNBOOK_PAGES.replication,
          },
          {
            alert: "RedisReplicasMissing",
            expr: `(redis_connected_slaves{job="${REDIS_JOB}"} ${masterFilter}) < ${input.replicas}`,
            for: "5m",
            severity: "ticket",
            summary: `Redis master {{ $labels.instance }} has {{ $value }} of ${input.replicas} declared replicas`,
            description: "A replica is down or cannot sync: failover has fewer candidates.",
            runbook: RUNBOOK_PAGES.replication,
          },
          {
            alert: "RedisReplicationBroken",
            expr: `redis_master_link_up{job="${REDIS_JOB}"} == 0`,
            for: "2m",
            severity: "ticket",
            summary: "Redis replica {{ $labels.instance }} lost its link to the master",
            description: "The replica is not receiving writes; if it were promoted now, recent writes would be lost.",
            runbook: RUNBOOK_PAGES.replication,
          },
          {
            alert: "RedisReplicaLagBytes",
            // Only online replicas: during a full sync the master reports offset 0 for the replica.
            expr: `(redis_master_repl_offset{job="${REDIS_JOB}"} - on (instance) group_right redis_connected_slave_offset_bytes{job="${REDIS_JOB}",slave_state="online"}) > ${REPLICATION_BACKLOG_BYTES}`,
            for: "5m",
            severity: "ticket",
            summary: "Replica {{ $labels.slave_ip }}:{{ $labels.slave_port }} of {{ $labels.instance }} is {{ $value | humanize1024 }}B behind",
            description: `More than the replication backlog (${REPLICATION_BACKLOG_BYTES / 1024 / 1024} MiB) behind for 5 minutes: a disconnect now forces a full resync (a fork on the master), and a failover to this replica loses the writes it lacks. Usually a saturated network link or a slow replica disk.`,
            runbook: RUNBOOK_PAGES.replication,
          },
          {
            alert: "RedisReplicaLagSeconds",
            expr: `redis_connected_slave_lag_seconds{job="${REDIS_JOB}",slave_state="online"} > ${input.minReplicasMaxLagSeconds}`,
            for: "2m",
            severity: "ticket",
            summary: "Replica {{ $labels.slave_ip }}:{{ $labels.slave_port }} of {{ $labels.instance }} has not acknowledged for {{ $value }} s",
            description: `Replicas acknowledge every second; past min-replicas-max-lag (${input.minReplicasMaxLagSeconds} s) the master no longer counts this one for min-replicas-to-write, and with too few counted it refuses writes (NOREPLICAS).`,
            runbook: RUNBOOK_PAGES.replication,
          },
          {
            alert: "RedisMasterFlapping",
            // A 0/1 "is master" series per node, sampled every 15 s over the hour: each change of master
            // flips two of them (one node loses the role, one gains it).
            expr: `sum(changes((max by (instance) (redis_instance_info{job="${REDIS_JOB}",role="master"}) or max by (instance) (0 * redis_instance_info{job="${REDIS_JOB}"}))[1h:15s])) >= ${2 * FLAPPING_MASTER_CHANGES}`,
            severity: "page",
            forOmittedBecause: "the hour-long window is the debounce: three master changes in it are the flapping itself",
            summary: `The Redis master changed ${FLAPPING_MASTER_CHANGES} or more times in the last hour`,
            description:
              "Each change is a write outage of a few seconds and, with asynchronous replication, can lose acknowledged writes. Look for a master that keeps being killed (RedisRestartLoop), a flapping network link, or a down-after-milliseconds shorter than the pauses the master takes (fork, AOF fsync).",
            runbook: RUNBOOK_PAGES.replication,
          },
          {
            alert: "RedisNoMaster",
            // count() of nothing is nothing, not 0: `or vector(0)` makes "no master at all" a 0 that compares.
            expr: `(count(redis_instance_info{job="${REDIS_JOB}",role="master"}) or vector(0)) == 0`,
            for: "1m",
            severity: "page",
            summary: "No Redis node reports the master role",
            description: `Sentinel has not promoted a replica: writes fail everywhere. ${REDIS_DOWN_IMPACT}`,
            runbook: RUNBOOK_PAGES.replication,
          },
          {
            alert: "RedisMultipleMasters",
            expr: `count(redis_instance_info{job="${REDIS_JOB}",role="master"}) > 1`,
            for: "1m",
            severity: "page",
            summary: "{{ $value }} Redis nodes report the master role",
            description: "Split brain: writes to the wrong master are lost when Sentinel demotes it. min-replicas-to-write bounds how many.",
            runbook: RUNBOOK_PAGES.replication,
          },
        ];

  const sentinel: AlertRow[] = input.sentinel
    ? [
        {
          alert: "RedisFailoverHappened",
          expr: `count by (master_name) (count by (master_name, master_address) (max_over_time(redis_sentinel_master_status{job="${SENTINEL_JOB}"}[15m]))) > 1`,
          severity: "ticket",
          summary: "Sentinel failed over {{ $labels.master_name }} in the last 15 minutes",
          description: "The failover happened: verify the new master, that the old one rejoined as a replica, and that the API reconnected.",
          runbook: RUNBOOK_PAGES.replication,
        },
        {
          alert: "SentinelQuorumAtRisk",
          expr: `redis_sentinel_master_ok_sentinels{job="${SENTINEL_JOB}"} < ${input.sentinel.quorum + 1}`,
          for: "2m",
          severity: "ticket",
          summary: `Only {{ $value }} of ${input.sentinel.count} sentinels are usable for {{ $labels.master_name }}`,
          description: `Quorum is ${input.sentinel.quorum}: losing one more sentinel makes failover impossible.`,
          runbook: RUNBOOK_PAGES.replication,
        },
        {
          alert: "SentinelQuorumLost",
          expr: `redis_sentinel_master_ok_sentinels{job="${SENTINEL_JOB}"} < ${input.sentinel.quorum}`,
          for: "1m",
          severity: "page",
          summary: "Sentinel quorum lost for {{ $labels.master_name }}",
          description: `Fewer than ${input.sentinel.quorum} sentinels agree: a master failure now would not be failed over.`,
          runbook: RUNBOOK_PAGES.replication,
        },
        {
          alert: "SentinelsBelowQuorumReachable",
          // Counted from the exporters, not from the sentinels' own view: with every sentinel down
          // there is no sentinel left to report ok_sentinels, and SentinelQuorumLost goes silent.
          expr: `(count(redis_up{job="${SENTINEL_JOB}"} == 1) or vector(0)) < ${input.sentinel.quorum}`,
          for: "1m",
          severity: "page",
          summary: `Fewer than ${input.sentinel.quorum} of ${input.sentinel.count} sentinels answer`,
          description: `Quorum is ${input.sentinel.quorum}: with fewer sentinels reachable, a master failure is not failed over and the API cannot discover the master (it asks the sentinels).`,
          runbook: RUNBOOK_PAGES.replication,
        },
        {
          alert: "RedisSentinelMasterMismatch",
          // The sentinels' master address (master_address) must be a node reporting role=master;
          // prometheus.yml labels each data node with the address Sentinel knows it by.
          expr: `count by (master_name, master_address) (redis_sentinel_master_status{job="${SENTINEL_JOB}"}) unless on (master_address) label_replace(redis_instance_info{job="${REDIS_JOB}",role="master"}, "master_address", "$1", "${REDIS_ADDRESS_LABEL}", "(.+)")`,
          for: "1m",
          severity: "page",
          summary: "Sentinel names {{ $labels.master_address }} as master of {{ $labels.master_name }}, and that node is not a master",
          description: `Clients ask the sentinels for the master and are sent to a node that does not take writes: every write gets READONLY (or fails to connect). ${REDIS_DOWN_IMPACT}`,
          runbook: RUNBOOK_PAGES.masterMismatch,
        },
        {
          alert: "SentinelUnreachable",
          expr: `(redis_up{job="${SENTINEL_JOB}"} == 0) or (up{job="${SENTINEL_JOB}"} == 0)`,
          for: "2m",
          severity: "ticket",
          summary: "Sentinel {{ $labels.instance }} is unreachable",
          description: "One sentinel down still leaves a quorum; two down blocks failover.",
          runbook: RUNBOOK_PAGES.replication,
        },
        {
          alert: "RedisSentinelUnknownPeer",
          // A forged hello (the peer password) adds its made-up sender to every sentinel, whatever
          // master it names, and Sentinel never forgets a peer: the count stays up after the
          // master guard's restart (peers are carried over), until SENTINEL RESET.
          expr: `redis_sentinel_master_sentinels{job="${SENTINEL_JOB}"} > ${input.sentinel.count}`,
          // A replaced sentinel keeps its myid, so it is counted once. A new one (sentinel.count
          // raised) says hello before the rules that count it are deployed: the for covers that
          // rollout, and the forged peer stays known, so the page still comes.
          for: "5m",
          severity: "page",
          summary: `Sentinel {{ $labels.instance }} knows {{ $value }} sentinels for {{ $labels.master_name }}, ${input.sentinel.count} declared`,
          description: `A sentinel nobody declared has sent hellos: a forged hello with the sentinel peer password (it may also have moved the sentinels to a master outside the stack, and their auth-pass went to it), or a sentinel removed from the stack (sentinel.count lowered) that the others still remember. Every known sentinel votes: a failover now needs the majority of ${input.sentinel.count + 1} or more, so losing one more sentinel may block it. Rotate the sentinelPeer and sentinel passwords unless a sentinel was just removed, then SENTINEL RESET each sentinel, one at a time.`,
          runbook: RUNBOOK_PAGES.security,
        },
        {
          alert: "SentinelTilt",
          // A sentinel enters TILT when its clock or event loop jumps (a paused VM, a stalled
          // process) and leaves it 30 s after the last jump: 2 minutes means it keeps stalling.
          expr: `redis_sentinel_tilt{job="${SENTINEL_JOB}"} == 1`,
          for: "2m",
          severity: "ticket",
          summary: "Sentinel {{ $labels.instance }} has been in TILT mode for 2 minutes",
          description:
            "In TILT a sentinel watches but never acts: it neither votes nor fails over, so it counts as missing for the quorum. Its clock or its process keeps stalling (host overload, a paused VM, time jumps).",
          runbook: RUNBOOK_PAGES.replication,
        },
        {
          alert: "SentinelFailoverStuck",
          // A master stays objectively down (odown) from the sentinels' agreement until a replica
          // is promoted: longer than failover-timeout means Sentinel's attempt timed out.
          expr: `count by (master_name, master_address) (redis_sentinel_master_status{job="${SENTINEL_JOB}",master_status="odown"})`,
          for: `${Math.ceil(input.sentinel.failoverTimeoutMilliseconds / 1000)}s`,
          severity: "page",
          summary: `Sentinel has not completed the failover of {{ $labels.master_name }} within failover-timeout (${input.sentinel.failoverTimeoutMilliseconds} ms)`,
          description: `The master {{ $labels.master_address }} is down by the sentinels' agreement and no replica has been promoted: writes fail everywhere. Usually no replica is eligible (replica-priority 0, or its link down for too long) or no sentinel wins the election. ${REDIS_DOWN_IMPACT}`,
          runbook: RUNBOOK_PAGES.replication,
        },
      ]
    : [];

  // The declared data nodes: every target of the redis job, whatever its state (up exists for a
  // configured target even when its exporter is down), by the address Sentinel knows it by.
  const declaredAs = (label: string) => `label_replace(up{job="${REDIS_JOB}"}, "${label}", "$1", "${REDIS_ADDRESS_LABEL}", "(.+)")`;
  const identity: AlertRow[] = [
    {
      alert: "RedisUndeclaredMaster",
      // A forged Sentinel hello moves every sentinel; a REPLICAOF with a stolen credential moves a node.
      expr: `(count by (instance, master_address) (redis_sentinel_master_status{job="${SENTINEL_JOB}"}) or count by (instance, master_address) (label_join(redis_slave_info{job="${REDIS_JOB}"}, "master_address", ":", "master_host", "master_port"))) unless on (master_address) ${declaredAs("master_address")}`,
      severity: "page",
      forOmittedBecause:
        "a node replicating from an undeclared master has its data replaced by that server's at once, and a sentinel naming one sends every client there: no failover or restart ever names such an address, so the first evaluation is not noise",
      summary: "{{ $labels.instance }} names {{ $labels.master_address }} as master, which is not a declared data node",
      description:
        "Every write may be going to, and every replica's data coming from, a server outside the stack: a forged Sentinel hello (the sentinel peer or sentinel credential) or a REPLICAOF (a stolen admin or sentinel credential). Data nodes refuse to start as its replica; the running ones follow it until moved back.",
      runbook: RUNBOOK_PAGES.security,
    },
    {
      alert: "RedisUndeclaredReplica",
      // The backup job's read (redis-cli --rdb) attaches as a replica of the replica it reads,
      // listed with its host's address and port 0 (redis 7.0.15, measured): that one address is
      // excused, never its host's other ports nor port 0 on another host. Only on a node that is a
      // replica: the job never reads the master, and the address is whatever REPLCONF announces
      // (the backup or replication credential can announce the job's), so on the master it pages.
      expr: `count by (instance, replica_address) (label_join(redis_connected_slave_offset_bytes{job="${REDIS_JOB}"}, "replica_address", ":", "slave_ip", "slave_port")) unless on (replica_address) ${declaredAs("replica_address")}${
        input.backupReaderAddress !== undefined
          ? ` unless on (instance, replica_address) label_replace(redis_instance_info{job="${REDIS_JOB}",role="slave"}, "replica_address", "${input.backupReaderAddress}", "", "")`
          : ""
      }`,
      severity: "page",
      forOmittedBecause:
        "a replica receives every write from its first second (the data is read out), and Sentinel may promote it at the next failover: no declared node ever attaches under another address",
      summary: "A replica at {{ $labels.replica_address }}, not a declared data node, is attached to {{ $labels.instance }}",
      description:
        "A server outside the stack replicates the data: someone holds the replication (or backup) password. It receives every write, and Sentinel may promote it (planned handoffs refuse while it is attached). Rotate the replication credential (its retire ends the replica's session), and the backup credential when the replica shows port 0.",
      runbook: RUNBOOK_PAGES.security,
    },
    {
      alert: "RedisReplicationCommandRefused",
      // Sentinel never reads SLAVEOF's reply (sentinel.c, "we don't check the replies"): a SLAVEOF
      // or REPLICAOF the ACL refuses (the sentinel user's is pinned to the declared hosts, acl.ts)
      // shows only in INFO commandstats' rejected_calls, which redis_exporter exports per command
      // (measured with 1.69). The counter lives as long as the process: the page holds until a
      // restart or the runbook's CONFIG RESETSTAT.
      expr: `redis_commands_rejected_calls_total{job="${REDIS_JOB}",cmd=~"slaveof|replicaof"} > 0`,
      severity: "page",
      forOmittedBecause:
        "no declared client sends a replication command the ACL refuses (Sentinel's go to declared hosts): the first refusal is a stolen credential probing, sentinels moved by a forged hello, or a failover the nodes' stale ACL blocks",
      summary: "{{ $labels.instance }} refused {{ $value }} {{ $labels.cmd }} commands (ACL)",
      description:
        "Someone asked this node to replicate from a server it may not follow: the sentinel password toward a host outside the declared data nodes, or a user without the right (app, handoff...). Sentinels moved by a forged hello send exactly this. Or, during a change of the data nodes, a real failover toward a new node that this node's ACL does not list yet: it keeps following the old master.",
      runbook: RUNBOOK_PAGES.security,
    },
    // A standalone node has no declared replica to count against.
    ...(input.replicas === 0
      ? []
      : ([
          {
            alert: "RedisReplicasAboveDeclared",
            // REPLCONF lets the replication or backup password announce any address, a declared
            // replica's included, where the address check cannot see it: the count still can.
            expr: `(redis_connected_slaves{job="${REDIS_JOB}"} ${masterFilter}) > ${input.replicas}`,
            // A replica that reconnects may show twice until the master drops its old link.
            for: "30s",
            severity: "page",
            summary: `Redis master {{ $labels.instance }} has {{ $value }} replicas attached, ${input.replicas} declared`,
            description:
              "More replicas are attached than the stack declares: a server announcing a declared replica's address, or an undeclared one. Its acknowledgements count for min-replicas-to-write and WAIT, and it receives every write. Compare INFO replication with the declared data nodes; rotate the replication and backup credentials.",
            runbook: RUNBOOK_PAGES.security,
          },
        ] satisfies AlertRow[])),
  ];

  // Every Redis alert links the Redis dashboard.
  const linked = (rows: AlertRow[]) => rows.map((row) => alertRule(row, input, "redis"));
  return {
    groups: [
      { name: "redis-availability", rules: linked(availability) },
      { name: "redis-memory", rules: linked(memory) },
      { name: "redis-persistence", rules: linked(persistence) },
      { name: "redis-replication", rules: linked([...replication, ...sentinel]) },
      { name: "redis-identity", rules: linked(identity) },
    ],
  };
}

export function toYaml(value: unknown): string {
  return YAML.stringify(value, { lineWidth: 0 });
}
