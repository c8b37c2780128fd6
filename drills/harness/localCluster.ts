// The stack's Redis + Sentinel topology as real processes on 127.0.0.1, rendered by the very
// functions the Pulumi program uses; only the placement (one local host, free ports, temp dirs)
// differs.

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { HostConfig, StackConfig } from "../../components/config/types";
import { ACL_USERS, CREDENTIAL_NAMES, type Credentials, SENTINEL_USERS } from "../../components/redis/acl";
import { renderRedisConf, renderRedisSecretsConf } from "../../components/redis/redisConf";
import { renderSentinelConf, renderSentinelSecretsConf } from "../../components/sentinel/sentinelConf";
import { placeTopology, type Topology } from "../../components/topology/placement";
import { dataNodeSettings, declaredDataHosts, sentinelSettings, type FileLocations } from "../../components/topology/settings";
import { freePortRange, ProcessGroup, redisCli, redisCliAsync, sleep, waitFor, type CliAuth, type TrackedProcess } from "./processes";
import type { Workspace } from "./workspace";
import { stackModelPlacedAt } from "../../components/topology/model";
import { certificatePlan, OUTGOING_ROLE, type ClientCertificateRole, type TlsFiles } from "../../components/tls/certificates";
import { createCertificateAuthority, issueCertificate, processTlsFiles, type CertificateAuthority, type CertificatePair } from "./certificates";

export const LOCAL_HOST: HostConfig = { name: "local", dockerHost: "unix:///var/run/docker.sock", address: "127.0.0.1", bindAddress: "127.0.0.1" };

export interface LocalNode {
  name: string;
  port: number;
  dir: string;
  confPath: string;
  process?: TrackedProcess;
  /** Runs as this uid (see runAs). */
  uid?: number;
  /** The file as rendered, before the process rewrote it (CONFIG REWRITE, Sentinel's state). */
  renderedConf: string;
  /** With TLS on: the files its conf names. */
  tls?: TlsFiles;
}

export function randomCredentials(): Credentials {
  return Object.fromEntries(CREDENTIAL_NAMES.map((name) => [name, randomBytes(16).toString("hex")])) as Credentials;
}

export interface ClusterOptions {
  label?: string;
  /** A drill's workspace: its process group and temp dir, cleaned up by the workspace. */
  workspace?: Workspace;
  /** Where the nodes' dirs go (e.g. a small tmpfs); a fresh temp dir when absent. */
  root?: string;
  /** TLS on every link: a CA and the plan's certificates (components/tls/certificates.ts), issued with openssl under <root>/tls. */
  tls?: boolean;
}

/** The cluster's CA and issued pairs: what each process and each client role presents. */
export interface ClusterCertificates {
  ca: CertificateAuthority;
  dir: string;
  pairs: Map<string, CertificatePair>;
}

export class LocalCluster {
  readonly credentials = randomCredentials();
  readonly nodes: LocalNode[];
  readonly sentinels: LocalNode[];
  readonly topology: Topology<HostConfig>;
  /** Set when the cluster runs with TLS on. */
  readonly certificates?: ClusterCertificates;

  private constructor(
    readonly config: StackConfig,
    readonly root: string,
    basePort: number,
    readonly processes: ProcessGroup,
    tls: boolean,
  ) {
    const sentinelCount = config.sentinel.enabled ? config.sentinel.count : 0;
    const replicas = config.sentinel.enabled ? config.sentinel.replicas : 0;
    this.topology = placeTopology({ hosts: [LOCAL_HOST], redisPort: basePort, sentinelPort: basePort + replicas + 1, replicas, sentinels: sentinelCount });
    const model = stackModelPlacedAt(config, this.topology);
    this.certificates = tls ? issueClusterCertificates(path.join(root, "tls"), this.topology) : undefined;
    this.nodes = this.topology.dataNodes.map((node) =>
      this.writeFiles(
        node,
        "redis",
        OUTGOING_ROLE.dataNode,
        (files) => renderRedisConf(dataNodeSettings(config, model, node, files)),
        renderRedisSecretsConf(this.credentials, declaredDataHosts(this.topology)),
      ),
    );
    this.sentinels = this.topology.sentinels.map((sentinel) =>
      this.writeFiles(
        sentinel,
        "sentinel",
        OUTGOING_ROLE.sentinel,
        (files) => renderSentinelConf(sentinelSettings(config, model, sentinel, files)),
        renderSentinelSecretsConf(config.sentinel.masterName, this.credentials),
      ),
    );
  }

