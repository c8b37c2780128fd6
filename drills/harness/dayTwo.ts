// The day-2 runner: the day-2 scenarios (scenarios/rollingImageUpgrade.ts, redeployAfterFailover.ts,
// plannedRestartOfMaster.ts) are parameter sets of dayTwoDrill below.
// Day-2 drills: the containers' own entry scripts and files run as processes
// (containerRunner.ts), booted and replaced in the order the engine follows for the dev plan.
// Targets, asserted per run: 0 acknowledged writes lost; no client write gap over 5 s (the
// report compares the median with the 1.5 s per-handoff target); never two nodes taking writes;
// settled within 30 s of the last create (one master, every replica online, every sentinel
// agreeing on it and seeing all its peers); no container needing SIGKILL on delete.
import * as path from "node:path";
import Redis from "ioredis";
import type { HostConfig, StackConfig } from "../../components/config/types";
import { ACL_USERS, type Credentials, SENTINEL_USERS } from "../../components/redis/acl";
import type { CredentialState } from "../../components/redis/rotation";
import { REDIS_CONF_PATH } from "../../components/redis/redisConf";
import { HEALTHCHECK_TIMING } from "../../components/host/containerDefaults";
import { AlertCheck } from "./alerting";
import { dataNodeContainer, sentinelContainer, type ContainerDefinition } from "../../components/topology/containers";
import { placeTopology, type Topology } from "../../components/topology/placement";
import { ContainerRunner, containerRunnerAvailable, isEntryLine } from "./containerRunner";
import { LOCAL_HOST, randomCredentials, sentinelMasterFields } from "./localCluster";
import { containerSlotName, containerSteps, EMPTY_PLAN, synthPlan, type ContainerStep } from "./planOrder";
import { freePortRange, redisCliAsync, sleep, waitFor } from "./processes";
import { Workspace } from "./workspace";
import { countMissing, sentinelClient, SteadyWriter, tlsPem } from "./writer";
import { issuePlanMaterial } from "./certificates";
import { certificatePlan, OUTGOING_ROLE, outgoingClientTls, type ClientCertificateRole, type ClientTlsFiles } from "../../components/tls/certificates";
import { CONTAINER_CREDENTIALS_DIR, CONTAINER_TLS_FILES } from "../../components/topology/settings";
import type { LiveApplySettings } from "../../components/topology/credentialScripts";
import { Checks, seconds, type DrillContext, type Figure, type Target } from "./types";
import { stackModelPlacedAt } from "../../components/topology/model";

/** How long the drill waits for the cluster to settle after the last create (the target below). */
export const SETTLED_WITHIN_SECONDS = 30;

export const DAY_TWO_TARGETS: Target[] = [
  { figure: "acked_writes_lost", kind: "equals", value: 0, why: "every acknowledged write survives the redeploy" },
  { figure: "longest_write_gap_s", kind: "at most", value: 5, shortValue: 10, why: "never more than 5 s without writes" },
  { figure: "redeploy_longest_write_gap_s", kind: "at most", value: 5, medianAtMost: 1.5, why: "each master handoff is a short pause (issue target 1.5 s, never more than 5 s)" },
  { figure: "psync_refused", kind: "equals", value: 0, why: "the old master is down before a replica is promoted: no replica ends up ahead of the new master and needs a full resync" },
  { figure: "two_nodes_writable_s", kind: "equals", value: 0, why: "never two nodes taking writes" },
  { figure: "settled_after_last_create_s", kind: "at most", value: SETTLED_WITHIN_SECONDS, why: "one master, every replica online, every sentinel agreeing and seeing its peers" },
  { figure: "killed_on_delete", kind: "equals", value: 0, why: "every delete fits in the stop grace (no SIGKILL mid-handoff)" },
  { figure: "parallel_replacements", kind: "equals", value: 0, why: "the engine never replaces two Redis-family containers at once" },
];

/** The image bump the drills replay: the same version, pinned by a digest, changes every container's image. */
export const IMAGE_BUMP = "redis.image=redis:7.0.15-bookworm@sha256:" + "0".repeat(63) + "1";

export const healthcheckIntervalMs = () => Number(HEALTHCHECK_TIMING.interval.replace(/s$/, "")) * 1000;

/** A data node or sentinel of a ContainerCluster: where clients reach it, and on which host. */
export interface ClusterEndpoint {
  name: string;
  port: number;
  address: string;
  hostName: string;
}

