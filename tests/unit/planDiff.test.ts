// plan-diff: replace vs update per the provider table, ignoreChanges, replaceOnChanges, aliases,
// dependent replacements, and the engine's order; then the real program, synthesized twice.
import { diffPlans, formatPlanDiff, pathCovers, type ResourceDiff } from "../../lib/planDiff";
import { dependencyGraph, formatEngineOrder, replacementOrder, type EngineStep } from "../../lib/engineOrder";
import type { Plan, PlannedResource, ResourceOptions } from "../../scripts/lib/synth";
import { synthOk } from "../helpers/synth";
import { runScript } from "../helpers/cli";

const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";
const PASSWORD = "random:index/randomPassword:RandomPassword";

function resource(name: string, inputs: Record<string, unknown>, more: Partial<Omit<PlannedResource, "options">> & { options?: Partial<ResourceOptions> } = {}): PlannedResource {
  const { options, ...rest } = more;
  return {
    type: CONTAINER,
    name,
    custom: true,
    dependsOn: [],
    inputs,
    ...rest,
    options: { protect: false, retainOnDelete: false, deleteBeforeReplace: null, ignoreChanges: [], replaceOnChanges: [], aliases: [], ...options },
  };
}

const plan = (...resources: PlannedResource[]): Plan => ({ stack: "test", resources, outputs: {} });
const container = (name: string, envs: string[] = ["A=1"], more: Parameters<typeof resource>[2] = {}) => resource(name, { name: `veza-${name}`, image: "sha256:1", envs, memory: 512 }, more);
const only = (before: Plan, after: Plan): ResourceDiff => {
  const { resources } = diffPlans(before, after);
  expect(resources).toHaveLength(1);
  return resources[0];
};
/** Steps as names: "delete x" / "create x" per chain. */
const names = (steps: EngineStep[]) => steps.map((s) => s.chains.map((chain) => chain.map((o) => `${o.op} ${o.name}`)));

