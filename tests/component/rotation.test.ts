// Credential rotation under mocks: walking add -> switch -> retire -> the next add changes what
// each rotation step must change (the live-apply commands, the consumers' files, one password
// slot) and never an input that would replace a container (a restart).
import { API_CREDENTIALS, CREDENTIAL_NAMES, type CredentialName } from "../../components/redis/acl";
import { APPLIED_ROTATION_OUTPUT, parseCredentialMarker, ROTATION_ORDER_PROPERTY, type RotationStep } from "../../components/redis/rotation";
import { diffPlans, type PlanDiff } from "../../scripts/lib/planDiff";
import { fieldBehaviour } from "../../scripts/lib/providerSemantics";
import type { SynthResult } from "../../scripts/lib/synth";
import { CONTAINER, synthFresh, synthOk, uploadContent } from "../helpers/synth";

const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";

function at(generation: number, step: RotationStep, users: readonly string[] = CREDENTIAL_NAMES): string[] {
  // prod's API is external: it moves with its own deploy, at switch here (what config must say).
  const external = (user: string) => (API_CREDENTIALS.includes(user as CredentialName) ? [`credentials.${user}.external=${step === "add" ? generation - 1 : generation}`] : []);
  return users.flatMap((user) => [`credentials.${user}.generation=${generation}`, `credentials.${user}.step=${step}`, ...external(user)]);
}

/** The unmasked plan: secrets (the passwords in the seed uploads and the scripts) are compared too. */
const planOf = (result: SynthResult) => ({ ...result.plan, resources: result.unmasked });

/**
 * Resources whose own inputs change. (A resource that only takes a value from a replaced password
 * slot shows as an update in a preview, where that value is unknown; the `up` finds it unchanged.)
 */
function changed(diff: PlanDiff, type?: string) {
  return diff.resources.filter((r) => (r.changes.length > 0 || r.action === "replace" || r.kind !== "changed") && (type === undefined || r.type === type));
}

describe("credential rotation under mocks (prod stack)", () => {
  const steps: Array<[string, string[]]> = [
    ["generation 0 (never rotated)", []],
    ["1 add", at(1, "add")],
    ["1 switch", at(1, "switch")],
    ["1 retire", at(1, "retire")],
    ["2 add", at(2, "add")],
  ];
  const results = new Map<string, SynthResult>();
  beforeAll(async () => {
    for (const [label, overrides] of steps) results.set(label, await synthOk("prod", overrides));
  }, 240_000);

  const transitions = steps.slice(1).map(([label], i) => [steps[i][0], label] as const);

  it.each(transitions)("%s -> %s replaces no container and changes none of its replace-triggering inputs", (from, to) => {
    const diff = diffPlans(planOf(results.get(from)!), planOf(results.get(to)!));
    const containers = diff.resources.filter((r) => r.type === CONTAINER);
    // Every input that changed is one the engine ignores (the seed uploads), never a ForceNew one.
    for (const container of containers) {
      expect([container.name, container.action, container.changes.map((c) => c.path)]).toEqual([container.name, "same", []]);
      for (const ignored of container.ignored) expect(ignored.path).toMatch(/^uploads\[file=\/etc\/veza\/(redis-secrets\.conf|sentinel-secrets\.conf|credentials\.sh)\]\.content$/);
    }
    // And the diff is not empty: the step reaches the running processes through the commands.
    expect(changed(diff, "command:remote:Command").length).toBeGreaterThan(0);
  });

  it("the seed uploads do change with the step (so ignoreChanges is what keeps the containers): the guard above can fail", () => {
    const seed = (label: string) => uploadContent(results.get(label)!.unmasked.find((r) => r.name === "redis-0-container")!, "/etc/veza/redis-secrets.conf");
    expect(seed("1 add")).not.toEqual(seed("generation 0 (never rotated)"));
    expect(results.get("1 add")!.unmasked.find((r) => r.name === "redis-0-container")!.options.ignoreChanges).toEqual(["uploads[1].content", "uploads[4].content"]);
    // Without ignoreChanges the same difference would be a ForceNew input.
    expect(fieldBehaviour(CONTAINER, "uploads")).toEqual({ kind: "replace" });
  });

  it("every step re-runs each data node's and sentinel's live apply and every consumer's files", () => {
    for (const [from, to] of transitions) {
      const names = changed(diffPlans(planOf(results.get(from)!), planOf(results.get(to)!))).map((r) => r.name);
      for (const node of ["redis-0", "redis-1", "redis-2", "sentinel-0", "sentinel-1", "sentinel-2"]) expect(names).toContain(`${node}-credentials`);
    }
    // Consumers move at switch only (add and retire leave what clients hold alone).
    const consumers = (from: string, to: string) => changed(diffPlans(planOf(results.get(from)!), planOf(results.get(to)!)))
      .map((r) => r.name).filter((n) => /exporter-credentials$|^api-secret-files$/.test(n));
    expect(consumers("1 add", "1 switch")).toHaveLength(6);
    expect(consumers("1 switch", "1 retire")).toEqual([]);
    expect(consumers("generation 0 (never rotated)", "1 add")).toEqual([]);
  });

  it("raising the generation regenerates only the slot that held the retired password", () => {
    const slotChanges = (from: string, to: string) => changed(diffPlans(planOf(results.get(from)!), planOf(results.get(to)!)), RANDOM_PASSWORD).map((r) => [r.name, r.action]);
    // 0 -> 1: slot 1 (held generation -1, never used) becomes generation 1; slot 0 keeps the password deployed before.
    expect(slotChanges("generation 0 (never rotated)", "1 add")).toEqual(CREDENTIAL_NAMES.map((n) => [`redis-credentials-${n}-slot1`, "replace"]));
    expect(slotChanges("1 add", "1 switch")).toEqual([]);
    expect(slotChanges("1 switch", "1 retire")).toEqual([]);
    // 1 -> 2: slot 0 held generation 0, retired at 1: it is the one regenerated.
    expect(slotChanges("1 retire", "2 add")).toEqual(CREDENTIAL_NAMES.map((n) => [`redis-credentials-${n}`, "replace"]));
  });

  it("the markers say what each server accepts and each consumer holds at every step", () => {
    const markers = (label: string) => results.get(label)!.unmasked
      .flatMap((r) => (Array.isArray(r.inputs.triggers) ? (r.inputs.triggers as unknown[]) : []).map(parseCredentialMarker).filter((m) => m !== undefined));
    const held = (label: string, holder: string, user: string) => markers(label).find((m) => m!.kind === "holds" && m!.holder === holder)!.users[user as "app"]!.generation;
    expect(held("1 add", "api-connectivity-check", "app")).toBe(0);
    expect(held("1 switch", "api-connectivity-check", "app")).toBe(1);
    expect(held("1 switch", "redis-1", "replication")).toBe(1);
    expect(held("1 add", "sentinel-2", "sentinelPeer")).toBe(0);
    const accepts = markers("1 retire").filter((m) => m!.kind === "accepts");
    expect(accepts.map((m) => m!.holder).sort()).toEqual(["redis-0", "redis-1", "redis-2", "sentinel-0", "sentinel-1", "sentinel-2"]);
  });

  it("one user's rotation leaves every other user's passwords and slots alone", async () => {
    const only = await synthOk("prod", at(1, "add", ["app"]));
    const diff = diffPlans(planOf(results.get("generation 0 (never rotated)")!), planOf(only));
    expect(changed(diff, RANDOM_PASSWORD).map((r) => r.name)).toEqual(["redis-credentials-app-slot1"]);
    // The app user is on the data nodes only: the sentinels' and the exporters' commands are
    // untouched. (The API's check takes the app password: a preview shows it re-run, as the
    // regenerated slot is unknown there.)
    const commands = changed(diff).filter((r) => r.type.startsWith("command:")).map((r) => r.name).sort();
    expect(commands).toEqual(["api-redis-connectivity-check", "redis-0-credentials", "redis-1-credentials", "redis-2-credentials"]);
  }, 60_000);
});