export class ContainerCluster {
  /** What the drill's own clients authenticate with (the credential rotation drill moves it). */
  credentials: Credentials;
  readonly runner: ContainerRunner;
  readonly nodes: ClusterEndpoint[];
  readonly sentinels: ClusterEndpoint[];

  /**
   * `networkOf` puts each host's containers in that host's network namespace (hostNetwork.ts);
   * without it every container shares this machine's network, as the dev plan's do.
   */
  constructor(
    readonly config: StackConfig,
    readonly topology: Topology<HostConfig>,
    ws: Workspace,
    transform: (d: ContainerDefinition) => ContainerDefinition = (d) => d,
    initial?: CredentialState,
    networkOf?: (hostName: string) => string,
  ) {
    const model = stackModelPlacedAt(config, topology);
    this.credentials = initial?.used ?? randomCredentials();
    // The seed writes this state into a fresh volume before a create (the runner's state: a rotation moves it).
    this.runner = new ContainerRunner(ws, initial ?? this.credentials);
    // With tls.enabled, the program's plan issued by openssl: what its `<name>-tls-files` commands write.
    const issued = config.tls.enabled ? issuePlanMaterial(ws.tempDir("certificates"), certificatePlan(topology)) : undefined;
    this.clientTls = issued ? (role) => issued.clientFiles(role) : undefined;
    for (const node of topology.dataNodes)
      this.runner.define(node.name, transform(dataNodeContainer(config, model, node)), true, networkOf?.(node.host.name), issued?.server(node.name, OUTGOING_ROLE.dataNode));
    // Sentinels have a named data volume too (their live credentials survive a replacement).
    for (const sentinel of topology.sentinels)
      this.runner.define(sentinel.name, transform(sentinelContainer(config, model, sentinel)), true, networkOf?.(sentinel.host.name), issued?.server(sentinel.name, OUTGOING_ROLE.sentinel));
    this.nodes = topology.dataNodes.map((n) => ({ name: n.name, port: n.port, address: n.host.address, hostName: n.host.name }));
    this.sentinels = topology.sentinels.map((s) => ({ name: s.name, port: s.port, address: s.host.address, hostName: s.host.name }));
  }

  static async render(config: StackConfig, ws: Workspace, transform?: (d: ContainerDefinition) => ContainerDefinition, initial?: CredentialState): Promise<ContainerCluster> {
    const replicas = config.sentinel.replicas;
    const basePort = await freePortRange(replicas + 1 + config.sentinel.count);
    const topology = placeTopology({ hosts: [LOCAL_HOST], redisPort: basePort, sentinelPort: basePort + replicas + 1, replicas, sentinels: config.sentinel.count });
    return new ContainerCluster(config, topology, ws, transform, initial);
  }

  /** With TLS on: a client role's files (CA bundle, certificate, key), for redis-cli and ioredis. */
  readonly clientTls?: (role: ClientCertificateRole) => ClientTlsFiles;

  /** A client role's TLS options for CliAuth, or none in plaintext. */
  tlsOf = (role: ClientCertificateRole): { tls?: ClientTlsFiles } => (this.clientTls ? { tls: this.clientTls(role) } : {});

  /** How the program's live scripts (credentials, TLS reload) reach a container's process: its bind address, with the container's client pair under TLS. */
  liveApplySettings(target: { name: string; port: number }): LiveApplySettings {
    return {
      name: target.name,
      local: { host: "127.0.0.1", port: target.port },
      credentialsDir: CONTAINER_CREDENTIALS_DIR,
      ...(this.clientTls ? { tls: outgoingClientTls(CONTAINER_TLS_FILES) } : {}),
    };
  }

  admin = () => ({ user: ACL_USERS.admin, password: this.credentials.admin, ...this.tlsOf("admin") });
  sentinelAdmin = () => ({ user: SENTINEL_USERS.admin.name, password: this.credentials.sentinelAdmin, ...this.tlsOf("admin") });

  /**
   * Replays engine steps: the chains of a step at the same time, each one container's delete
   * (SIGTERM, the grace recorded in the state, SIGKILL) then create (fresh files, volume kept,
   * healthy before done when the plan says wait). Returns how many deletes needed SIGKILL.
   */
  /** What the replay did and when: to tell which step a write gap belongs to. */
  readonly timeline: Array<{ at: number; event: string }> = [];

