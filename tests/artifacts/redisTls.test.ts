// The stack's TLS settings in real redis-server and redis-sentinel 7.0.15: the dev topology
// (a master, two replicas, three sentinels) rendered with TLS on and certificates issued from
// the program's plan. Proves the two factors: a right password without a certificate from the
// stack CA is refused, and a right certificate without the password is too.
import * as fs from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import * as path from "node:path";
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";
import { LocalCluster } from "../../drills/harness/localCluster";
import { createCertificateAuthority, issueCertificate, type CertificateAuthority, type CertificatePair } from "../../drills/harness/certificates";
import { redisCli, redisCliAsync, waitFor } from "../../drills/harness/processes";
import { parseConfDirectives } from "../../components/redis/redisConf";
import { sentinelClient } from "../../drills/harness/writer";

/** A raw TCP exchange: what a client that speaks plaintext gets from a TLS-only port (the port accepts it, then answers no command). */
function plaintextExchange(port: number, payload: string): Promise<{ connected: boolean; received: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    let connected = false;
    const done = () => {
      socket.destroy();
      resolve({ connected, received });
    };
    socket.setTimeout(3000, done);
    socket.on("connect", () => {
      connected = true;
      socket.write(payload);
    });
    socket.on("data", (chunk) => (received += chunk.toString("latin1")));
    socket.on("close", done);
    socket.on("error", done);
  });
}

/**
 * A TLS handshake and one command, then the server's reply or how the connection ended. In TLS
 * 1.3 the server checks the client's certificate after the client's handshake is done, so the
 * refusal shows on the first read, not in `connect`.
 */
function tlsExchange(port: number, options: tls.ConnectionOptions, payload: string): Promise<string> {
  return new Promise((resolve) => {
    let received = "";
    const socket = tls.connect({ host: "127.0.0.1", port, ...options }, () => socket.write(payload));
    const done = (how: string) => {
      socket.destroy();
      resolve(received || how);
    };
    socket.setTimeout(3000, () => done("timeout"));
    socket.on("data", (chunk) => {
      received += chunk.toString("utf8");
      // The last reply of every exchange here is PING's.
      if (received.endsWith("+PONG\r\n")) done("");
    });
    socket.on("error", (error: NodeJS.ErrnoException) => done(`error: ${error.code ?? error.message}`));
    socket.on("close", () => done("closed"));
  });
}

const resp = (...words: string[]) => `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join("")}`;

