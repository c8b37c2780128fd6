// The dev topology with tls.enabled, run from the program's own rendered files (containerRunner:
// the uploads at /etc/veza, the volume at /data, the seed and the `<name>-tls-files` script before
// each create) with certificates issued from the program's plan: the entry scripts, health checks
// and live scripts all speak TLS with the container's client certificate, and nothing else gets in.
import * as fs from "node:fs";
import * as tls from "node:tls";
import { X509Certificate } from "node:crypto";
import { spawnSync } from "node:child_process";
import { requireValidStackConfig } from "../../components/validation/validate";
import { ACL_USERS, SENTINEL_USERS } from "../../components/redis/acl";
import { dataNodeContainer, sentinelContainer } from "../../components/topology/containers";
import { placeTopology } from "../../components/topology/placement";
import { stackModelPlacedAt } from "../../components/topology/model";
import { CONTAINER_CREDENTIALS_DIR, CONTAINER_TLS_FILES, declaredDataHosts } from "../../components/topology/settings";
import { renderDataNodeLiveScript, renderDataNodeTlsReloadScript } from "../../components/topology/credentialScripts";
import { renderConnectivityCheckScript } from "../../components/api/env";
import { asCredentialState } from "../../components/redis/rotation";
import { certificatePlan, OUTGOING_ROLE, outgoingClientTls } from "../../components/tls/certificates";
import { ContainerRunner } from "../../drills/harness/containerRunner";
import { issueCertificate, issuePlanMaterial } from "../../drills/harness/certificates";
import { LOCAL_HOST, randomCredentials } from "../../drills/harness/localCluster";
import { freePortRange, redisCli, waitFor } from "../../drills/harness/processes";
import { Workspace } from "../../drills/harness/workspace";
import { readStackConfigFile } from "../../lib/stackFiles";

const config = requireValidStackConfig({ ...readStackConfigFile("dev").raw, tls: { enabled: true } });

