// tls-ca-rotation: the stack CA replaced under load, with no restart of a data node and no
// broken link. Three steps, each loaded by every process before the next starts:
//   1. trust both: every CA bundle holds the old and the new CA;
//   2. new leaves: every server and client certificate is reissued by the new CA;
//   3. drop the old CA from every bundle.
// A data node re-reads its files on CONFIG SET (the same paths: Redis applies tls-* settings even
// when unchanged), keeping its open connections; a sentinel reads them only at start, so the
// sentinels restart one at a time. Files are replaced by rename, never rewritten in place (the
// exporters re-read them at every scrape). The API's client takes the new files on its next
// connection (its options updated in place, as a client that re-reads its files on reconnect
// does), and after each step its connections are closed so that it does reconnect. Then every
// replica link is cut to prove it comes back on the new CA alone, a certificate of the old CA is
// refused by every process while the new ones are accepted, and a failover runs on the new CA.
import * as fs from "node:fs";
import * as path from "node:path";
import type Redis from "ioredis";
import { ACL_USERS } from "../../components/redis/acl";
import { certificatePlan, tlsFileDirectives } from "../../components/tls/certificates";
import { withCluster } from "../harness/clusterRun";
import { createCertificateAuthority, issueCertificate } from "../harness/certificates";
import { waitForNewMaster } from "../harness/failover";
import type { LocalCluster, LocalNode } from "../harness/localCluster";
import { redisCli, redisCliAsync, sleep, waitFor } from "../harness/processes";
import { appTls, countMissing, sentinelClient, SteadyWriter } from "../harness/writer";
import { Checks, seconds, type Scenario } from "../harness/types";

/** What a client that re-reads its TLS files on reconnect does: its next connection uses them. */
function reloadClientTls(client: Redis, cluster: LocalCluster): void {
  const pem = appTls(cluster)!;
  Object.assign(client.options, { tls: pem, sentinelTLS: pem });
}

/** Replaces a file by rename: a reader sees the old content or the new, never half of one. */
function replaceFile(file: string, content: string | Buffer): void {
  fs.writeFileSync(`${file}.next`, content, { mode: 0o600 });
  fs.renameSync(`${file}.next`, file);
}

/**
 * Every data node re-reads its TLS files (CONFIG SET of the same paths); every sentinel restarts,
 * one at a time; the API's client takes the files and its connections to the master are closed,
 * so that it reconnects with them. Returns the sentinels restarted.
 */
async function loadEverywhere(cluster: LocalCluster, client: Redis, master: LocalNode): Promise<number> {
  for (const node of cluster.nodes) {
    // Async: the writer under test shares this event loop.
    const reply = await redisCliAsync(node.port, ["config", "set", ...tlsFileDirectives(node.tls!).flat()], cluster.admin());
    if (reply.out !== "OK") throw new Error(`${node.name}: CONFIG SET of its TLS files answered ${reply.out}`);
  }
  for (const sentinel of cluster.sentinels) await cluster.restartSentinel(sentinel);
  reloadClientTls(client, cluster);
  const killed = await redisCliAsync(master.port, ["client", "kill", "user", ACL_USERS.app], cluster.admin());
  if (!/^[1-9]\d*$/.test(killed.out)) throw new Error(`CLIENT KILL USER ${ACL_USERS.app} on ${master.name} answered ${killed.out}: the client's reconnect would not be measured`);
  return cluster.sentinels.length;
}