describe("TLS on every link, with real redis-server and redis-sentinel", () => {
  let cluster: LocalCluster;
  let foreign: { certFile: string; keyFile: string };
  let foreignCa: CertificateAuthority;
  const config = requireValidStackConfig(readStackConfigFile("dev").raw);

  beforeAll(async () => {
    cluster = await LocalCluster.render(config, { label: "tls", tls: true });
    // A client certificate with every right field, from a CA the stack does not trust.
    foreignCa = createCertificateAuthority(path.join(cluster.root, "foreign-ca"), "someone else's CA");
    foreign = issueCertificate(foreignCa, { name: "client-app", commonName: "veza-app", usage: "client", dnsNames: [], ipAddresses: [] }, path.join(cluster.root, "foreign"));
    await cluster.start();
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  const master = () => cluster.nodes[0];
  const appTls = () => cluster.clientTls("app")!;

  it("renders port 0 and the declared port as tls-port, mutual TLS and TLS replication, for nodes and sentinels", () => {
    for (const process of [...cluster.nodes, ...cluster.sentinels]) {
      const directives = parseConfDirectives(fs.readFileSync(process.confPath, "utf8"));
      expect(directives.get("port")).toEqual(["0"]);
      expect(directives.get("tls-port")).toEqual([String(process.port)]);
      expect(directives.get("tls-auth-clients")).toEqual(["yes"]);
      expect(directives.get("tls-replication")).toEqual(["yes"]);
    }
  });

  it("replicates and gossips over TLS only: both replicas online and every sentinel sees its two peers", () => {
    const replication = cluster.info(master(), "replication");
    expect(replication.connected_slaves).toBe("2");
    for (const sentinel of cluster.sentinels) {
      expect(redisCli(sentinel.port, ["sentinel", "master", config.sentinel.masterName], cluster.sentinelAuth()).out).toMatch(/num-other-sentinels\n2/);
    }
  });

  it("refuses a plaintext client holding the right password, on a node and on a sentinel", async () => {
    for (const port of [master().port, cluster.sentinels[0].port]) {
      const exchange = await plaintextExchange(port, resp("AUTH", "veza-admin", cluster.credentials.admin) + resp("PING"));
      // Reached (a listening port), and answered nothing a plaintext client could use.
      expect(exchange.connected).toBe(true);
      expect(exchange.received).not.toContain("+OK");
      expect(exchange.received).not.toContain("+PONG");
    }
    const cli = redisCli(master().port, ["ping"], { user: "veza-admin", password: cluster.credentials.admin });
    expect(cli.out).not.toBe("PONG");
  });

  const appPem = () => ({ ca: fs.readFileSync(appTls().caCertFile), cert: fs.readFileSync(appTls().certFile), key: fs.readFileSync(appTls().keyFile) });

  it("accepts the same raw TLS exchange with the app's certificate: the control for the refusals below", async () => {
    expect(await tlsExchange(master().port, appPem(), resp("AUTH", "veza-app", cluster.credentials.app) + resp("PING"))).toBe("+OK\r\n+PONG\r\n");
  });

  it("refuses a TLS client with the right password and no client certificate: the server's alert says a certificate is required", async () => {
    const reply = await tlsExchange(master().port, { ca: fs.readFileSync(appTls().caCertFile) }, resp("AUTH", "veza-app", cluster.credentials.app) + resp("PING"));
    expect(reply).toBe("error: ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
  });

  it("refuses a client certificate from another CA, even with the right password: the server's alert says unknown CA", async () => {
    const reply = await tlsExchange(
      master().port,
      { ca: fs.readFileSync(appTls().caCertFile), cert: fs.readFileSync(foreign.certFile), key: fs.readFileSync(foreign.keyFile) },
      resp("AUTH", "veza-app", cluster.credentials.app) + resp("PING"),
    );
    expect(reply).toBe("error: ERR_SSL_TLSV1_ALERT_UNKNOWN_CA");
    const cli = redisCli(master().port, ["ping"], { user: "veza-app", password: cluster.credentials.app, tls: { caCertFile: appTls().caCertFile, ...foreign } });
    expect(cli.out).not.toBe("PONG");
  });

  it("accepts the stack's certificate with the right password, and refuses it with a wrong one", () => {
    expect(redisCli(master().port, ["ping"], cluster.app()).out).toBe("PONG");
    expect(redisCli(master().port, ["ping"], { ...cluster.app(), password: "not-the-password" }).out).toMatch(/WRONGPASS/);
  });

  it("a replica sent to a server outside the stack CA sends it nothing: it refuses that server's certificate, so no password leaves; the same server with a certificate the stack CA signed gets the replication AUTH (the control)", async () => {
    const replica = cluster.nodes[2];
    const rogueAt = (pair: CertificatePair) =>
      new Promise<{ server: tls.Server; port: number; received: () => string }>((resolve) => {
        let received = "";
        const server = tls.createServer({ cert: fs.readFileSync(pair.certFile), key: fs.readFileSync(pair.keyFile) }, (socket) => {
          // Answers as a master would, far enough for a replica to send AUTH: +PONG to its PING, then +OK.
          socket.on("data", (chunk) => {
            received += chunk.toString("latin1");
            socket.write(chunk.includes("PING") ? "+PONG\r\n" : "+OK\r\n");
          });
          socket.on("error", () => undefined);
        });
        server.on("tlsClientError", () => undefined);
        server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as net.AddressInfo).port, received: () => received }));
      });
    const request = { name: "rogue-master", commonName: "rogue", usage: "server" as const, dnsNames: [], ipAddresses: ["127.0.0.1"] };
    /** What the rogue reads in 4 s from the replica sent to it (by the admin, whose REPLICAOF is not pinned). */
    const sentTo = async (pair: CertificatePair): Promise<string> => {
      const rogue = await rogueAt(pair);
      try {
        expect(redisCli(replica.port, ["replicaof", "127.0.0.1", String(rogue.port)], cluster.admin()).out).toBe("OK");
        await waitFor("the replica to send AUTH", async () => rogue.received().includes("veza-replication"), 4000, 100).catch(() => undefined);
        return rogue.received();
      } finally {
        redisCli(replica.port, ["replicaof", "127.0.0.1", String(master().port)], cluster.admin());
        rogue.server.close();
      }
    };
    expect(await sentTo(issueCertificate(foreignCa, request, path.join(cluster.root, "rogue-foreign")))).toBe("");
    expect(await sentTo(issueCertificate(cluster.certificates!.ca, request, path.join(cluster.root, "rogue-stack-signed")))).toContain(cluster.credentials.replication);
    await waitFor("the replica to link back to the master", async () => cluster.info(replica, "replication").master_link_status === "up", 15000, 200);
  }, 30_000);

  it("fails over over TLS, and an ioredis client with the API's settings and the app certificate follows the new master through the sentinels", async () => {
    // The API's own client settings (components/api/clientSettings.ts) with the app's certificate.
    const client = sentinelClient(cluster);
    try {
      expect(await client.set("session:tls", "before")).toBe("OK");
      const failover = await redisCliAsync(cluster.sentinels[0].port, ["sentinel", "failover", config.sentinel.masterName], cluster.sentinelAuth());
      expect(failover.out).toBe("OK");
      await waitFor("a replica to be promoted over TLS", async () => (await cluster.role(master())) === "slave", 30_000);
      await waitFor("the client to write to the new master", async () => (await client.set("session:tls", "after").catch(() => undefined)) === "OK", 30_000, 250);
      const promoted = await waitFor("the sentinels to name the new master", () => cluster.masterFromSentinel(cluster.sentinels[0]), 10_000);
      expect(promoted).not.toBe(`127.0.0.1:${master().port}`);
    } finally {
      client.disconnect();
    }
  }, 90_000);
});