  async replay(steps: ContainerStep[]): Promise<{ killedOnDelete: number; parallelSteps: number }> {
    let killedOnDelete = 0;
    const note = (event: string) => this.timeline.push({ at: Date.now(), event });
    for (const chains of steps) {
      await Promise.all(
        chains.map(async (chain) => {
          for (const op of chain) {
            const name = containerSlotName(op.name);
            if (op.op === "delete") {
              note(`delete ${name}`);
              if ((await this.runner.delete(name, op.graceSeconds ?? 0)).killed) killedOnDelete++;
            } else if (op.op === "create") {
              note(`create ${name}`);
              this.runner.create(name);
              if (op.waitsForHealthy) await this.runner.waitHealthy(name, healthcheckIntervalMs());
              note(`${name} healthy`);
            }
          }
        }),
      );
    }
    return { killedOnDelete, parallelSteps: steps.filter((chains) => chains.length > 1).length };
  }

  async role(node: ClusterEndpoint): Promise<string | undefined> {
    return (await this.roleReply(node))?.[0];
  }

  /** ROLE's answer, a line per field (a replica's: slave, master host, master port, link state...), or undefined. */
  async roleReply(node: ClusterEndpoint): Promise<string[] | undefined> {
    const out = await redisCliAsync(node.port, ["role"], this.admin(), 2000, node.address);
    return out.status === 0 ? out.out.split("\n") : undefined;
  }

  async sentinelView(sentinel: ClusterEndpoint): Promise<Record<string, string>> {
    const out = await redisCliAsync(sentinel.port, ["sentinel", "master", this.config.sentinel.masterName], this.sentinelAdmin(), 2000, sentinel.address);
    return out.status === 0 ? sentinelMasterFields(out.out) : {};
  }

  /** What is wrong with the cluster now, or nothing when it has settled. */
  async unsettled(): Promise<string[]> {
    const problems: string[] = [];
    const roles = await Promise.all(this.nodes.map((n) => this.role(n)));
    const masters = this.nodes.filter((_, i) => roles[i] === "master");
    if (masters.length !== 1) return [`${masters.length} nodes report the master role (${roles.join(", ")})`];
    const master = masters[0];
    const info = (await redisCliAsync(master.port, ["info", "replication"], this.admin(), 2000, master.address)).out;
    const online = (info.match(/^slave\d+:.*state=online/gm) ?? []).length;
    if (online !== this.nodes.length - 1) problems.push(`${online} of ${this.nodes.length - 1} replicas online on ${master.name}`);
    for (const sentinel of this.sentinels) {
      const view = await this.sentinelView(sentinel);
      if (view.ip !== master.address || view.port !== String(master.port)) problems.push(`${sentinel.name} names ${view.ip ?? "none"}:${view.port ?? "none"}, not ${master.name}`);
      if (view["num-other-sentinels"] !== String(this.sentinels.length - 1)) problems.push(`${sentinel.name} sees ${view["num-other-sentinels"] ?? "?"} other sentinels`);
      if (view["num-slaves"] !== String(this.nodes.length - 1)) problems.push(`${sentinel.name} knows ${view["num-slaves"] ?? "?"} replicas`);
    }
    return problems;
  }

  /**
   * An unplanned failover: the master's container dies (SIGKILL), the sentinels name another
   * master, and restart: unless-stopped brings the killed container back (its entry script finds
   * the new master), healthy before this returns.
   */
  async killMaster(master: ClusterEndpoint, promotionTimeoutMs: number): Promise<{ promoted: ClusterEndpoint; killedAt: number; promotedAt: number }> {
    const killedAt = Date.now();
    await this.runner.killAndWait(master.name);
    const promoted = await waitFor(
      "a new master",
      async () => {
        const now = await this.master();
        return now && now.name !== master.name ? now : undefined;
      },
      promotionTimeoutMs,
      50,
    );
    const promotedAt = Date.now();
    this.runner.restart(master.name);
    await this.runner.waitHealthy(master.name, healthcheckIntervalMs());
    return { promoted, killedAt, promotedAt };
  }

