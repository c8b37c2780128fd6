// Real processes for tests and drills: started as children, tracked by PID, always stopped.

import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as net from "node:net";
import { redisCliTlsArguments, type ClientTlsFiles } from "../../components/tls/certificates";

export interface TrackedProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
}

/** Every process started through it is killed by PID on stop(), on exit and on Ctrl-C. */
export class ProcessGroup {
  private readonly processes = new Map<number, TrackedProcess>();
  private readonly terminatedFirst = new Set<number>();
  private readonly onSignal = () => {
    this.killAll();
    process.exit(130);
  };
  private readonly onExit = () => this.killAll();

  /** handleSignals: false when an owner (a drill Workspace) handles Ctrl-C and cleans up itself. */
  constructor(handleSignals = true) {
    if (handleSignals) {
      process.on("SIGINT", this.onSignal);
      process.on("SIGTERM", this.onSignal);
    }
    process.on("exit", this.onExit);
  }

  /** uid: run as that user and group id (a partition drill tells its sides apart by the socket's owner). */
  start(name: string, command: string, args: string[], logFile: string, uid?: number): TrackedProcess {
    const log = fs.openSync(logFile, "a");
    // cwd beside the log: every process is then traceable to its drill's temp dir via /proc/<pid>/cwd.
    const child = spawn(command, args, { stdio: ["ignore", log, log], detached: false, cwd: path.dirname(logFile), ...(uid === undefined ? {} : { uid, gid: uid }) });
    fs.closeSync(log);
    if (child.pid === undefined) throw new Error(`${name}: ${command} did not start`);
    const tracked = { name, child, pid: child.pid, logFile };
    this.processes.set(child.pid, tracked);
    child.on("exit", () => this.processes.delete(child.pid!));
    return tracked;
  }

  signal(tracked: TrackedProcess, signal: NodeJS.Signals): void {
    try {
      process.kill(tracked.pid, signal);
    } catch {
      /* already gone */
    }
  }

  async kill9(tracked: TrackedProcess): Promise<void> {
    const exited = new Promise<void>((resolve) => (tracked.child.exitCode !== null || tracked.child.signalCode !== null ? resolve() : tracked.child.once("exit", () => resolve())));
    this.signal(tracked, "SIGKILL");
    await exited;
  }

  alive(): TrackedProcess[] {
    return [...this.processes.values()];
  }

  /** A server that stops its own children (nginx's master its workers): SIGTERM and a wait before any SIGKILL. */
  terminateFirst(tracked: TrackedProcess): void {
    this.terminatedFirst.add(tracked.pid);
  }

  killAll(): void {
    for (const pid of this.terminatedFirst) if (this.processes.has(pid)) terminateAndWaitSync(pid);
    for (const tracked of this.processes.values()) {
      // A stopped process must be continued to die promptly on SIGKILL's siblings; SIGKILL works regardless.
      this.signal(tracked, "SIGCONT");
      this.signal(tracked, "SIGKILL");
    }
  }

  async stop(): Promise<void> {
    const waits = this.alive().map(
      (t) =>
        new Promise<void>((resolve) => {
          if (t.child.exitCode !== null || t.child.signalCode !== null) return resolve();
          t.child.once("exit", () => resolve());
        }),
    );
    this.killAll();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(waits), new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
    process.off("exit", this.onExit);
  }
}

/** Whether a process is gone or a zombie (exited, not yet reaped by its parent). */
export function processExited(pid: number): boolean {
  try {
    return fs
      .readFileSync(`/proc/${pid}/stat`, "utf8")
      .replace(/^.*\) /s, "")
      .startsWith("Z");
  } catch {
    return true;
  }
}

/**
 * SIGTERM and a synchronous wait (SIGKILL after `timeoutMs`), for a server that stops its own
 * children: nginx's master ends its workers on SIGTERM, while a SIGKILL leaves them running, owned
 * by init. Synchronous, so a workspace's cleanup steps can run it before the SIGKILL of the rest.
 */
