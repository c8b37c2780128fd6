// The Redis dashboard against a live cluster: every panel's query, with its variables at "all" as
// Grafana sends them, returns series from a real Prometheus scraping real redis_exporters of a
// 3-node cluster with 3 sentinels (the stack's exporter settings and scrape labels). A panel whose
// metric name or selector matches nothing (a renamed exporter metric, a wrong label) fails here.
import { buildRedisOverview, panelQueries, withAllSelected } from "../../components/monitoring/dashboards";
import { computeSizing } from "../../components/redis/sizing";
import { withCluster } from "../../drills/harness/clusterRun";
import { sleep } from "../../drills/harness/processes";
import { sentinelClient } from "../../drills/harness/writer";
import type { Figure } from "../../drills/harness/types";
import { devConfig, leftovers } from "../helpers/drills";

describe("the Redis dashboard on a live scrape", () => {
  beforeAll(() => expect(leftovers()).toEqual([]));

  it("every panel query returns series from the cluster's exporters", async () => {
    const panels = panelQueries(buildRedisOverview({ sizing: computeSizing(devConfig.redis), slo: devConfig.monitoring.slo }));
    expect(new Set(panels.map((p) => p.panel)).size).toBeGreaterThanOrEqual(13);
    const ctx = { stack: "dev", config: devConfig, short: true, log: () => undefined, alerts: { raises: [] } };
    const result = await withCluster(ctx, "dashboards-live", async (cluster, _ws, clients, check) => {
      const client = sentinelClient(cluster);
      clients.push(client);
      // Traffic every panel reads: writes, a TTL, hits and misses, replication.
      for (let i = 0; i < 200; i++) {
        await client.set(`dash:${i}`, "v", "EX", 600);
        await client.get(`dash:${i}`);
        await client.get(`dash:missing:${i}`);
      }
      // rate() over the panels' windows needs two scrapes after the traffic.
      await sleep(3000);
      const empty: string[] = [];
      for (const panel of panels) {
        const series = await check!.alerting.query(withAllSelected(panel.expr));
        if (series.length === 0) empty.push(`${panel.panel} (${panel.refId}): ${panel.expr}`);
      }
      return { passed: empty.length === 0, failures: empty, figures: { panels: panels.length } as Record<string, Figure> };
    });
    expect(result.failures).toEqual([]);
    expect(result.figures.alerts_in_healthy_phase).toBe("none");
    expect(leftovers()).toEqual([]);
  }, 120000);
});