  /** Waits for the cluster to settle (see unsettled); what was still wrong if it did not in time. */
  async settle(timeoutMs: number): Promise<{ settled: boolean; problems: string[] }> {
    let problems: string[] = [];
    const settled = await waitFor(
      "the cluster to settle",
      async () => {
        problems = await this.unsettled();
        return problems.length === 0;
      },
      timeoutMs,
      200,
    ).then(
      () => true,
      () => false,
    );
    return { settled, problems };
  }

  async master(): Promise<ClusterEndpoint | undefined> {
    const roles = await Promise.all(this.nodes.map((n) => this.role(n)));
    const masters = this.nodes.filter((_, i) => roles[i] === "master");
    return masters.length === 1 ? masters[0] : undefined;
  }
}

/**
 * Samples every 100 ms which data nodes accept a write (an admin SET, so a replica answers
 * READONLY, a paused master does not answer in time, a master without replicas NOREPLICAS).
 * Two in the same round means two nodes taking writes.
 */
class WritableProbe {
  private readonly clients: Redis[];
  private running = false;
  private loop?: Promise<void>;
  dualRounds = 0;
  rounds = 0;

  constructor(private readonly cluster: ContainerCluster) {
    const adminTls = tlsPem(cluster.clientTls?.("admin"));
    this.clients = cluster.nodes.map((n) => {
      const client = new Redis({
        host: n.address,
        port: n.port,
        username: ACL_USERS.admin,
        password: cluster.credentials.admin,
        ...(adminTls ? { tls: adminTls } : {}),
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        connectTimeout: 500,
        retryStrategy: () => 100,
      });
      client.on("error", () => undefined);
      return client;
    });
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const accepted = await Promise.all(
          this.clients.map((client, i) =>
            Promise.race([
              client.set(`veza:probe:${this.cluster.nodes[i].name}`, String(Date.now())).then(
                () => true,
                () => false,
              ),
              sleep(150).then(() => false),
            ]),
          ),
        );
        this.rounds++;
        if (accepted.filter(Boolean).length > 1) this.dualRounds++;
        await sleep(100);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    for (const client of this.clients) client.disconnect();
  }
}

export interface DayTwoOptions {
  label: string;
  /** Kill the master's container (an unplanned failover, then the restart policy) before the redeploy. */
  failoverFirst: boolean;
  /** Instead of an image bump: `docker restart` of the current master's container (planned maintenance). */
  restartMaster?: boolean;
  /**
   * The guards broken on purpose, to show the drill sees the failure it exists for: the
   * behaviour before the start scripts discovered the live topology. The scripts have no sentinel, peer or previous run to ask (every
   * start takes the declared topology, no master hands off) and the engine replaces every
   * container at once (no rolling chain). Either guard alone is covered by the others
   * (sentinels replaced one at a time relearn the master from their peers' hello messages).
   */
  brokenGuard?: "no-discovery-no-rolling-order";
  /**
   * Every data node PINGs its replicas at each replication tick (repl-ping-replica-period 1, not
   * the declared 10 s). That makes the race the handoff's order closes certain instead of about
   * 1 handoff in 6: a master still running while a replica is promoted puts the other replicas
   * past the new master's offset, so their PSYNC is refused.
   */
  pingEverySecond?: boolean;
}

/** A container with the content of its declared (non-secret) files at matching paths edited. */
function withFileEdited(definition: ContainerDefinition, matches: (path: string) => boolean, edit: (content: string) => string): ContainerDefinition {
  return { ...definition, files: definition.files.map((file) => ("content" in file && matches(file.path) ? { ...file, content: edit(file.content) } : file)) };
}

/** The data nodes' declared redis.conf with a replication PING every second. */
function pingingEverySecond(definition: ContainerDefinition): ContainerDefinition {
  return withFileEdited(
    definition,
    (path) => path === REDIS_CONF_PATH,
    (content) => `${content}repl-ping-replica-period 1\n`,
  );
}

/** The entry scripts with nobody to ask: the declared files rule every start, as before discovery existed. */
function withoutDiscovery(definition: ContainerDefinition): ContainerDefinition {
  const blind = (text: string) => text.replace(/^VEZA_(SENTINELS|PEERS|DATA_NODES)=.*$/gm, "VEZA_$1=''").replace(/^VEZA_RUNTIME_CONF='(.*)'$/m, "VEZA_RUNTIME_CONF='$1'\nrm -f \"$VEZA_RUNTIME_CONF\"");
  return withFileEdited(definition, (path) => path.endsWith("entrypoint.sh"), blind);
}

