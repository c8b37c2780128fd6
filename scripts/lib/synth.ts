// Evaluates the real program (components/stack.ts, via the same config loader as index.ts)
// under Pulumi mocks and records every resource registration. The Pulumi runtime is process
// global, so call synthesize() once per process (scripts/synth.ts, or a child process).

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import bcrypt from "bcryptjs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import type { ConfigProblem } from "../../components/config/reader";
import { configCarrierFor } from "../../components/base/hardening";
import { PROJECT_ROOT } from "../../lib/stackFiles";
import { checkStackConfig } from "./configPrecheck";

const STACK_REFERENCE = "pulumi:pulumi:StackReference";
// The organization of every stack on a DIY (file) backend, as the Pulumi CLI names it.
const DIY_ORGANIZATION = "organization";

/** The stdout note when required secrets were read as placeholders (the file does not hold them). */
export function unsetSecretsNote(script: string, stack: string, keys: string[]): string {
  if (keys.length === 0) return "";
  return `${script}: stack ${stack}: ${keys.join(", ")} not in Pulumi.${stack}.yaml, read as placeholders; pulumi preview/up refuse the stack until they are set (npm run init-stack -- --stack ${stack})\n`;
}
import { maskSerialized, type Masked } from "./serialized";
import type { Alias, Plan, PlannedResource, ResourceOptions } from "../../lib/plan";

// The plan's shape lives below the commands (drills and tests read plans too).
export type { Alias, Plan, PlannedResource, ResourceOptions } from "../../lib/plan";

/** The plan as policies see it under the engine: secrets unwrapped (placeholders here). */
export interface SynthResult {
  plan: Plan;
  unmasked: PlannedResource[];
  secretPaths: Map<string, string[]>;
}

export type SynthOutcome = { ok: true; result: SynthResult; bypassedProblems?: ConfigProblem[]; unsetSecretKeys: string[] } | { ok: false; problems: ConfigProblem[] };

export interface SynthOptions {
  /**
   * Declare even an invalid config (bad values of the right type kept), returning the problems
   * beside the plan: how `npm run policy` shows what the pack would catch behind the validator.
   */
  bypassValidation?: boolean;
  /**
   * Run as `pulumi preview` does (dry run): the resources for which this returns true are being
   * created or replaced, so what their provider computes (ids, a password's result, an image's
   * id) is unknown, and so is every input built from it. Without it, every value is known, as
   * during `pulumi up`.
   */
  previewCreates?: (type: string, name: string) => boolean;
  /**
   * The stack's outputs as the last `up` left them (`pulumi stack output --json`): what the
   * program reads back through its own StackReference (the applied credential rotation). Without
   * it the stack is new: nothing applied, any step allowed.
   */
  appliedOutputs?: Record<string, unknown>;
}

interface RecordedRegistration {
  type: string;
  name: string;
  parentUrn: string;
  custom: boolean;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  options: ResourceOptions;
  object: Record<string, unknown>;
}

/** A resource's name from its URN (urn:pulumi:<stack>::<project>::<type>::<name>). */
const nameOfUrn = (urn: string) => urn.split("::").pop()!;

/** Reads the options from the request with the getters of resource_pb.d.ts (@pulumi/pulumi/proto). */
function readOptions(req: RegisterRequest): ResourceOptions {
  const provider = req.getProvider();
  return {
    protect: req.getProtect() ?? false,
    retainOnDelete: req.getRetainondelete() ?? false,
    deleteBeforeReplace: req.getDeletebeforereplacedefined() ? req.getDeletebeforereplace() : null,
    ignoreChanges: req.getIgnorechangesList(),
    replaceOnChanges: req.getReplaceonchangesList(),
    aliases: [...req.getAliasesList().map(readAlias), ...req.getAliasurnsList().map((urn) => ({ urn }))],
    // A provider reference is "<urn>::<id>".
    ...(provider ? { provider: nameOfUrn(provider.slice(0, provider.lastIndexOf("::"))) } : {}),
    ...(req.getReplaceWithList().length > 0 ? { replaceWith: req.getReplaceWithList().map(nameOfUrn) } : {}),
  };
}

function readPropertyDependencies(req: RegisterRequest): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  // forEach hands over wrapped messages (getEntryList may not: jspb keeps them raw until read).
  req.getPropertydependenciesMap().forEach((deps, key) => {
    const names = [...new Set(deps.getUrnsList().map(nameOfUrn))].sort();
    if (names.length > 0) result[key] = names;
  });
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => a.localeCompare(b)));
}

function readAlias(alias: AliasMessage): Alias {
  const spec = alias.getSpec();
  if (!spec) return { urn: alias.getUrn() };
  const parts: Exclude<Alias, { urn: string }> = {};
  if (spec.getName()) parts.name = spec.getName();
  if (spec.getType()) parts.type = spec.getType();
  if (spec.getStack()) parts.stack = spec.getStack();
  if (spec.getProject()) parts.project = spec.getProject();
  if (spec.getNoparent()) parts.parent = null;
  else if (spec.getParenturn()) parts.parent = nameOfUrn(spec.getParenturn());
  return parts;
}

