// incident-toggle: the runbook's mitigation ("flip MAINTENANCE_MODE=true ... and restart") applied
// to a running API with requests in flight, through what `pulumi up` runs, in both API modes:
// - container: the preset replaces api-container; the provider's delete stops it with
//   destroyGraceSeconds (SIGTERM, then SIGKILL) and the create starts one with the plan's envs;
// - external: api-incident-toggles runs its stdin script with the toggles file's directory at
//   /data (the one-shot container), then its restart (`docker restart --time N`: SIGTERM, N s,
//   SIGKILL, start), and the API's entrypoint loads the file.
// The API is the stand-in (images/api-standin) with the image's own entrypoint and script.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { TOGGLES_WRITER_MOUNT } from "../../components/api/env";
import type { Plan } from "../../lib/plan";
import { AlertCheck, startAlerting } from "../harness/alerting";
import { synthPlan } from "../harness/planOrder";
import { freePortRange, sleep, waitFor, type TrackedProcess } from "../harness/processes";
import { startStandinApi, untilStandinAnswers } from "../harness/standinApi";
import { Workspace } from "../harness/workspace";
import { namedPart, seconds, type DrillContext, type Figure, type Scenario } from "../harness/types";

type ApiMode = "container" | "external";

interface Request {
  start: number;
  end?: number;
  status?: number;
  error?: string;
}

function resourceInputs(plan: Plan, name: string): Record<string, unknown> {
  const resource = plan.resources.find((r) => r.name === name);
  if (!resource) throw new Error(`the plan has no ${name}`);
  return resource.inputs as Record<string, unknown>;
}

/** api-container's `envs` as the container gets them. */
function containerEnv(plan: Plan): Record<string, string> {
  const envs = resourceInputs(plan, "api-container").envs as string[];
  return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

/** What api-incident-toggles runs: the writer's host directory and script, and the restart's grace. */
export function togglesCommand(plan: Plan): { directory: string; script: string; graceSeconds: number } {
  const inputs = resourceInputs(plan, "api-incident-toggles");
  const create = String(inputs.create);
  const mount = new RegExp(`-v '([^']+):${TOGGLES_WRITER_MOUNT}'`).exec(create);
  const restart = / && docker restart --time (\d+) 'veza-backend-api'$/.exec(create);
  if (!mount || !restart) throw new Error(`api-incident-toggles runs ${JSON.stringify(create)}: the drill replays the default restart of veza-backend-api only`);
  return { directory: mount[1], script: String(inputs.stdin), graceSeconds: Number(restart[1]) };
}

/** The provider's stop: SIGTERM, up to `graceSeconds` for the process to exit, then SIGKILL. */
async function stopWithGrace(ws: Workspace, api: TrackedProcess, graceSeconds: number): Promise<void> {
  const exited = new Promise<void>((resolve) => (api.child.exitCode !== null || api.child.signalCode !== null ? resolve() : api.child.once("exit", () => resolve())));
  ws.processes.signal(api, "SIGTERM");
  const timer = setTimeout(() => ws.processes.signal(api, "SIGKILL"), graceSeconds * 1000);
  await exited;
  clearTimeout(timer);
}

function get(port: number, route: string, method = "GET"): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path: route, method, agent: false, timeout: 20000 }, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode ?? 0 }));
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error("timeout")));
    request.on("error", reject);
    request.end();
  });
}

/**
 * Requests as the API's users send them: a fast read every 25 ms, a 1.5 s read every 250 ms, and
 * an order (the payment SLO's POST, a write for the latency SLO) every 100 ms: every SLO has input.
 */
function startLoad(port: number) {
  const requests: Request[] = [];
  const send = (route: string, method = "GET") => {
    const request: Request = { start: Date.now() };
    requests.push(request);
    get(port, route, method).then(
      (r) => Object.assign(request, { end: Date.now(), status: r.status }),
      (error: NodeJS.ErrnoException) => Object.assign(request, { end: Date.now(), error: error.code ?? error.message }),
    );
  };
  const fast = setInterval(() => send("/api/v1/tracks"), 25);
  const slow = setInterval(() => send("/api/v1/orders?delay_ms=1500"), 250);
  const orders = setInterval(() => send("/api/v1/orders", "POST"), 100);
  return {
    requests,
    async stop() {
      clearInterval(fast);
      clearInterval(slow);
      clearInterval(orders);
      await waitFor("the last requests to end", () => requests.every((r) => r.end !== undefined), 30000, 50);
    },
  };
}

