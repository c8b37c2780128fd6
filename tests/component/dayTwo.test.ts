// What the engine needs from the declaration for every `pulumi up` after the first:
// a rolling order in the graph, health-gated creates, room to hand off on delete, data that
// outlives the declaration, identities that do not move, and no per-shell inputs.
import { dataNodeStopGraceSeconds, dataNodeHealthyWithinSeconds } from "../../components/redis/dataNodeScripts";
import { computeSizing } from "../../components/redis/sizing";
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";
import { byName, CONTAINER, label, ofType, synthOk, type Resource } from "../helpers/synth";
import type { SynthResult } from "../../scripts/lib/synth";
import { replacementOrder } from "../../lib/engineOrder";

const redisFamily = (result: SynthResult) => ofType(result.unmasked, CONTAINER).filter((c) => ["redis", "sentinel"].includes(label(c, "component")!));

describe("day-2 safety under mocks", () => {
  let dev: SynthResult;
  beforeAll(async () => {
    dev = await synthOk("dev");
  });

  it("chains the containers: replicas, then the initial master, then the sentinels, each waiting for the one before", () => {
    const chain = ["redis-2", "redis-1", "redis-0", "sentinel-2", "sentinel-1", "sentinel-0"].map((n) => `${n}-container`);
    for (let i = 1; i < chain.length; i++) expect(byName(dev.unmasked, chain[i]).dependsOn).toContain(chain[i - 1]);
    expect(byName(dev.unmasked, chain[0]).dependsOn.filter((d) => chain.includes(d))).toEqual([]);
  });

  it("creates every Redis and Sentinel container health-gated (wait) with the stop grace of a full handoff", () => {
    const config = requireValidStackConfig(readStackConfigFile("dev").raw);
    for (const container of redisFamily(dev)) {
      const data = label(container, "component") === "redis";
      expect(container.inputs.wait).toBe(true);
      expect(container.inputs.waitTimeout).toBe(data ? dataNodeHealthyWithinSeconds(computeSizing(config.redis)) : 60);
      expect(container.inputs.destroyGraceSeconds).toBe(container.inputs.stopTimeout);
      if (data) expect(container.inputs.destroyGraceSeconds).toBe(dataNodeStopGraceSeconds(config.sentinel.failoverTimeoutMilliseconds, config.sentinel.count));
      expect(container.inputs.destroyGraceSeconds as number).toBeGreaterThan(0);
      expect(container.inputs.entrypoints).toEqual(["sh", "/etc/veza/entrypoint.sh"]);
    }
  });

  it("a changed config file: new config carriers and volumes first, the containers replaced one at a time in the rolling order, the old carriers deleted last", async () => {
    const changed = await synthOk("dev", ["redis.aofRewritePercentage=150"]);
    const steps = replacementOrder(dev.plan, changed.plan);
    const stepOf = (op: string, name: string) => steps.findIndex((step) => step.chains.some((chain) => chain.some((o) => o.op === op && o.name === name)));
    const nodes = ["redis-2", "redis-1", "redis-0"];
    // One container per step, in the chain's order: never two data nodes down at once.
    const deletes = nodes.map((node) => stepOf("delete", `${node}-container`));
    expect(deletes.every((step) => step >= 0)).toBe(true);
    expect([...deletes].sort((a, b) => a - b)).toEqual(deletes);
    expect(new Set(deletes).size).toBe(nodes.length);
    for (const node of nodes) {
      // The new files exist before the container goes: created beside the old ones (no delete first).
      expect(stepOf("create", `${node}-container-config`)).toBeLessThan(stepOf("delete", `${node}-container`));
      expect(stepOf("create", `${node}-container-config-volume`)).toBeLessThan(stepOf("create", `${node}-container-config`));
      // The old copies go in the final phase, once no container mounts them.
      for (const name of [`${node}-container-config`, `${node}-container-config-volume`]) expect(steps[stepOf("delete", name)].deletes).toBe(true);
    }
  });

  it("gives the data volumes only labels that never change with sizing", async () => {
    const bigger = await synthOk("dev", ["redis.memoryLimitMiB=2048", "redis.aofRewriteMinSizeMiB=128"]);
    for (const name of ["redis-0-data", "redis-1-data", "redis-2-data"]) {
      expect(byName(bigger.unmasked, name).inputs).toEqual(byName(dev.unmasked, name).inputs);
    }
  });

  it("keeps each data node's URN with Sentinel on or off: same name, same parent", async () => {
    const standalone = await synthOk("dev", ["sentinel.enabled=false", "redis.minReplicasToWrite=0"]);
    const parents = (result: SynthResult, name: string): string[] => {
      const chain: string[] = [];
      let current: Resource | undefined = byName(result.unmasked, name);
      while (current) {
        chain.push(`${current.type}::${current.name}`);
        current = current.parent ? byName(result.unmasked, current.parent) : undefined;
      }
      return chain;
    };
    expect(parents(standalone, "redis-0-container")).toEqual(parents(dev, "redis-0-container"));
    expect(ofType(standalone.unmasked, CONTAINER).filter((c) => label(c, "component") === "sentinel")).toEqual([]);
  });

  it("triggers the connectivity check on the connection, not on the API container: the incident preset leaves it alone", async () => {
    const incident = await synthOk("dev", ["incident=redis-down"]);
    const check = (result: SynthResult) => byName(result.plan.resources as Resource[], "api-redis-connectivity-check").inputs;
    expect(check(incident)).toEqual(check(dev));
    expect(JSON.stringify(check(dev).triggers)).not.toMatch(/api-container/);
  });

  it("puts no per-shell value among the inputs and checks every ssh:// host's key strictly", async () => {
    const prod = await synthOk("prod");
    const config = requireValidStackConfig(readStackConfigFile("prod").raw);
    for (const host of config.hosts) {
      const provider = byName(prod.unmasked, `${host.name}-docker`);
      // Provider inputs travel as JSON strings (provider configuration is string-valued).
      const sshOpts = JSON.parse(provider.inputs.sshOpts as string) as string[];
      expect(sshOpts).toEqual(expect.arrayContaining(["StrictHostKeyChecking=yes", `KnownHostsCommand=/bin/echo ${host.address} ${host.sshHostKey}`]));
      const tuning = byName(prod.unmasked, `${host.name}-kernel-tuning`);
      const connection = tuning.inputs.connection as Record<string, unknown>;
      expect(connection.hostKey).toBe(host.sshHostKey);
      expect(connection.agentSocketPath).toBeUndefined();
    }
    const before = process.env.SSH_AUTH_SOCK;
    process.env.SSH_AUTH_SOCK = "/tmp/ssh-XXXX/agent.4242";
    try {
      const again = await synthOk("prod");
      expect(JSON.stringify(again.plan.resources)).toBe(JSON.stringify(prod.plan.resources));
    } finally {
      if (before === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = before;
    }
  });
});