/** Deterministic outputs the providers would compute, so dependents see realistic values. */
/** When synth's certificates are issued: a fixed date, so that plans are reproducible. */
const SYNTH_ISSUED_AT = Date.UTC(2026, 0, 1);

/** A PEM block whose body names the resource: the files' shape, no key material. */
function synthPem(label: string, name: string): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(`synth ${name}`).toString("base64")}\n-----END ${label}-----\n`;
}

function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "random:index/randomPassword:RandomPassword": {
      // Never a real secret: synth output may be shared freely.
      const result = `synthpw${name.replace(/[^a-zA-Z0-9]/g, "")}`;
      // A real bcrypt hash of it, as the provider computes (cost 10 there; 4 here, for speed), with
      // a salt from the name so plans are reproducible.
      const salt = `$2b$04$${createHash("sha256")
        .update(name)
        .digest("base64")
        .replace(/[^A-Za-z0-9]/g, ".")
        .slice(0, 22)}`;
      return { ...inputs, result, bcryptHash: bcrypt.hashSync(result, salt) };
    }
    case "docker:index/image:Image":
      // A build's digest follows its inputs (context, Dockerfile, build args).
      return {
        ...inputs,
        repoDigest: `${inputs.imageName}@sha256:${createHash("sha256")
          .update(JSON.stringify(inputs.build ?? {}))
          .digest("hex")}`,
      };
    case "docker:index/remoteImage:RemoteImage":
      return { ...inputs, imageId: `sha256:${Buffer.from(String(inputs.name)).toString("hex").padEnd(64, "0").slice(0, 64)}`, repoDigest: `${inputs.name}` };
    // Never real keys or certificates: synth output may be shared freely. PEM-shaped, per name.
    case "tls:index/privateKey:PrivateKey":
      return { ...inputs, privateKeyPem: synthPem("PRIVATE KEY", name) };
    case "tls:index/certRequest:CertRequest":
      return { ...inputs, certRequestPem: synthPem("CERTIFICATE REQUEST", name) };
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      // Valid from a fixed date (reproducible plans) for the declared hours.
      return { ...inputs, certPem: synthPem("CERTIFICATE", name), validityEndTime: new Date(SYNTH_ISSUED_AT + Number(inputs.validityPeriodHours ?? 0) * 3_600_000).toISOString() };
    case "command:local:Command":
    case "command:remote:Command":
      return { ...inputs, stdout: "", stderr: "" };
    case "docker:index/volume:Volume":
    case "docker:index/container:Container":
      // pulumi-docker autonames both when no name is set (`<resource name>-<7 hex>`, a new suffix at
      // each replacement); here from the resource name, so plans are reproducible.
      return { ...inputs, name: inputs.name ?? `${name}-${createHash("sha256").update(name).digest("hex").slice(0, 7)}` };
    default:
      return inputs;
  }
}

export async function synthesize(stack: string, overrides: string[], options: SynthOptions = {}, root = PROJECT_ROOT): Promise<SynthOutcome> {
  const check = checkStackConfig(stack, overrides, options, root);
  if (!check.ok) return check;
  const { project, file, raw, validation, recorded } = check;
  // What the program's StackReference to its own stack reads (see the mocks below).
  const applied = options.appliedOutputs ?? {};

  const registrations: RecordedRegistration[] = [];
  let stackOutputs: Record<string, unknown> = {};
  // The mock monitor hands mocks the inputs with nested secrets flattened; record the request
  // itself so the plan keeps each secret exactly where it is, and the parent URN.
  const monitor = MockMonitor.prototype as unknown as {
    registerResource: (req: RegisterRequest, callback: unknown) => Promise<void>;
    registerResourceOutputs: (req: OutputsRequest, callback: unknown) => void;
  };
  const originalRegister = monitor.registerResource;
  const originalOutputs = monitor.registerResourceOutputs;
  monitor.registerResource = function (this: unknown, req: RegisterRequest, callback: unknown) {
    registrations.push({
      type: req.getType(),
      name: req.getName(),
      parentUrn: req.getParent(),
      custom: req.getCustom(),
      dependencies: req.getDependenciesList().map(nameOfUrn),
      propertyDependencies: readPropertyDependencies(req),
      options: readOptions(req),
      object: req.getObject()?.toJavaScript() ?? {},
    });
    return originalRegister.call(this, req, callback);
  };
  monitor.registerResourceOutputs = function (this: unknown, req: OutputsRequest, callback: unknown) {
    if (req.getUrn().includes("::pulumi:pulumi:Stack::")) stackOutputs = req.getOutputs()?.toJavaScript() ?? {};
    return originalOutputs.call(this, req, callback);
  };

  const creates = options.previewCreates;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const inputs = unwrapMockInputs(args.inputs);
        // A preview's create or replace: only the inputs are known (a missing id or output is
        // unknown under a dry run: @pulumi/pulumi runtime/rpc.ts resolveProperties).
        // The program's read of its own stack: the outputs the last `up` recorded, known in a preview too.
        if (args.type === STACK_REFERENCE) return { id: String(inputs.name), state: { name: inputs.name, outputs: applied, secretOutputNames: [] } };
        if (creates?.(args.type, args.name)) return { id: undefined, state: inputs };
        return { id: `${args.name}-id`, state: mockState(args.type, args.name, inputs) };
      },
      call: (args) => args.inputs,
    },
    project,
    stack,
    creates !== undefined,
    DIY_ORGANIZATION,
  );
  const configStrings: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) configStrings[`${project}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  pulumi.runtime.setAllConfig(
    configStrings,
    file.secretKeys.map((k) => `${project}:${k}`),
  );

  // Load the program's own modules only now, after the mocks and config are in place.
  const { loadStackConfig, readStackSecrets } = await import("../../components/validation/load");
  const { declareProgram, declareStack } = await import("../../components/stack");
  // The SDK reads `new Error().stack` for every promise and resource (debuggable.js, the
  // resource's source position): formatted through source maps, that was a tenth of a synth. The
  // plan records no source position; an error thrown by the program keeps its top frames.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 3;
  try {
    await pulumi.runtime.runInPulumiStack(async () => {
      // Behind the validator (bypass): the plan the pack would judge, with the record as read.
      if (!validation.ok) return declareStack(validation.lenientConfig!, readStackSecrets(), recorded);
      const { config, secrets } = loadStackConfig();
      // Bypass: a rotation step out of order is the policy pack's to show, so declare it anyway.
      return options.bypassValidation ? declareStack(config, secrets, recorded) : declareProgram(config, secrets);
    });
    await (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs?.();
    await settle();
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }

  const secretPaths = new Map<string, string[]>();
  const masked: PlannedResource[] = [];
  const unmasked: PlannedResource[] = [];
  for (const r of registrations) {
    if (r.type === "pulumi:pulumi:Stack") continue;
    const parentName = r.parentUrn && !r.parentUrn.includes("::pulumi:pulumi:Stack::") ? nameOfUrn(r.parentUrn) : undefined;
    const view: Masked = maskSerialized(r.object);
    secretPaths.set(`${r.type}::${r.name}`, view.secretPaths);
    const base = {
      type: r.type,
      name: r.name,
      ...(parentName ? { parent: parentName } : {}),
      custom: r.custom,
      dependsOn: [...new Set(r.dependencies)].sort(),
      ...(Object.keys(r.propertyDependencies).length > 0 ? { propertyDependencies: r.propertyDependencies } : {}),
      options: r.options,
    };
    masked.push({ ...base, inputs: view.masked as Record<string, unknown> });
    unmasked.push({ ...base, inputs: view.unmasked as Record<string, unknown> });
  }
  const outputs = maskSerialized(stackOutputs).masked as Record<string, unknown>;
  return {
    ok: true,
    result: { plan: { stack, resources: masked, outputs }, unmasked, secretPaths },
    unsetSecretKeys: file.unsetSecretKeys,
    ...(validation.ok ? {} : { bypassedProblems: validation.problems }),
  };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(callback: (deps: { getUrnsList(): string[] }, key: string) => void): void };
  getProvider(): string;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getDeletebeforereplace(): boolean;
  getDeletebeforereplacedefined(): boolean;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getReplaceWithList(): string[];
  getAliasesList(): AliasMessage[];
  getAliasurnsList(): string[];
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}
interface AliasMessage {
  getUrn(): string;
  getSpec(): { getName(): string; getType(): string; getStack(): string; getProject(): string; getParenturn(): string; getNoparent(): boolean } | undefined;
}
interface OutputsRequest {
  getUrn(): string;
  getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined;
}