  /** <root>/<name>/{<kind>.conf, <kind>-secrets.conf}, the dir doubling as the data dir. */
  private writeFiles(placed: { name: string; port: number }, kind: string, outgoing: ClientCertificateRole, renderConf: (files: FileLocations) => string, secrets: string): LocalNode {
    const dir = path.join(this.root, placed.name);
    fs.mkdirSync(dir, { recursive: true });
    const secretsPath = path.join(dir, `${kind}-secrets.conf`);
    const confPath = path.join(dir, `${kind}.conf`);
    const certificates = this.certificates;
    const tls = certificates ? processTlsFiles(certificates.ca.certFile, certificates.pairs.get(placed.name)!, certificates.pairs.get(`client-${outgoing}`)!) : undefined;
    const renderedConf = renderConf({ dataDir: dir, secretsPath, ...(tls ? { tls } : {}) });
    fs.writeFileSync(confPath, renderedConf);
    fs.writeFileSync(secretsPath, secrets, { mode: 0o600 });
    return { name: placed.name, port: placed.port, dir, confPath, renderedConf, ...(tls ? { tls } : {}) };
  }

  /** Renders the cluster into a fresh temp dir on free ports. */
  static async render(config: StackConfig, options: ClusterOptions = {}): Promise<LocalCluster> {
    const count = (config.sentinel.enabled ? config.sentinel.replicas + config.sentinel.count : 0) + 1;
    const basePort = await freePortRange(count);
    const label = options.label ?? "cluster";
    const root = options.root ?? (options.workspace ? options.workspace.tempDir(label) : fs.mkdtempSync(path.join(os.tmpdir(), `veza-${label}-`)));
    return new LocalCluster(config, root, basePort, options.workspace?.processes ?? new ProcessGroup(), options.tls ?? false);
  }

  /** With TLS on, what a client of this role presents: the CA bundle and its certificate pair. */
  clientTls(role: ClientCertificateRole): CliAuth["tls"] {
    if (!this.certificates) return undefined;
    const pair = this.certificates.pairs.get(`client-${role}`)!;
    return { caCertFile: this.certificates.ca.certFile, ...pair };
  }

  private auth(user: string, password: string, role: ClientCertificateRole): { user: string; password: string; tls?: CliAuth["tls"] } {
    const tls = this.clientTls(role);
    return { user, password, ...(tls ? { tls } : {}) };
  }

  admin = () => this.auth(ACL_USERS.admin, this.credentials.admin, "admin");
  app = () => this.auth(ACL_USERS.app, this.credentials.app, "app");
  /** Sentinel's administrator: the drills read SENTINEL MASTER and ask for SENTINEL FAILOVER. */
  sentinelAuth = () => this.auth(SENTINEL_USERS.admin.name, this.credentials.sentinelAdmin, "admin");

  /** Runs a node or sentinel as another user from its next start: its dir becomes that user's. */
  runAs(node: LocalNode, uid: number): void {
    const chown = (target: string) => {
      fs.chownSync(target, uid, uid);
      if (fs.statSync(target).isDirectory()) for (const entry of fs.readdirSync(target)) chown(path.join(target, entry));
    };
    chown(node.dir);
    // mkdtemp makes the cluster's root 0700: the other user must be able to pass through it.
    fs.chmodSync(this.root, 0o711);
    node.uid = uid;
  }

  startNode(node: LocalNode, extraArgs: string[] = [], command = "redis-server"): TrackedProcess {
    node.process = this.processes.start(node.name, command, [node.confPath, ...extraArgs], path.join(node.dir, "server.log"), node.uid);
    return node.process;
  }

  /** Starts one sentinel from its rendered file (a restart goes through the container's entry script). */
  startSentinel(sentinel: LocalNode): TrackedProcess {
    sentinel.process = this.processes.start(sentinel.name, "redis-sentinel", [sentinel.confPath], path.join(sentinel.dir, "sentinel.log"), sentinel.uid);
    return sentinel.process;
  }