export const tlsCaRotation: Scenario = {
  name: "tls-ca-rotation",
  runbook: "The stack CA near its end: replaced with every link up",
  // Each step restarts every sentinel (Sentinel reads its files only at start): three restarts
  // within RedisRestartLoop's 30 minutes page. The drill runs the steps seconds apart; the
  // runbook spaces a real rotation's steps by more than that window.
  alerts: { raises: [], alsoPages: ["RedisRestartLoop"] },
  targets: [
    { figure: "write_gap_s", kind: "at most", value: 1, why: "a CA rotation is not an outage: the API writes throughout, reconnecting after each step" },
    { figure: "acked_writes_lost", kind: "equals", value: 0, why: "no data node restarts and no master changes during the rotation" },
    { figure: "replicas_relinked_on_new_ca", kind: "equals", value: "yes", why: "every replica link, cut after the rotation, comes back on the new CA alone" },
    { figure: "old_ca_certificate_refused", kind: "equals", value: "yes", why: "every node and sentinel refuses the old CA's certificate once it is dropped, and accepts the new CA's" },
    { figure: "failover_on_new_ca_s", kind: "at most", value: 10, why: "Sentinel still fails over once every link runs on the new CA" },
  ],
  run: (ctx) =>
    withCluster(
      ctx,
      "tls-ca-rotation",
      async (cluster, ws, clients) => {
        const checks = new Checks();
        const certificates = cluster.certificates!;
        // The new CA and its leaves are made before the writer starts (openssl blocks this event
        // loop, which the writer shares); a rotation's steps only deliver and load files.
        const newCa = createCertificateAuthority(ws.tempDir("new-ca"), "veza-redis drill CA, next");
        const newCaPem = fs.readFileSync(newCa.certFile, "utf8");
        const newLeaves = certificatePlan(cluster.topology).map((request) => ({
          pair: certificates.pairs.get(request.name)!,
          issued: issueCertificate(newCa, request, ws.tempDir(`new-${request.name}`)),
        }));
        const client = sentinelClient(cluster);
        clients.push(client);
        const writer = new SteadyWriter(client, "rotation", { concurrency: 4, pauseMs: 2 });
        writer.start();
        await sleep(ctx.short ? 1500 : 3000);
        const oldCaPem = fs.readFileSync(certificates.ca.certFile, "utf8");
        // An app certificate of the old CA, kept to prove the old CA is refused at the end.
        const oldApp = path.join(ws.tempDir("old-ca-app"), "app");
        fs.mkdirSync(oldApp);
        for (const [from, to] of [
          [certificates.pairs.get("client-app")!.certFile, "app.crt"],
          [certificates.pairs.get("client-app")!.keyFile, "app.key"],
        ]) {
          fs.copyFileSync(from, path.join(oldApp, to));
        }
        const started = Date.now();
        const stepSeconds: number[] = [];
        const master = cluster.nodes[0];
        let sentinelRestarts = 0;
        const step = async (change: () => void) => {
          const at = Date.now();
          change();
          sentinelRestarts += await loadEverywhere(cluster, client, master);
          stepSeconds.push(seconds(Date.now() - at));
        };
        // 1. Trust both.
        await step(() => replaceFile(certificates.ca.certFile, oldCaPem + newCaPem));
        // 2. Every leaf reissued by the new CA. A process reads its pair only at CONFIG SET or
        // start, both after the whole step is written.
        await step(() => {
          for (const { pair, issued } of newLeaves) {
            replaceFile(pair.certFile, fs.readFileSync(issued.certFile));
            replaceFile(pair.keyFile, fs.readFileSync(issued.keyFile));
          }
        });
        // 3. The old CA dropped.
        await step(() => replaceFile(certificates.ca.certFile, newCaPem));
        const rotationMs = Date.now() - started;
        await sleep(1000);
        const gap = writer.longestGapAfter(started);

        // Every replica link cut: each comes back only if the new CA alone verifies both ends.
        const replicas = cluster.nodes.length - 1;
        const cut = redisCli(master.port, ["client", "kill", "type", "replica"], cluster.admin()).out;
        checks.expect(cut === String(replicas), `CLIENT KILL TYPE replica answered ${cut}, not ${replicas}: the links were not cut, so their return proves nothing`);
        const relinked = await waitFor(
          "the replicas to resync on the new CA",
          () => cluster.info(master, "replication").connected_slaves === String(cluster.nodes.length - 1) || undefined,
          30_000,
          200,
        ).then(
          () => "yes",
          () => `no: ${cluster.info(master, "replication").connected_slaves} of ${cluster.nodes.length - 1} replicas`,
        );
        // Every process: the old CA's certificate refused, the new CA's accepted (the same user and password).
        const oldCertificate = { caCertFile: certificates.ca.certFile, certFile: path.join(oldApp, "app.crt"), keyFile: path.join(oldApp, "app.key") };
        const trustProblems = [
          ...cluster.nodes.map((node) => ({ process: node, auth: cluster.admin() })),
          ...cluster.sentinels.map((sentinel) => ({ process: sentinel, auth: cluster.sentinelAuth() })),
        ].flatMap(({ process, auth }) => {
          const withOld = redisCli(process.port, ["ping"], { ...auth, tls: oldCertificate }).out;
          const withNew = redisCli(process.port, ["ping"], auth).out;
          return [...(withOld === "PONG" ? [`${process.name} accepted the old CA's certificate`] : []), ...(withNew === "PONG" ? [] : [`${process.name} refused the new CA's: ${withNew}`])];
        });

        await writer.stop();
        const admin = { user: ACL_USERS.admin, password: cluster.credentials.admin, tls: cluster.clientTls("admin")! };
        const lost = await countMissing(master.port, writer.stats.ackedKeys, admin);

        // A failover with every link on the new CA.
        const failoverStarted = Date.now();
        const failover = await redisCliAsync(cluster.sentinels[0].port, ["sentinel", "failover", cluster.config.sentinel.masterName], cluster.sentinelAuth());
        checks.expect(failover.out === "OK", `SENTINEL FAILOVER answered ${failover.out}`);
        const promoted = await waitForNewMaster(cluster, master, 30_000).catch(() => undefined);
        checks.expect(promoted !== undefined, "no new master within 30 s of SENTINEL FAILOVER on the new CA");
        return {
          passed: checks.passed,
          failures: checks.failures,
          figures: {
            rotation_s: seconds(rotationMs),
            step_s: stepSeconds.join(" "),
            sentinel_restarts: sentinelRestarts,
            app_reconnects_forced: stepSeconds.length,
            write_gap_s: seconds(gap.gapMs),
            acked_writes: writer.stats.acknowledged,
            acked_writes_lost: lost,
            replicas_relinked_on_new_ca: relinked,
            old_ca_certificate_refused: trustProblems.length === 0 ? "yes" : `no: ${trustProblems.join("; ")}`,
            failover_on_new_ca_s: promoted ? seconds(promoted.at - failoverStarted) : "none",
          },
        };
      },
      undefined,
      { tls: true },
    ),
};
