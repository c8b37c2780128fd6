// The generated monitoring files, as synth writes them, checked by the Prometheus tools:
// promtool check config/rules; promtool test rules on the case files synth writes beside the
// rules (every alert fires on its fault and stays silent on a near miss, and no other page fires
// with it); the dashboards' queries under promtool; amtool check-config and amtool routing.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile, PROJECT_ROOT } from "../../lib/stackFiles";
import { CAUSE_MUTES_CONSEQUENCES, HEARTBEAT_URL_PLACEHOLDER, RECEIVERS, renderAlertmanagerStartScript } from "../../components/monitoring/alertmanagerConfig";
import { buildDashboards, panelQueries, withAllSelected } from "../../components/monitoring/dashboards";
import { RULE_FILE_NAMES, RULES_DIR } from "../../components/monitoring/prometheusConfig";
import { redisRulesInput, renderMonitoringFiles, renderPromtoolCheckScript, type MonitoringFiles } from "../../components/monitoring/render";
import { renderRedisAlertRules } from "../../components/monitoring/redisRules";
import type { EvictionPolicy, StackConfig } from "../../components/config/types";
import { alertCases, healthyCluster, seriesText } from "../../components/monitoring/alertCases";
import { renderAlertTable } from "../../components/monitoring/alertTable";
import { DASHBOARDS, type AlertRule, type RecordingRule, type RuleFile } from "../../components/monitoring/runbooks";
import { computeSizing } from "../../components/redis/sizing";
import { synthToDir, type SynthDir } from "../helpers/cli";
import { stackModel } from "../../components/topology/model";
import { stackMonitoringFiles } from "../helpers/stackAlerts";

const PROMETHEUS = "monitoring-prometheus-container";
const ALERTMANAGER = "monitoring-alertmanager-container";
const GRAFANA = "monitoring-grafana-container";

function tool(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 300000 });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

function alertsOf(file: RuleFile): AlertRule[] {
  return file.groups.flatMap((g) => g.rules).filter((r): r is AlertRule => "alert" in r);
}

/**
 * A copy of a promtool case file holding only the cases whose name matches (the whole SLO file
 * takes promtool most of a minute), beside the (mutated) rules in `dir`: its file name.
 */
function onlyCases(dir: string, file: string, name: RegExp): string {
  const tests = YAML.parse(fs.readFileSync(path.join(dir, file), "utf8"));
  tests.tests = tests.tests.filter((t: { name: string }) => name.test(t.name));
  expect(tests.tests.length).toBeGreaterThan(0);
  fs.writeFileSync(path.join(dir, `only-${file}`), YAML.stringify(tests));
  return `only-${file}`;
}