describe("plan-diff: what the provider does with each change", () => {
  it("reports a change to a ForceNew input as a replacement naming the input, deleting first as pulumi-docker asks", () => {
    const diff = only(plan(container("api")), plan(container("api", ["A=2"])));
    expect(diff).toMatchObject({ kind: "changed", action: "replace", replaceReasons: ["envs"], deleteBeforeReplace: true });
    expect(formatPlanDiff(diffPlans(plan(container("api")), plan(container("api", ["A=2"]))))).toMatch(
      /^\+- docker:index\/container:Container api \(replace, delete before replace; forced by envs\)\n {4}envs\[A\]: A=1 -> A=2\n/,
    );
  });

  it("reports a change to an updatable input as ~, saying what the update does", () => {
    const before = plan(container("redis"));
    const after = plan(resource("redis", { ...container("redis").inputs, memory: 1024 }));
    const diff = only(before, after);
    expect(diff).toMatchObject({ action: "update", replaceReasons: [] });
    expect(diff.notes).toEqual(["memory: applied to the running container with docker update (ContainerUpdate)"]);
    expect(formatPlanDiff(diffPlans(before, after)).split("\n")[0]).toBe(`~ ${CONTAINER} redis (update in place)`);
  });

  it("hides a change under ignoreChanges, as the engine puts the old value back", () => {
    const ignoring = { options: { ignoreChanges: ["envs"] } };
    const result = diffPlans(plan(container("api", ["A=1"], ignoring)), plan(container("api", ["A=2"], ignoring)));
    expect(result.resources).toEqual([]);
    expect(result.unchanged).toBe(1);
    // With another change next to it, the ignored one is listed apart and does not force a replacement.
    const after = plan(resource("api", { ...container("api", ["A=2"]).inputs, memory: 1024 }, ignoring));
    const diff = only(plan(container("api", ["A=1"], ignoring)), after);
    expect(diff).toMatchObject({ action: "update", changes: [{ path: "memory", before: 512, after: 1024 }], ignored: [{ path: "envs[A]" }] });
  });

  it("makes a change covered by replaceOnChanges a replacement, even of an input the provider updates in place", () => {
    const roc = { options: { replaceOnChanges: ["memory"] } };
    const diff = only(plan(container("redis", ["A=1"], roc)), plan(resource("redis", { ...container("redis").inputs, memory: 1024 }, roc)));
    expect(diff).toMatchObject({ action: "replace", replaceReasons: ["memory (replaceOnChanges memory)"] });
    expect(pathCovers("healthcheck", "healthcheck.tests")).toBe(true);
    expect(pathCovers("triggers[*]", "triggers")).toBe(true);
    expect(pathCovers("healthcheck", "envs[A]")).toBe(false);
  });

  it("sees a removed and an added resource joined by an alias as one renamed resource, not a replacement", () => {
    const before = plan(container("redis-0"));
    const renamed = (aliases: ResourceOptions["aliases"]) => plan(resource("redis-0-container", container("redis-0").inputs, { options: { aliases } }));
    for (const alias of [{ name: "redis-0" }, { urn: `urn:pulumi:test::veza-redis::veza:redis:RedisNode$${CONTAINER}::redis-0` }]) {
      expect(only(before, renamed([alias]))).toMatchObject({ kind: "changed", action: "same", renamedFrom: "redis-0", changes: [] });
      expect(replacementOrder(before, renamed([alias]))).toEqual([]);
    }
    // Without the alias the engine deletes one and creates the other.
    expect(diffPlans(before, renamed([])).resources.map((r) => r.action)).toEqual(["create", "delete"]);
    // A child named after a renamed component inherits its alias, as the SDK's inheritedChildAlias does.
    const component = (name: string, aliases: ResourceOptions["aliases"] = []) => resource(name, {}, { type: "veza:redis:RedisNode", custom: false, options: { aliases } });
    const child = (parent: string) => resource(`${parent}-container`, container("x").inputs, { parent });
    const moved = diffPlans(plan(component("redis-0"), child("redis-0")), plan(component("redis-a", [{ name: "redis-0" }]), child("redis-a")));
    expect(moved.resources.map((r) => [r.name, r.action, r.renamedFrom])).toEqual([
      ["redis-a", "same", "redis-0"],
      ["redis-a-container", "same", "redis-0-container"],
    ]);
    // The alias keeps the resource, not its inputs: a new container name is still a replacement.
    const newDockerName = plan(container("redis-0-container", ["A=1"], { options: { aliases: [{ name: "redis-0" }] } }));
    expect(only(before, newDockerName)).toMatchObject({ action: "replace", renamedFrom: "redis-0", replaceReasons: ["name"] });
  });

  it("replaces a dependent whose ForceNew input takes a value from a replaced resource, and deletes it first", () => {
    const volume = (labels: string[]) => resource("data", { name: "veza-data", labels }, { type: VOLUME });
    const node = container("redis", ["A=1"], { dependsOn: ["data"], propertyDependencies: { mounts: ["data"] } });
    const sidecar = container("exporter", ["A=1"], { dependsOn: ["data"] }); // dependsOn only: not replaced
    const before = plan(volume(["a"]), node, sidecar);
    const after = plan(volume(["b"]), node, sidecar);
    expect(diffPlans(before, after).resources.map((r) => [r.name, r.action, r.replaceReasons])).toEqual([
      ["data", "replace", ["labels"]],
      ["redis", "replace", ["mounts (takes a value from data, which is replaced)"]],
    ]);
    expect(names(replacementOrder(before, after))).toEqual([[["delete redis", "delete data", "create data"]], [["create redis"]]]);
  });

  it("creates a replacement first and deletes the old copy at the end when the provider allows it", () => {
    const password = (length: number) => resource("pw", { length }, { type: PASSWORD });
    const user = container("redis", ["A=1"], { dependsOn: ["pw"], propertyDependencies: { uploads: ["pw"] } });
    const steps = replacementOrder(plan(password(40), user), plan(password(48), user));
    expect(names(steps)).toEqual([[["create pw"]], [["delete redis", "create redis"]], [["delete pw"]]]);
    expect(steps[2].deletes).toBe(true);
  });

  it("notes protected and retained resources", () => {
    const before = plan(resource("data", { name: "veza-data", labels: ["a"] }, { type: VOLUME, options: { retainOnDelete: true, protect: true } }));
    const diff = only(before, plan(resource("data", { name: "veza-data", labels: ["b"] }, { type: VOLUME, options: { retainOnDelete: true, protect: true } })));
    expect(diff.notes).toEqual(["protected: the engine refuses to delete it (unprotect first)", "retainOnDelete: the engine drops it from the state, the provider does not delete it"]);
  });
});

