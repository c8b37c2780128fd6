// npm run rotate: the next step per user, the config that declares it, refusals in one line.
import { CREDENTIAL_NAMES } from "../../components/redis/acl";
import { steadyRotation } from "../../components/redis/rotation";
import { configOverrides, describeSteps, describeUnapplied, nextSteps, parseUsers, unappliedSteps } from "../../scripts/lib/rotate";
import { runScript } from "../helpers/cli";
import * as fs from "node:fs";
import * as path from "node:path";
import { cleanedTempDirs } from "../helpers/tempDirs";

const tempDir = cleanedTempDirs();

describe("rotate planning", () => {
  it("walks retire -> add (next generation) -> switch -> retire", () => {
    let current = steadyRotation();
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const [step] = nextSteps(current, ["replication"]);
      seen.push(`${step.to.generation} ${step.to.step}`);
      current = { ...current, replication: step.to };
    }
    expect(seen).toEqual(["1 add", "1 switch", "1 retire", "2 add"]);
  });

  it("declares each user's step with pulumi config set --path, only for the users asked", () => {
    const steps = nextSteps(steadyRotation(), parseUsers("sentinelPeer"));
    expect(configOverrides(steps)).toEqual(["credentials.sentinelPeer.generation=1", "credentials.sentinelPeer.step=add"]);
    expect(describeSteps("prod", steps)).toContain("  pulumi config set --path --stack prod credentials.sentinelPeer.step add");
    expect(nextSteps(steadyRotation(), parseUsers("all")).map((s) => s.user)).toEqual([...CREDENTIAL_NAMES]);
  });

  it("holds back the next step while the declared one is not applied yet (the stack's own record)", () => {
    const declared = { ...steadyRotation(), app: { generation: 1, step: "switch" as const } };
    const pending = unappliedSteps(declared, { kind: "applied", rotation: { ...steadyRotation(), app: { generation: 1, step: "add" } } }, ["app", "admin"]);
    expect(pending).toEqual([{ user: "app", from: { generation: 1, step: "add" }, to: { generation: 1, step: "switch" } }]);
    expect(describeUnapplied("prod", pending)).toContain("  app: declared generation 1 step switch, applied generation 1 step add");
    expect(unappliedSteps(declared, { kind: "applied", rotation: declared }, ["app"])).toEqual([]);
    expect(unappliedSteps(declared, { kind: "new" }, ["app"])).toEqual([]);
  });

  it("refuses an unknown user, naming the allowed ones", () => {
    expect(() => parseUsers("root")).toThrow(/--user "root": one of all, admin, app, replication/);
  });
});

describe("npm run rotate", () => {
  it("an unknown --user: exit 2 in one line", () => {
    const result = runScript("rotate", ["--stack", "dev", "--user", "root"]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toMatch(/^rotate: --user "root": one of all, admin/);
  });

  it("with --applied, holds back while the declared step is not applied yet: exit 1, nothing to set", () => {
    const applied = path.join(tempDir("veza-rotate-"), "applied.json");
    fs.writeFileSync(applied, JSON.stringify({ redisAddress: "127.0.0.1:6379", credentialRotation: { app: { generation: 1, step: "add" } } }));
    const result = runScript("rotate", ["--stack", "dev", "--user", "app", "--applied", applied]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^  app: declared generation 0 step retire, applied generation 1 step add$/m);
    expect(result.stdout).not.toMatch(/pulumi config set/);
  });

  it("a missing --applied file: exit 2 in one line naming it", () => {
    const result = runScript("rotate", ["--stack", "dev", "--user", "app", "--applied", "/nonexistent/applied.json"]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe("rotate: --applied /nonexistent/applied.json: cannot read it (ENOENT)");
  });

  it("prints the next step, what it does live and its plan-diff: no container in it", () => {
    const result = runScript("rotate", ["--stack", "dev", "--user", "app"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^  app: generation 0 retire -> generation 1 add$/m);
    expect(result.stdout).toMatch(/^plan-diff: stack dev, credentials\.app\.generation=1 credentials\.app\.step=add$/m);
    expect(result.stdout).not.toMatch(/docker:index\/container:Container/);
  }, 120_000);
});