describe("monitoring files under promtool and amtool", () => {
  const config = requireValidStackConfig(readStackConfigFile("dev").raw);
  const files = renderMonitoringFiles(config, stackModel(config));
  const cases = alertCases(files.testInput);
  let synth: SynthDir;
  let work: string;
  let rulesDir: string;
  let rules: Record<string, RuleFile>;
  let alerts: AlertRule[];

  beforeAll(() => {
    synth = synthToDir("dev");
    work = path.join(synth.dir, "check");
    fs.mkdirSync(work);
    rulesDir = path.dirname(synth.file(PROMETHEUS, `${RULES_DIR}/${RULE_FILE_NAMES.redis}`));
    rules = Object.fromEntries(Object.values(RULE_FILE_NAMES).map((name) => [name, YAML.parse(fs.readFileSync(path.join(rulesDir, name), "utf8"))]));
    alerts = Object.values(rules).flatMap(alertsOf);
  });
  afterAll(() => fs.rmSync(synth.dir, { recursive: true, force: true }));

  it("promtool accepts the rule files and prometheus.yml", () => {
    const check = tool("promtool", ["check", "rules", ...Object.values(RULE_FILE_NAMES)], rulesDir);
    expect(check.out).not.toContain("FAILED");
    expect(check.status).toBe(0);
    const prometheusYml = fs.readFileSync(synth.file(PROMETHEUS, "/etc/prometheus/prometheus.yml"), "utf8").replaceAll(RULES_DIR, rulesDir);
    fs.writeFileSync(path.join(work, "prometheus.yml"), prometheusYml);
    const config = tool("promtool", ["check", "config", path.join(work, "prometheus.yml")], work);
    expect(config.out).toContain(`SUCCESS: ${Object.keys(RULE_FILE_NAMES).length} rule files found`);
    expect(config.status).toBe(0);
  });

  it("holds the seed's three SLOs as 21 recording rules and 12 burn-rate alerts: no burn that empties the budget within the month is silent", () => {
    const sloRules = rules[RULE_FILE_NAMES.slo].groups.flatMap((g) => g.rules);
    const records = sloRules.filter((r): r is RecordingRule => "record" in r).map((r) => `${r.record}{slo=${r.labels?.slo}}`);
    expect(records).toHaveLength(21);
    for (const slo of ["api-availability", "api-latency", "payment-success"]) {
      for (const window of ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]) expect(records).toContain(`slo:sli_error:ratio_rate${window}{slo=${slo}}`);
    }
    // The SRE workbook's tiers: 14.4x/1h pages; 6x/6h, 3x/1d and 1x/3d ticket.
    expect(
      alertsOf(rules[RULE_FILE_NAMES.slo])
        .map((a) => `${a.alert}:${a.labels.severity}`)
        .sort(),
    ).toEqual(
      ["ApiAvailability", "ApiLatency", "PaymentSuccess"].flatMap((slo) => [`${slo}SLODailyBurn:ticket`, `${slo}SLOFastBurn:page`, `${slo}SLOSlowBurn:ticket`, `${slo}SLOThreeDayBurn:ticket`]),
    );
  });

  it("pages for a failed BGSAVE only where it refuses writes (RDB save points on), and tickets a failed AOF rewrite apart from a failed AOF write", () => {
    const severity = (rdbSnapshots: boolean, name: string) =>
      alertsOf(renderRedisAlertRules({ ...redisRulesInput(config, stackModel(config)), rdbSnapshots })).find((a) => a.alert === name)?.labels.severity;
    expect([severity(true, "RedisRdbSaveFailed"), severity(false, "RedisRdbSaveFailed")]).toEqual(["page", "ticket"]);
    expect([severity(false, "RedisAofWriteFailed"), severity(false, "RedisAofRewriteFailed")]).toEqual(["page", "ticket"]);
  });

  it("tickets a dataset at maxmemory only where that fails writes (volatile-* policies), never under allkeys-*, where it is the design", () => {
    const names = (evictionPolicy: EvictionPolicy) => alertsOf(renderRedisAlertRules({ ...redisRulesInput(config, stackModel(config)), evictionPolicy })).map((a) => a.alert);
    expect(names("allkeys-lru")).not.toContain("RedisMemoryNearMaxmemory");
    expect(names("volatile-lru")).toContain("RedisMemoryNearMaxmemory");
    expect(names("allkeys-lru")).toContain("RedisEvictionsSpiking");
  });

  it("renders the stack's own figures into every annotation: no JavaScript placeholder reaches on-call as text", () => {
    // A summary written in plain quotes kept "${input.sentinel.quorum}" literally.
    const placeholders = alerts.flatMap((a) =>
      Object.entries(a.annotations)
        .filter(([, text]) => text.includes("${"))
        .map(([key, text]) => `${a.alert}.${key}: ${text}`),
    );
    expect(placeholders).toEqual([]);
    const quorumSummary = alerts.find((a) => a.alert === "SentinelsBelowQuorumReachable")!.annotations.summary;
    expect(quorumSummary).toBe(`Fewer than ${config.sentinel.quorum} of ${config.sentinel.count} sentinels answer`);
  });

  it("gives every alert a severity, a summary, a description, a runbook page that exists and (where one applies) a dashboard synth wrote", () => {
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining([
        "RedisUnreachable",
        "SentinelsBelowQuorumReachable",
        "RedisSentinelMasterMismatch",
        "NodeExporterDown",
        "Watchdog",
        "SLOBlind",
        "TargetDown",
        "AlertmanagerNotificationsFailing",
      ]),
    );
    for (const alert of alerts) {
      expect(alert.labels.severity === "heartbeat" ? alert.alert : alert.labels.severity).toMatch(/^(page|ticket|Watchdog)$/);
      expect(alert.annotations.summary.length).toBeGreaterThan(10);
      expect(alert.annotations.description.length).toBeGreaterThan(10);
      const page = alert.annotations.runbook_url.replace(`${config.monitoring.runbookBaseUrl}/`, "");
      expect(fs.existsSync(path.join(PROJECT_ROOT, "docs", "runbooks", page))).toBe(true);
      if (alert.annotations.dashboard !== undefined) {
        const uid = alert.annotations.dashboard.replace(`${files.grafanaUrl}/d/`, "");
        expect(fs.existsSync(synth.file(GRAFANA, `/etc/grafana/dashboards/${uid}.json`))).toBe(true);
      }
    }
    expect(
      alerts
        .filter((a) => a.annotations.dashboard === undefined)
        .map((a) => a.alert)
        .sort(),
    ).toEqual([
      "AlertmanagerConfigReloadFailed",
      "AlertmanagerNotificationsFailing",
      "PrometheusConfigReloadFailed",
      "PrometheusNotificationsFailing",
      "PrometheusRuleEvaluationFailing",
      "RedisBackupFailed",
      "RedisBackupMissing",
      "RedisBackupTooOld",
      "RedisCertificateExpiresThisWeek",
      "RedisCertificateExpiringSoon",
      "RedisClientCertificateExpiresThisWeek",
      "RedisClientCertificateExpiringSoon",
      "RedisTlsProbeFailed",
      "TargetDown",
      "Watchdog",
    ]);
    // The count() == 0 form that can never fire is gone.
    for (const alert of alerts) expect(alert.expr).not.toMatch(/count\([^()]*(\([^()]*\))?[^()]*\)\s*==\s*0/);
  });

  it("every page waits with a for:, or its rule says why it must not; the reason never reaches the rule file Prometheus loads", () => {
    const rendered = Object.values(files.rules).flatMap(alertsOf);
    const pages = rendered.filter((a) => a.labels.severity === "page");
    expect(pages.filter((a) => a.for === undefined && (a.forOmittedBecause ?? "").length < 30).map((a) => a.alert)).toEqual([]);
    expect(
      pages
        .filter((a) => a.for === undefined)
        .map((a) => a.alert)
        .sort(),
    ).toEqual([
      "ApiAvailabilitySLOFastBurn",
      "ApiLatencySLOFastBurn",
      "PaymentSuccessSLOFastBurn",
      "RedisAofWriteFailed",
      "RedisCertificateExpiresThisWeek",
      "RedisClientCertificateExpiresThisWeek",
      "RedisMasterFlapping",
      "RedisReplicationCommandRefused",
      "RedisRestartLoop",
      "RedisUndeclaredMaster",
      "RedisUndeclaredReplica",
    ]);
    expect(alerts.filter((a) => "forOmittedBecause" in a)).toEqual([]);
  });

  it("names every alert in the runbook page it links, so on-call finds its section", () => {
    const unnamed = alerts.filter((a) => {
      const page = a.annotations.runbook_url.replace(`${config.monitoring.runbookBaseUrl}/`, "");
      return !fs.readFileSync(path.join(PROJECT_ROOT, "docs", "runbooks", page), "utf8").includes(a.alert);
    });
    expect(unnamed.map((a) => `${a.alert} -> ${a.annotations.runbook_url}`)).toEqual([]);
  });

  it("every annotation on-call receives, as the promtool cases check Prometheus renders it, is plain text: no ${, {{ or <no value> left", () => {
    const leftovers: string[] = [];
    let checked = 0;
    for (const text of Object.values(files.ruleTestFiles)) {
      for (const test of YAML.parse(text).tests as Array<{ name: string; alert_rule_test: Array<{ exp_alerts: Array<{ exp_annotations: Record<string, string> }> }> }>) {
        for (const expected of test.alert_rule_test.flatMap((t) => t.exp_alerts)) {
          for (const [key, value] of Object.entries(expected.exp_annotations)) {
            checked++;
            if (/\$\{|\{\{|\}\}|<no value>/.test(value)) leftovers.push(`${test.name} ${key}: ${value}`);
          }
        }
      }
    }
    expect(leftovers).toEqual([]);
    // Every alert but Watchdog's heartbeat has at least summary, description and runbook checked.
    expect(checked).toBeGreaterThan(3 * alerts.length);
  });

  it("inhibition names only alerts the stacks define, and each muted alert exists where its cause does", () => {
    const prod = stackMonitoringFiles("prod");
    const defined = new Set([...alerts, ...Object.values(prod.rules).flatMap(alertsOf)].map((a) => a.alert));
    const named = CAUSE_MUTES_CONSEQUENCES.flatMap((rule) => [...rule.cause, ...rule.consequences]);
    expect(named.filter((name) => !defined.has(name))).toEqual([]);
  });

  it("promtool test rules passes on the case files synth writes beside the rules, as a user runs it", () => {
    const testFiles = fs
      .readdirSync(rulesDir)
      .filter((f) => f.endsWith(".test.yml"))
      .sort();
    expect(testFiles).toEqual(Object.keys(files.ruleTestFiles).sort());
    const result = tool("promtool", ["test", "rules", ...testFiles], rulesDir);
    expect(result.out).not.toContain("FAILED");
    expect(result.status).toBe(0);
  });

  it("every alert has a firing case and a silent one (Watchdog only fires), and every case checks that no other page fires with it", () => {
    for (const alert of alerts) {
      const own = cases.filter((c) => c.alert === alert.alert);
      expect([alert.alert, own.some((c) => c.expectations.some((e) => e.alerts.length > 0))]).toEqual([alert.alert, true]);
      if (alert.alert !== "Watchdog") expect([alert.alert, own.some((c) => c.expectations.every((e) => e.alerts.length === 0))]).toEqual([alert.alert, true]);
    }
    const pages = alerts.filter((a) => a.labels.severity === "page").map((a) => a.alert);
    for (const [name, text] of Object.entries(files.ruleTestFiles)) {
      for (const test of YAML.parse(text).tests as Array<{ name: string; alert_rule_test: Array<{ eval_time: string; alertname: string; exp_alerts: unknown[] }> }>) {
        const alertname = test.name.split(":")[0];
        const allowed = new Set([alertname, ...(cases.find((c) => `${c.alert}: ${c.name}` === test.name)?.alsoPages ?? [])]);
        for (const at of new Set(test.alert_rule_test.map((t) => t.eval_time))) {
          const silent = test.alert_rule_test.filter((t) => t.eval_time === at && t.exp_alerts.length === 0).map((t) => t.alertname);
          expect([name, test.name, at, pages.filter((p) => !allowed.has(p) && !silent.includes(p))]).toEqual([name, test.name, at, []]);
        }
      }
    }
  });

  it("the cases catch the bugs they were written for: count() == 0 without `or vector(0)`, and SLOs that ignore the API job's label", () => {
    const copy = path.join(work, "mutated");
    fs.cpSync(rulesDir, copy, { recursive: true });
    const redisYml = path.join(copy, RULE_FILE_NAMES.redis);
    fs.writeFileSync(
      redisYml,
      fs.readFileSync(redisYml, "utf8").replace('(count(redis_instance_info{job="redis",role="master"}) or vector(0)) == 0', 'count(redis_instance_info{job="redis",role="master"}) == 0'),
    );
    const only = (file: string, name: RegExp) => onlyCases(copy, file, name);
    const noMaster = tool("promtool", ["test", "rules", only("redis.test.yml", /^RedisNoMaster: /)], copy);
    expect(noMaster.status).not.toBe(0);
    expect(noMaster.out).toMatch(/RedisNoMaster: every node reports the replica role/);
    fs.copyFileSync(path.join(rulesDir, RULE_FILE_NAMES.redis), redisYml);
    const sloYml = path.join(copy, RULE_FILE_NAMES.slo);
    fs.writeFileSync(sloYml, fs.readFileSync(sloYml, "utf8").replaceAll('job="api",', ""));
    const anyJob = tool("promtool", ["test", "rules", only("slo.test.yml", /another job exposes/)], copy);
    expect(anyJob.status).not.toBe(0);
    expect(anyJob.out).toMatch(/the same outage on series another job exposes is not the API's/);
  });

  it("the cases catch a RedisUndeclaredReplica that pages for the backup job's read or excuses its address on the master, and a RedisBackupTooOld blind to a job that never stored a snapshot or paging after one failed run", () => {
    const copy = path.join(work, "mutated-backup");
    fs.cpSync(rulesDir, copy, { recursive: true });
    const only = (file: string, name: RegExp) => onlyCases(copy, file, name);
    const reader = `${config.hosts.find((h) => h.name === config.backup.host)!.bindAddress}:0`;
    const exception = ` unless on (instance, replica_address) label_replace(redis_instance_info{job="redis",role="slave"}, "replica_address", "${reader}", "", "")`;
    const redisYml = path.join(copy, RULE_FILE_NAMES.redis);
    const redisRules = fs.readFileSync(redisYml, "utf8");
    expect(redisRules).toContain(exception);
    fs.writeFileSync(redisYml, redisRules.replace(exception, ""));
    const noException = tool("promtool", ["test", "rules", only("redis.test.yml", /^RedisUndeclaredReplica: healthy: the backup job reads/)], copy);
    expect(noException.status).not.toBe(0);
    expect(noException.out).toContain(`replica_address="${reader}"`);
    // The address excused on every node, the master included: a rogue announcing it there is silent.
    fs.writeFileSync(redisYml, redisRules.replace(exception, ` unless on (replica_address) label_replace(vector(1), "replica_address", "${reader}", "", "")`));
    const onMaster = tool("promtool", ["test", "rules", only("redis.test.yml", /^RedisUndeclaredReplica: the backup job's address .* attached to the master pages/)], copy);
    expect(onMaster.status).not.toBe(0);
    expect(onMaster.out).toMatch(/RedisUndeclaredReplica: the backup job's address .* attached to the master pages/);
    const backupYml = path.join(copy, RULE_FILE_NAMES.backup);
    const backupRules = fs.readFileSync(backupYml, "utf8");
    const firstStart = / or veza_backup_first_start_timestamp_seconds\{[^}]*\}/;
    expect(backupRules).toMatch(firstStart);
    fs.writeFileSync(backupYml, backupRules.replace(firstStart, ""));
    const neverStored = tool("promtool", ["test", "rules", only("backup-hours.test.yml", /^RedisBackupTooOld: no snapshot ever/)], copy);
    expect(neverStored.status).not.toBe(0);
    expect(neverStored.out).toMatch(/RedisBackupTooOld: no snapshot ever/);
    // Without its `for`, the gap between the next run's snapshot and its metrics pages.
    const parsed = YAML.parse(backupRules);
    const tooOld = parsed.groups[0].rules.find((r: { alert?: string }) => r.alert === "RedisBackupTooOld");
    expect(tooOld.for).toBeDefined();
    delete tooOld.for;
    fs.writeFileSync(backupYml, YAML.stringify(parsed, { lineWidth: 0 }));
    const noFor = tool("promtool", ["test", "rules", only("backup-hours.test.yml", /^RedisBackupTooOld: healthy: one failed run between two good ones/)], copy);
    expect(noFor.status).not.toBe(0);
    expect(noFor.out).toMatch(/RedisBackupTooOld: healthy: one failed run between two good ones/);
  });

  it("the backup alerts take their thresholds from backup.intervalMinutes; with backup off, backup.yml is empty and RedisUndeclaredReplica excuses no backup reader", () => {
    const render = (backup: Partial<StackConfig["backup"]>) => {
      const changed = { ...config, backup: { ...config.backup, ...backup } };
      return renderMonitoringFiles(changed, stackModel(changed));
    };
    const fiveMinutes = alertsOf(render({ intervalMinutes: 5 }).rules.backup);
    // RedisBackupTooOld waits a quarter of the interval: 75 s of 5 minutes, 15 minutes of an hour.
    expect(fiveMinutes.map((a) => [a.alert, a.labels.severity, a.for ?? "-"])).toEqual([
      ["RedisBackupTooOld", "page", "1m15s"],
      ["RedisBackupMissing", "page", "10m"],
      ["RedisBackupFailed", "ticket", "-"],
    ]);
    expect(fiveMinutes[0].expr).toMatch(/\) > 600$/);
    expect(alertsOf(render({ intervalMinutes: 60 }).rules.backup)[0].for).toBe("15m");
    const undeclaredReplica = (f: MonitoringFiles) => alertsOf(f.rules.redis).find((a) => a.alert === "RedisUndeclaredReplica")!.expr;
    const reader = `${config.hosts.find((h) => h.name === config.backup.host)!.bindAddress}:0`;
    expect(undeclaredReplica(files)).toContain(`"replica_address", "${reader}"`);
    const off = render({ enabled: false });
    expect([off.rules.backup, off.ruleFiles[RULE_FILE_NAMES.backup]]).toEqual([{ groups: [] }, "groups: []\n"]);
    expect(undeclaredReplica(off)).not.toContain("redis_instance_info");
    expect(Object.keys(off.ruleTestFiles).filter((f) => f.startsWith("backup"))).toEqual([]);
  });

  it("the SLO cases' series carry exactly the labels prometheus.yml's api job gives its target", () => {
    const prometheusYml = YAML.parse(fs.readFileSync(synth.file(PROMETHEUS, "/etc/prometheus/prometheus.yml"), "utf8"));
    const job = prometheusYml.scrape_configs.find((j: { job_name: string }) => j.job_name === "api");
    expect(job).toMatchObject({ metrics_path: config.api.metrics.path, static_configs: [{ targets: [`127.0.0.1:${config.api.port}`] }] });
    const targetLabels = { job: job.job_name, ...job.static_configs[0].labels };
    const slo = YAML.parse(files.ruleTestFiles["slo.test.yml"]);
    const fired = slo.tests.find((t: { name: string }) => t.name.startsWith("ApiAvailabilitySLOFastBurn: a total GET outage"));
    const series = fired.input_series.map((s: { series: string }) => s.series).filter((s: string) => s.startsWith("http_requests_total{") && s.includes('status="500"'));
    expect(series).toEqual([
      `http_requests_total{${Object.entries({ ...targetLabels, method: "GET", route: "/api/v1/tracks", status: "500" })
        .map(([k, v]) => `${k}="${v}"`)
        .join(",")}}`,
    ]);
  });

  it("every dashboard query passes promtool check rules as a recording rule and returns data on a healthy cluster", () => {
    const dashboards = buildDashboards({ sizing: computeSizing(config.redis), slo: config.monitoring.slo });
    const queries = Object.values(dashboards).flatMap((d) => panelQueries(d).map((q, i) => ({ ...q, expr: withAllSelected(q.expr), record: `dashboard:${d.uid!.replaceAll("-", "_")}:q${i}` })));
    expect(queries.length).toBeGreaterThanOrEqual(15);
    const dir = path.join(work, "dashboards");
    fs.cpSync(rulesDir, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "dashboards.yml"), YAML.stringify({ groups: [{ name: "dashboard-queries", rules: queries.map((q) => ({ record: q.record, expr: q.expr })) }] }, { lineWidth: 0 }));
    const check = tool("promtool", ["check", "rules", "dashboards.yml"], dir);
    expect(check.out).toContain(`SUCCESS: ${queries.length} rules found`);
    fs.writeFileSync(
      path.join(dir, "dashboards.test.yml"),
      YAML.stringify(
        {
          rule_files: [...Object.values(RULE_FILE_NAMES), "dashboards.yml"],
          evaluation_interval: "15s",
          tests: [
            {
              interval: "15s",
              input_series: healthyCluster(files.testInput, 320).map(seriesText),
              // A number (not NaN) in at least one series, an hour in.
              promql_expr_test: queries.map((q) => ({ expr: `count(${q.record} == ${q.record}) > bool 0`, eval_time: "70m", exp_samples: [{ labels: "{}", value: 1 }] })),
            },
          ],
        },
        { lineWidth: 0 },
      ),
    );
    const result = tool("promtool", ["test", "rules", "dashboards.test.yml"], dir);
    expect(result.out).not.toContain("FAILED");
    expect(result.status).toBe(0);
    expect(Object.values(DASHBOARDS).map((d) => fs.existsSync(synth.file(GRAFANA, `/etc/grafana/dashboards/${d.uid}.json`)))).toEqual([true, true]);
  });

  it("the promtool gate that runs before Prometheus passes the generated rules and stops on a broken one", () => {
    const ruleFiles = Object.fromEntries(Object.values(RULE_FILE_NAMES).map((n) => [n, fs.readFileSync(path.join(rulesDir, n), "utf8")]));
    const good = renderPromtoolCheckScript(ruleFiles).replaceAll("/tmp/", `${work}/gate-`);
    expect(spawnSync("sh", ["-s"], { input: good, encoding: "utf8" }).status).toBe(0);
    const broken = { ...ruleFiles, [RULE_FILE_NAMES.redis]: ruleFiles[RULE_FILE_NAMES.redis].replace("expr: (redis_up", "expr: (redis_up{{") };
    const bad = renderPromtoolCheckScript(broken).replaceAll("/tmp/", `${work}/gate-`);
    const result = spawnSync("sh", ["-s"], { input: bad, encoding: "utf8" });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toMatch(/FAILED|parse error/);
  });

  it("amtool accepts alertmanager.yml; pages reach PagerDuty and Slack, tickets only Slack, the heartbeat its webhook", () => {
    const file = synth.file(ALERTMANAGER, "/etc/alertmanager/alertmanager.yml");
    const check = tool("amtool", ["check-config", file], work);
    expect(check.out).toContain("SUCCESS");
    expect(check.status).toBe(0);
    const route = (labels: string[]) =>
      tool("amtool", ["config", "routes", "test", `--config.file=${file}`, ...labels], work)
        .out.split("\n")
        .filter((l) => !l.startsWith("Warning"))
        .join("")
        .trim();
    expect(route(["severity=page", "alertname=RedisUnreachable"])).toBe(RECEIVERS.page);
    expect(route(["severity=ticket", "alertname=RedisFailoverHappened"])).toBe(RECEIVERS.ticket);
    expect(route(["severity=heartbeat", "alertname=Watchdog"])).toBe(RECEIVERS.heartbeat);
    expect(tool("amtool", ["config", "routes", "test", `--config.file=${file}`, `--verify.receivers=${RECEIVERS.page}`, "severity=page", "slo=api-latency"], work).status).toBe(0);

    const alertmanager = YAML.parse(fs.readFileSync(file, "utf8"));
    const receiver = (name: string) => alertmanager.receivers.find((r: { name: string }) => r.name === name);
    expect(Object.keys(receiver(RECEIVERS.page)).sort()).toEqual(["name", "pagerduty_configs", "slack_configs"]);
    expect(Object.keys(receiver(RECEIVERS.ticket)).sort()).toEqual(["name", "slack_configs"]);
    expect(receiver(RECEIVERS.heartbeat).webhook_configs).toEqual([{ url: HEARTBEAT_URL_PLACEHOLDER, send_resolved: false }]);
    expect(alertmanager.route.routes[0]).toMatchObject({ receiver: RECEIVERS.heartbeat, repeat_interval: "1m" });
    expect(alertmanager.route.group_by).toEqual(["alertname", "cluster"]);
    expect(alertmanager.inhibit_rules).toContainEqual(expect.objectContaining({ target_matchers: ['severity="ticket"'], equal: ["slo", "cluster"] }));
    // No secret in the file: Slack, PagerDuty and the heartbeat URL come from secret files.
    expect(fs.readFileSync(file, "utf8")).not.toMatch(/hooks\.slack\.com|routing_key:/);
  });

  it("the Alertmanager start script puts the heartbeat URL from its secret file in place, whatever its characters, and amtool accepts the result", () => {
    const dir = path.join(work, "am");
    fs.mkdirSync(path.join(dir, "secrets"), { recursive: true });
    const url = "https://hc.example/ping/abc?x=1&y=a|b/c";
    fs.writeFileSync(path.join(dir, "secrets", "url"), `${url}\n`);
    fs.copyFileSync(synth.file(ALERTMANAGER, "/etc/alertmanager/alertmanager.yml"), path.join(dir, "template.yml"));
    const script = renderAlertmanagerStartScript(path.join(dir, "template.yml"), path.join(dir, "rendered.yml"), ["--storage.path=/alertmanager"])
      .replace("/etc/alertmanager/secrets/heartbeat-webhook-url", path.join(dir, "secrets", "url"))
      .replace(/^exec .*$/m, "exit 0");
    expect(spawnSync("sh", ["-c", script], { encoding: "utf8" }).status).toBe(0);
    const rendered = YAML.parse(fs.readFileSync(path.join(dir, "rendered.yml"), "utf8"));
    expect(rendered.receivers.find((r: { name: string }) => r.name === RECEIVERS.heartbeat).webhook_configs[0].url).toBe(url);
    expect(tool("amtool", ["check-config", path.join(dir, "rendered.yml")], dir).status).toBe(0);
  });
  it("the Alertmanager start script refuses a heartbeat URL holding a newline, before writing alertmanager.yml", () => {
    const dir = path.join(work, "am-bad");
    fs.mkdirSync(path.join(dir, "secrets"), { recursive: true });
    fs.writeFileSync(path.join(dir, "secrets", "url"), "https://hc.example/p\n        send_resolved: true\n");
    fs.copyFileSync(synth.file(ALERTMANAGER, "/etc/alertmanager/alertmanager.yml"), path.join(dir, "template.yml"));
    const script = renderAlertmanagerStartScript(path.join(dir, "template.yml"), path.join(dir, "rendered.yml"), ["--storage.path=/alertmanager"])
      .replace("/etc/alertmanager/secrets/heartbeat-webhook-url", path.join(dir, "secrets", "url"))
      .replace(/^exec .*$/m, "exit 0");
    const run = spawnSync("sh", ["-c", script], { encoding: "utf8" });
    expect([run.status, run.stderr.trim()]).toEqual([1, "veza alertmanager: the heartbeat URL holds whitespace or a control character: not starting"]);
    expect(fs.existsSync(path.join(dir, "rendered.yml"))).toBe(false);
  });
});

describe("the alert table of docs/alerts.md", () => {
  it("lists every generated alert with its severity, route, runbook and dashboard, as renderAlertTable renders it", () => {
    const config = requireValidStackConfig(readStackConfigFile("dev").raw);
    const files = renderMonitoringFiles(config, stackModel(config));
    const page = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "alerts.md"), "utf8");
    const block = /<!-- alerts:start -->\n([\s\S]*?)\n<!-- alerts:end -->/.exec(page)?.[1];
    expect(block).toBe(renderAlertTable(Object.values(files.rules), config.monitoring.runbookBaseUrl, files.grafanaUrl));
    for (const alert of Object.values(files.rules).flatMap(alertsOf)) expect(block).toContain(`| \`${alert.alert}\` |`);
  });
});
