// Credential rotation under mocks: walking add -> switch -> retire -> the next add changes what
// each rotation step must change (the live-apply commands, the seeds, the consumers' files, one
// password slot) and nothing at all of a container: no password is uploaded, none is ignored.
import { API_CREDENTIALS, CREDENTIAL_NAMES, type CredentialName } from "../../components/redis/acl";
import { APPLIED_ROTATION_OUTPUT, parseCredentialMarker, ROTATION_ORDER_PROPERTY, type RotationStep } from "../../components/redis/rotation";
import { diffPlans, type PlanDiff } from "../../lib/planDiff";
import { fieldBehaviour } from "../../lib/providerSemantics";
import type { SynthResult } from "../../scripts/lib/synth";
import { byName, CONTAINER, ofType, synthFresh, synthOk, type Resource } from "../helpers/synth";

const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";

function at(generation: number, step: RotationStep, users: readonly string[] = CREDENTIAL_NAMES): string[] {
  // prod's API is external: it moves with its own deploy, at switch here (what config must say).
  const external = (user: string) => (API_CREDENTIALS.includes(user as CredentialName) ? [`credentials.${user}.external=${step === "add" ? generation - 1 : generation}`] : []);
  return users.flatMap((user) => [`credentials.${user}.generation=${generation}`, `credentials.${user}.step=${step}`, ...external(user)]);
}

/** The unmasked plan: secrets (the passwords in the seeds and the scripts) are compared too. */
const planOf = (result: SynthResult) => ({ ...result.plan, resources: result.unmasked });

/**
 * Resources whose own inputs change. (A resource that only takes a value from a replaced password
 * slot shows as an update in a preview, where that value is unknown; the `up` finds it unchanged.)
 */
function changed(diff: PlanDiff, type?: string) {
  return diff.resources.filter((r) => (r.changes.length > 0 || r.action === "replace" || r.kind !== "changed") && (type === undefined || r.type === type));
}

