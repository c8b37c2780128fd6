// The dev stack's stand-in API (images/api-standin), run as the image runs it: entrypoint.sh
// loading the toggles file, then standin.py under Debian's python3, the version the image pins.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { API_STANDIN_CONTEXT, STANDIN_PYTHON_DEBIAN_VERSION } from "../../components/images/standinImage";
import { freePortRange, waitFor } from "../../drills/harness/processes";
import { untilStandinAnswers } from "../../drills/harness/standinApi";
import { PROJECT_ROOT } from "../../lib/stackFiles";
import { cleanedTempDirs } from "../helpers/tempDirs";

const tempDir = cleanedTempDirs();
const context = path.join(PROJECT_ROOT, API_STANDIN_CONTEXT);

function get(port: number, route: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: route, agent: false, timeout: 10000 }, (response) => {
        let body = "";
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

/** The entrypoint with a clean environment, as a container starts it; stopped by PID at the end. */
function startStandin(port: number, togglesFile: string, env: Record<string, string> = {}): ChildProcess {
  return spawn("/bin/sh", [path.join(context, "entrypoint.sh")], {
    env: { PATH: "/usr/bin:/bin", API_PORT: String(port), VEZA_TOGGLES_FILE: togglesFile, VEZA_STANDIN: path.join(context, "standin.py"), ...env },
    stdio: "ignore",
  });
}

/** The status line, or the error code, of one request on its own connection. */
function rawRequest(port: number): Promise<string> {
  return new Promise((resolve) => {
    let answer = "";
    const socket = net.connect({ host: "127.0.0.1", port }, () => socket.write("GET /api/v1/tracks HTTP/1.0\r\n\r\n"));
    socket.setTimeout(10000, () => socket.destroy(new Error("timeout")));
    socket.on("data", (chunk) => (answer += chunk));
    socket.on("end", () => resolve(answer.split("\r\n")[0]));
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** The entrypoint execs python3: the same PID once the exec happened. */
function pythonChild(pid: number): number | undefined {
  const command = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  return command.startsWith("python3") ? pid : undefined;
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code))));

describe("the stand-in API", () => {
  const running: ChildProcess[] = [];
  afterEach(() => running.splice(0).forEach((child) => child.kill("SIGKILL")));

  it("runs on the python3 the image pins (Debian's python3-minimal)", () => {
    const installed = spawnSync("dpkg-query", ["-W", "-f", "${Version}", "python3-minimal"], { encoding: "utf8" });
    expect(installed.stdout).toBe(STANDIN_PYTHON_DEBIAN_VERSION);
    expect(fs.readFileSync(path.join(context, "Dockerfile"), "utf8")).toContain('"python3-minimal=${PYTHON_VERSION}"');
  });

  it("reads the toggles file at start: 503 maintenance while MAINTENANCE_MODE is true, and /health says which toggles it runs with", async () => {
    const port = await freePortRange(1);
    const toggles = path.join(tempDir("veza-standin-"), "toggles.env");
    fs.writeFileSync(toggles, "# a comment, as the stack writes it\nMAINTENANCE_MODE=true\nRATELIMIT_FAIL_CLOSED=true\n");
    running.push(startStandin(port, toggles));
    await untilStandinAnswers(port);
    expect(await get(port, "/api/v1/tracks")).toEqual({ status: 503, body: "maintenance" });
    expect(JSON.parse((await get(port, "/health")).body)).toMatchObject({ maintenance: true, ratelimitFailClosed: true });
    expect((await get(port, "/metrics")).body).toMatch(/^http_requests_total\{method="GET",route="\/api\/v1\/tracks",status="503"\} 1$/m);
  });

  it("on SIGTERM refuses new connections but finishes the request in flight, then exits 0", async () => {
    const port = await freePortRange(1);
    const standin = startStandin(port, "/nonexistent", { MAINTENANCE_MODE: "false" });
    running.push(standin);
    await untilStandinAnswers(port);
    const slow = get(port, "/api/v1/orders?delay_ms=1500");
    await new Promise((resolve) => setTimeout(resolve, 300));
    standin.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(get(port, "/health")).rejects.toThrow(/ECONNREFUSED/);
    expect(await slow).toEqual({ status: 200, body: "ok" });
    expect(await exited(standin)).toBe(0);
  });

  it("on SIGTERM answers the connections still waiting in the accept queue instead of resetting them", async () => {
    const port = await freePortRange(1);
    const standin = startStandin(port, "/nonexistent", { MAINTENANCE_MODE: "false" });
    running.push(standin);
    await untilStandinAnswers(port);
    // Frozen, it accepts nothing: the kernel completes these connections and queues them (the
    // listen backlog is 5), and each sends its request. Then the stop arrives before the loop runs.
    const python = await waitFor("the python process", () => pythonChild(standin.pid!), 5000, 20);
    process.kill(python, "SIGSTOP");
    const queued = Array.from({ length: 5 }, () => rawRequest(port));
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(python, "SIGTERM");
    process.kill(python, "SIGCONT");
    expect(await Promise.all(queued)).toEqual(Array(5).fill("HTTP/1.0 200 OK"));
    expect(await exited(standin)).toBe(0);
  });

  it("exports what the stack's SLO rules read: promtool accepts its /metrics, and a read, a slow read and an order fill the latency histogram's buckets", async () => {
    const port = await freePortRange(1);
    running.push(startStandin(port, "/nonexistent", { MAINTENANCE_MODE: "false" }));
    await untilStandinAnswers(port);
    await get(port, "/api/v1/tracks");
    await get(port, "/api/v1/tracks?delay_ms=600");
    await new Promise<void>((resolve, reject) =>
      http
        .request({ host: "127.0.0.1", port, path: "/api/v1/orders", method: "POST", agent: false }, (r) => r.resume().on("end", resolve))
        .on("error", reject)
        .end(),
    );
    const metrics = (await get(port, "/metrics")).body;
    const checked = spawnSync("promtool", ["check", "metrics"], { input: metrics, encoding: "utf8" });
    expect({ status: checked.status, output: checked.stdout + checked.stderr }).toEqual({ status: 0, output: "" });
    // The defaults of monitoring.slo: the 0.5 s threshold is a bucket, and the 600 ms read is above it.
    expect(metrics).toMatch(/^http_request_duration_seconds_bucket\{method="GET",route="\/api\/v1\/tracks",le="0.5"\} 1$/m);
    expect(metrics).toMatch(/^http_request_duration_seconds_bucket\{method="GET",route="\/api\/v1\/tracks",le="\+Inf"\} 2$/m);
    expect(metrics).toMatch(/^http_request_duration_seconds_bucket\{method="POST",route="\/api\/v1\/orders",le="0.5"\} 1$/m);
    expect(metrics).toMatch(/^http_requests_total\{method="POST",route="\/api\/v1\/orders",status="200"\} 1$/m);
  });

  it("refuses a toggle that is neither true nor false, naming it", () => {
    const result = spawnSync("/usr/bin/python3", [path.join(context, "standin.py")], { env: { MAINTENANCE_MODE: "yes" }, encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe("standin: MAINTENANCE_MODE='yes': allowed true or false\n");
  });
});
