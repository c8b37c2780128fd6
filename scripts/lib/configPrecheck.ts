// synthesize()'s config check (scripts/lib/synth.ts) without loading Pulumi: the synth and policy
// entry points run it first, so a config the validator refuses fails in one line (exit 2) before
// @pulumi/pulumi and the program load. synthesize() still checks again, with the same calls in
// the same order; keep the two alike.
import { validateStackConfig } from "../../components/config/validate";
import type { ConfigProblem } from "../../components/config/reader";
import { applyOverrides, projectName, readStackConfigFile, PROJECT_ROOT } from "./stackFiles";

/**
 * The problems that make synthesize() return `ok: false` for this stack and these overrides, or
 * undefined when it would go on to declare the stack. `bypassValidation` as in SynthOptions.
 */
export function configProblems(stack: string, overrides: string[], options: { bypassValidation?: boolean } = {}, root = PROJECT_ROOT): ConfigProblem[] | undefined {
  projectName(root);
  const raw = applyOverrides(readStackConfigFile(stack, root).raw, overrides);
  const validation = validateStackConfig(raw, { lenient: options.bypassValidation });
  if (!validation.ok && !(options.bypassValidation && validation.lenientConfig)) return validation.problems;
  return undefined;
}