describe("plan-diff: the engine's order", () => {
  it("replaces a chain A <- B <- C one at a time, dependency first", () => {
    const chain = (env: string) => plan(container("C", [env], { dependsOn: ["B"] }), container("B", [env], { dependsOn: ["A"] }), container("A", [env]));
    const steps = replacementOrder(chain("X=1"), chain("X=2"));
    expect(names(steps)).toEqual([[["delete A", "create A"]], [["delete B", "create B"]], [["delete C", "create C"]]]);
    expect(steps.every((s) => !s.parallel)).toBe(true);
  });

  it("groups resources that do not depend on each other into one parallel step", () => {
    const three = (env: string) => plan(container("sentinel-0", [env], { dependsOn: ["redis"] }), container("sentinel-1", [env], { dependsOn: ["redis"] }), container("redis", [env]));
    const steps = replacementOrder(three("X=1"), three("X=2"));
    expect(names(steps)).toEqual([
      [["delete redis", "create redis"]],
      [
        ["delete sentinel-0", "create sentinel-0"],
        ["delete sentinel-1", "create sentinel-1"],
      ],
    ]);
    expect(steps.map((s) => s.parallel)).toEqual([false, true]);
    expect(formatEngineOrder(steps)).toContain("step 2, in parallel:");
  });

  it("waits through unchanged resources without a step of their own, and gives the drills the stop grace and wait", () => {
    const before = plan(container("b", ["X=1"], { dependsOn: ["mid"] }), resource("mid", { length: 1 }, { type: PASSWORD, dependsOn: ["a"] }), container("a", ["X=1"]));
    const after = plan(
      resource("b", { ...container("b").inputs, envs: ["X=2"], wait: true }, { dependsOn: ["mid"] }),
      resource("mid", { length: 1 }, { type: PASSWORD, dependsOn: ["a"] }),
      resource("a", { ...container("a").inputs, envs: ["X=2"], destroyGraceSeconds: 30 }),
    );
    before.resources[0].inputs.destroyGraceSeconds = 10;
    const steps = replacementOrder(before, after);
    expect(steps.map((s) => s.chains)).toEqual([
      [
        [
          { op: "delete", name: "a", type: CONTAINER, graceSeconds: 0 },
          { op: "create", name: "a", type: CONTAINER },
        ],
      ],
      [
        [
          { op: "delete", name: "b", type: CONTAINER, graceSeconds: 10 },
          { op: "create", name: "b", type: CONTAINER, waitsForHealthy: true },
        ],
      ],
    ]);
  });
});

describe("plan-diff on the real program", () => {
  let base: Plan;
  beforeAll(async () => {
    base = (await synthOk("dev")).plan;
  });

  it("a new Redis image replaces every Redis and Sentinel container, in an order that respects every dependency", async () => {
    const after = (await synthOk("dev", [`redis.image=redis:7.0.15-bookworm@sha256:${"ab".repeat(32)}`])).plan;
    const redisFamily = after.resources.filter((r) => r.type === CONTAINER && /^(redis|sentinel)-\d+-container$/.test(r.name)).map((r) => r.name);
    expect(redisFamily).toHaveLength(6);
    const diff = diffPlans(base, after);
    for (const name of redisFamily)
      expect(diff.resources.find((r) => r.name === name)).toMatchObject({ action: "replace", deleteBeforeReplace: true, replaceReasons: expect.arrayContaining(["image"]) });

    const steps = replacementOrder(base, after);
    const stepOf = new Map<string, number>();
    steps.forEach((step, i) =>
      step.chains.forEach((chain) =>
        chain.forEach((o) => {
          if (o.op !== "delete") stepOf.set(o.name, i);
        }),
      ),
    );
    for (const name of redisFamily) expect(stepOf.has(name)).toBe(true);
    // Every dependency with work of its own is done in an earlier step.
    const graph = dependencyGraph(after);
    for (const [name, step] of stepOf) for (const dep of graph.get(name) ?? []) if (stepOf.has(dep)) expect([dep, stepOf.get(dep)! < step]).toEqual([dep, true]);
    // Each replaced container is deleted before it is created again, in the same chain.
    for (const chain of steps.flatMap((s) => s.chains)) {
      const created = chain.find((o) => o.op === "create");
      if (created && redisFamily.includes(created.name)) expect(chain.findIndex((o) => o.op === "delete" && o.name === created.name)).toBeLessThan(chain.indexOf(created));
    }
  });

  it("incident=redis-down replaces api-container (its envs are ForceNew), first of all, deleting it before the create", async () => {
    const after = (await synthOk("dev", ["incident=redis-down"])).plan;
    const diff = diffPlans(base, after);
    expect(diff.resources[0]).toMatchObject({ name: "api-container", action: "replace", replaceReasons: ["envs"], deleteBeforeReplace: true });
    // Anything else is replaced only because it takes a value from the new container.
    for (const r of diff.resources.slice(1)) expect(r).toMatchObject({ action: "replace", replacedBecauseOf: ["api-container"] });
    const [first, ...rest] = names(replacementOrder(base, after));
    expect(first).toHaveLength(1);
    expect(first[0].slice(-2)).toEqual(["delete api-container", "create api-container"]);
    expect(rest.flat(2).filter((op) => op.endsWith(" api-container"))).toEqual([]);
  });

  it("records each resource's options in the plan", () => {
    const api = base.resources.find((r) => r.name === "api-container")!;
    expect(api.options).toMatchObject({ deleteBeforeReplace: true, protect: false, retainOnDelete: false, provider: "local-docker" });
    expect(base.resources.find((r) => r.name === "api-redis-connectivity-check")!.options.replaceOnChanges).toEqual(["triggers[*]"]);
  });
});

describe("npm run plan-diff usage", () => {
  it("exits 2 with one line when the change is missing, an option is mistyped or the config is invalid", () => {
    for (const args of [
      ["--stack", "dev"],
      ["--stack", "dev", "--confg", "incident=redis-down"],
      ["--stack", "dev", "--config", "incident=panic"],
    ]) {
      const result = runScript("plan-diff", args);
      expect(result.status).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(/^plan-diff: /);
    }
  });
});
