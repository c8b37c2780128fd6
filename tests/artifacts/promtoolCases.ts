// promtool unit tests for every generated alert: input series that must fire it (and when),
// and a healthy series that must not. Thresholds come from the same sizing the rules use, so
// a change of sizing moves rule and test together.
import type { Sizing } from "../../components/redis/sizing";

export interface AlertCase {
  alert: string;
  /** Why this series should (or should not) fire. */
  name: string;
  series: Array<{ series: string; values: string }>;
  /** eval_time -> labels of the expected alerts ([] = silent). */
  expectations: Array<{ at: string; alerts: Array<Record<string, string>> }>;
}

export interface CaseInput {
  sizing: Sizing;
  replicas: number;
  quorum: number;
  volumeFloorBytes: number;
  dataMountpoint: string;
}

const redisLabels = { job: "redis", instance: "redis-0" };
const sel = (labels: Record<string, string>) => `{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",")}}`;

export function redisAlertCases(input: CaseInput): AlertCase[] {
  const r = (metric: string, extra: Record<string, string> = {}) => `${metric}${sel({ ...redisLabels, ...extra })}`;
  const page = { severity: "page" };
  const ticket = { severity: "ticket" };
  const fsLabels = { job: "node", instance: "local", mountpoint: input.dataMountpoint, fstype: "ext4", device: "/dev/vda" };
  const master = (instance: string) => `redis_instance_info{job="redis",instance="${instance}",role="master"}`;
  const sentinelLabels = { job: "sentinel", instance: "sentinel-0", master_name: "veza-redis" };
  return [
    {
      alert: "RedisUnreachable",
      name: "redis_up drops to 0: pages within 2 minutes",
      series: [{ series: r("redis_up"), values: "1x8 0x20" }, { series: r("up"), values: "1x28" }],
      expectations: [
        { at: "2m", alerts: [] },
        { at: "3m59s", alerts: [{ ...page, ...redisLabels }] },
      ],
    },
    {
      alert: "RedisUnreachable",
      name: "the exporter's scrape target is down",
      series: [{ series: r("up"), values: "1x4 0x20" }],
      expectations: [{ at: "3m", alerts: [{ ...page, ...redisLabels }] }],
    },
    {
      alert: "RedisUnreachable",
      name: "healthy: silent",
      series: [{ series: r("redis_up"), values: "1x60" }, { series: r("up"), values: "1x60" }],
      expectations: [{ at: "10m", alerts: [] }],
    },
    {
      alert: "RedisDownPostmortemRequired",
      name: "down for more than 10 minutes: postmortem ticket",
      series: [{ series: r("redis_up"), values: "0x60" }],
      expectations: [
        { at: "9m", alerts: [] },
        { at: "11m", alerts: [{ ...ticket, ...redisLabels }] },
      ],
    },
    {
      alert: "RedisRssNearContainerLimit",
      name: "RSS above 90% of the limit for 2 minutes",
      series: [{ series: r("redis_memory_used_rss_bytes"), values: `${input.sizing.rssDangerBytes + 1024}x20` }],
      expectations: [{ at: "3m", alerts: [{ ...page, ...redisLabels }] }],
    },
    {
      alert: "RedisRssNearContainerLimit",
      name: "healthy: RSS at 2 x maxmemory (a full fork) stays below the threshold",
      series: [{ series: r("redis_memory_used_rss_bytes"), values: `${2 * input.sizing.maxmemoryBytes}x20` }],
      expectations: [{ at: "4m", alerts: [] }],
    },
    {
      alert: "RedisMaxmemoryDrift",
      name: "someone CONFIG SET maxmemory",
      series: [{ series: r("redis_memory_max_bytes"), values: `${input.sizing.maxmemoryBytes * 2}x40` }],
      expectations: [{ at: "6m", alerts: [{ ...ticket, ...redisLabels }] }],
    },
    {
      alert: "RedisMaxmemoryDrift",
      name: "healthy: the declared maxmemory",
      series: [{ series: r("redis_memory_max_bytes"), values: `${input.sizing.maxmemoryBytes}x40` }],
      expectations: [{ at: "6m", alerts: [] }],
    },
    {
      alert: "RedisMemoryNearMaxmemory",
      name: "dataset at 97% of maxmemory for 15 minutes",
      series: [
        { series: r("redis_memory_used_bytes"), values: `${Math.floor(input.sizing.maxmemoryBytes * 0.97)}x80` },
        { series: r("redis_memory_max_bytes"), values: `${input.sizing.maxmemoryBytes}x80` },
      ],
      expectations: [{ at: "10m", alerts: [] }, { at: "16m", alerts: [{ ...ticket, ...redisLabels }] }],
    },
    {
      alert: "RedisEvictionsSpiking",
      name: "200 evictions/s for over 10 minutes",
      series: [{ series: r("redis_evicted_keys_total"), values: "0+3000x80" }],
      expectations: [{ at: "17m", alerts: [{ ...ticket, ...redisLabels }] }],
    },
    {
      alert: "RedisEvictionsSpiking",
      name: "healthy: 10 evictions/s",
      series: [{ series: r("redis_evicted_keys_total"), values: "0+150x80" }],
      expectations: [{ at: "17m", alerts: [] }],
    },
    {
      alert: "RedisRejectedConnections",
      name: "connections rejected at maxclients",
      series: [{ series: r("redis_rejected_connections_total"), values: "0x4 5x10" }],
      expectations: [{ at: "2m", alerts: [{ ...ticket, ...redisLabels }] }],
    },
    {
      alert: "RedisRdbSaveFailed",
      name: "last bgsave failed",
      series: [{ series: r("redis_rdb_last_bgsave_status"), values: "1x4 0x4" }],
      expectations: [{ at: "30s", alerts: [] }, { at: "1m30s", alerts: [{ ...page, ...redisLabels }] }],
    },
    {
      alert: "RedisAofWriteFailed",
      name: "AOF write failed (disk full)",
      series: [{ series: r("redis_aof_last_write_status"), values: "0x4" }, { series: r("redis_aof_last_bgrewrite_status"), values: "1x4" }],
      expectations: [{ at: "30s", alerts: [{ ...page, ...redisLabels }] }],
    },
    {
      alert: "RedisDataVolumeLow",
      name: "less free space than one AOF rewrite needs",
      series: [{ series: `node_filesystem_avail_bytes${sel(fsLabels)}`, values: `${input.volumeFloorBytes - 1}x40` }],
      expectations: [{ at: "6m", alerts: [{ ...page, ...fsLabels }] }],
    },
    {
      alert: "RedisDataVolumeLow",
      name: "healthy: tmpfs mounts are ignored, enough room on the data filesystem",
      series: [
        { series: `node_filesystem_avail_bytes${sel({ ...fsLabels, fstype: "tmpfs" })}`, values: "0x40" },
        { series: `node_filesystem_avail_bytes${sel(fsLabels)}`, values: `${input.volumeFloorBytes * 4}x40` },
      ],
      expectations: [{ at: "6m", alerts: [] }],
    },
    {
      alert: "RedisDataVolumeFillingUp",
      name: "free space falling fast enough to cross the floor within 24 h",
      // 15 s steps over 7 h, losing floor/100 per step (2.4 floors an hour): still 3 floors free at
      // 7 h, so RedisDataVolumeLow is silent, but the 24 h projection is far below the floor.
      series: [{ series: `node_filesystem_avail_bytes${sel(fsLabels)}`, values: `${input.volumeFloorBytes * 20}-${Math.floor(input.volumeFloorBytes / 100)}x1700` }],
      expectations: [{ at: "7h", alerts: [{ ...ticket, ...fsLabels }] }],
    },
    {
      alert: "RedisMasterWithoutReplicas",
      name: "the master has no connected replica: writes refused",
      series: [{ series: r("redis_connected_slaves"), values: "2x4 0x10" }, { series: master("redis-0"), values: "1x14" }],
      expectations: [{ at: "3m", alerts: [{ ...page, ...redisLabels }] }],
    },
    {
      alert: "RedisReplicasMissing",
      name: "one of the declared replicas is gone",
      series: [{ series: r("redis_connected_slaves"), values: `${input.replicas - 1}x40` }, { series: master("redis-0"), values: "1x40" }],
      expectations: [{ at: "6m", alerts: [{ ...ticket, ...redisLabels }] }],
    },
    {
      alert: "RedisReplicasMissing",
      name: "healthy: all declared replicas connected (a replica's own gauge is ignored)",
      series: [
        { series: r("redis_connected_slaves"), values: `${input.replicas}x40` },
        { series: master("redis-0"), values: "1x40" },
        { series: `redis_connected_slaves{job="redis",instance="redis-1"}`, values: "0x40" },
        { series: `redis_instance_info{job="redis",instance="redis-1",role="slave"}`, values: "1x40" },
      ],
      expectations: [{ at: "6m", alerts: [] }],
    },
    {
      alert: "RedisReplicationBroken",
      name: "a replica's master link is down",
      series: [{ series: `redis_master_link_up{job="redis",instance="redis-1"}`, values: "0x20" }],
      expectations: [{ at: "3m", alerts: [{ ...ticket, job: "redis", instance: "redis-1" }] }],
    },
    {
      alert: "RedisNoMaster",
      name: "every node reports the replica role",
      series: [{ series: `redis_instance_info{job="redis",instance="redis-1",role="slave"}`, values: "1x20" }],
      expectations: [{ at: "2m", alerts: [{ ...page, job: "redis", role: "master" }] }],
    },
    {
      alert: "RedisMultipleMasters",
      name: "two nodes report the master role for over a minute",
      series: [{ series: master("redis-0"), values: "1x20" }, { series: master("redis-1"), values: "1x20" }],
      expectations: [{ at: "2m", alerts: [{ ...page }] }],
    },
    {
      alert: "RedisMultipleMasters",
      name: "healthy: one master, one replica",
      series: [{ series: master("redis-0"), values: "1x20" }, { series: `redis_instance_info{job="redis",instance="redis-1",role="slave"}`, values: "1x20" }],
      expectations: [{ at: "2m", alerts: [] }],
    },
    {
      alert: "RedisFailoverHappened",
      name: "sentinel reports a new master address",
      series: [
        { series: `redis_sentinel_master_status${sel({ ...sentinelLabels, master_address: "10.0.0.1:6379", master_status: "ok" })}`, values: "1x8" },
        { series: `redis_sentinel_master_status${sel({ ...sentinelLabels, master_address: "10.0.0.2:6379", master_status: "ok" })}`, values: "_x8 1x20" },
      ],
      expectations: [{ at: "1m", alerts: [] }, { at: "3m", alerts: [{ ...ticket, master_name: "veza-redis" }] }],
    },
    {
      alert: "SentinelQuorumAtRisk",
      name: "one sentinel lost: no spare above the quorum",
      series: [{ series: `redis_sentinel_master_ok_sentinels${sel(sentinelLabels)}`, values: `${input.quorum}x20` }],
      expectations: [{ at: "3m", alerts: [{ ...ticket, ...sentinelLabels }] }],
    },
    {
      alert: "SentinelQuorumLost",
      name: "fewer usable sentinels than the quorum",
      series: [{ series: `redis_sentinel_master_ok_sentinels${sel(sentinelLabels)}`, values: `${input.quorum - 1}x20` }],
      expectations: [{ at: "2m", alerts: [{ ...page, ...sentinelLabels }] }],
    },
    {
      alert: "SentinelQuorumLost",
      name: "healthy: every sentinel usable",
      series: [{ series: `redis_sentinel_master_ok_sentinels${sel(sentinelLabels)}`, values: `${input.quorum + 1}x20` }],
      expectations: [{ at: "3m", alerts: [] }],
    },
    {
      alert: "SentinelUnreachable",
      name: "a sentinel stops answering",
      series: [{ series: `redis_up{job="sentinel",instance="sentinel-1"}`, values: "0x20" }],
      expectations: [{ at: "3m", alerts: [{ ...ticket, job: "sentinel", instance: "sentinel-1" }] }],
    },
  ];
}

