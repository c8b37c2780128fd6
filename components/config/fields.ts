// Zod fields that never fail the parse: a bad value becomes a FieldProblem in the output, which
// resolveFieldProblems() turns into ConfigProblems (key from its path) and a carried value. So one
// parse reports every problem at once, and the cross-field rules still see a whole config.
import { z } from "zod";
import type { ConfigProblem } from "./reader";

/** What a bad array entry carries: nothing (the entry is dropped after the rules ran). */
export const OMITTED = Symbol("omitted");

interface Carry {
  /** Strict value forward: what the rules and a failed config see. */
  fallback: unknown;
  /** Lenient (the policy pack's bypass): the bad value itself when it has the right type. */
  kept?: unknown;
}

class FieldProblem {
  constructor(
    readonly value: unknown,
    /** One per distinct message; `at` is below the field (an entry of a map), usually empty. */
    readonly issues: Array<{ at: PropertyKey[]; allowed: string }>,
    readonly carry: Carry,
  ) {}
}

type CarryFrom = (value: unknown) => Carry;

/**
 * Wraps a zod type so that any issue in it becomes a FieldProblem with its messages, named at the
 * field itself, or (perEntry: a map) at the entry the issue is about.
 */
export function field<T extends z.ZodType>(schema: T, carryFrom: CarryFrom, { perEntry = false } = {}): z.ZodCatch<T> {
  return schema.catch((ctx) => {
    const issues: FieldProblem["issues"] = [];
    for (const issue of ctx.error.issues) {
      const at = perEntry ? issue.path : [];
      // One problem per message: a value can fail several checks that say the same thing.
      if (!issues.some((i) => i.allowed === issue.message && configKey(i.at) === configKey(at))) issues.push({ at, allowed: issue.message });
    }
    return new FieldProblem(ctx.input, issues, carryFrom(ctx.input)) as z.output<T>;
  });
}

/**
 * Numeric strings count as numbers: `pulumi config set` stores scalars as strings. Anything else
 * (and a blank string) reaches z.number() as is, and is refused there.
 */
function numberFromConfig(value: unknown): unknown {
  return typeof value === "string" && value.trim() !== "" ? Number(value) : value;
}

/** The number and boolean types that also take their string form (for the JSON Schema). */
export const READ_FROM_CONFIG_STRINGS = new WeakSet<object>();

function booleanFromConfig(value: unknown): unknown {
  return value === "true" ? true : value === "false" ? false : value;
}

const unitSuffix = (unit: string) => (unit ? ` (${unit})` : "");

function numberField(min: number, max: number, unit: string, wholeOnly: boolean) {
  const error = `${wholeOnly ? "an integer" : "a number"} from ${min} to ${max}${unitSuffix(unit)}`;
  let number = z.number({ error }).min(min, { error }).max(max, { error });
  if (wholeOnly) number = number.int({ error });
  READ_FROM_CONFIG_STRINGS.add(number);
  const kept = (value: unknown) => {
    const parsed = numberFromConfig(value);
    return typeof parsed === "number" && Number.isFinite(parsed) ? parsed : undefined;
  };
  // A bad number carries NaN, never the default: a rule must not pass on a value nobody gave.
  return field(z.preprocess(numberFromConfig, number), (value) => ({ fallback: NaN, kept: kept(value) }));
}

export const integer = (min: number, max: number, unit = "") => numberField(min, max, unit, true);
export const decimal = (min: number, max: number, unit = "") => numberField(min, max, unit, false);

/** `true`/`false` and their strings, nothing else; a bad one carries `fallback`. */
function booleanField(fallback: boolean | undefined) {
  const schema = z.boolean({ error: "a boolean: true or false" });
  READ_FROM_CONFIG_STRINGS.add(schema);
  return field(z.preprocess(booleanFromConfig, schema), () => ({ fallback }));
}

export const boolean = (defaultValue: boolean) => booleanField(defaultValue).default(defaultValue);
export const optionalBoolean = () => booleanField(undefined).optional();

/**
 * `keepInvalid`: lenient mode declares with the bad value itself, for a key a policy judges
 * (evictionPolicy: noeviction). Other choices select code paths (incident presets, the API mode):
 * an unknown one would crash the program, so lenient mode declares with the fallback there.
 */