/** The first response of the wanted status to a request sent after `since`, as ms after it. */
async function firstAnswer(requests: Request[], since: number, status: number): Promise<number> {
  const answered = await waitFor(`an answer ${status} after the switch`, () => requests.find((r) => r.start >= since && r.status === status), 30000, 20);
  return answered.end! - since;
}

/** Figures of one switch: what was in flight at the SIGTERM, and how those requests ended. */
function atSwitch(requests: Request[], sigterm: number) {
  const inFlight = requests.filter((r) => r.start < sigterm && (r.end === undefined || r.end > sigterm));
  return {
    inFlight: inFlight.length,
    // Accepted, then cut: a reset or an empty reply instead of an answer.
    cut: inFlight.filter((r) => r.error !== undefined && r.error !== "ECONNREFUSED").length,
  };
}

/** `stopGraceSeconds`: replaces the plan's grace (0: the provider's default before the API had one). */
async function runMode(ws: Workspace, ctx: DrillContext, mode: ApiMode, stopGraceSeconds?: number) {
  const { stack, short } = ctx;
  const dir = ws.tempDir(mode);
  const port = await freePortRange(1);
  const togglesFile = path.join(dir, "etc", "backend-api-toggles.env");
  fs.mkdirSync(path.dirname(togglesFile));
  const overrides = mode === "container" ? ["api.mode=container"] : ["api.mode=external", "api.metrics.address=127.0.0.1:8080", `api.togglesFile=${togglesFile}`];
  const plan = (incident: string) => synthPlan(stack, [...overrides, `incident=${incident}`], ws.tempDir(`${mode}-plan-${incident}`));
  const calm = plan("none");
  const incident = plan("redis-down");
  let run = 0;
  const startApi = (env: Record<string, string>): TrackedProcess => {
    run++;
    return startStandinApi(ws.processes, `api-${mode}-${run}`, port, env, path.join(dir, `api-${run}.log`));
  };
  // What `up` does to the API for a plan: the container replaced, or the file written and the API restarted.
  let current: TrackedProcess | undefined;
  const apply = async (target: Plan): Promise<number> => {
    let grace: number;
    let env: Record<string, string>;
    if (mode === "container") {
      grace = Number(resourceInputs(target, "api-container").destroyGraceSeconds ?? 0);
      env = { ...containerEnv(target), VEZA_TOGGLES_FILE: "/nonexistent" };
    } else {
      const command = togglesCommand(target);
      ws.mountPoint(TOGGLES_WRITER_MOUNT);
      const written = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", `mount --bind "$1" ${TOGGLES_WRITER_MOUNT} && exec sh -s`, "writer", command.directory], {
        input: command.script,
        encoding: "utf8",
      });
      if (written.status !== 0) throw new Error(`the toggles writer failed: ${written.stderr.trim()}`);
      grace = command.graceSeconds;
      env = { VEZA_TOGGLES_FILE: togglesFile };
    }
    const sigterm = Date.now();
    if (current) await stopWithGrace(ws, current, stopGraceSeconds ?? grace);
    current = startApi(env);
    return sigterm;
  };
  await apply(calm);
  await untilStandinAnswers(port);
  const load = startLoad(port);
  let check: AlertCheck | undefined;
  try {
    // The stack's SLO and SLO-input rules on a Prometheus scraping the API as prometheus.yml does,
    // once every SLO's input series exists (the first order is answered within 100 ms).
    if (ctx.alerts) {
      await waitFor("an order answered", () => load.requests.some((r) => r.status === 200), 5000, 20);
      const alerting = await startAlerting({
        config: ctx.config,
        exporters: [],
        exporterPassword: "",
        dir: ws.tempDir(`${mode}-alerting`),
        processes: ws.processes,
        prometheus: { address: "127.0.0.1", port: await freePortRange(1) },
        ruleFamilies: ["slo", "api"],
        apiAddress: `127.0.0.1:${port}`,
      });
      check = await AlertCheck.begin(alerting, ctx.alerts);
    }
    return await switchUnderLoad(load, apply, calm, incident, short, check, async () => {
      if (current) await stopWithGrace(ws, current, 5);
    });
  } finally {
    await check?.stop();
    await load.stop();
  }
}