export function sloAlertCases(paymentRoute: string): AlertCase[] {
  const get = (status: string) => `http_requests_total{method="GET",route="/api/v1/tracks",status="${status}"}`;
  const orders = (status: string) => `http_requests_total{method="POST",route="${paymentRoute}",status="${status}"}`;
  const bucket = (le: string) => `http_request_duration_seconds_bucket{method="POST",route="/api/v1/playlists",le="${le}"}`;
  const fast = (slo: string) => ({ severity: "page", slo });
  const slow = (slo: string) => ({ severity: "ticket", slo });
  return [
    {
      alert: "ApiAvailabilitySLOFastBurn",
      name: "a total GET outage pages within 5 minutes",
      // 10 req/s, all 200, for an hour; then every request fails.
      series: [{ series: get("200"), values: "0+150x240 36000x40" }, { series: get("500"), values: "0x240 0+150x40" }],
      expectations: [{ at: "60m", alerts: [] }, { at: "65m", alerts: [fast("api-availability")] }],
    },
    {
      alert: "ApiAvailabilitySLOFastBurn",
      name: "healthy: 0.1% errors stay silent",
      series: [{ series: get("200"), values: "0+999x400" }, { series: get("500"), values: "0+1x400" }],
      expectations: [{ at: "90m", alerts: [] }],
    },
    {
      alert: "ApiAvailabilitySLOSlowBurn",
      name: "5% errors for 7 hours: a ticket, not a page",
      series: [{ series: get("200"), values: "0+95x1700" }, { series: get("500"), values: "0+5x1700" }],
      expectations: [{ at: "7h", alerts: [slow("api-availability")] }],
    },
    {
      alert: "ApiLatencySLOFastBurn",
      // At 99% the 1 h error ratio passes 14.4 x 1% after 8.64 minutes of a total breach.
      name: "every write slower than 500 ms pages within 10 minutes",
      series: [{ series: bucket("0.5"), values: "0+100x240 24000x40" }, { series: bucket("+Inf"), values: "0+100x280" }],
      expectations: [{ at: "65m", alerts: [] }, { at: "70m", alerts: [fast("api-latency")] }],
    },
    {
      alert: "ApiLatencySLOSlowBurn",
      name: "8% of writes slower than 500 ms for 7 hours",
      series: [{ series: bucket("0.5"), values: "0+92x1700" }, { series: bucket("+Inf"), values: "0+100x1700" }],
      expectations: [{ at: "7h", alerts: [slow("api-latency")] }],
    },
    {
      alert: "PaymentSuccessSLOFastBurn",
      name: "every order fails",
      series: [{ series: orders("201"), values: "0+10x240 2400x40" }, { series: orders("502"), values: "0x240 0+10x40" }],
      expectations: [{ at: "68m", alerts: [fast("payment-success")] }],
    },
    {
      alert: "PaymentSuccessSLOSlowBurn",
      name: "5% of orders fail for 7 hours",
      series: [{ series: orders("201"), values: "0+19x1700" }, { series: orders("500"), values: "0+1x1700" }],
      expectations: [{ at: "7h", alerts: [slow("payment-success")] }],
    },
    {
      alert: "PaymentSuccessSLOSlowBurn",
      name: "healthy: 0.2% of orders fail",
      series: [{ series: orders("201"), values: "0+499x1700" }, { series: orders("500"), values: "0+1x1700" }],
      expectations: [{ at: "7h", alerts: [] }],
    },
  ];
}

/** promtool's unit-test file: one test group per case, 15 s scrape interval. */
export function promtoolTestFile(ruleFiles: string[], cases: AlertCase[]) {
  return {
    rule_files: ruleFiles,
    evaluation_interval: "15s",
    tests: cases.map((c) => ({
      name: `${c.alert}: ${c.name}`,
      interval: "15s",
      input_series: c.series,
      alert_rule_test: c.expectations.map((e) => ({ eval_time: e.at, alertname: c.alert, exp_alerts: e.alerts.map((labels) => ({ exp_labels: labels })) })),
    })),
  };
}