describe("the dev topology with TLS on, from the rendered container files", () => {
  let ws: Workspace;
  let runner: ContainerRunner;
  const credentials = randomCredentials();
  let base: number;
  let topology: ReturnType<typeof placeTopology>;
  let issued: ReturnType<typeof issuePlanMaterial>;
  const names = ["redis-0", "redis-1", "redis-2", "sentinel-0", "sentinel-1", "sentinel-2"];
  const admin = () => ({ user: ACL_USERS.admin, password: credentials.admin, tls: issued.clientFiles("admin") });

  beforeAll(async () => {
    ws = new Workspace("container-tls");
    runner = new ContainerRunner(ws, credentials);
    base = await freePortRange(6);
    topology = placeTopology({ hosts: [LOCAL_HOST], redisPort: base, sentinelPort: base + 3, replicas: 2, sentinels: 3 });
    const model = stackModelPlacedAt(config, topology);
    issued = issuePlanMaterial(ws.tempDir("certificates"), certificatePlan(topology));
    for (const node of topology.dataNodes) runner.define(node.name, dataNodeContainer(config, model, node), true, undefined, issued.server(node.name, OUTGOING_ROLE.dataNode));
    for (const sentinel of topology.sentinels) runner.define(sentinel.name, sentinelContainer(config, model, sentinel), false, undefined, issued.server(sentinel.name, OUTGOING_ROLE.sentinel));
    // The program's order: data nodes (master first here: nothing to hand off), then sentinels, each healthy before the next.
    for (const name of names) {
      runner.create(name);
      await runner.waitHealthy(name, 500, 60000);
    }
  }, 240000);
  afterAll(async () => ws.cleanup(), 60000);

  it("starts every node and sentinel healthy from its TLS files: both replicas linked to the master, and each sentinel sees 2 replicas and 2 other sentinels", async () => {
    await waitFor("both replicas linked over TLS", () => /connected_slaves:2/.test(redisCli(base, ["info", "replication"], admin()).out), 20000, 200);
    const sentinelAdmin = { user: SENTINEL_USERS.admin.name, password: credentials.sentinelAdmin, tls: issued.clientFiles("admin") };
    for (const port of [base + 3, base + 4, base + 5]) {
      await waitFor(
        `sentinel on ${port} to see 2 replicas and 2 peers`,
        () => {
          const master = redisCli(port, ["sentinel", "master", config.sentinel.masterName], sentinelAdmin).out.split("\n");
          const field = (name: string) => master[master.indexOf(name) + 1];
          return field("num-slaves") === "2" && field("num-other-sentinels") === "2";
        },
        30000,
        250,
      );
    }
    // The conf each runs is the rendered one: the plaintext port off, client certificates required.
    expect(redisCli(base, ["config", "get", "port"], admin()).out.split("\n")).toEqual(["port", "0"]);
    expect(redisCli(base, ["config", "get", "tls-auth-clients"], admin()).out.split("\n")).toEqual(["tls-auth-clients", "yes"]);
  });

  it("refuses the right password without a certificate, and without TLS; the app's certificate with its password gets PONG", () => {
    const password = { user: ACL_USERS.admin, password: credentials.admin };
    expect(redisCli(base, ["ping"], password).out).not.toBe("PONG");
    const withoutCertificate = spawnSync("redis-cli", ["--tls", "--cacert", issued.ca.certFile, "-p", String(base), "--user", ACL_USERS.admin, "--no-auth-warning", "ping"], {
      env: { ...process.env, REDISCLI_AUTH: credentials.admin },
      encoding: "utf8",
      timeout: 5000,
    });
    expect(`${withoutCertificate.stdout}${withoutCertificate.stderr}`).not.toMatch(/PONG/);
    expect(redisCli(base, ["ping"], { user: ACL_USERS.app, password: credentials.app, tls: issued.clientFiles("app") }).out).toBe("PONG");
  });

  it("keeps every volume's key owner-only: the TLS files are 0600 and the redis user's", () => {
    const redis = spawnSync("id", ["-u", "redis"], { encoding: "utf8" }).stdout.trim();
    for (const name of ["redis-1"]) {
      const dir = `${runner.slot(name).volumeDir}/${CONTAINER_CREDENTIALS_DIR.split("/").pop()}`;
      for (const file of Object.values(CONTAINER_TLS_FILES).map((p) => p.split("/").pop()!)) {
        const stat = fs.statSync(`${dir}/${file}`);
        expect({ file, mode: (stat.mode & 0o777).toString(8), uid: String(stat.uid) }).toEqual({ file, mode: "600", uid: redis });
      }
    }
  });

  it("a reissued certificate reaches a running data node through its tls-reload script (CONFIG SET), with no restart: the node then presents the new one", async () => {
    const node = topology.dataNodes[1];
    const before = runner.slot(node.name).current!.process.pid;
    const renewed = issueCertificate(
      issued.ca,
      certificatePlan(topology).find((entry) => entry.name === node.name)!,
      ws.tempDir("renewed"),
    );
    const material = { ...issued.server(node.name, OUTGOING_ROLE.dataNode), certFile: fs.readFileSync(renewed.certFile, "utf8"), keyFile: fs.readFileSync(renewed.keyFile, "utf8") };
    runner.rewriteTls(node.name, material);
    const settings = { name: node.name, local: { host: node.host.bindAddress, port: node.port }, credentialsDir: CONTAINER_CREDENTIALS_DIR, tls: outgoingClientTls(CONTAINER_TLS_FILES) };
    const reload = await runner.exec(node.name, ["sh", "-s"], renderDataNodeTlsReloadScript(settings, CONTAINER_TLS_FILES, asCredentialState(credentials)));
    expect(reload).toMatchObject({ status: 0 });
    const client = issued.clientFiles("app");
    const presented = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect(
        {
          host: "127.0.0.1",
          port: node.port,
          ca: fs.readFileSync(client.caCertFile),
          cert: fs.readFileSync(client.certFile),
          key: fs.readFileSync(client.keyFile),
          checkServerIdentity: () => undefined,
        },
        () => {
          resolve(socket.getPeerX509Certificate()!.fingerprint256);
          socket.destroy();
        },
      );
      socket.on("error", reject);
    });
    expect(presented).toBe(new X509Certificate(material.certFile).fingerprint256);
    expect(runner.slot(node.name).current!.process.pid).toBe(before);
    expect(redisCli(node.port, ["role"], admin()).out.split("\n").slice(0, 1)).toEqual(["slave"]);
  }, 60000);

  it("applies a credentials step live over TLS (the container's client certificate), and the API's connectivity check reaches the master through the sentinels with the app's certificate", async () => {
    const node = topology.dataNodes[0];
    const settings = { name: node.name, local: { host: node.host.bindAddress, port: node.port }, credentialsDir: CONTAINER_CREDENTIALS_DIR, tls: outgoingClientTls(CONTAINER_TLS_FILES) };
    const apply = await runner.exec(node.name, ["sh", "-s"], renderDataNodeLiveScript(settings, asCredentialState(credentials), declaredDataHosts(topology)));
    expect(apply).toMatchObject({ status: 0 });
    const connection = { mode: "sentinel" as const, masterName: config.sentinel.masterName, sentinels: topology.sentinels.map((s) => ({ host: s.host.address, port: s.port })) };
    const check = spawnSync("sh", ["-s"], {
      input: renderConnectivityCheckScript(connection, { app: credentials.app, sentinelClients: credentials.sentinelClients }, issued.client("app")),
      encoding: "utf8",
      timeout: 20000,
    });
    fs.rmSync("/tmp/veza-api-tls", { recursive: true, force: true });
    expect({ status: check.status, out: `${check.stdout}${check.stderr}`.trim() }).toEqual({ status: 0, out: `API user reached the Redis master 127.0.0.1:${base}: PONG` });
  }, 60000);
});

