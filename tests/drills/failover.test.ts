// The runbook's W3 item, for real: master, replicas and sentinels rendered for 127.0.0.1 by the
// program's own functions, run as Debian's redis-server and redis-sentinel processes.
import type Redis from "ioredis";
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";
import { LocalCluster } from "../../drills/harness/localCluster";
import { currentMasters, waitForNewMaster } from "../../drills/harness/failover";
import { sentinelClient, SteadyWriter } from "../../drills/harness/writer";
import { redisCli, sleep, waitFor } from "../../drills/harness/processes";
import { spawnSync } from "node:child_process";
import { renderConnectivityCheckScript, type RedisConnection } from "../../components/api/env";

/** The API's declared connectivity check, run for real (sh + redis-cli) against the cluster. */
function connectivityCheck(cluster: LocalCluster): { status: number | null; out: string } {
  const connection: RedisConnection = { mode: "sentinel", masterName: cluster.config.sentinel.masterName, sentinels: cluster.sentinels.map((s) => ({ host: "127.0.0.1", port: s.port })) };
  const script = renderConnectivityCheckScript(connection, { app: cluster.credentials.app, sentinelClients: cluster.credentials.sentinelClients });
  const result = spawnSync("sh", ["-s"], { input: script, encoding: "utf8", timeout: 20000 });
  return { status: result.status, out: `${result.stdout}${result.stderr}`.trim() };
}

describe("Sentinel failover with the dev stack's settings", () => {
  const config = requireValidStackConfig(readStackConfigFile("dev").raw);
  let cluster: LocalCluster;
  let client: Redis;

  beforeAll(async () => {
    cluster = await LocalCluster.render(config, { label: "failover-test" });
    await cluster.start();
    client = sentinelClient(cluster);
  }, 90000);

  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it("passes the API's connectivity check through Sentinel, and fails it with a wrong password", () => {
    expect(connectivityCheck(cluster)).toEqual({ status: 0, out: `API user reached the Redis master 127.0.0.1:${cluster.nodes[0].port}: PONG` });
    const wrong = renderConnectivityCheckScript(
      { mode: "sentinel", masterName: cluster.config.sentinel.masterName, sentinels: cluster.sentinels.map((s) => ({ host: "127.0.0.1", port: s.port })) },
      { app: "wrong", sentinelClients: cluster.credentials.sentinelClients },
    );
    expect(spawnSync("sh", ["-s"], { input: wrong, encoding: "utf8", timeout: 20000 }).status).not.toBe(0);
  });

  it("promotes a replica after kill -9 of the master, the client writes again, and the old master rejoins as a replica", async () => {
    const writer = new SteadyWriter(client, "failover");
    writer.start();
    await waitFor("the writer to get acknowledgements", () => writer.stats.acknowledged > 50, 10000);

    const oldMaster = cluster.nodes[0];
    expect(await cluster.role(oldMaster)).toBe("master");
    const killedAt = Date.now();
    await cluster.processes.kill9(oldMaster.process!);

    const promoted = await waitForNewMaster(cluster, oldMaster, 60000);
    expect(await cluster.role(promoted.node)).toBe("master");
    const acksAtPromotion = writer.stats.acknowledged;
    await waitFor("the client to write again after the failover", () => writer.stats.acknowledged > acksAtPromotion + 20, 60000);
    await writer.stop();
    const outage = writer.longestGapAfter(killedAt - 1000);
    process.stdout.write(
      `failover-test: sentinel named ${promoted.node.name} after ${((promoted.at - killedAt) / 1000).toFixed(2)} s; client write outage ${(outage.gapMs / 1000).toFixed(2)} s; resumed ${((outage.resumedAt - killedAt) / 1000).toFixed(2)} s after the kill\n`,
    );

    // The old master comes back with its original config (it still thinks it is the master)...
    cluster.startNode(oldMaster);
    await cluster.waitReady(oldMaster);
    // ...and Sentinel turns it into a replica of the new master.
    await waitFor(
      "the old master to rejoin as a replica",
      () => {
        const role = redisCli(oldMaster.port, ["role"], cluster.admin()).out.split("\n");
        return role[0] === "slave" && role[2] === String(promoted.node.port);
      },
      60000,
      250,
    );
    await sleep(500);
    expect((await currentMasters(cluster)).map((n) => n.name)).toEqual([promoted.node.name]);
    // The API's check now reaches the promoted master.
    expect(connectivityCheck(cluster).out).toBe(`API user reached the Redis master 127.0.0.1:${promoted.node.port}: PONG`);
    // Every acknowledged write made before the kill reached the new master or was bounded by
    // min-replicas-to-write; the data written after the failover is there.
    const lastKey = writer.stats.ackedKeys[writer.stats.ackedKeys.length - 1];
    expect(redisCli(promoted.node.port, ["exists", lastKey], cluster.admin()).out).toBe("1");
  }, 120000);
});
