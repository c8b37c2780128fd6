// The PR workflow's preview job: it names the secrets it needs, and a fork's PR,
// which gets none, skips the job's steps with a notice instead of failing. The gate step's own
// script is run here under bash with the environment each case would give it.
// Its test jobs: the drills need root, so they run in their own job under sudo,
// and the unprivileged job runs every other layer; between them, every test directory runs.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { PROJECT_ROOT } from "../../lib/stackFiles";
import { STACK_SECRETS } from "../../lib/stackSecrets";

interface Step {
  id?: string;
  name?: string;
  if?: string;
  run?: string;
  uses?: string;
}
const workflow = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, ".github", "workflows", "pr.yml"), "utf8")) as {
  jobs: Record<string, { if?: string; "runs-on"?: string; "timeout-minutes"?: number; env?: Record<string, string>; steps: Step[] }>;
};
const scripts = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
const job = workflow.jobs["preview-with-policy-pack"];
const GATE = "steps.creds.outputs.ready == 'true'";

function gate(env: Record<string, string>): { ready: string; stdout: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-gate-"));
  try {
    const output = path.join(dir, "output");
    fs.writeFileSync(output, "");
    const result = spawnSync("bash", ["-e", "-c", job.steps[0].run!], { env: { PATH: "/usr/bin:/bin", GITHUB_OUTPUT: output, ...env }, encoding: "utf8" });
    expect(result.status).toBe(0);
    return { ready: /^ready=(\w+)$/m.exec(fs.readFileSync(output, "utf8"))?.[1] ?? "", stdout: result.stdout };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("the preview job", () => {
  it("decides in its first step, and gates every other step on it (secrets cannot be read in a job-level if)", () => {
    expect(job.if).toBeUndefined();
    expect(job.steps[0].id).toBe("creds");
    for (const step of job.steps.slice(1)) expect({ step: step.name ?? step.uses ?? step.run, if: step.if }).toEqual({ step: step.name ?? step.uses ?? step.run, if: GATE });
  });

  it("passes the stack credentials and every stack secret, named as init-stack reads them", () => {
    expect(job.env?.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
    expect(job.env?.PULUMI_CONFIG_PASSPHRASE).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
    expect(job.env?.PULUMI_BACKEND_URL).toBe("${{ vars.PULUMI_BACKEND_URL }}");
    for (const secret of STACK_SECRETS) expect(job.env?.[secret.env]).toBe(`\${{ secrets.${secret.env} }}`);
  });

  it("selects the existing stack without prompting or creating one, then previews with the policy pack", () => {
    const runs = job.steps.map((s) => s.run ?? "");
    expect(runs).toContain('npm run init-stack -- --stack prod --existing --non-interactive ${PULUMI_ORG:+--org "$PULUMI_ORG"}');
    expect(runs[runs.length - 1]).toMatch(/^pulumi preview --stack .*prod" --policy-pack policy --diff$/);
  });

  it.each([
    ["a fork's PR (no secrets; repository variables may still be set)", "false", { PULUMI_BACKEND_URL: "s3://state" }],
    ["nothing configured", "false", {}],
    ["Pulumi Cloud", "true", { PULUMI_ACCESS_TOKEN: "pul-x" }],
    ["a DIY backend with the passphrase", "true", { PULUMI_BACKEND_URL: "s3://state", PULUMI_CONFIG_PASSPHRASE: "p" }],
  ])("%s: ready=%s", (_, ready, env) => {
    const result = gate(env as Record<string, string>);
    expect(result.ready).toBe(ready);
    if (ready === "false") expect(result.stdout).toMatch(/^::notice title=preview skipped::no stack credentials here \(a fork's PR, or not configured\):.*PULUMI_CONFIG_PASSPHRASE/m);
    else expect(result.stdout).toBe("");
  });
});

/** The test directories a jest command line names (its positional arguments under tests/). */
const jestDirs = (command: string) => [...command.matchAll(/(?:^|[\s/])jest((?:\s+(?!&&)\S+)*)/g)].flatMap((m) => m[1].trim().split(/\s+/)).filter((a) => a.startsWith("tests/"));

describe("the test jobs", () => {
  const unprivileged = workflow.jobs["test-and-policy"];
  const drills = workflow.jobs.drills;
  const runs = (job: { steps: Step[] }) => job.steps.map((s) => s.run ?? "");

  it("the unprivileged job runs the typecheck, the format check and every layer but the drills, with no sudo around a test", () => {
    expect(runs(unprivileged)).toContain("npm run test:fast");
    expect(scripts["test:fast"]).toMatch(/^npm run typecheck && npm run --silent format:check && jest /);
    expect(jestDirs(scripts["test:fast"]).sort()).toEqual(["tests/artifacts", "tests/component", "tests/policy", "tests/unit"]);
    expect(runs(unprivileged).filter((r) => /sudo/.test(r) && /jest|npm (test|run test)/.test(r))).toEqual([]);
  });

  it("the drills run in their own job: tools and packages first, then jest on tests/drills alone under sudo, keeping CI and PATH", () => {
    expect(drills["runs-on"]).toBe("ubuntu-latest");
    expect(drills["timeout-minutes"]).toBeGreaterThanOrEqual(20);
    const steps = runs(drills);
    const tools = steps.indexOf("sudo bash scripts/setup-tools.sh");
    const install = steps.indexOf("npm ci");
    // Not `sudo npm run`: npm 7 and 8 drop to the checkout owner's uid for scripts.
    const test = steps.indexOf('sudo -E env "PATH=$PATH" node_modules/.bin/jest tests/drills --maxWorkers=2');
    expect({ tools, install, test }).toEqual({ tools: expect.any(Number), install: expect.any(Number), test: expect.any(Number) });
    expect(tools).toBeGreaterThanOrEqual(0);
    expect(tools < install && install < test).toBe(true);
  });

  it("between the two jobs every test directory runs, and npm test (the one-machine run, as root) still runs all of them", () => {
    const testDirs = fs
      .readdirSync(path.join(PROJECT_ROOT, "tests"), { withFileTypes: true })
      .filter((e) => e.isDirectory() && fs.readdirSync(path.join(PROJECT_ROOT, "tests", e.name)).some((f) => f.endsWith(".test.ts")))
      .map((e) => `tests/${e.name}`)
      .sort();
    const inJobs = [...jestDirs(scripts["test:fast"]), ...runs(drills).flatMap(jestDirs)];
    expect([...new Set(inJobs)].sort()).toEqual(testDirs);
    expect(scripts.test).toBe("npm run test:fast && npm run test:drills");
    expect(jestDirs(scripts["test:drills"])).toEqual(["tests/drills"]);
    // Two drill files side by side (each checks only its own leftovers), the same in the job.
    expect(scripts["test:drills"]).toBe("jest tests/drills --maxWorkers=2");
  });
});
