// The Grafana dashboards, built with the typed Grafana Foundation SDK (no hand-written JSON):
// "Veza API Overview" (the SLO runbooks' first stop) and "Redis". Every constant a panel shows
// (maxmemory, the container limit, the data volume, the SLO objectives) comes from the sizing
// and the SLO definitions, and every query is tested under promtool (tests/artifacts).
//
// The SDK's v1 DashboardBuilder is marked deprecated in favour of dashboardv2, but v2 needs
// Grafana's Kubernetes-style dashboard API; the v1 model is what file provisioning loads.
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import type { SloMetricsConfig } from "../config/types";
import type { Sizing } from "../redis/sizing";
import { P95_BY_ROUTE, P95_WRITES_BY_ROUTE } from "./apiRules";
import { API_JOB, REDIS_JOB, SENTINEL_JOB } from "./prometheusConfig";
import { DASHBOARDS } from "./runbooks";
import { recordName, sloDefinitions } from "./sloRules";

export const PROMETHEUS_DATASOURCE = { type: "prometheus", uid: "veza-prometheus" } as const;

export interface DashboardInput {
  sizing: Sizing;
  slo: SloMetricsConfig;
}

interface Query {
  expr: string;
  legend: string;
}

function queries(list: Query[]): prometheus.DataqueryBuilder[] {
  return list.map((q, i) =>
    new prometheus.DataqueryBuilder()
      .refId(String.fromCharCode(65 + i))
      .expr(q.expr)
      .legendFormat(q.legend)
      .datasource(PROMETHEUS_DATASOURCE),
  );
}

function graph(title: string, unit: string, list: Query[], description = ""): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder().title(title).description(description).unit(unit).datasource(PROMETHEUS_DATASOURCE).targets(queries(list)).height(8).span(12);
}

function base(key: keyof typeof DASHBOARDS, tags: string[]): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(DASHBOARDS[key].title)
    .uid(DASHBOARDS[key].uid)
    .tags(["veza", ...tags])
    .refresh("30s")
    .time({ from: "now-6h", to: "now" })
    .timezone("browser")
    .readonly();
}

export function buildApiOverview(input: DashboardInput): dashboard.Dashboard {
  const m = input.slo;
  const api = `job="${API_JOB}"`;
  const rate = (selector: string) => `sum by (${m.routeLabel}) (rate(${m.requestsTotal}{${selector}}[5m]))`;
  const slos = sloDefinitions(m);
  const budget = (objective: number) => Number((1 - objective).toFixed(6));
  return base("api", ["api", "slo"])
    .withRow(new dashboard.RowBuilder("Traffic per route"))
    .withPanel(graph("Request rate per route", "reqps", [{ expr: rate(api), legend: `{{${m.routeLabel}}}` }]))
    .withPanel(
      graph("Error ratio (5xx) per route", "percentunit", [
        {
          // A route without errors has no 5xx series: `or ... * 0` keeps it on the graph at 0.
          expr: `(${rate(`${api},${m.statusLabel}=~"5.."`)} or ${rate(api)} * 0) / ${rate(api)}`,
          legend: `{{${m.routeLabel}}}`,
        },
      ]),
    )
    .withPanel(
      graph(
        "p95 latency per route",
        "s",
        [
          { expr: P95_BY_ROUTE, legend: `{{${m.routeLabel}}}` },
          { expr: P95_WRITES_BY_ROUTE, legend: `{{${m.routeLabel}}} writes` },
        ],
        `The latency SLO counts writes slower than ${m.latencyThresholdSeconds} s.`,
      ),
    )
    .withRow(new dashboard.RowBuilder("SLOs"))
    .withPanel(
      graph(
        "SLO burn rate (1 h and 6 h)",
        "short",
        slos.flatMap((slo) =>
          ["1h", "6h"].map((w) => ({
            expr: `${recordName(w)}{slo="${slo.id}"} / ${budget(slo.objective)}`,
            legend: `${slo.id} ${w}`,
          })),
        ),
        "14.4 over 1 h pages, 6 over 6 h opens a ticket.",
      ),
    )
    .withPanel(
      new stat.PanelBuilder()
        .title("Error budget left (30 days)")
        .unit("percentunit")
        .datasource(PROMETHEUS_DATASOURCE)
        .targets(
          queries(
            slos.map((slo) => ({
              expr: `1 - avg_over_time(${recordName("5m")}{slo="${slo.id}"}[30d]) / ${budget(slo.objective)}`,
              legend: slo.id,
            })),
          ),
        )
        .height(8)
        .span(12),
    )
    .build();
}

/** The Redis dashboard's variables: a data node (or all) and a Sentinel master name (or all). */
export const REDIS_DASHBOARD_VARIABLES = { instance: "$instance", master: "$master" } as const;

/** A panel query with its variables at "all", as Grafana sends it with every value selected. */
export function withAllSelected(expr: string): string {
  return Object.values(REDIS_DASHBOARD_VARIABLES).reduce((text, variable) => text.replaceAll(variable, ".+"), expr);
}