export async function dayTwoDrill(ctx: DrillContext, options: DayTwoOptions) {
  const unavailable = containerRunnerAvailable();
  if (unavailable) return { passed: false, failures: [unavailable], figures: {} };
  if (!ctx.config.sentinel.enabled) return { passed: false, failures: ["the day-2 drills need sentinel.enabled"], figures: {} };
  const ws = new Workspace(options.label);
  const clients: Redis[] = [];
  let probe: WritableProbe | undefined;
  let writer: SteadyWriter | undefined;
  let check: AlertCheck | undefined;
  try {
    const checks = new Checks();
    // The engine's order for the dev plan: the first boot, then the image bump's replacements.
    const planDir = ws.tempDir("plans");
    const before = synthPlan(ctx.stack, [], path.join(planDir, "before"));
    const after = synthPlan(ctx.stack, [IMAGE_BUMP], path.join(planDir, "after"));
    const firstBoot = containerSteps(EMPTY_PLAN(ctx.stack), before);
    const rollingSteps = containerSteps(before, after);
    // Without the rolling order every replacement lands in one engine step.
    const imageBump = options.brokenGuard ? [rollingSteps.flat()] : rollingSteps;
    const replaceOrder = imageBump.map((chains) => chains.map((chain) => containerSlotName(chain[0].name)).join("+"));

    const cluster = await ContainerCluster.render(ctx.config, ws, options.brokenGuard ? withoutDiscovery : options.pingEverySecond ? pingingEverySecond : undefined);
    await cluster.replay(firstBoot);
    await waitFor("the first boot to settle", async () => (await cluster.unsettled()).length === 0, 30000, 200);
    check = await AlertCheck.onLoopback(ctx.alerts, ctx.config, cluster.topology, cluster.credentials.exporter, ws, cluster.clientTls?.("exporter"));

    const client = sentinelClient(cluster);
    clients.push(client);
    writer = new SteadyWriter(client, "day2", { concurrency: 4 });
    writer.start();
    probe = new WritableProbe(cluster);
    probe.start();
    await sleep(ctx.short ? 1500 : 3000);
    const startedAt = Date.now();

    let failoverFigures: Record<string, Figure> = {};
    if (options.failoverFirst) {
      const master = (await cluster.master())!;
      const { promoted, killedAt, promotedAt } = await cluster.killMaster(master, 60000);
      await waitFor("the cluster to settle after the failover", async () => (await cluster.unsettled()).length === 0, 30000, 200);
      failoverFigures = { failed_over_to: promoted.name, promotion_s: seconds(promotedAt - killedAt), restarted_node_role: (await cluster.role(master)) ?? "none" };
      checks.expect(failoverFigures.restarted_node_role === "slave", `${master.name} came back as ${String(failoverFigures.restarted_node_role)}, not as a replica of ${promoted.name}`);
    }

    const redeployFrom = Date.now();
    const masterBefore = (await cluster.master())?.name ?? "none";
    let replayed: { killedOnDelete: number; parallelSteps: number };
    if (options.restartMaster) {
      // `docker restart veza-redis-N` on the master: SIGTERM (its handoff), then the same container again.
      const master = masterBefore;
      cluster.timeline.push({ at: Date.now(), event: `restart ${master}` });
      const stopped = await cluster.runner.delete(master);
      cluster.runner.restart(master);
      await cluster.runner.waitHealthy(master, healthcheckIntervalMs());
      replayed = { killedOnDelete: stopped.killed ? 1 : 0, parallelSteps: 0 };
    } else {
      replayed = await cluster.replay(imageBump);
    }
    const { killedOnDelete, parallelSteps } = replayed;
    const lastCreateAt = Date.now();
    const { settled, problems: lastProblems } = await cluster.settle(SETTLED_WITHIN_SECONDS * 1000);
    const settledAt = settled ? Date.now() : undefined;
    await sleep(1000);
    await writer.stop();
    await probe.stop();
    const master = await cluster.master();
    const lost = master ? await countMissing(master.port, writer.stats.ackedKeys, cluster.admin(), master.address) : writer.stats.acknowledged;
    const longestGap = writer.longestGapAfter(startedAt);
    const gapStart = Number.isNaN(longestGap.resumedAt) ? Date.now() - longestGap.gapMs : longestGap.resumedAt - longestGap.gapMs;
    const gapAfter = cluster.timeline.filter((e) => e.at <= gapStart).pop();
    const redeployGap = writer.longestGapAfter(redeployFrom);
    // Each data node's log read once: every figure and the diagnosis below come from these lines.
    const nodeLogs = cluster.nodes.map((n) => ({ name: n.name, lines: cluster.runner.logLines(n.name) }));
    const entryLines = nodeLogs.flatMap((log) => log.lines.filter(isEntryLine));
    const handoffs = entryLines.filter((l) => l.includes("handed off to"));
    const handoffMs = handoffs.map((l) => Number(/ in (\d+) ms/.exec(l)?.[1] ?? Number.NaN));
    // A master refusing a replica's PSYNC for its offset or ID: that replica needs a full resync,
    // and the new master stays without an online replica meanwhile (writes refused). Replicas
    // restarted from their AOF ask for a full resync outright ("Full resync requested"): not counted.
    const psyncRefused = nodeLogs.flatMap((log) => log.lines).filter((l) => l.includes("Partial resynchronization not accepted")).length;
    const noHandoff = entryLines.filter((l) => l.includes("without a handoff"));

    checks.expect(settledAt !== undefined, `not settled ${SETTLED_WITHIN_SECONDS} s after the last create: ${lastProblems.join("; ")}`);
    checks.expect(writer.stats.acknowledged > 0, "the writer never wrote");
    // A slow handoff or a long gap explains itself in the report: the entry scripts' own lines and
    // the sentinels' failover events, with their times.
    let diagnosis = "";
    if (process.env.VEZA_DRILL_DIAGNOSE === "always" || longestGap.gapMs > 5000 || handoffMs.some((ms) => ms > 5000)) {
      const sentinelEvents = cluster.sentinels.flatMap((s) =>
        cluster.runner
          .logLines(s.name)
          .filter((l) => /try-failover|selected-slave|promoted-slave|failover-|switch-master|slave-reconf|convert-to-slave|[+-][so]down|INPROG|NOGOODSLAVE/.test(l))
          .map((l) => `${s.name}: ${l.trim()}`),
      );
      const replicationLines = nodeLogs.flatMap((log) =>
        log.lines
          .filter((l) => /resynchronization|Full resync|REPLICAOF|MASTER MODE|shutting down|Waiting for replicas|ready to exit|Saving the final/i.test(l))
          .map((l) => `${log.name}: ${l.trim()}`),
      );
      diagnosis = [...entryLines, ...replicationLines.slice(-20), ...sentinelEvents.slice(-30), `writer errors: ${writer.stats.errorMessages.join(" | ")}`].join(" / ");
    }
    checks.expect(noHandoff.length === 0, `a master stopped without a handoff: ${noHandoff.join(" | ")}`);
    const result = {
      passed: checks.passed,
      failures: checks.failures,
      figures: {
        ...failoverFigures,
        replacement_order: options.restartMaster ? `restart ${masterBefore}` : replaceOrder.join(">"),
        parallel_replacements: parallelSteps,
        master_before_redeploy: masterBefore,
        handoffs: handoffs.length,
        longest_handoff_s: handoffMs.length > 0 ? seconds(Math.max(...handoffMs)) : "none",
        longest_write_gap_s: seconds(longestGap.gapMs),
        longest_gap_began: gapAfter ? `${seconds(gapStart - gapAfter.at)} s after ${gapAfter.event}` : "before the redeploy",
        redeploy_longest_write_gap_s: seconds(redeployGap.gapMs),
        psync_refused: psyncRefused,
        acked_writes: writer.stats.acknowledged,
        acked_writes_lost: lost,
        two_nodes_writable_s: Math.round(probe.dualRounds * 0.1 * 10) / 10,
        redeploy_s: seconds(lastCreateAt - redeployFrom),
        settled_after_last_create_s: settledAt ? seconds(settledAt - lastCreateAt) : "never",
        killed_on_delete: killedOnDelete,
        final_master: master?.name ?? "none",
        ...(diagnosis ? { diagnosis } : {}),
      } satisfies Record<string, Figure> as Record<string, Figure>,
    };
    return check ? await check.judge(result) : result;
  } finally {
    await check?.stop();
    await writer?.stop();
    await probe?.stop();
    for (const client of clients) client.disconnect();
    await ws.cleanup();
  }
}