export function terminateAndWaitSync(pid: number, timeoutMs = 5000): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  try {
    // A stopped process takes SIGTERM only once continued.
    process.kill(pid, "SIGCONT");
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  for (const deadline = Date.now() + timeoutMs; !processExited(pid) && Date.now() < deadline;) Atomics.wait(pause, 0, 0, 50);
  try {
    if (!processExited(pid)) process.kill(pid, "SIGKILL");
  } catch {
    /* already gone */
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface CliAuth {
  user?: string;
  password?: string;
  /** TLS with this CA bundle and client certificate (components/tls/certificates.ts). */
  tls?: ClientTlsFiles;
}

/** redis-cli against 127.0.0.1 (or a drill host's address); the password travels in REDISCLI_AUTH, never on the command line. */
export interface CliResult {
  status: number | null;
  out: string;
}

/** redis-cli's arguments and options for one call; shared by the sync and async forms. */
function cliInvocation(port: number, args: string[], auth: CliAuth, timeoutMs: number, host: string) {
  return {
    args: ["-h", host, "-p", String(port), ...(auth.tls ? redisCliTlsArguments(auth.tls) : []), ...(auth.user ? ["--user", auth.user] : []), "--no-auth-warning", ...args],
    options: { env: { ...process.env, ...(auth.password ? { REDISCLI_AUTH: auth.password } : {}) }, encoding: "utf8" as const, timeout: timeoutMs },
  };
}

const cliOutput = (stdout: string | undefined, stderr: string | undefined) => `${stdout ?? ""}${stderr ?? ""}`.trim();

export function redisCli(port: number, args: string[], auth: CliAuth = {}, timeoutMs = 5000, host = "127.0.0.1"): CliResult {
  const call = cliInvocation(port, args, auth, timeoutMs, host);
  const result = spawnSync("redis-cli", call.args, call.options);
  return { status: result.status, out: cliOutput(result.stdout, result.stderr) };
}

/**
 * redis-cli without blocking the event loop: what probes must use while a client under test
 * runs in this process (spawnSync in a 20 ms polling loop starves its sockets and timers).
 */
export function redisCliAsync(port: number, args: string[], auth: CliAuth = {}, timeoutMs = 5000, host = "127.0.0.1"): Promise<CliResult> {
  const call = cliInvocation(port, args, auth, timeoutMs, host);
  return new Promise((resolve) => {
    execFile("redis-cli", call.args, call.options, (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === "number" ? error.code : 1) : 0, out: cliOutput(stdout, stderr) }));
  });
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * Where drill ports are chosen: above the default Redis ports and below the kernel's ephemeral
 * range (a client's outgoing connection took a drill's port there once: "Address already in
 * use"), and, for jest workers running drill files side by side, a share of it per worker.
 */
export function drillPortWindow(ephemeralStart = ephemeralPortStart(), workerId = process.env.JEST_WORKER_ID): { from: number; to: number } {
  const from = 10000;
  const to = Math.max(from + 2000, ephemeralStart - 100);
  if (!workerId) return { from, to };
  const shares = 4;
  const share = Math.floor((to - from) / shares);
  const index = (Number(workerId) - 1) % shares;
  return { from: from + index * share, to: from + (index + 1) * share };
}

function ephemeralPortStart(): number {
  try {
    return Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/** A base port with `count` free consecutive ports after it, in this process's drill port window. */
export async function freePortRange(count: number): Promise<number> {
  const window = drillPortWindow();
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = window.from + Math.floor(Math.random() * (window.to - window.from - count));
    const checks = await Promise.all(Array.from({ length: count }, (_, i) => portFree(base + i)));
    if (checks.every(Boolean)) return base;
  }
  throw new Error(`no ${count} free consecutive ports found on 127.0.0.1`);
}

/**
 * `fn` over `items`, at most `concurrency` at a time, results in order. For the drills' bursts of
 * fresh TLS connections: Node runs each handshake's cryptography on the event loop the writers
 * share, and a hundred started at once blocked it for up to 1.9 s (measured).
 */
export async function inTurns<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
