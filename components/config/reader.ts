// Problems in untrusted config values, and the guards every reader of raw config uses. Each
// problem is recorded, not thrown, so the validator can report every problem in one pass
// (DESIGN.md: "reported at once").

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
  constructor(readonly problems: ConfigProblem[] = []) {}

  add(key: string, value: unknown, allowed: string): void {
    this.problems.push({ key, value, allowed });
  }

  /** Forgets the problems recorded for exactly this key (a rule that knows the better one). */
  remove(key: string): void {
    this.problems.splice(0, this.problems.length, ...this.problems.filter((p) => p.key !== key));
  }

  /** True when a problem has been recorded for this key or anything below it. */
  has(keyPrefix: string): boolean {
    return this.problems.some((p) => p.key === keyPrefix || p.key.startsWith(`${keyPrefix}.`) || p.key.startsWith(`${keyPrefix}[`));
  }
}
