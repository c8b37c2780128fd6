// The cluster scenarios' shared run: a LocalCluster rendered from the stack in a workspace of its
// own, torn down with its clients whatever the body does, and the helpers their writers need.
import type Redis from "ioredis";
import { LocalCluster } from "./localCluster";
import { waitFor } from "./processes";
import { Workspace } from "./workspace";
import type { SteadyWriter } from "./writer";
import type { DrillContext, DrillResult, Figure } from "./types";
import { AlertCheck } from "./alerting";

type Outcome = Omit<DrillResult, "scenario" | "runbook">;

/**
 * beforeStart: what must be in place before the first process starts (users, packet marks).
 * options.tls: the cluster, its exporters and its clients on TLS with client certificates.
 * With the scenario's alerts in ctx, an exporter per process and a Prometheus evaluating the
 * stack's rules watch the cluster: its healthy phase must raise no alert, and the body's failure
 * the scenario's alerts (harness/alerting.ts); the body gets the check to time its own (firstSeen).
 */
export async function withCluster<T extends Outcome>(
  ctx: DrillContext,
  label: string,
  body: (cluster: LocalCluster, ws: Workspace, clients: Redis[], check?: AlertCheck) => Promise<T>,
  beforeStart?: (cluster: LocalCluster, ws: Workspace) => void,
  options: { tls?: boolean } = {},
): Promise<T> {
  const ws = new Workspace(label);
  const clients: Redis[] = [];
  try {
    const cluster = await LocalCluster.render(ctx.config, { label, workspace: ws, tls: options.tls ?? false });
    beforeStart?.(cluster, ws);
    await cluster.start();
    const check = await AlertCheck.onLoopback(ctx.alerts, ctx.config, cluster.topology, cluster.credentials.exporter, ws, cluster.clientTls("exporter"));
    try {
      const result = await body(cluster, ws, clients, check);
      return check ? await check.judge(result) : result;
    } finally {
      await check?.stop();
    }
  } finally {
    for (const client of clients) client.disconnect();
    await ws.cleanup();
  }
}

/**
 * A split-brain scenario's run: once as the stack declares it (`label`) and, in the full drill
 * only, once more without min-replicas-to-write (`<label>-unbounded`). The contrast proves the
 * drill can see the failure the guard prevents; `contrastFigures` picks what of it is reported
 * beside the declared run's figures (each with a fullOnly target). The declared run's result
 * otherwise stands: its pass, failures and figures.
 */
export async function withMinReplicasContrast<R extends { figures: Record<string, Figure> }>(
  ctx: DrillContext,
  label: string,
  run: (ctx: DrillContext, label: string) => Promise<R>,
  contrastFigures: (unbounded: R["figures"]) => Record<string, Figure>,
): Promise<R> {
  const bounded = await run(ctx, label);
  if (ctx.short) return bounded;
  // The contrast shows the failure the guard prevents: its alerts are not the scenario's.
  const unbounded = await run({ ...ctx, alerts: undefined, config: { ...ctx.config, redis: { ...ctx.config.redis, minReplicasToWrite: 0 } } }, `${label}-unbounded`);
  return { ...bounded, figures: { ...bounded.figures, ...contrastFigures(unbounded.figures) } };
}

/** Waits until each writer has been acknowledged again after `since`, or the timeout. */
export async function waitForWritesAfter(writers: SteadyWriter[], since: number, timeoutMs: number): Promise<boolean> {
  try {
    await waitFor("writes to resume", () => writers.every((w) => w.stats.ackTimes.some((t) => t > since + 200)), timeoutMs, 50);
    return true;
  } catch {
    return false;
  }
}

export function throttleReplicas(cluster: LocalCluster, ws: Workspace, cpuPercent: number): void {
  for (const node of cluster.nodes.slice(1)) ws.cgroup(node.name, { cpuPercent }).join(node.process!.pid);
}