function variable(name: string, label: string, query: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(PROMETHEUS_DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .multi(true)
    .includeAll(true)
    .allValue(".+");
}

// The panels of the community Redis dashboard (Grafana.com 763) and the Sentinel view on-call
// needs: every series filtered by $instance (data nodes) or $master (Sentinel's master name).
export function buildRedisOverview(input: DashboardInput): dashboard.Dashboard {
  const r = `job="${REDIS_JOB}",instance=~"${REDIS_DASHBOARD_VARIABLES.instance}"`;
  const s = `job="${SENTINEL_JOB}",master_name=~"${REDIS_DASHBOARD_VARIABLES.master}"`;
  const { sizing } = input;
  const rate = (metric: string, by = "instance") => `sum by (${by}) (rate(${metric}{${r}}[5m]))`;
  const stats = (title: string, unit: string, expr: string, legend = "{{instance}}") =>
    new stat.PanelBuilder()
      .title(title)
      .unit(unit)
      .datasource(PROMETHEUS_DATASOURCE)
      .targets(queries([{ expr, legend }]))
      .height(4)
      .span(6);
  return base("redis", ["redis"])
    .withVariable(variable("instance", "Data node", `label_values(redis_up{job="${REDIS_JOB}"}, instance)`))
    .withVariable(variable("master", "Sentinel master", `label_values(redis_sentinel_master_status{job="${SENTINEL_JOB}"}, master_name)`))
    .withRow(new dashboard.RowBuilder("Overview"))
    .withPanel(stats("Up", "short", `redis_up{${r}}`))
    .withPanel(stats("Uptime", "s", `redis_uptime_in_seconds{${r}}`))
    .withPanel(stats("Role: master", "short", `max by (instance) (redis_instance_info{${r},role="master"}) or max by (instance) (0 * redis_instance_info{${r}})`))
    .withPanel(stats("Keys", "short", `sum by (instance) (redis_db_keys{${r}})`))
    .withRow(new dashboard.RowBuilder("Traffic"))
    .withPanel(graph("Commands per second", "ops", [{ expr: `sum by (instance) (rate(redis_commands_processed_total{${r}}[5m]))`, legend: "{{instance}}" }]))
    .withPanel(
      graph("Hit ratio", "percentunit", [
        {
          // Sessions, rate-limit counters and revocations are read far more than written: a falling ratio means keys are gone (evicted, expired early, or never written).
          expr: `${rate("redis_keyspace_hits_total")} / (${rate("redis_keyspace_hits_total")} + ${rate("redis_keyspace_misses_total")})`,
          legend: "{{instance}}",
        },
      ]),
    )
    .withPanel(
      graph(
        "Latency per command (mean)",
        "s",
        [
          {
            expr: `${rate("redis_commands_duration_seconds_total", "instance, cmd")} / ${rate("redis_commands_total", "instance, cmd")}`,
            legend: "{{instance}} {{cmd}}",
          },
        ],
        "From INFO commandstats: time inside Redis, without the network. A slow command blocks every other client.",
      ),
    )
    .withPanel(graph("Connected clients", "short", [{ expr: `redis_connected_clients{${r}}`, legend: "{{instance}}" }], "Refused clients at maxclients raise RedisRejectedConnections."))
    .withPanel(
      graph("Network I/O", "Bps", [
        { expr: rate("redis_net_input_bytes_total"), legend: "{{instance}} in" },
        { expr: rate("redis_net_output_bytes_total"), legend: "{{instance}} out" },
      ]),
    )
    .withRow(new dashboard.RowBuilder("Memory"))
    .withPanel(
      graph(
        "Used memory vs maxmemory and the container limit",
        "bytes",
        [
          { expr: `redis_memory_used_bytes{${r}}`, legend: "{{instance}} used" },
          { expr: `redis_memory_used_rss_bytes{${r}}`, legend: "{{instance}} RSS" },
          { expr: `vector(${sizing.maxmemoryBytes})`, legend: "maxmemory (declared)" },
          { expr: `vector(${sizing.memoryLimitBytes})`, legend: "container limit" },
        ],
        "RSS above 90% of the limit pages (RedisRssNearContainerLimit): a fork can double the dataset.",
      ),
    )
    .withPanel(
      graph(
        "Fragmentation (RSS / used)",
        "short",
        [{ expr: `redis_mem_fragmentation_ratio{${r}}`, legend: "{{instance}}" }],
        "Above 1.5 the allocator holds memory the dataset no longer uses: RSS nears the limit before maxmemory does.",
      ),
    )
    .withPanel(graph("Evictions", "short", [{ expr: `rate(redis_evicted_keys_total{${r}}[5m])`, legend: "{{instance}}" }]))
    .withPanel(
      graph("Keys and keys with a TTL", "short", [
        { expr: `sum by (instance) (redis_db_keys{${r}})`, legend: "{{instance}} keys" },
        { expr: `sum by (instance) (redis_db_keys_expiring{${r}})`, legend: "{{instance}} with a TTL" },
      ]),
    )
    .withRow(new dashboard.RowBuilder("Persistence"))
    .withPanel(
      graph("AOF size vs the data volume", "bytes", [
        { expr: `redis_aof_current_size_bytes{${r}}`, legend: "{{instance}} AOF" },
        { expr: `vector(${sizing.dataVolumeBytes})`, legend: "data volume" },
      ]),
    )
    .withPanel(graph("AOF rewrites in progress", "short", [{ expr: `redis_aof_rewrite_in_progress{${r}}`, legend: "{{instance}}" }]))
    .withRow(new dashboard.RowBuilder("Replication and Sentinel"))
    .withPanel(
      graph("Replication lag per replica (bytes)", "bytes", [
        {
          expr: `redis_master_repl_offset{${r}} - on (instance) group_right redis_connected_slave_offset_bytes{${r}}`,
          legend: "{{instance}} -> {{slave_ip}}:{{slave_port}}",
        },
      ]),
    )
    .withPanel(
      graph("Replication lag per replica (seconds since its last acknowledgement)", "s", [
        {
          expr: `redis_connected_slave_lag_seconds{${r}}`,
          legend: "{{instance}} -> {{slave_ip}}:{{slave_port}}",
        },
      ]),
    )
    .withPanel(
      graph("Sentinels that agree, against the quorum", "short", [
        { expr: `redis_sentinel_master_ok_sentinels{${s}}`, legend: "{{instance}}: {{master_name}} usable sentinels" },
        { expr: `max by (master_name) (redis_sentinel_master_setting_ckquorum{${s}})`, legend: "{{master_name}} quorum" },
      ]),
    )
    .withPanel(
      graph("Masters each sentinel monitors, and sentinels in TILT", "short", [
        { expr: `redis_sentinel_masters{job="${SENTINEL_JOB}"}`, legend: "{{instance}} masters" },
        { expr: `redis_sentinel_tilt{job="${SENTINEL_JOB}"}`, legend: "{{instance}} TILT" },
      ]),
    )
    .withPanel(
      graph("Sentinel master changes: the address each sentinel names", "short", [
        {
          expr: `count by (master_name, master_address) (redis_sentinel_master_status{${s}})`,
          legend: "{{master_name}} -> {{master_address}}",
        },
      ]),
    )
    .withPanel(
      graph("Failovers (master addresses seen in 15 minutes, minus one)", "short", [
        {
          expr: `count by (master_name) (count by (master_name, master_address) (max_over_time(redis_sentinel_master_status{${s}}[15m]))) - 1`,
          legend: "{{master_name}}",
        },
      ]),
    )
    .build();
}

/**
 * Panel ids in layout order: the builders leave them unset (rows at 0), and Grafana links a
 * panel (viewPanel=<id>, an alert's panel) by its id, so they are given here, stable per layout.
 */
function numbered(d: dashboard.Dashboard): dashboard.Dashboard {
  return { ...d, panels: (d.panels ?? []).map((panel, i) => ({ ...panel, id: i + 1 })) };
}

export function buildDashboards(input: DashboardInput): Record<keyof typeof DASHBOARDS, dashboard.Dashboard> {
  return { api: numbered(buildApiOverview(input)), redis: numbered(buildRedisOverview(input)) };
}

/** Every query of a dashboard, for the promtool tests. */
export function panelQueries(d: dashboard.Dashboard): Array<{ panel: string; refId: string; expr: string }> {
  return (d.panels ?? []).flatMap((p: dashboard.Panel | dashboard.RowPanel) =>
    ("targets" in p && Array.isArray(p.targets) ? p.targets : []).map((t: unknown) => {
      const q = t as { refId?: string; expr?: string };
      return { panel: (p as { title?: string }).title ?? "", refId: q.refId ?? "", expr: q.expr ?? "" };
    }),
  );
}

/** Grafana provisioning: the Prometheus datasource, and a file provider for the dashboards. */
export const GRAFANA_PATHS = {
  datasources: "/etc/grafana/provisioning/datasources/veza.yml",
  dashboardProvider: "/etc/grafana/provisioning/dashboards/veza.yml",
  dashboardsDir: "/etc/grafana/dashboards",
  adminPassword: "/etc/grafana/secrets/admin-password",
} as const;

/** With `basicAuth` the datasources file holds a password: upload it as a secret. */
export function renderGrafanaProvisioning(prometheusUrl: string, basicAuth?: { user: string; password: string }) {
  const auth = basicAuth ? { basicAuth: true, basicAuthUser: basicAuth.user, secureJsonData: { basicAuthPassword: basicAuth.password } } : {};
  return {
    datasources: {
      apiVersion: 1,
      datasources: [{ name: "Prometheus", type: PROMETHEUS_DATASOURCE.type, uid: PROMETHEUS_DATASOURCE.uid, access: "proxy", url: prometheusUrl, isDefault: true, editable: false, ...auth }],
    },
    dashboardProvider: {
      apiVersion: 1,
      providers: [{ name: "veza", type: "file", disableDeletion: true, allowUiUpdates: false, updateIntervalSeconds: 60, options: { path: GRAFANA_PATHS.dashboardsDir } }],
    },
  };
}

export function dashboardFile(key: keyof typeof DASHBOARDS): string {
  return `${GRAFANA_PATHS.dashboardsDir}/${DASHBOARDS[key].uid}.json`;
}
