// The data-lost policies (policy/policies/backup.ts) over the dev and prod plans: the program's own
// plans pass, and each policy catches a plan edited to violate it, at the level its environment
// gives it (production mandatory, dev and staging advisory).
import { policies } from "../../policy/policies";
import { runPolicies, type Violation } from "../../scripts/lib/policyRunner";
import type { PlannedResource } from "../../scripts/lib/synth";
import { synthOk } from "../helpers/synth";

const BACKUP_POLICIES = ["backup-required", "backup-recommended", "backup-off-data-hosts", "backup-repository-retained"];
const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";

type Labels = Array<{ label: string; value: string }>;
const labelOf = (r: PlannedResource, name: string) => ((r.inputs.labels ?? []) as Labels).find((l) => l.label === `veza.${name}`)?.value;
const setLabel = (r: PlannedResource, name: string, value: string) => {
  const entry = (r.inputs.labels as Labels).find((l) => l.label === `veza.${name}`);
  if (entry) entry.value = value;
  else (r.inputs.labels as Labels).push({ label: `veza.${name}`, value });
};
const isBackup = (r: PlannedResource) => r.type === CONTAINER && labelOf(r, "component") === "backup";
const backupContainer = (plan: PlannedResource[]) => plan.find(isBackup)!;
const repositoryVolume = (plan: PlannedResource[]) => plan.find((r) => r.type === VOLUME && r.inputs.name === "veza-backup-repository")!;
/** The plan with no backup job, as backup.enabled: false declares it. */
const withoutBackup = (plan: PlannedResource[]) => plan.filter((r) => !isBackup(r));

async function check(plan: PlannedResource[], stack: string): Promise<Violation[]> {
  return runPolicies(
    plan,
    "veza-redis",
    stack,
    policies.filter((p) => BACKUP_POLICIES.includes(p.name)),
  );
}

describe("data-lost policies", () => {
  let plans: Record<"dev" | "prod", PlannedResource[]>;
  beforeAll(async () => {
    plans = { dev: (await synthOk("dev")).unmasked, prod: (await synthOk("prod")).unmasked };
  });
  const copy = (stack: "dev" | "prod") => structuredClone(plans[stack]);

  it("are all in the pack", () => {
    expect(BACKUP_POLICIES.filter((name) => !policies.some((p) => p.name === name))).toEqual([]);
  });

  it.each(["dev", "prod"] as const)("pass the program's own %s plan (its backup job, on the monitoring host in prod, its repository protected in prod)", async (stack) => {
    expect(await check(plans[stack], stack)).toEqual([]);
  });

  it("refuses a production stack without a backup job (mandatory), saying why and how to fix it", async () => {
    const violations = await check(withoutBackup(copy("prod")), "prod");
    expect(violations).toEqual([expect.objectContaining({ policy: "backup-required", level: "mandatory", resource: "stack" })]);
    expect(violations[0].message).toMatch(/^production stack has no backup job \(no container labelled veza\.component=backup\)/);
    expect(violations[0].message).toMatch(/FLUSHALL, a corrupted dataset replicated to every node, or losing every volume/);
    expect(violations[0].message).toMatch(/revoked tokens valid again/);
    expect(violations[0].message).toMatch(/set backup\.enabled: true/);
  });

  it.each(["dev", "staging"])("only warns (advisory) on a %s stack without a backup job", async (environment) => {
    const plan = withoutBackup(copy("dev"));
    for (const r of plan.filter((x) => x.type === CONTAINER && labelOf(x, "environment") !== undefined)) setLabel(r, "environment", environment);
    const violations = await check(plan, "dev");
    expect(violations).toEqual([
      expect.objectContaining({ policy: "backup-recommended", level: "advisory", message: expect.stringMatching(new RegExp(`^${environment} stack has no backup job.*set backup\\.enabled: true`)) }),
    ]);
  });

  it("refuses a production backup job on a host that runs a data node (mandatory): one host loss takes the data and the backups", async () => {
    const plan = copy("prod");
    const backup = backupContainer(plan);
    setLabel(backup, "host", "redis-b");
    expect(await check(plan, "prod")).toEqual([
      expect.objectContaining({
        policy: "backup-off-data-hosts",
        level: "mandatory",
        resource: backup.name,
        message: expect.stringMatching(/runs on host redis-b with data node redis-1-container: losing redis-b loses the data and its backups at once; set backup\.host/),
      }),
    ]);
  });

  it("allows the backup job beside the data nodes outside production (dev has one host)", async () => {
    const plan = copy("dev");
    expect(labelOf(backupContainer(plan), "host")).toBe(
      labelOf(
        plan.find((r) => r.name === "redis-0-container")!,
        "host",
      ),
    );
    expect((await check(plan, "dev")).filter((v) => v.policy === "backup-off-data-hosts")).toEqual([]);
  });

  it("refuses a production backup repository that is not protected (the options synth recorded)", async () => {
    const plan = copy("prod");
    const volume = repositoryVolume(plan);
    volume.options.protect = false;
    expect(await check(plan, "prod")).toEqual([
      expect.objectContaining({
        policy: "backup-repository-retained",
        level: "mandatory",
        resource: volume.name,
        message: expect.stringMatching(/production backup repository veza-backup-repository without protect: a destroy or a rename deletes every snapshot/),
      }),
    ]);
  });

  it.each([
    [
      "not mounted",
      (r: PlannedResource) => {
        r.inputs.mounts = (r.inputs.mounts as Array<{ target: string }>).filter((m) => m.target !== "/repository");
      },
      /repository \/repository is not a declared volume mounted writable: the snapshots would live in the container/,
    ],
    [
      "mounted read-only",
      (r: PlannedResource) => {
        for (const m of r.inputs.mounts as Array<{ target: string; readOnly?: boolean }>) if (m.target === "/repository") m.readOnly = true;
      },
      /repository \/repository is not a declared volume mounted writable/,
    ],
    [
      "elsewhere than RESTIC_REPOSITORY",
      (r: PlannedResource) => {
        r.inputs.envs = (r.inputs.envs as string[]).map((e) => e.replace(/^RESTIC_REPOSITORY=.*/, "RESTIC_REPOSITORY=/state/repository"));
      },
      /repository \/state\/repository is not a declared volume mounted writable/,
    ],
    [
      "not named",
      (r: PlannedResource) => {
        r.inputs.envs = (r.inputs.envs as string[]).filter((e) => !e.startsWith("RESTIC_REPOSITORY="));
      },
      /RESTIC_REPOSITORY is not set, not a path in a declared volume/,
    ],
  ])("refuses a backup repository %s (mandatory, in every environment)", async (_label, edit, message) => {
    const plan = copy("dev");
    const backup = backupContainer(plan);
    edit(backup);
    expect(await check(plan, "dev")).toEqual([expect.objectContaining({ policy: "backup-repository-retained", level: "mandatory", resource: backup.name, message: expect.stringMatching(message) })]);
  });
});