describe("the rotation order, read back from the stack's own outputs", () => {
  /** The outputs `pulumi stack output --json` would show after an `up` of `overrides`. */
  async function appliedAfter(overrides: string[], applied?: Record<string, unknown>): Promise<Record<string, unknown>> {
    return (await synthOk("prod", overrides, applied ? { appliedOutputs: applied } : {})).plan.outputs;
  }

  it("accepts each step after the one before it was applied, and records it on the Credentials component", async () => {
    let applied = await appliedAfter([]);
    expect(applied[APPLIED_ROTATION_OUTPUT]).toMatchObject({ app: { generation: 0, step: "retire" } });
    for (const step of ["add", "switch", "retire"] as const) {
      const result = await synthOk("prod", at(1, step), { appliedOutputs: applied });
      const order = result.unmasked.find((r) => r.type === "veza:redis:Credentials")!.inputs[ROTATION_ORDER_PROPERTY] as Record<string, unknown>;
      expect(order.replication).toEqual({ step: { generation: 1, step }, applied: (applied[APPLIED_ROTATION_OUTPUT] as Record<string, unknown>).replication });
      applied = result.plan.outputs;
    }
  }, 120_000);

  it("refuses a skipped switch (add straight to retire) before anything is declared, naming each user and the allowed steps", async () => {
    const afterAdd = await appliedAfter(at(1, "add"));
    const outcome = await synthFresh("prod", at(1, "retire"), { appliedOutputs: afterAdd });
    expect(outcome.ok).toBe(false);
    const problems = outcome.ok ? [] : outcome.problems;
    expect(problems.map((p) => p.key)).toEqual(CREDENTIAL_NAMES.map((n) => `credentials.${n}`));
    expect(problems[0]).toEqual({ key: "credentials.admin", value: "generation 1 step retire", allowed: expect.stringContaining("generation 1 step switch (next)") });
  }, 60_000);

  it("counts a stack deployed before the record existed as never rotated: 0 retire may only go to 1 add", async () => {
    const legacy = { redisAddress: "10.0.1.10:6379" };
    expect((await synthFresh("prod", at(1, "add"), { appliedOutputs: legacy })).ok).toBe(true);
    const skipped = await synthFresh("prod", at(2, "add"), { appliedOutputs: legacy });
    expect(skipped.ok ? [] : skipped.problems.map((p) => p.value)).toContain("generation 2 step add");
  }, 60_000);

  it("refuses a malformed record instead of guessing what was applied", async () => {
    const outcome = await synthFresh("prod", [], { appliedOutputs: { redisAddress: "x", [APPLIED_ROTATION_OUTPUT]: { app: { generation: "one", step: "add" } } } });
    expect(outcome.ok ? [] : outcome.problems).toEqual([expect.objectContaining({ key: `stack output ${APPLIED_ROTATION_OUTPUT}`, allowed: expect.stringContaining("malformed") })]);
  });
});
