// The dashboards as Grafana loads them. No maintained package validates Grafana's dashboard JSON
// (Grafana's schema is CUE; the Foundation SDK these are built with is generated from it, which
// types every builder call): this checks what the types cannot, the model's invariants Grafana
// relies on when it provisions the file.
import { buildDashboards, panelQueries, PROMETHEUS_DATASOURCE, REDIS_DASHBOARD_VARIABLES } from "../../components/monitoring/dashboards";
import { computeSizing } from "../../components/redis/sizing";
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";

const config = requireValidStackConfig(readStackConfigFile("dev").raw);
const dashboards = Object.values(buildDashboards({ sizing: computeSizing(config.redis), slo: config.monitoring.slo }));

describe.each(dashboards.map((d) => [d.title, d] as const))("dashboard %s", (_title, d) => {
  const panels = d.panels ?? [];
  const cells = (p: (typeof panels)[number]) => {
    const { x = 0, y = 0, w = 0, h = 0 } = p.gridPos ?? {};
    return Array.from({ length: w * h }, (_, i) => `${x + (i % w)},${y + Math.floor(i / w)}`);
  };

  it("has a uid, a schemaVersion, and panel ids that are unique and non-zero (Grafana links panels by id)", () => {
    expect(d.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => typeof id === "number" && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("lays every panel inside the 24-column grid, no two panels on one cell", () => {
    for (const p of panels) {
      const { x = -1, w = 0, h = 0 } = p.gridPos ?? {};
      expect([p.title, x >= 0 && w > 0 && h > 0 && x + w <= 24]).toEqual([p.title, true]);
    }
    const all = panels.flatMap(cells);
    expect(new Set(all).size).toBe(all.length);
  });

  it("queries only the provisioned Prometheus, and every $variable a query uses is defined", () => {
    const defined = new Set((d.templating?.list ?? []).map((v) => `$${v.name}`));
    for (const q of panelQueries(d)) {
      const used = q.expr.match(/\$[a-z_]+/g) ?? [];
      expect([q.panel, used.filter((v) => !defined.has(v))]).toEqual([q.panel, []]);
    }
    for (const p of panels.filter((p) => p.type !== "row")) expect([p.title, (p as { datasource?: { uid?: string } }).datasource?.uid]).toEqual([p.title, PROMETHEUS_DATASOURCE.uid]);
  });
});

describe("the Redis dashboard", () => {
  const redis = dashboards.find((d) => d.uid === "veza-redis")!;
  it("filters by data node and Sentinel master: $instance and $master, each with an 'all' that matches every value", () => {
    expect((redis.templating?.list ?? []).map((v) => [`$${v.name}`, v.includeAll, v.allValue])).toEqual(Object.values(REDIS_DASHBOARD_VARIABLES).map((v) => [v, true, ".+"]));
  });
  it("holds the community Redis dashboard's panels and the Sentinel view", () => {
    const titles = (redis.panels ?? []).filter((p) => p.type !== "row").map((p) => p.title ?? "");
    expect(titles.length).toBeGreaterThanOrEqual(13);
    for (const expected of [
      /hit ratio/i,
      /latency per command/i,
      /commands per second/i,
      /fragmentation/i,
      /lag .*seconds/i,
      /quorum/i,
      /masters/i,
      /network/i,
      /keys/i,
      /evictions/i,
      /connected clients/i,
    ]) {
      expect([expected.source, titles.some((t) => expected.test(t))]).toEqual([expected.source, true]);
    }
  });
});
