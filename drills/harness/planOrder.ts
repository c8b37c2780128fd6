// What the drills replay: the engine's order for the Redis-family containers, computed from
// synth's plan.json by the same model plan-diff prints (lib/engineOrder.ts).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { replacementOrder, type Operation } from "../../lib/engineOrder";
import { PROJECT_ROOT } from "../../lib/stackFiles";
import type { Plan } from "../../lib/plan";

const synthesized = new Map<string, Plan>();

/**
 * Synthesizes a stack in a child process (the Pulumi runtime is process-global); the same stack
 * and overrides are synthesized once per process (the program and config do not change meanwhile).
 */
export function synthPlan(stack: string, overrides: string[], outDir: string): Plan {
  const key = JSON.stringify([stack, overrides]);
  const known = synthesized.get(key);
  if (known) return known;
  const result = spawnSync(
    path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx"),
    [path.join(PROJECT_ROOT, "scripts", "synth.ts"), "--stack", stack, ...overrides.flatMap((o) => ["--config", o]), "--out", outDir],
    { cwd: PROJECT_ROOT, encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(`synth --stack ${stack} ${overrides.join(" ")} failed: ${result.stderr.trim()}`);
  const plan = JSON.parse(fs.readFileSync(path.join(outDir, "plan.json"), "utf8")) as Plan;
  synthesized.set(key, plan);
  return plan;
}

const REDIS_FAMILY = /^(redis|sentinel)-\d+-container$/;

/** One engine step's container work: chains that run at the same time, each one container's delete and/or create. */
export type ContainerStep = Operation[][];

/**
 * The engine steps that touch Redis or Sentinel containers, in order, keeping only those
 * operations. A step with two chains means two containers replaced at once.
 */
export function containerSteps(before: Plan, after: Plan): ContainerStep[] {
  return replacementOrder(before, after)
    .map((step) => step.chains.map((chain) => chain.filter((op) => op.type === "docker:index/container:Container" && REDIS_FAMILY.test(op.name))).filter((chain) => chain.length > 0))
    .filter((chains) => chains.length > 0);
}

/** The first `pulumi up`: every resource created, from nothing. */
export const EMPTY_PLAN = (stack: string): Plan => ({ stack, resources: [], outputs: {} });

/** redis-2-container -> redis-2 */
export const containerSlotName = (resourceName: string) => resourceName.replace(/-container$/, "");
