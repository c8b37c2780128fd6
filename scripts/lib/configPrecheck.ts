// synthesize()'s config check (scripts/lib/synth.ts), in a module that does not load Pulumi: the
// synth and policy entry points run it first, so a config the validator refuses fails in one line
// (exit 2) before @pulumi/pulumi and the program load; synthesize() runs the same function.
import { validateStackConfig, type ValidationResult } from "../../components/validation/validate";
import type { ConfigProblem } from "../../components/config/reader";
import { broughtCaProblems } from "../../components/validation/tlsFiles";
import { appliedTlsFrom, caStepProblems, TLS_APPLIED_OUTPUT, TLS_CA_STEP_OUTPUT, tlsSwitchProblems } from "../../components/tls/certificates";
import { ALWAYS_EXPORTED_OUTPUT, recordedFromOutputs, rotationOrderProblems, RotationOrderError, type RecordedRotation } from "../../components/redis/rotation";
import { applyOverrides, projectName, readStackConfigFile, PROJECT_ROOT, type StackConfigFile } from "../../lib/stackFiles";

export interface ConfigCheckOptions {
  /** Declare even an invalid config (SynthOptions.bypassValidation). */
  bypassValidation?: boolean;
  /** The stack's outputs as the last `up` left them (SynthOptions.appliedOutputs). */
  appliedOutputs?: Record<string, unknown>;
}

export type ConfigCheck =
  { ok: false; problems: ConfigProblem[] } | { ok: true; project: string; file: StackConfigFile; raw: Record<string, unknown>; validation: ValidationResult; recorded: RecordedRotation };

/**
 * The stack file with the overrides, validated, and the credential rotation checked against what
 * the stack last applied: the program (components/stack.ts declareProgram) refuses the same
 * steps, but there the error surfaces as an unhandled rejection, which is how `pulumi up` shows it.
 */
export function checkStackConfig(stack: string, overrides: string[], options: ConfigCheckOptions = {}, root = PROJECT_ROOT): ConfigCheck {
  const project = projectName(root);
  const file = readStackConfigFile(stack, root);
  const raw = applyOverrides(file.raw, overrides);
  const validation = validateStackConfig(raw, { lenient: options.bypassValidation });
  if (!validation.ok && !(options.bypassValidation && validation.lenientConfig)) return { ok: false, problems: validation.problems };
  // A brought CA's files: what the program's config loading refuses, refused here first (exit 2).
  const fileProblems = validation.ok && !options.bypassValidation ? broughtCaProblems(validation.config.tls) : [];
  if (fileProblems.length > 0) return { ok: false, problems: fileProblems };
  const applied = options.appliedOutputs ?? {};
  let recorded: RecordedRotation;
  try {
    recorded = recordedFromOutputs(applied);
  } catch (error) {
    if (!(error instanceof RotationOrderError)) throw error;
    // Behind the validator (bypass), a malformed record counts as a new stack: the plan is still shown.
    if (options.bypassValidation) return { ok: true, project, file, raw, validation, recorded: { kind: "new" } };
    return { ok: false, problems: error.problems };
  }
  // Behind the validator (bypass) the order is the policy pack's to judge, as under `pulumi preview`.
  if (validation.ok && !options.bypassValidation) {
    const order = rotationOrderProblems(recorded, validation.config.credentials);
    if (order.length > 0) return { ok: false, problems: order };
    const lastUp = appliedTlsFrom(applied[TLS_APPLIED_OUTPUT], applied[ALWAYS_EXPORTED_OUTPUT], applied[TLS_CA_STEP_OUTPUT]);
    const tlsProblems = [...tlsSwitchProblems(lastUp, validation.config.tls), ...caStepProblems(lastUp, validation.config.tls)];
    if (tlsProblems.length > 0) return { ok: false, problems: tlsProblems };
  }
  return { ok: true, project, file, raw, validation, recorded };
}

/** The problems that make synthesize() return `ok: false`, or undefined when it would declare the stack. */
export function configProblems(stack: string, overrides: string[], options: ConfigCheckOptions = {}, root = PROJECT_ROOT): ConfigProblem[] | undefined {
  const check = checkStackConfig(stack, overrides, options, root);
  return check.ok ? undefined : check.problems;
}
