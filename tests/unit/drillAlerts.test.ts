// Every drill scenario names the alerts its failure must raise on a real Prometheus; a scenario
// that names them and never watched them fails its run.
import { runScenario, SCENARIOS } from "../../drills";
import type { Scenario } from "../../drills/harness/types";
import { AlertWatch, type Alerting, type AlertState } from "../../drills/harness/alerting";
import { renderedAlertNames } from "../helpers/stackAlerts";

describe("drill scenarios and their alerts", () => {
  it("every scenario names the alerts its failure raises", () => {
    expect(SCENARIOS.filter((s) => s.alerts === undefined).map((s) => s.name)).toEqual([]);
  });

  it("names only alerts the stack it drills renders", () => {
    const rendered = (stack: string) => new Set(renderedAlertNames(stack));
    const byStack = { dev: rendered("dev"), prod: rendered("prod") };
    const unknown = SCENARIOS.flatMap((s) =>
      [...(s.alerts?.raises ?? []), ...(s.alerts?.alsoPages ?? [])].filter((name) => !byStack[(s.stack ?? "dev") as "dev" | "prod"].has(name)).map((name) => `${s.name}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it("a scenario that names its alerts and returns no alerts_raised figure fails: it never watched them", async () => {
    const unwatched: Scenario = { name: "master-killed", runbook: "r", targets: [], alerts: { raises: ["RedisUnreachable"] }, run: async () => ({ passed: true, failures: [], figures: {} }) };
    const result = await runScenario(unwatched, { stack: "dev", config: {} as never, short: true, log: () => undefined });
    expect(result.passed).toBe(false);
    expect(result.failures).toEqual(["the scenario names its alerts but did not watch them (no alerts_raised)"]);
  });

  it("a scenario of several runs watched them when each run's figures carry <run>_alerts_raised", async () => {
    const perRun: Scenario = {
      name: "memory-under-fork",
      runbook: "r",
      targets: [],
      alerts: { raises: [] },
      run: async () => ({ passed: true, failures: [], figures: { declared_alerts_raised: "none", runbook_alerts_raised: "none" } }),
    };
    const result = await runScenario(perRun, { stack: "dev", config: {} as never, short: true, log: () => undefined });
    expect(result.failures).toEqual([]);
  });

  it("judges what Prometheus showed: an expected alert seen pending counts, a page fired outside the list fails, a pending one does not", async () => {
    let shown: AlertState[] = [];
    const alerting: Alerting = {
      alerts: async () => shown,
      allExportersUp: async () => true,
      query: async () => [],
      setExporterPassword: async () => undefined,
      pages: ["RedisUnreachable", "RedisNoMaster", "RedisMasterFlapping"],
    };
    const watch = new AlertWatch(alerting);
    shown = [
      { labels: { alertname: "RedisUnreachable", instance: "redis-0" }, state: "pending" },
      { labels: { alertname: "RedisNoMaster" }, state: "pending" },
    ];
    await new Promise((r) => setTimeout(r, 600));
    shown = [
      { labels: { alertname: "RedisMasterFlapping" }, state: "firing" },
      { labels: { alertname: "RedisFailoverHappened" }, state: "firing" },
    ];
    await watch.stop(["RedisMasterFlapping"], 2000);
    const verdict = watch.verdict({ raises: ["RedisUnreachable", "RedisFailoverHappened", "SentinelTilt"] });
    expect(verdict.failures).toEqual(["the failure never raised SentinelTilt on the real Prometheus", "page RedisMasterFlapping fired, which this failure must not page"]);
    expect(verdict.figures.alerts_raised).toMatch(
      /^RedisFailoverHappened\(firing [\d.]+s\) RedisMasterFlapping\(firing [\d.]+s\) RedisNoMaster\(pending [\d.]+s\) RedisUnreachable\(pending [\d.]+s\)$/,
    );
    expect(watch.verdict({ raises: ["RedisUnreachable"], alsoPages: ["RedisMasterFlapping"] }).failures).toEqual([]);
  });
});