function unwrapMockInputs(inputs: Record<string, unknown>): Record<string, unknown> {
  return maskSerialized(inputs).unmasked as Record<string, unknown>;
}

/** Lets pending registrations (apply callbacks, dependent resources) run to completion. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Writes plan.json and files/<container>/<path> for every upload: a config carrier's files under
 * the container they are for (its `veza.config-for` label), where that container reads them.
 */
export function writeSynthOutput(result: SynthResult, outDir: string): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "plan.json"), `${JSON.stringify(result.plan, null, 2)}\n`);
  const written: string[] = ["plan.json"];
  const containers = result.plan.resources.filter((r) => r.type === "docker:index/container:Container");
  const resourceByDockerName = new Map(containers.map((r) => [r.inputs.name, r.name]));
  for (const resource of containers) {
    const uploads = resource.inputs.uploads;
    if (!Array.isArray(uploads)) continue;
    const owner = resourceByDockerName.get(configCarrierFor(resource.inputs.labels)) ?? resource.name;
    for (const upload of uploads as Array<{ file?: string; content?: string }>) {
      if (typeof upload.file !== "string" || typeof upload.content !== "string") continue;
      const relative = path.join("files", owner, upload.file.replace(/^\/+/, ""));
      const target = path.join(outDir, relative);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, upload.content);
      written.push(relative);
    }
  }
  return written;
}
