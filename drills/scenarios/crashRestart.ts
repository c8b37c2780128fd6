// crash-restart: kill -9 of a standalone node after acknowledged writes, then a restart from its AOF.
import { ACL_USERS } from "../../components/redis/acl";
import { AlertCheck } from "../harness/alerting";
import { redisCli, sleep } from "../harness/processes";
import { Workspace } from "../harness/workspace";
import { countMissing, directClient } from "../harness/writer";
import { standalone, startStandalone } from "../harness/standalone";
import { Checks, seconds, type Scenario } from "../harness/types";

/** Up this long between crashes: Prometheus (1 s scrapes) sees uptime grow, then fall back. */
const CRASH_LOOP_UPTIME_MS = 3000;

export const crashRestart: Scenario = {
  name: "crash-restart",
  runbook: "Process crashed: systemctl restart redis",
  targets: [
    { figure: "acked_writes_lost", kind: "equals", value: 0, why: "the AOF replays every acknowledged write after the process dies (kill -9 keeps the page cache)" },
    { figure: "ready_after_restart_s", kind: "at most", value: 10, why: "back within a healthcheck period or two" },
  ],
  // The one crash is a restart like any other; two more make it a crash loop, which pages.
  alerts: { raises: ["RedisRestartLoop"] },
  run: async (ctx) => {
    const checks = new Checks();
    const ws = new Workspace("crash-restart");
    let check: AlertCheck | undefined;
    try {
      const config = standalone(ctx.config, {});
      const { cluster, node } = await startStandalone(ws, config, "crash-restart");
      check = await AlertCheck.onLoopback(ctx.alerts, config, cluster.topology, cluster.credentials.exporter, ws);
      const client = directClient(node.port, ACL_USERS.app, cluster.credentials.app);
      const keys: string[] = [];
      const total = ctx.short ? 20000 : 200000;
      try {
        for (let i = 0; i < total; i += 1000) {
          const pipeline = client.pipeline();
          for (let j = i; j < i + 1000; j++) pipeline.set(`crash:${j}`, String(j));
          const results = (await pipeline.exec()) ?? [];
          results.forEach(([error], j) => !error && keys.push(`crash:${i + j}`));
        }
      } finally {
        client.disconnect();
      }
      const before = Number(redisCli(node.port, ["dbsize"], cluster.admin()).out);
      await cluster.processes.kill9(node.process!);
      const restartedAt = Date.now();
      cluster.startNode(node);
      await cluster.waitReady(node, 60000);
      const readyAfter = Date.now() - restartedAt;
      const after = Number(redisCli(node.port, ["dbsize"], cluster.admin()).out);
      const lost = await countMissing(node.port, keys, cluster.admin());
      checks.expect(lost === 0, `${lost} acknowledged writes missing after the restart`);
      checks.expect(after === before, `${before} keys before the kill, ${after} after`);
      const result = {
        passed: checks.passed,
        failures: checks.failures,
        figures: { acked_writes: keys.length, keys_before: before, keys_after: after, acked_writes_lost: lost, ready_after_restart_s: seconds(readyAfter) },
      };
      if (!check) return result;
      // The crash loop: two more crashes, each after a few scrapes of the restarted node's uptime.
      for (let crash = 2; crash <= 3; crash++) {
        await sleep(CRASH_LOOP_UPTIME_MS);
        await cluster.processes.kill9(node.process!);
        cluster.startNode(node);
        await cluster.waitReady(node, 60000);
      }
      return await check.judge(result);
    } finally {
      await check?.stop();
      await ws.cleanup();
    }
  },
};
