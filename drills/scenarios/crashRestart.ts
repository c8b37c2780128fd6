// crash-restart: kill -9 of a standalone node after acknowledged writes, then a restart from its AOF.
import { ACL_USERS } from "../../components/redis/acl";
import { redisCli } from "../harness/processes";
import { Workspace } from "../harness/workspace";
import { countMissing, directClient } from "../harness/writer";
import { standalone, startStandalone } from "../harness/standalone";
import { Checks, seconds, type Scenario } from "../harness/types";

export const crashRestart: Scenario = {
  name: "crash-restart",
  runbook: "Process crashed: systemctl restart redis",
  targets: [
    { figure: "acked_writes_lost", kind: "equals", value: 0, why: "the AOF replays every acknowledged write after the process dies (kill -9 keeps the page cache)" },
    { figure: "ready_after_restart_s", kind: "at most", value: 10, why: "back within a healthcheck period or two" },
  ],
  run: async (ctx) => {
    const checks = new Checks();
    const ws = new Workspace("crash-restart");
    try {
      const { cluster, node } = await startStandalone(ws, standalone(ctx.config, {}), "crash-restart");
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
      return { passed: checks.passed, failures: checks.failures, figures: { acked_writes: keys.length, keys_before: before, keys_after: after, acked_writes_lost: lost, ready_after_restart_s: seconds(readyAfter) } };
    } finally {
      await ws.cleanup();
    }
  },
};