export function oneOf<const T extends readonly [string, ...string[]]>(choices: T, fallback: T[number], why = "", keepInvalid = false) {
  const error = `one of ${choices.join(", ")}${why}`;
  return field(z.enum(choices, { error }), (value) => ({ fallback, kept: keepInvalid && typeof value === "string" ? value : undefined })).default(fallback);
}

export function listOf<const T extends readonly [string, ...string[]]>(choices: T, fallback: Array<T[number]>) {
  const error = `a non-empty list of ${choices.join(", ")}`;
  return field(z.array(z.enum(choices, { error }), { error }).min(1, { error }), () => ({ fallback: [...fallback] })).default(fallback);
}

/** A non-empty string matching `pattern`; a bad one carries "" (so no rule matches on it). */
export function text(pattern?: RegExp, error = "a non-empty string") {
  let schema = z.string({ error }).refine((value) => value.trim() !== "", { error, abort: true });
  if (pattern) schema = schema.regex(pattern, { error });
  return field(schema, () => ({ fallback: "" }));
}

/** A string checked by `check`, which returns what is allowed for each refusal (none: fine). */
export function checkedText(check: (value: string) => string[], typeError: string, carryFrom: CarryFrom) {
  const schema = z.string({ error: typeError }).superRefine((value, ctx) => {
    for (const allowed of check(value)) ctx.addIssue({ code: "custom", message: allowed });
  });
  return field(schema, carryFrom);
}

/** An object whose unknown keys are problems that list the known ones. */
export function knownKeysObject<S extends z.ZodRawShape>(shape: S, notAnObject: string, unknownKeyAllowed = `a known field (${Object.keys(shape).join(", ")})`): z.ZodObject<S> {
  const unknownKey = field(z.never({ error: unknownKeyAllowed }), () => ({ fallback: undefined }));
  // Typed as a plain object: an unknown key's problem is resolved away (fallback undefined), so
  // the config that comes out has only the shape's keys.
  return z.object(shape, { error: notAnObject }).catchall(unknownKey) as unknown as z.ZodObject<S>;
}

/** A section of settings: absent or not an object, it reads as an empty one (its defaults). */
export function section<S extends z.ZodRawShape>(shape: S, { notAnObject = "an object of settings", unknownKeyAllowed }: { notAnObject?: string; unknownKeyAllowed?: string } = {}) {
  const object = knownKeysObject(shape, notAnObject, unknownKeyAllowed);
  return field(object, () => ({ fallback: object.parse({}) })).prefault({} as z.input<typeof object>);
}

function configKey(path: readonly PropertyKey[]): string {
  return path.reduce<string>((key, segment) => (typeof segment === "number" ? `${key}[${segment}]` : key ? `${key}.${String(segment)}` : String(segment)), "");
}

function isWalkable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !(value instanceof FieldProblem);
}

/**
 * Replaces every FieldProblem in the parsed tree by its carried value (in place), returning the
 * problems in tree order. A bad array entry stays as OMITTED, so that indexes still match the
 * raw config while the rules run.
 */
export function resolveFieldProblems(tree: Record<string, unknown>, lenient: boolean): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const walk = (node: Record<string, unknown>, path: PropertyKey[]) => {
    for (const [name, child] of Object.entries(node)) {
      const childPath = [...path, Array.isArray(node) ? Number(name) : name];
      if (child instanceof FieldProblem) {
        for (const issue of child.issues) {
          const key = configKey([...childPath, ...issue.at]);
          problems.push({ key, value: issue.at.reduce<unknown>((v, k) => (isWalkable(v) ? v[k as string] : undefined), child.value), allowed: issue.allowed });
        }
        const carried = lenient && child.carry.kept !== undefined ? child.carry.kept : child.carry.fallback;
        if (carried === undefined && !Array.isArray(node)) delete node[name];
        else node[name] = carried;
        if (isWalkable(carried)) walk(carried, childPath);
      } else if (isWalkable(child)) {
        walk(child, childPath);
      }
    }
  };
  walk(tree, []);
  return problems;
}
