import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../lib/stackFiles";
import type { Plan } from "../../scripts/lib/synth";

/**
 * What npm runs for scripts/<name>.ts, from package.json (`"policy:sync": "node --import tsx
 * scripts/policy-sync.ts"`): one process (the tsx CLI would start a second node to run it), with
 * the node running the tests.
 */
export function scriptCommand(name: string): string[] {
  const scripts = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  const command = Object.values(scripts).find((c) => c.split(/\s+/).at(-1) === `scripts/${name}.ts`);
  const words = command?.split(/\s+/) ?? [];
  if (words[0] !== "node" || words.some((w) => /["'$`\\|&;<>]/.test(w)))
    throw new Error(`scripts/${name}.ts: expected an npm script in package.json that runs it with a plain \`node ...\`, got ${JSON.stringify(command)}`);
  return [process.execPath, ...words.slice(1)];
}

/** Runs one of the project's commands exactly as `npm run <name> -- ...` would. */
export function runScript(name: string, args: string[], timeoutMs = 120000): { status: number | null; stdout: string; stderr: string } {
  const [node, ...command] = scriptCommand(name);
  const result = spawnSync(node, [...command, ...args], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    timeout: timeoutMs,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface SynthDir {
  dir: string;
  plan: Plan;
  file: (container: string, filePath: string) => string;
}

/** `npm run synth` into a temp dir. */
export function synthToDir(stack = "dev", overrides: string[] = []): SynthDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-synth-"));
  const result = runScript("synth", ["--stack", stack, ...overrides.flatMap((o) => ["--config", o]), "--out", dir]);
  if (result.status !== 0) throw new Error(`synth failed (${result.status}): ${result.stderr}`);
  return {
    dir,
    plan: JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")) as Plan,
    file: (container, filePath) => path.join(dir, "files", container, filePath.replace(/^\/+/, "")),
  };
}