/** The incident's up and the calm's up under the load, then the figures of both switches. */
async function switchUnderLoad(
  load: ReturnType<typeof startLoad>,
  apply: (target: Plan) => Promise<number>,
  calm: Plan,
  incident: Plan,
  short: boolean,
  check: AlertCheck | undefined,
  stopApi: () => Promise<void>,
) {
  const settle = short ? 1500 : 4000;
  await sleep(settle);
  const entered = await apply(incident);
  const maintenanceAfter = await firstAnswer(load.requests, entered, 503);
  await sleep(settle);
  // Burn rates need two scrapes of the 503s: a short maintenance could end before them.
  await check?.untilRaised(20000);
  const left = await apply(calm);
  const normalAfter = await firstAnswer(load.requests, left, 200);
  await sleep(1000);
  await load.stop();
  // Judged before the API stops: its scrape failing is the drill's end, not the incident's.
  const alerts = await check?.verdict();
  await stopApi();
  const switches = [atSwitch(load.requests, entered), atSwitch(load.requests, left)];
  const figures: Record<string, Figure> = {
    ...alerts?.figures,
    maintenance_after_s: seconds(maintenanceAfter),
    back_to_normal_s: seconds(normalAfter),
    in_flight_at_switches: switches.reduce((sum, s) => sum + s.inFlight, 0),
    cut_requests: switches.reduce((sum, s) => sum + s.cut, 0),
    refused_during_restarts: load.requests.filter((r) => r.error === "ECONNREFUSED").length,
    requests: load.requests.length,
  };
  return { figures, failures: alerts?.failures ?? [] };
}

export const incidentToggle: Scenario = {
  name: "incident-toggle",
  runbook: "Mitigation while Redis is down: flip MAINTENANCE_MODE=true and RATELIMIT_FAIL_CLOSED=true in the API env and restart",
  // Maintenance answers 503 to every read and order: the availability and payment budgets burn
  // at once, and on-call is paged for what the preset costs (the Redis-down pages aside).
  alerts: { raises: ["ApiAvailabilitySLOFastBurn", "PaymentSuccessSLOFastBurn"] },
  targets: (["container", "external"] as const).flatMap((mode) => [
    { figure: `${mode}_cut_requests`, kind: "equals" as const, value: 0, why: `${mode} mode: every request in flight when the API is stopped finishes (its stop grace)` },
    { figure: `${mode}_in_flight_at_switches`, kind: "at least" as const, value: 1, why: `${mode} mode: requests were in flight at the switches, so the grace was exercised` },
    { figure: `${mode}_maintenance_after_s`, kind: "at most" as const, value: 5, why: `${mode} mode: the API answers in maintenance within seconds of the up (its slowest request takes 1.5 s)` },
    { figure: `${mode}_back_to_normal_s`, kind: "at most" as const, value: 5, why: `${mode} mode: leaving the incident takes the same path back` },
  ]),
  run: async (ctx) => {
    const figures: Record<string, Figure> = {};
    const failures: string[] = [];
    for (const mode of ["container", "external"] as const) {
      const ws = new Workspace(`incident-toggle-${mode}`);
      try {
        const outcome = namedPart(mode, await runMode(ws, ctx, mode), `${mode} mode`);
        Object.assign(figures, outcome.figures);
        failures.push(...outcome.failures);
      } finally {
        await ws.cleanup();
      }
    }
    // The targets judge every figure; the alerts judged themselves.
    return { passed: failures.length === 0, failures, figures };
  },
};

/**
 * The container mode as it was before the API had a stop grace (the provider's destroyGraceSeconds
 * defaults to 0 s: SIGKILL at once). Not a scenario of `npm run drill`: the test shows with it that
 * the drill sees requests cut.
 */
export const incidentToggleWithoutGrace: Scenario = {
  name: "incident-toggle-without-grace",
  runbook: incidentToggle.runbook,
  targets: incidentToggle.targets.filter((t) => t.figure.startsWith("container_")),
  run: async (ctx) => {
    const ws = new Workspace("incident-toggle-nograce");
    try {
      const { figures, failures } = namedPart("container", await runMode(ws, ctx, "container", 0), "container mode");
      return { passed: failures.length === 0, failures, figures };
    } finally {
      await ws.cleanup();
    }
  },
};
