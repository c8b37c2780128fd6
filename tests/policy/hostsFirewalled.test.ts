// redis-hosts-firewalled (policy/policies/intruder.ts) over the program's plans: the production
// example passes; the same stack with firewall.enabled: false, or with a firewall command that
// does not apply the stack's ruleset, is refused (mandatory); dev (a local Docker) is not asked.
import { policies } from "../../policy/policies";
import { runPolicies, type Violation } from "../../scripts/lib/policyRunner";
import type { PlannedResource } from "../../scripts/lib/synth";
import { synthOk } from "../helpers/synth";

const POLICY = "redis-hosts-firewalled";
const check = (plan: PlannedResource[], stack: string): Promise<Violation[]> =>
  runPolicies(
    plan,
    "veza-redis",
    stack,
    policies.filter((p) => p.name === POLICY),
  );

describe(POLICY, () => {
  it("passes the production example and the dev stack as the program declares them", async () => {
    expect(await check((await synthOk("prod")).unmasked, "prod")).toEqual([]);
    expect(await check((await synthOk("dev")).unmasked, "dev")).toEqual([]);
  });

  it("refuses a production stack with firewall.enabled: false, naming each Redis and Sentinel container and the fix", async () => {
    const violations = await check((await synthOk("prod", ["firewall.enabled=false"])).unmasked, "prod");
    expect(violations.map((v) => `${v.level} ${v.resource}`).sort()).toEqual(
      ["redis-0-container", "redis-1-container", "redis-2-container", "sentinel-0-container", "sentinel-1-container", "sentinel-2-container"].map((name) => `mandatory ${name}`),
    );
    expect(violations[0].message).toMatch(/does not wait for a redis-[abc]-firewall command: set firewall\.enabled: true/);
  });

  it("refuses a firewall command that does not apply the stack's ruleset", async () => {
    const plan = structuredClone((await synthOk("prod")).unmasked);
    const firewall = plan.find((r) => r.name === "redis-b-firewall")!;
    firewall.inputs.stdin = "table inet filter {\n}\n";
    expect(await check(plan, "prod")).toEqual([
      expect.objectContaining({ policy: POLICY, level: "mandatory", resource: "redis-b-firewall", message: expect.stringMatching(/does not apply the stack's ruleset/) }),
    ]);
  });

  it("refuses a client source wider than /8 in the applied ruleset: a firewall in name only", async () => {
    const plan = structuredClone((await synthOk("prod")).unmasked);
    const firewall = plan.find((r) => r.name === "redis-c-firewall")!;
    firewall.inputs.stdin = String(firewall.inputs.stdin).replace("elements = { 10.20.1.0/24 }", "elements = { 10.20.1.0/24, 0.0.0.0/0 }");
    expect(await check(plan, "prod")).toEqual([
      expect.objectContaining({
        policy: POLICY,
        level: "mandatory",
        resource: "redis-c-firewall",
        message: expect.stringMatching(/admits 0\.0\.0\.0\/0: a client source wider than \/8 is no boundary/),
      }),
    ]);
  });
});
