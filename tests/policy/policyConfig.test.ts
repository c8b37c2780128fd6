// The pack's settings (configSchema), as `pulumi up --policy-pack-config <file>` gives them: the
// defaults hold the repo's stacks, a stricter setting catches what the default lets through, and a
// bad file is refused before any policy runs, naming the policy, the setting, the value and what
// is allowed.
import * as fs from "node:fs";
import * as path from "node:path";
import { MINIMUM_SENTINELS, policies } from "../../policy/policies";
import { resolvePolicyConfig } from "../../scripts/lib/policyConfig";
import { runPolicies } from "../../scripts/lib/policyRunner";
import type { PlannedResource } from "../../scripts/lib/synth";
import { runScript } from "../helpers/cli";
import { synthOk } from "../helpers/synth";
import { cleanedTempDirs } from "../helpers/tempDirs";

const tempDir = cleanedTempDirs();

describe("the policy pack's settings", () => {
  let dev: PlannedResource[];
  beforeAll(async () => {
    dev = (await synthOk("dev")).unmasked;
  });
  const mandatory = async (config: unknown, policy: string) =>
    (await runPolicies(structuredClone(dev), "veza-redis", "dev", policies, config)).filter((v) => v.level === "mandatory" && v.policy === policy).map((v) => v.message);

  it("declares each setting with a type, a description and (where one applies) the default the policy falls back to", () => {
    const withSettings = policies.filter((p) => p.configSchema && Object.keys(p.configSchema.properties).length > 0);
    expect(withSettings.map((p) => p.name).sort()).toEqual(["alerts-have-severity-and-runbook", "sentinel-quorum-and-spread"]);
    for (const p of withSettings) for (const setting of Object.values(p.configSchema!.properties)) expect([typeof setting.type, (setting.description ?? "").length > 20]).toEqual(["string", true]);
    expect(resolvePolicyConfig({}, policies).settings["sentinel-quorum-and-spread"]).toEqual({ minimumSentinels: MINIMUM_SENTINELS });
  });

  it("with the defaults the dev stack passes; minimumSentinels 5 refuses its 3 sentinels; a runbook prefix refuses links elsewhere", async () => {
    expect(await mandatory({}, "sentinel-quorum-and-spread")).toEqual([]);
    expect(await mandatory({ "sentinel-quorum-and-spread": { minimumSentinels: 5 } }, "sentinel-quorum-and-spread")).toEqual([
      "3 sentinels: need an odd number of at least 5 (the pack's minimumSentinels setting) so that losing one still leaves a majority",
    ]);
    expect(await mandatory({ "alerts-have-severity-and-runbook": { runbookUrlPrefix: "https://git.veza.fr/veza/infra-redis/" } }, "alerts-have-severity-and-runbook")).toEqual([]);
    const elsewhere = await mandatory({ "alerts-have-severity-and-runbook": { runbookUrlPrefix: "https://runbooks.example/" } }, "alerts-have-severity-and-runbook");
    expect(elsewhere.length).toBeGreaterThan(40);
    expect(elsewhere[0]).toMatch(/^\/etc\/prometheus\/rules\/\w+\.yml: alert \w+ links https:\/\/git\.veza\.fr\/\S+, outside the team's runbooks \(https:\/\/runbooks\.example\/\)$/);
  }, 120000);

  it("an enforcement level in the file applies to its policy, as the CLI's does", async () => {
    const violations = await runPolicies(structuredClone(dev), "veza-redis", "dev", policies, { "sentinel-quorum-and-spread": { minimumSentinels: 5, enforcementLevel: "advisory" } });
    expect(violations.filter((v) => v.policy === "sentinel-quorum-and-spread").map((v) => v.level)).toEqual(["advisory"]);
  }, 60000);

  it("refuses a bad file before any policy runs: each problem names the policy, the setting, the value and what is allowed (exit 2)", () => {
    const file = path.join(tempDir("veza-policy-config-"), "bad.json");
    fs.writeFileSync(
      file,
      JSON.stringify({
        "sentinel-quorum-and-spread": { minimumSentinels: 2, quorum: 1 },
        "alerts-have-severity-and-runbook": { runbookUrlPrefix: "ftp://runbooks" },
        "redis-auth-required": { strict: true },
        "no-such-policy": "mandatory",
      }),
    );
    const run = runScript("policy", ["--stack", "dev", "--policy-config", file]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    for (const problem of [
      "sentinel-quorum-and-spread.minimumSentinels: 2 is not allowed: must be >= 3",
      "sentinel-quorum-and-spread.quorum: no such setting (settings: minimumSentinels)",
      'alerts-have-severity-and-runbook.runbookUrlPrefix: "ftp://runbooks" is not allowed: must match pattern "^https?://\\S+$"',
      "redis-auth-required: takes no settings (given strict)",
      "no-such-policy: no such policy in this pack (policies: ",
    ])
      expect(run.stderr).toContain(problem);
    fs.writeFileSync(file, "{ not json");
    expect(runScript("policy", ["--stack", "dev", "--policy-config", file]).stderr).toContain(`--policy-config ${file}: not JSON`);
  });
});
