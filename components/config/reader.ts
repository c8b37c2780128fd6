// Small typed readers over untrusted config values. Each problem is recorded, not thrown,
// so the validator can report every problem in one pass (DESIGN.md: "reported at once").
import { imagePinProblem } from "./imageReference";

export interface ConfigProblem {
  key: string;
  value: unknown;
  allowed: string;
}

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.key}: got ${describeValue(problem.value)}; allowed: ${problem.allowed}`;
}

export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing (missing)";
  if (typeof value === "string") return JSON.stringify(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 120 ? `${json.slice(0, 117)}...` : json;
  } catch {
    return String(value);
  }
}

export type RawObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is RawObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Key names that reach Object.prototype when a path is walked or assigned (`a.__proto__.x = 1`
 * sets x on every object): never a config key, anywhere in a key path.
 */
export const FORBIDDEN_KEYS: readonly string[] = ["__proto__", "constructor", "prototype"];
export const FORBIDDEN_KEY_ALLOWED = `a key other than ${FORBIDDEN_KEYS.join(", ")} (they reach Object.prototype: prototype pollution)`;

export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.includes(key);
}

/** Sets an own property, even one named __proto__ (plain assignment would replace the prototype). */
export function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Every key path below `value` (own keys, arrays included) that uses a forbidden key, with its value. */
export function forbiddenKeyPaths(value: unknown, prefix = ""): Array<{ key: string; value: unknown }> {
  if (Array.isArray(value)) return value.flatMap((entry, index) => forbiddenKeyPaths(entry, `${prefix}[${index}]`));
  if (!isPlainObject(value)) return [];
  return Object.keys(value).flatMap((key) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return isForbiddenKey(key) ? [{ key: path, value: value[key] }] : forbiddenKeyPaths(value[key], path);
  });
}

export class ProblemList {
  readonly problems: ConfigProblem[] = [];

  /**
   * Lenient: a bad value of the right type is kept instead of the fallback, so the policy pack
   * can be shown what the program would declare if this validator were bypassed.
   */
  constructor(readonly lenient = false) {}

  add(key: string, value: unknown, allowed: string): void {
    this.problems.push({ key, value, allowed });
  }

  /** True when a problem has been recorded for this key or anything below it. */
  has(keyPrefix: string): boolean {
    return this.problems.some((p) => p.key === keyPrefix || p.key.startsWith(`${keyPrefix}.`) || p.key.startsWith(`${keyPrefix}[`));
  }
}

/** Reads fields of one config object, recording problems under `prefix.field`. */
export class SectionReader {
  constructor(
    private readonly problems: ProblemList,
    private readonly prefix: string,
    private readonly raw: RawObject,
    knownFields: readonly string[],
  ) {
    for (const field of Object.keys(raw)) {
      if (!knownFields.includes(field)) {
        problems.add(this.key(field), raw[field], `a known field (${knownFields.join(", ")})`);
      }
    }
  }

  key(field: string): string {
    return this.prefix ? `${this.prefix}.${field}` : field;
  }

  /**
   * An integer in [min, max]. Numeric strings are accepted because `pulumi config set`
   * stores scalars as strings; anything else is a problem.
   */
  integer(field: string, min: number, max: number, fallback: number | undefined, unit = ""): number {
    return this.number(field, min, max, fallback, unit, true);
  }

  decimal(field: string, min: number, max: number, fallback: number, unit = ""): number {
    return this.number(field, min, max, fallback, unit, false);
  }

  optionalInteger(field: string, min: number, max: number, unit = ""): number | undefined {
    if (this.raw[field] === undefined) return undefined;
    return this.number(field, min, max, undefined, unit, true);
  }

  private number(field: string, min: number, max: number, fallback: number | undefined, unit: string, wholeOnly: boolean): number {
    const value = this.raw[field];
    const allowed = `${wholeOnly ? "an integer" : "a number"} from ${min} to ${max}${unit ? ` (${unit})` : ""}`;
    if (value === undefined) {
      if (fallback !== undefined) return fallback;
      this.problems.add(this.key(field), value, allowed);
      return NaN;
    }
    const parsed = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
    if (!Number.isFinite(parsed) || (wholeOnly && !Number.isInteger(parsed)) || parsed < min || parsed > max) {
      this.problems.add(this.key(field), value, allowed);
      return this.problems.lenient && Number.isFinite(parsed) ? parsed : NaN;
    }
    return parsed;
  }

  /** A boolean; `true`/`false` strings are accepted (what `pulumi config set` stores), nothing else. */
  boolean(field: string, fallback: boolean): boolean {
    const value = this.optionalBoolean(field);
    return value === undefined ? fallback : value;
  }

  optionalBoolean(field: string): boolean | undefined {
    const value = this.raw[field];
    if (value === undefined) return undefined;
    if (value === true || value === "true") return true;
    if (value === false || value === "false") return false;
    this.problems.add(this.key(field), value, "a boolean: true or false");
    return undefined;
  }

  string(field: string, fallback: string | undefined, pattern?: RegExp, patternDescription?: string): string {
    const value = this.raw[field];
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== "string" || value.trim() === "" || (pattern && !pattern.test(value))) {
      this.problems.add(this.key(field), value, patternDescription ?? "a non-empty string");
      return "";
    }
    return value;
  }

  oneOf<T extends string>(field: string, choices: readonly T[], fallback: T, why = ""): T {
    const value = this.raw[field];
    if (value === undefined) return fallback;
    if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
      this.problems.add(this.key(field), value, `one of ${choices.join(", ")}${why}`);
      return this.problems.lenient && typeof value === "string" ? (value as T) : fallback;
    }
    return value as T;
  }

  listOf<T extends string>(field: string, choices: readonly T[], fallback: T[]): T[] {
    const value = this.raw[field];
    if (value === undefined) return fallback;
    if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== "string" || !(choices as readonly string[]).includes(v))) {
      this.problems.add(this.key(field), value, `a non-empty list of ${choices.join(", ")}`);
      return fallback;
    }
    return value as T[];
  }

  stringMap(field: string, keyPattern: RegExp, keyDescription: string): Record<string, string> {
    const value = this.raw[field];
    if (value === undefined) return {};
    if (!isPlainObject(value)) {
      this.problems.add(this.key(field), value, `a map of ${keyDescription} to strings`);
      return {};
    }
    const result: Record<string, string> = {};
    for (const [name, entry] of Object.entries(value)) {
      if (!keyPattern.test(name) || !["string", "number", "boolean"].includes(typeof entry)) {
        this.problems.add(`${this.key(field)}.${name}`, entry, `a string value under a key that is ${keyDescription}`);
        continue;
      }
      result[name] = String(entry);
    }
    return result;
  }

  /** A container image reference pinned to a tag other than `latest`, or to a digest. */
  pinnedImage(field: string, fallback: string): string {
    const value = this.raw[field] ?? fallback;
    if (typeof value !== "string" || imagePinProblem(value) !== undefined) {
      this.problems.add(this.key(field), value, `an image pinned to a version tag or digest (${typeof value === "string" ? imagePinProblem(value) : "not a string"})`);
      return this.problems.lenient && typeof value === "string" ? value : fallback;
    }
    return value;
  }
}
