// npm run soak -- [--runs N] [--burn-core K] [--out <dir>]
// Is the gate trustworthy? Runs `bash .ci/run` N times, each from a fresh clone of the committed
// HEAD (as CI does; the commit HEAD was at the start), the last K of them with a busy loop holding one core for the whole run, and
// prints each run's time, test counts and memory-under-fork figures. Not part of npm test: one
// run takes about as long as CI.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseOrHelp, UsageError, type CommandSpec } from "./lib/args";
import { PROJECT_ROOT } from "../lib/stackFiles";
import { soakRow, soakTable, type SoakRun } from "./lib/soakReport";

const SPEC: CommandSpec = {
  name: "soak",
  invocation: "npm run soak --",
  summary: "Runs `bash .ci/run` from fresh clones of HEAD, some with one core taken by a busy loop, and prints each run's time, test counts and memory-under-fork figures.",
  options: {
    runs: { type: "string", value: "<N>", default: "5", description: "runs of .ci/run, 1..20" },
    "burn-core": { type: "string", value: "<K>", default: "0", description: "how many of the runs (the last K) have a busy loop on one core throughout" },
    out: { type: "string", value: "<dir>", description: "keep each run's log here (default: a temp dir, printed)" },
    "timeout-minutes": { type: "string", value: "<M>", default: "90", description: "a run still going after this is stopped and counted as failed (CI's own limit)" },
  },
  finding: "a failed run",
};

function count(option: string, text: string, lowest: number, highest: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < lowest || value > highest) throw new UsageError(`--${option} ${text}: allowed ${lowest}..${highest}`);
  return value;
}

/** A busy loop on one core, stopped by PID; node itself, so no tool is needed for it. */
function startBurner() {
  return spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
}

function runOnce(clone: string, logFile: string, timeoutMs: number): Promise<{ code: number | null; seconds: number }> {
  const log = fs.openSync(logFile, "w");
  const started = Date.now();
  // CI's environment: CI=true, no standard input; its own process group so that a timeout stops all of it.
  const ci = spawn("bash", [".ci/run"], { cwd: clone, stdio: ["ignore", log, log], env: { ...process.env, CI: "true" }, detached: true });
  fs.closeSync(log);
  const timer = setTimeout(() => {
    try {
      process.kill(-ci.pid!, "SIGKILL");
    } catch {
      /* already gone */
    }
  }, timeoutMs);
  return new Promise((resolve) =>
    ci.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, seconds: Math.round((Date.now() - started) / 1000) });
    }),
  );
}

async function main(): Promise<number> {
  const parsed = parseOrHelp(SPEC);
  if (!parsed) return 0;
  const values = parsed.values as Record<string, string | undefined>;
  const runs = count("runs", values.runs!, 1, 20);
  const burned = count("burn-core", values["burn-core"]!, 0, runs);
  const timeoutMs = count("timeout-minutes", values["timeout-minutes"]!, 1, 600) * 60000;
  const out = values.out ? path.resolve(values.out) : fs.mkdtempSync(path.join(os.tmpdir(), "veza-soak-"));
  fs.mkdirSync(out, { recursive: true });
  // Every run tests this commit, even if HEAD moves while the soak runs.
  const commit = spawnSync("git", ["rev-parse", "HEAD"], { cwd: PROJECT_ROOT, encoding: "utf8" }).stdout.trim();
  const head = commit.slice(0, 7);
  if (spawnSync("git", ["status", "--porcelain"], { cwd: PROJECT_ROOT, encoding: "utf8" }).stdout.trim() !== "") {
    process.stdout.write(`soak: the work tree has uncommitted changes; the runs test the committed ${head} only\n`);
  }
  process.stdout.write(`soak: ${runs} runs of .ci/run at ${head} (the last ${burned} with one core busy), logs in ${out}\n`);
  const results: SoakRun[] = [];
  for (let i = 1; i <= runs; i++) {
    const clone = fs.mkdtempSync(path.join(os.tmpdir(), "veza-soak-clone-"));
    const logFile = path.join(out, `run-${i}.log`);
    const burn = i > runs - burned;
    const burner = burn ? startBurner() : undefined;
    try {
      const cloned = spawnSync("git", ["clone", "--quiet", PROJECT_ROOT, clone], { encoding: "utf8" });
      if (cloned.status !== 0) throw new Error(`git clone failed: ${cloned.stderr.trim()}`);
      const checkedOut = spawnSync("git", ["-C", clone, "checkout", "--quiet", commit], { encoding: "utf8" });
      if (checkedOut.status !== 0) throw new Error(`git checkout ${head} failed: ${checkedOut.stderr.trim()}`);
      const { code, seconds } = await runOnce(clone, logFile, timeoutMs);
      results.push(soakRow(i, burn, code, seconds, fs.readFileSync(logFile, "utf8")));
      process.stdout.write(`soak: run ${i}/${runs}${burn ? " (core burned)" : ""}: ${code === 0 ? "pass" : `FAIL (exit ${code})`} in ${seconds} s\n`);
    } finally {
      burner?.kill("SIGKILL");
      fs.rmSync(clone, { recursive: true, force: true });
    }
  }
  process.stdout.write(`\n${soakTable(head, results)}\n`);
  return results.every((r) => r.passed) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
