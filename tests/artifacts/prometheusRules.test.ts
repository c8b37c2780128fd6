// The generated monitoring files, as synth writes them, checked by the Prometheus tools:
// promtool check config/rules, promtool test rules (every alert fires on its input series and
// stays silent on a healthy one), amtool check-config and amtool routing.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { requireValidStackConfig } from "../../components/config/validate";
import { computeSizing } from "../../components/redis/sizing";
import { readStackConfigFile, PROJECT_ROOT } from "../../scripts/lib/stackFiles";
import { RECEIVERS } from "../../components/monitoring/alertmanagerConfig";
import { renderPromtoolCheckScript } from "../../components/monitoring/render";
import type { RecordingRule, RuleFile } from "../../components/monitoring/runbooks";
import { synthToDir, type SynthDir } from "../helpers/cli";
import { promtoolTestFile, redisAlertCases, sloAlertCases } from "./promtoolCases";

const PROMETHEUS = "monitoring-prometheus-container";
const ALERTMANAGER = "monitoring-alertmanager-container";

function tool(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 120000 });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

function alertsOf(file: RuleFile) {
  return file.groups.flatMap((g) => g.rules).filter((r): r is Extract<typeof r, { alert: string }> => "alert" in r);
}

describe("monitoring files under promtool and amtool", () => {
  const config = requireValidStackConfig(readStackConfigFile("dev").raw);
  const sizing = computeSizing(config.redis);
  let synth: SynthDir;
  let work: string;
  let redisRules: RuleFile;
  let sloRules: RuleFile;

  beforeAll(() => {
    synth = synthToDir("dev");
    work = path.join(synth.dir, "check");
    fs.mkdirSync(work);
    redisRules = YAML.parse(fs.readFileSync(synth.file(PROMETHEUS, "/etc/prometheus/rules/redis.yml"), "utf8"));
    sloRules = YAML.parse(fs.readFileSync(synth.file(PROMETHEUS, "/etc/prometheus/rules/slo.yml"), "utf8"));
  });
  afterAll(() => fs.rmSync(synth.dir, { recursive: true, force: true }));

  it("promtool accepts the rule files and prometheus.yml", () => {
    const rules = tool("promtool", ["check", "rules", synth.file(PROMETHEUS, "/etc/prometheus/rules/redis.yml"), synth.file(PROMETHEUS, "/etc/prometheus/rules/slo.yml")], work);
    expect(rules.out).toMatch(/SUCCESS: \d+ rules found[\s\S]*SUCCESS: 18 rules found/);
    expect(rules.status).toBe(0);
    const prometheusYml = fs.readFileSync(synth.file(PROMETHEUS, "/etc/prometheus/prometheus.yml"), "utf8").replaceAll("/etc/prometheus/rules", path.dirname(synth.file(PROMETHEUS, "/etc/prometheus/rules/redis.yml")));
    fs.writeFileSync(path.join(work, "prometheus.yml"), prometheusYml);
    const check = tool("promtool", ["check", "config", path.join(work, "prometheus.yml")], work);
    expect(check.out).toContain("SUCCESS: 2 rule files found");
    expect(check.status).toBe(0);
  });

  it("holds exactly the 12 SLO recording rules and 6 burn-rate alerts of the seed commit", () => {
    const rules = sloRules.groups.flatMap((g) => g.rules);
    const records = rules.filter((r): r is RecordingRule => "record" in r).map((r) => `${r.record}{slo=${r.labels?.slo}}`);
    expect(records).toHaveLength(12);
    for (const slo of ["api-availability", "api-latency", "payment-success"]) {
      for (const window of ["5m", "30m", "1h", "6h"]) expect(records).toContain(`slo:sli_error:ratio_rate${window}{slo=${slo}}`);
    }
    expect(alertsOf(sloRules).map((a) => `${a.alert}:${a.labels.severity}`).sort()).toEqual([
      "ApiAvailabilitySLOFastBurn:page", "ApiAvailabilitySLOSlowBurn:ticket", "ApiLatencySLOFastBurn:page",
      "ApiLatencySLOSlowBurn:ticket", "PaymentSuccessSLOFastBurn:page", "PaymentSuccessSLOSlowBurn:ticket",
    ]);
  });

  it("gives every alert a page/ticket severity, a summary, a description and a runbook page that exists", () => {
    const alerts = [...alertsOf(redisRules), ...alertsOf(sloRules)];
    expect(alerts.map((a) => a.alert)).toContain("RedisUnreachable");
    for (const alert of alerts) {
      expect(["page", "ticket"]).toContain(alert.labels.severity);
      expect(alert.annotations.summary.length).toBeGreaterThan(10);
      expect(alert.annotations.description.length).toBeGreaterThan(10);
      const page = alert.annotations.runbook_url.replace(`${config.monitoring.runbookBaseUrl}/`, "");
      expect(fs.existsSync(path.join(PROJECT_ROOT, "docs", "runbooks", page))).toBe(true);
    }
    const unreachable = alerts.find((a) => a.alert === "RedisUnreachable")!;
    expect(unreachable.annotations.description).toMatch(/[Ll]ogins.*fail.*rate limiter fails open.*revoked JWTs are accepted again/);
  });

  it("fires every alert on its input series, on time, and stays silent on healthy series (promtool test rules)", () => {
    // Annotations are templated ($value, $labels); the expressions, `for` and labels are under test.
    for (const [name, file] of [["redis.yml", redisRules], ["slo.yml", sloRules]] as const) {
      const stripped = { groups: file.groups.map((g) => ({ ...g, rules: g.rules.map((r) => ("alert" in r ? { ...r, annotations: {} } : r)) })) };
      fs.writeFileSync(path.join(work, name), YAML.stringify(stripped, { lineWidth: 0 }));
    }
    const perHost = 3; // dev: every data node on the one host
    const cases = redisAlertCases({ sizing, replicas: config.sentinel.replicas, quorum: config.sentinel.quorum, volumeFloorBytes: sizing.rewriteReserveBytes * perHost, dataMountpoint: config.monitoring.dataMountpoint });
    fs.writeFileSync(path.join(work, "redis.test.yml"), YAML.stringify(promtoolTestFile(["redis.yml"], cases), { lineWidth: 0 }));
    fs.writeFileSync(path.join(work, "slo.test.yml"), YAML.stringify(promtoolTestFile(["slo.yml"], sloAlertCases(config.monitoring.slo.paymentRoute)), { lineWidth: 0 }));
    const result = tool("promtool", ["test", "rules", "redis.test.yml", "slo.test.yml"], work);
    expect(result.out).not.toContain("FAILED");
    expect(result.status).toBe(0);

    // Coverage: every generated alert has a case that expects it to fire.
    const fired = new Set([...cases, ...sloAlertCases(config.monitoring.slo.paymentRoute)].filter((c) => c.expectations.some((e) => e.alerts.length > 0)).map((c) => c.alert));
    for (const alert of [...alertsOf(redisRules), ...alertsOf(sloRules)]) expect(fired).toContain(alert.alert);
  });

  it("the promtool gate that runs before Prometheus passes the generated rules and stops on a broken one", () => {
    const good = renderPromtoolCheckScript({ "redis.yml": YAML.stringify(redisRules), "slo.yml": YAML.stringify(sloRules) }).replaceAll("/tmp/", `${work}/gate-`);
    expect(spawnSync("sh", ["-s"], { input: good, encoding: "utf8" }).status).toBe(0);
    const broken = YAML.stringify(redisRules).replace("expr: (redis_up", "expr: (redis_up{{");
    const bad = renderPromtoolCheckScript({ "redis.yml": broken, "slo.yml": YAML.stringify(sloRules) }).replaceAll("/tmp/", `${work}/gate-`);
    const result = spawnSync("sh", ["-s"], { input: bad, encoding: "utf8" });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toMatch(/FAILED|parse error/);
  });

  it("amtool accepts alertmanager.yml; pages reach PagerDuty and Slack, tickets only Slack", () => {
    const file = synth.file(ALERTMANAGER, "/etc/alertmanager/alertmanager.yml");
    const check = tool("amtool", ["check-config", file], work);
    expect(check.out).toContain("SUCCESS");
    expect(check.status).toBe(0);
    const route = (labels: string[]) => tool("amtool", ["config", "routes", "test", `--config.file=${file}`, ...labels], work).out.split("\n").filter((l) => !l.startsWith("Warning")).join("").trim();
    expect(route(["severity=page", "alertname=RedisUnreachable"])).toBe(RECEIVERS.page);
    expect(route(["severity=ticket", "alertname=RedisFailoverHappened"])).toBe(RECEIVERS.ticket);
    expect(tool("amtool", ["config", "routes", "test", `--config.file=${file}`, `--verify.receivers=${RECEIVERS.page}`, "severity=page", "slo=api-latency"], work).status).toBe(0);

    const alertmanager = YAML.parse(fs.readFileSync(file, "utf8"));
    const receiver = (name: string) => alertmanager.receivers.find((r: { name: string }) => r.name === name);
    expect(Object.keys(receiver(RECEIVERS.page)).sort()).toEqual(["name", "pagerduty_configs", "slack_configs"]);
    expect(Object.keys(receiver(RECEIVERS.ticket)).sort()).toEqual(["name", "slack_configs"]);
    expect(alertmanager.route.group_by).toEqual(["alertname", "cluster"]);
    expect(alertmanager.inhibit_rules[0]).toMatchObject({ target_matchers: ['severity="ticket"'], equal: ["slo", "cluster"] });
    // No secret in the file: Slack and PagerDuty credentials are read from secret files.
    expect(fs.readFileSync(file, "utf8")).not.toMatch(/hooks\.slack\.com|routing_key:/);
  });
});