  async waitReady(node: LocalNode, timeoutMs = 15000): Promise<void> {
    try {
      await waitFor(
        `${node.name} to answer PING`,
        () => {
          const child = node.process?.child;
          if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${node.name} exited (${child.exitCode ?? child.signalCode})`);
          return redisCli(node.port, ["ping"], this.admin()).out === "PONG";
        },
        timeoutMs,
      );
    } catch (error) {
      const log = node.process ? fs.readFileSync(node.process.logFile, "utf8").trim().split("\n").slice(-5).join("\n    ") : "";
      throw new Error(`${(error as Error).message}; last log lines:\n    ${log}`);
    }
  }

  /** Starts every data node, waits for the replicas to sync, then the sentinels to find each other. */
  async start(): Promise<void> {
    for (const node of this.nodes) this.startNode(node);
    for (const node of this.nodes) await this.waitReady(node);
    if (this.nodes.length > 1) {
      await waitFor(
        "replicas to be online",
        () => {
          const info = redisCli(this.nodes[0].port, ["info", "replication"], this.admin()).out;
          return (info.match(/state=online/g) ?? []).length === this.nodes.length - 1;
        },
        30000,
      );
    }
    for (const sentinel of this.sentinels) this.startSentinel(sentinel);
    for (const sentinel of this.sentinels) await this.waitSentinelSettled(sentinel);
  }

  /** Until the sentinel sees every other sentinel and every replica. */
  async waitSentinelSettled(sentinel: LocalNode): Promise<void> {
    await waitFor(
      `${sentinel.name} to see its peers and replicas`,
      () => {
        const fields = sentinelMasterFields(this.sentinelMaster(sentinel));
        return fields["num-other-sentinels"] === String(this.sentinels.length - 1) && fields["num-slaves"] === String(this.nodes.length - 1);
      },
      30000,
      200,
    );
  }

  /**
   * SIGTERM, then a start from the rendered file, until it sees its peers and replicas again. As
   * the container's start script does, the file is rebuilt from the declared one: Sentinel's
   * rewrite adds the users of the included secrets, a second definition that refuses to load.
   * It names the declared master: for drills with no failover before the restart.
   */
  async restartSentinel(sentinel: LocalNode): Promise<void> {
    const running = sentinel.process;
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      const exited = new Promise<boolean>((resolve) => running.child.once("exit", () => resolve(true)));
      this.processes.signal(running, "SIGTERM");
      // Sentinel exits at once on SIGTERM; one that does not within 10 s is killed.
      const stopped = await Promise.race([exited, sleep(10_000).then(() => false)]);
      if (!stopped) await this.processes.kill9(running);
    }
    fs.writeFileSync(sentinel.confPath, sentinel.renderedConf);
    this.startSentinel(sentinel);
    await this.waitSentinelSettled(sentinel);
  }

  sentinelMaster(sentinel: LocalNode): string {
    return redisCli(sentinel.port, ["sentinel", "master", this.config.sentinel.masterName], this.sentinelAuth()).out;
  }

  /**
   * The master address a sentinel names now, e.g. 127.0.0.1:20001, or undefined. Async, like
   * role(): a client under test shares this event loop, and a blocking probe starves it.
   */
  async masterFromSentinel(sentinel: LocalNode): Promise<string | undefined> {
    const out = (await redisCliAsync(sentinel.port, ["sentinel", "get-master-addr-by-name", this.config.sentinel.masterName], this.sentinelAuth(), 2000)).out.split("\n");
    return out.length === 2 ? `${out[0]}:${out[1]}` : undefined;
  }

  /** "master" or "slave" as the node's ROLE says, or undefined when it does not answer. */
  async role(node: LocalNode): Promise<string | undefined> {
    const out = await redisCliAsync(node.port, ["role"], this.admin(), 2000);
    return out.status === 0 && /^(master|slave)/.test(out.out) ? out.out.split("\n")[0] : undefined;
  }

  nodeByPort(port: number): LocalNode | undefined {
    return this.nodes.find((n) => n.port === port);
  }

  /** INFO <section> of a node as a field map (admin user). */
  info(node: LocalNode, section: string): Record<string, string> {
    const fields: Record<string, string> = {};
    for (const line of redisCli(node.port, ["info", section], this.admin()).out.split("\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
    }
    return fields;
  }

  async stop({ keepFiles = false } = {}): Promise<void> {
    await this.processes.stop();
    if (!keepFiles) fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** A CA and every certificate of the topology's plan, under `dir`. */
export function issueClusterCertificates(dir: string, topology: Topology<HostConfig>): ClusterCertificates {
  const ca = createCertificateAuthority(path.join(dir, "ca"), "veza-redis drill CA");
  const pairs = new Map(certificatePlan(topology).map((request) => [request.name, issueCertificate(ca, request, dir)]));
  return { ca, dir, pairs };
}

/** `SENTINEL MASTER` prints alternating field/value lines. */
export function sentinelMasterFields(text: string): Record<string, string> {
  const lines = text.split("\n");
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) fields[lines[i]] = lines[i + 1];
  return fields;
}
