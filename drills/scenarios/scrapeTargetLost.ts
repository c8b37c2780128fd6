// scrape-target-lost: the alerting goes blind to a target. The stack's monitoring, API and SLO
// rules run on a real Prometheus that scrapes the stand-in API as prometheus.yml does; then the
// API's metrics endpoint dies. Every SLO alert reads it, so they can no longer fire: on-call must
// hear that (TargetDown, SLOBlind), not silence. Watchdog, the heartbeat to the dead man's switch
// outside, must fire throughout.
import * as path from "node:path";
import { AlertCheck, alertState, startAlerting } from "../harness/alerting";
import { freePortRange } from "../harness/processes";
import { startStandinApi, untilStandinAnswers } from "../harness/standinApi";
import { Workspace } from "../harness/workspace";
import { seconds, type Figure, type Scenario } from "../harness/types";

export const scrapeTargetLost: Scenario = {
  name: "scrape-target-lost",
  runbook: "Confirm Redis is actually down: which assumes the alerting can see. A target it cannot scrape must say so",
  targets: [
    { figure: "watchdog_firing", kind: "equals", value: "yes", why: "the heartbeat to the outside dead man's switch fires while the alerting works" },
    { figure: "target_down_raised_s", kind: "at most", value: 10, why: "TargetDown goes pending within a few 1 s scrapes of the target dying" },
  ],
  alerts: { raises: ["TargetDown", "SLOBlind"] },
  run: async (ctx) => {
    const ws = new Workspace("scrape-target-lost");
    let check: AlertCheck | undefined;
    try {
      const port = await freePortRange(1);
      const api = startStandinApi(ws.processes, "api", port, { MAINTENANCE_MODE: "false" }, path.join(ws.tempDir("api"), "api.log"));
      await untilStandinAnswers(port);
      // A read and an order: every SLO's input series exists, as under the API's real traffic.
      for (const method of ["GET", "POST"]) await fetch(`http://127.0.0.1:${port}/api/v1/orders`, { method, signal: AbortSignal.timeout(5000) });
      const alerting = await startAlerting({
        config: ctx.config,
        exporters: [],
        exporterPassword: "",
        dir: ws.tempDir("alerting"),
        processes: ws.processes,
        prometheus: { address: "127.0.0.1", port: await freePortRange(1) },
        ruleFamilies: ["monitoring", "api", "slo"],
        apiAddress: `127.0.0.1:${port}`,
      });
      check = await AlertCheck.begin(alerting, ctx.alerts ?? { raises: [] });
      const watchdog = alertState(await alerting.alerts(), "Watchdog") === "firing";
      const stopped = Date.now();
      ws.processes.signal(api, "SIGKILL");
      const targetDown = await check.firstSeen("TargetDown", "pending", 30000);
      await check.untilRaised(30000);
      const alerts = await check.verdict();
      check = undefined;
      const figures: Record<string, Figure> = {
        ...alerts.figures,
        watchdog_firing: watchdog ? "yes" : "no",
        target_down_raised_s: targetDown === undefined ? "not raised" : seconds(targetDown - stopped),
      };
      return { passed: alerts.failures.length === 0, failures: alerts.failures, figures };
    } finally {
      await check?.stop();
      await ws.cleanup();
    }
  },
};