function leading(resource: Resource) {
  const triggers = Array.isArray(resource.inputs.triggers) ? (resource.inputs.triggers as unknown[]) : [];
  const end = triggers.findIndex((t) => parseCredentialMarker(t) === undefined);
  return triggers.slice(0, end === -1 ? triggers.length : end).map((t) => parseCredentialMarker(t)!);
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
    // The dev stack runs the API as a container: its secret files command too.
    results.set("dev", await synthOk("dev"));
  }, 240_000);

  const transitions = steps.slice(1).map(([label], i) => [steps[i][0], label] as const);

  it.each(transitions)("%s -> %s changes nothing at all of any container (no input, nothing ignored)", (from, to) => {
    const diff = diffPlans(planOf(results.get(from)!), planOf(results.get(to)!));
    // The diff lists every resource with a difference (even an ignored one): no container is among them.
    const containers = diff.resources.filter((r) => r.type === CONTAINER);
    expect(containers.map((c) => [c.name, c.action, c.changes.map((x) => x.path), c.ignored.map((x) => x.path)])).toEqual([]);
    expect(ofType(results.get(to)!.unmasked, CONTAINER).length).toBeGreaterThan(6);
    // And the diff is not empty: the step reaches the running processes through the commands.
    expect(changed(diff, "command:remote:Command").length).toBeGreaterThan(0);
  });

  it("uploads no password and ignores no change in any Redis or Sentinel container: a replacement cannot bring back a frozen one", () => {
    for (const label of ["generation 0 (never rotated)", "1 add"]) {
      for (const container of ofType(results.get(label)!.unmasked, CONTAINER)) {
        expect([container.name, container.options.ignoreChanges]).toEqual([container.name, []]);
        const files = ((container.inputs.uploads ?? []) as Array<{ file: string }>).map((u) => u.file);
        expect(files.filter((f) => /secrets\.conf$|credentials\.sh$/.test(f))).toEqual([]);
      }
    }
    // Were a secret uploaded, its change would be a ForceNew input: why none is.
    expect(fieldBehaviour(CONTAINER, "uploads")).toEqual({ kind: "replace" });
  });

  const servers = ["redis-0", "redis-1", "redis-2", "sentinel-0", "sentinel-1", "sentinel-2"];

  it("seeds each server's volume before its container: volume -> seed -> container, the seed on stdin in a throwaway container", () => {
    const resources = results.get("1 add")!.unmasked;
    for (const server of servers) {
      const seed = byName(resources, `${server}-credentials-seed`);
      expect(seed.dependsOn).toContain(`${server}-data`);
      expect(byName(resources, `${server}-container`).dependsOn).toContain(`${server}-credentials-seed`);
      const create = seed.inputs.create as string;
      expect(create).toMatch(
        new RegExp(
          `^docker run --rm --pids-limit 128 -i --user 0:0 --network none --cap-drop ALL --cap-add CHOWN --cap-add DAC_OVERRIDE --security-opt no-new-privileges -v 'veza-${server}-data:/data' --entrypoint sh '[^']+' -s$`,
        ),
      );
      // The passwords only on stdin: the script writes them where absent.
      expect(seed.inputs.stdin as string).toContain(`VEZA_CREDENTIALS_DIR='/data/veza-credentials'`);
      expect(results.get("1 add")!.secretPaths.get(`command:remote:Command::${server}-credentials-seed`)).toEqual(expect.arrayContaining(["stdin"]));
      // The volume's name first (the policy pack reads only leading markers), then the step's markers.
      const triggers = seed.inputs.triggers as unknown[];
      expect(triggers[0]).toBe(`veza-${server}-data`);
      expect(
        triggers
          .slice(1)
          .map(parseCredentialMarker)
          .every((m) => m !== undefined && m.holder === server),
      ).toBe(true);
    }
  });

  it("a fresh volume gets the current step: the seed's passwords follow the rotation (so every step re-runs it, a no-op on a populated volume)", () => {
    const stdin = (label: string) => byName(results.get(label)!.unmasked, "redis-0-credentials-seed").inputs.stdin as string;
    const used = (label: string) => /^VEZA_HANDOFF_PASSWORD='([^']*)'$/m.exec(stdin(label))![1];
    expect(used("1 switch")).not.toBe(used("1 add"));
    expect(used("1 retire")).toBe(used("1 switch"));
    for (const [from, to] of transitions) expect(changed(diffPlans(planOf(results.get(from)!), planOf(results.get(to)!))).map((r) => r.name)).toContain("redis-0-credentials-seed");
  });

  it("re-runs a server's live apply when its container is replaced: the container's name and id follow the leading markers", () => {
    const resources = results.get("1 switch")!.unmasked;
    for (const server of servers) {
      const triggers = byName(resources, `${server}-credentials`).inputs.triggers as unknown[];
      expect(triggers.slice(0, 2).map((t) => parseCredentialMarker(t)?.kind)).toEqual(["accepts", "holds"]);
      // The container's name (known in a preview: the pack stops reading there), then its id.
      expect(triggers.slice(2)).toEqual([`veza-${server}`, `${server}-container-id`]);
    }
  });

  it("moves a consumer only after every server's live apply: the exporters' and the API's file commands depend on them", () => {
    const dev = results.get("dev")!.unmasked;
    const consumers = ofType(dev, "command:local:Command").filter((r) => /-exporter-credentials$|^api-secret-files$/.test(r.name));
    // Six exporters (a data node or sentinel each) and the API's files.
    expect(consumers.map((c) => c.name).filter((n) => n === "api-secret-files")).toHaveLength(1);
    expect(consumers).toHaveLength(7);
    for (const consumer of consumers) {
      expect([consumer.name, consumer.dependsOn]).toEqual([consumer.name, expect.arrayContaining(servers.map((s) => `${s}-credentials`))]);
    }
  });

  it("every step re-runs each data node's and sentinel's live apply and every consumer's files", () => {
    for (const [from, to] of transitions) {
      const names = changed(diffPlans(planOf(results.get(from)!), planOf(results.get(to)!))).map((r) => r.name);
      for (const node of ["redis-0", "redis-1", "redis-2", "sentinel-0", "sentinel-1", "sentinel-2"]) expect(names).toContain(`${node}-credentials`);
    }
    // Consumers move at switch only (add and retire leave what clients hold alone).
    const consumers = (from: string, to: string) =>
      changed(diffPlans(planOf(results.get(from)!), planOf(results.get(to)!)))
        .map((r) => r.name)
        .filter((n) => /exporter-credentials$|^api-secret-files$/.test(n));
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
    // As the policy pack reads them: the markers leading a command's triggers.
    const markers = (label: string) => results.get(label)!.unmasked.flatMap((r) => leading(r));
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
    // The app user is on the data nodes only: the sentinels' and the exporters' commands (and seeds) are
    // untouched. (The API's check takes the app password: a preview shows it re-run, as the
    // regenerated slot is unknown there.)
    const commands = changed(diff)
      .filter((r) => r.type.startsWith("command:"))
      .map((r) => r.name)
      .sort();
    expect(commands).toEqual(["api-redis-connectivity-check", ...["redis-0", "redis-1", "redis-2"].flatMap((n) => [`${n}-credentials`, `${n}-credentials-seed`])]);
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

  it("without the record, a deployed stack takes only the first rotation's steps: generation 1 retire is refused, generation 1 add goes through", async () => {
    // A deployed stack (on TLS, as the example) whose outputs hold no rotation record.
    const unrecorded = { redisAddress: "10.0.1.10:6379", redisTlsCaBundle: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n" };
    const jump = await synthFresh("prod", at(1, "retire"), { appliedOutputs: unrecorded });
    expect(jump.ok).toBe(false);
    expect(jump.ok ? undefined : jump.problems[0]).toEqual({
      key: "credentials.admin",
      value: "generation 1 step retire",
      allowed: expect.stringContaining("generation 0 step retire (re-run), generation 1 step add (next)"),
    });
    const first = await synthFresh("prod", at(1, "add"), { appliedOutputs: unrecorded });
    expect(first.ok).toBe(true);
    const order = first.ok ? (first.result.unmasked.find((r) => r.type === "veza:redis:Credentials")!.inputs[ROTATION_ORDER_PROPERTY] as Record<string, unknown>) : {};
    expect(order.app).toEqual({ step: { generation: 1, step: "add" } });
  }, 120_000);

  it("refuses a malformed record instead of guessing what was applied", async () => {
    const outcome = await synthFresh("prod", [], { appliedOutputs: { redisAddress: "x", [APPLIED_ROTATION_OUTPUT]: { app: { generation: "one", step: "add" } } } });
    expect(outcome.ok ? [] : outcome.problems).toEqual([expect.objectContaining({ key: `stack output ${APPLIED_ROTATION_OUTPUT}`, allowed: expect.stringContaining("malformed") })]);
  });
});

describe("the applied record (stack output credentialRotation)", () => {
  // Derived from the credential commands' triggers as recorded (rotation.ts appliedFromMarkers,
  // unit-tested there): after an up that ran every command, it is the declared step.
  it("is the declared step once every credential command ran with it", async () => {
    const done = await synthOk("prod", at(1, "switch"));
    expect(done.plan.outputs[APPLIED_ROTATION_OUTPUT]).toMatchObject({ admin: { generation: 1, step: "switch" }, app: { generation: 1, step: "switch", external: 1 } });
  }, 60_000);
});