describe("a cold switch of a running plaintext stack onto TLS (docs/tls.md#switching-a-running-stack)", () => {
  let ws: Workspace;
  afterAll(async () => ws?.cleanup(), 60000);

  it("every container stopped, then each replaced in the rolling order with its TLS declaration: the data comes back, both replicas link over TLS, the sentinels agree", async () => {
    ws = new Workspace("tls-cold-switch");
    const credentials = randomCredentials();
    const runner = new ContainerRunner(ws, credentials);
    const base = await freePortRange(6);
    const topology = placeTopology({ hosts: [LOCAL_HOST], redisPort: base, sentinelPort: base + 3, replicas: 2, sentinels: 3 });
    const plaintext = requireValidStackConfig({ ...readStackConfigFile("dev").raw, tls: { enabled: false } });
    const model = stackModelPlacedAt(plaintext, topology);
    const processes = [...topology.dataNodes, ...topology.sentinels];
    for (const node of topology.dataNodes) runner.define(node.name, dataNodeContainer(plaintext, model, node), true);
    for (const sentinel of topology.sentinels) runner.define(sentinel.name, sentinelContainer(plaintext, model, sentinel), true);
    for (const p of processes) {
      runner.create(p.name);
      await runner.waitHealthy(p.name, 500, 60000);
    }
    const plainAdmin = { user: ACL_USERS.admin, password: credentials.admin };
    const keys = 500;
    const script = Array.from({ length: keys }, (_, i) => `SET cold:${i} ${i}`).join("\n");
    expect(
      spawnSync("redis-cli", ["-p", String(base), "--user", ACL_USERS.admin, "--no-auth-warning"], {
        input: `${script}\n`,
        env: { ...process.env, REDISCLI_AUTH: credentials.admin },
        encoding: "utf8",
        timeout: 10000,
      }).status,
    ).toBe(0);
    expect(redisCli(base, ["wait", "2", "5000"], plainAdmin).out).toBe("2");

    // 1. The window: every Redis and Sentinel container stopped (docker stop, all at once).
    await Promise.all(processes.map((p) => runner.delete(p.name)));
    // 2. `up` with tls.enabled and tls.coldSwitch: each replaced in the plan's order (replicas, the master, the sentinels), healthy before the next.
    const tlsConfig = requireValidStackConfig({ ...readStackConfigFile("dev").raw, tls: { enabled: true, coldSwitch: true } });
    const tlsModel = stackModelPlacedAt(tlsConfig, topology);
    const issued = issuePlanMaterial(ws.tempDir("certificates"), certificatePlan(topology));
    for (const node of topology.dataNodes) runner.redefine(node.name, dataNodeContainer(tlsConfig, tlsModel, node), issued.server(node.name, OUTGOING_ROLE.dataNode));
    for (const sentinel of topology.sentinels) runner.redefine(sentinel.name, sentinelContainer(tlsConfig, tlsModel, sentinel), issued.server(sentinel.name, OUTGOING_ROLE.sentinel));
    for (const name of ["redis-2", "redis-1", "redis-0", "sentinel-2", "sentinel-1", "sentinel-0"]) {
      runner.create(name);
      await runner.waitHealthy(name, 500, 60000);
    }
    const admin = { ...plainAdmin, tls: issued.clientFiles("admin") };
    await waitFor("both replicas linked over TLS", () => /connected_slaves:2/.test(redisCli(base, ["info", "replication"], admin).out), 30000, 200);
    expect(redisCli(base, ["dbsize"], admin).out).toBe(String(keys));
    expect(redisCli(base + 2, ["get", `cold:${keys - 1}`], admin).out).toBe(String(keys - 1));
    expect(redisCli(base, ["ping"], plainAdmin).out).not.toBe("PONG");
    const sentinelAdmin = { user: SENTINEL_USERS.admin.name, password: credentials.sentinelAdmin, tls: issued.clientFiles("admin") };
    for (const port of [base + 3, base + 4, base + 5]) {
      await waitFor(
        `sentinel on ${port} to name the master and see 2 replicas and 2 peers`,
        () => {
          const master = redisCli(port, ["sentinel", "master", tlsConfig.sentinel.masterName], sentinelAdmin).out.split("\n");
          const field = (name: string) => master[master.indexOf(name) + 1];
          return field("port") === String(base) && field("num-slaves") === "2" && field("num-other-sentinels") === "2";
        },
        30000,
        250,
      );
    }
  }, 300000);
});
