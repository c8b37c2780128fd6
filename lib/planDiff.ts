// What a config change does to each resource, computed from two synth plans: the offline
// counterpart of `pulumi preview --diff`, for incident review. Secrets are already masked in
// the plans, so no secret value can be printed.
//
// Like the engine (pulumi/pulumi pkg/resource/deploy/step_generator.go), per resource:
//   1. ignoreChanges: the old value is put back at each ignored path before diffing
//      (processIgnoreChanges; a path missing in the old inputs is removed from the new ones);
//   2. the provider decides replace or update per input (lib/providerSemantics.ts);
//   3. replaceOnChanges turns a change under one of its paths into a replacement
//      (applyReplaceOnChanges);
//   4. a replaced resource gets new outputs, so an input that takes a value from it changes too:
//      if that input forces a replacement, the dependent is replaced as well
//      (calculateDependentReplacements, which substitutes unknowns for those inputs);
//   5. deleteBeforeReplace: the option when set, otherwise the provider's answer.
// An added resource whose alias names a removed one is that resource renamed, not a replacement.
import { deletesBeforeReplace, fieldBehaviour } from "./providerSemantics";
import type { Alias, Plan, PlannedResource } from "./plan";

export interface Change {
  path: string;
  before: unknown;
  after: unknown;
}

/** What the engine does with the resource: "same" is a rename by alias with no change. */
export type Action = "create" | "delete" | "update" | "replace" | "same";

export interface ResourceDiff {
  kind: "added" | "removed" | "changed";
  action: Action;
  type: string;
  name: string;
  /** The old name, when an alias carries the resource over from it. */
  renamedFrom?: string;
  changes: Change[];
  /** Changes the resource's ignoreChanges hides from the engine. */
  ignored: Change[];
  /** Why it is replaced, one entry per cause (an input, a replaceOnChanges path, a replaced dependency). */
  replaceReasons: string[];
  /** Replaced resources whose new outputs force this replacement (for the engine's delete-before-replace chains). */
  replacedBecauseOf: string[];
  deleteBeforeReplace: boolean;
  /** What else the engine or provider will do: state-only updates, retained deletes, protection. */
  notes: string[];
}

export interface PlanDiff {
  resources: ResourceDiff[];
  outputs: Change[];
  unchanged: number;
}

const key = (r: { type: string; name: string }) => `${r.type}::${r.name}`;

/** Arrays whose elements have an identity: env entries by variable name, uploads by file, labels by label. */
function identityOf(item: unknown): string | undefined {
  if (typeof item === "string") {
    const eq = item.indexOf("=");
    return /^[A-Za-z_][A-Za-z0-9_]*=/.test(item) ? item.slice(0, eq) : undefined;
  }
  if (typeof item === "object" && item !== null) {
    const record = item as Record<string, unknown>;
    for (const field of ["file", "label", "name", "target"]) if (typeof record[field] === "string") return `${field}=${record[field]}`;
  }
  return undefined;
}

export function diffValues(before: unknown, after: unknown, path: string, out: Change[] = []): Change[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return out;
  if (Array.isArray(before) && Array.isArray(after)) {
    const ids = [...before, ...after].map(identityOf);
    if (ids.every((id) => id !== undefined)) {
      const index = (list: unknown[]) => new Map(list.map((item) => [identityOf(item)!, item]));
      const a = index(before);
      const b = index(after);
      for (const id of new Set([...a.keys(), ...b.keys()])) diffValues(a.get(id), b.get(id), `${path}[${id}]`, out);
      return out;
    }
  }
  if (isObject(before) && isObject(after)) {
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) diffValues(before[k], after[k], path ? `${path}.${k}` : k, out);
    return out;
  }
  out.push({ path, before, after });
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Segments of a property path: Pulumi's syntax (`a.b`, `a[0]`, `a[*]`, `a["k.x"]`, `*`) and the
 * diff's own (`envs[MAINTENANCE_MODE]`, `uploads[file=/data/x]`).
 */
export function pathSegments(path: string): string[] {
  const segments: string[] = [];
  for (const match of path.matchAll(/\["((?:[^"\\]|\\.)*)"\]|\[([^\]]*)\]|([^.[\]]+)/g)) segments.push(match[1] ?? match[2] ?? match[3]);
  return segments;
}

/**
 * Whether a change at `changed` falls under `pattern` (replaceOnChanges): they agree on every segment
 * both have, `*` matching any. A numeric index cannot be compared with the diff's identity keys
 * (envs[NAME]), so it matches them too: it can only over-report a replacement, never hide one.
 */
export function pathCovers(pattern: string, changed: string): boolean {
  const p = pathSegments(pattern);
  const c = pathSegments(changed);
  for (let i = 0; i < Math.min(p.length, c.length); i++) {
    if (p[i] === "*" || p[i] === c[i] || /^\d+$/.test(p[i])) continue;
    return false;
  }
  return true;
}

/** processIgnoreChanges: the old value at each path (absent there: absent in the result). */
export function applyIgnoreChanges(oldInputs: Record<string, unknown>, newInputs: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  return paths.reduce((inputs, path) => resetPath(oldInputs, inputs, pathSegments(path)) as Record<string, unknown>, newInputs);
}

function resetPath(old: unknown, current: unknown, segments: string[]): unknown {
  if (segments.length === 0) return old;
  const [head, ...rest] = segments;
  if (Array.isArray(current)) {
    const indexes = head === "*" ? current.map((_, i) => i) : /^\d+$/.test(head) ? [Number(head)] : [];
    const result = [...current];
    for (const i of indexes) result[i] = resetPath(Array.isArray(old) ? old[i] : undefined, current[i], rest);
    return result.filter((item) => item !== undefined);
  }
  if (isObject(current) || isObject(old)) {
    const result: Record<string, unknown> = { ...(isObject(current) ? current : {}) };
    const oldRecord = isObject(old) ? old : {};
    const keys = head === "*" ? [...new Set([...Object.keys(result), ...Object.keys(oldRecord)])] : [head];
    for (const k of keys) {
      const value = resetPath(oldRecord[k], result[k], rest);
      if (value === undefined) delete result[k];
      else result[k] = value;
    }
    return result;
  }
  return current;
}

/** The (type, name) an alias points at, resolved against the resource that declares it. */
function aliasTarget(alias: Alias, resource: PlannedResource): { type: string; name: string } {
  if ("urn" in alias) {
    const [, , qualifiedType = "", ...name] = alias.urn.split("::");
    return { type: qualifiedType.split("$").pop()!, name: name.join("::") };
  }
  return { type: alias.type ?? resource.type, name: alias.name ?? resource.name };
}

interface Pair {
  old?: PlannedResource;
  now?: PlannedResource;
}

/**
 * Old and new resources paired by type and name, or through an alias: the new resource's own, or
 * the one it inherits from a renamed parent (the SDK's inheritedChildAlias: a child named
 * "<parent>-x" is aliased to "<old parent>-x"). Parents come before their children in the plan.
 */
function pairResources(before: Plan, after: Plan): Pair[] {
  const olds = new Map(before.resources.map((r) => [key(r), r]));
  const news = new Set(after.resources.map(key));
  const claimed = new Set<string>();
  const oldNameOf = new Map<string, string>();
  const inherited = (now: PlannedResource): Alias[] => {
    const oldParent = now.parent ? oldNameOf.get(now.parent) : undefined;
    return oldParent && now.name.startsWith(now.parent!) ? [{ name: oldParent + now.name.slice(now.parent!.length) }] : [];
  };
  const pairs: Pair[] = after.resources.map((now) => {
    const same = olds.get(key(now));
    const renamed = same ? undefined : [...now.options.aliases, ...inherited(now)].map((a) => key(aliasTarget(a, now))).find((k) => olds.has(k) && !news.has(k) && !claimed.has(k));
    const old = same ?? (renamed ? olds.get(renamed) : undefined);
    if (!old) return { now };
    claimed.add(key(old));
    if (old.name !== now.name) oldNameOf.set(now.name, old.name);
    return { old, now };
  });
  return [...pairs, ...before.resources.filter((r) => !claimed.has(key(r))).map((old) => ({ old }))];
}

/** The resource's own decision, from its input changes (steps 1-3 and 5 above). */
function decide(old: PlannedResource, now: PlannedResource): ResourceDiff {
  const ignoreChanges = now.options.ignoreChanges;
  const all = diffValues(old.inputs, now.inputs, "");
  const changes = ignoreChanges.length > 0 ? diffValues(old.inputs, applyIgnoreChanges(old.inputs, now.inputs, ignoreChanges), "") : all;
  const kept = new Set(changes.map((c) => c.path));
  const replaceReasons: string[] = [];
  const notes: string[] = [];
  const add = (list: string[], entry: string) => {
    if (!list.includes(entry)) list.push(entry);
  };
  for (const change of changes) {
    const field = pathSegments(change.path)[0] ?? change.path;
    const rule = now.options.replaceOnChanges.find((pattern) => pathCovers(pattern, change.path));
    const behaviour = fieldBehaviour(now.type, field);
    if (rule) add(replaceReasons, `${field} (replaceOnChanges ${rule})`);
    else if (behaviour?.kind === "replace") add(replaceReasons, behaviour.unconfirmed ? `${field} (unconfirmed: ${behaviour.unconfirmed})` : field);
    if (!rule && behaviour?.kind === "update") add(notes, `${field}: ${behaviour.effect}${behaviour.unconfirmed ? ` (unconfirmed: ${behaviour.unconfirmed})` : ""}`);
    if (!behaviour && now.custom) add(notes, `${field}: not in lib/providerSemantics.ts for ${now.type}; check with npm run preview`);
  }
  return {
    kind: "changed",
    action: replaceReasons.length > 0 ? "replace" : changes.length > 0 ? "update" : "same",
    type: now.type,
    name: now.name,
    ...(old.name !== now.name ? { renamedFrom: old.name } : {}),
    changes,
    ignored: all.filter((c) => !kept.has(c.path)),
    replaceReasons,
    replacedBecauseOf: [],
    deleteBeforeReplace: false,
    notes,
  };
}

/**
 * A field under one of the resource's ignoreChanges paths whose value, once the engine restored the
 * ignored paths, equals the old one: what flows in from a replaced resource lands only there.
 */
function absorbedByIgnoreChanges(old: PlannedResource | undefined, now: PlannedResource, field: string): boolean {
  if (!old) return false;
  const ignored = now.options.ignoreChanges.filter((path) => path === field || path.startsWith(`${field}[`) || path.startsWith(`${field}.`));
  if (ignored.length === 0) return false;
  const restored = applyIgnoreChanges(old.inputs, now.inputs, ignored);
  return diffValues({ [field]: old.inputs[field] }, { [field]: restored[field] }, "").length === 0;
}

/** Step 4: inputs that take a value from a replaced resource change, and replace it when they force a replacement. */
function replacedDependencies(diff: ResourceDiff, now: PlannedResource, replaced: Set<string>, old?: PlannedResource): boolean {
  let grew = false;
  const cause = (names: string[], reason: string) => {
    for (const name of names) {
      if (diff.replacedBecauseOf.includes(name)) continue;
      diff.replacedBecauseOf.push(name);
      grew = true;
    }
    if (!diff.replaceReasons.includes(reason)) diff.replaceReasons.push(reason);
  };
  if (now.options.provider && replaced.has(now.options.provider)) cause([now.options.provider], `its provider ${now.options.provider} is replaced`);
  for (const [field, deps] of Object.entries(now.propertyDependencies ?? {})) {
    const from = deps.filter((d) => replaced.has(d));
    if (from.length === 0) continue;
    // The replaced resource's outputs reach only paths ignoreChanges covers (the engine puts the old
    // value back there, even over an unknown): e.g. a password in a seed upload. Nothing changes.
    if (absorbedByIgnoreChanges(old, now, field)) {
      // (the engine's preview sees an unknown there and restores the old value just the same)
      const reason = `${field} takes a value from ${from.join(", ")}, which is replaced, only where ignoreChanges keeps the old value`;
      if (!diff.notes.includes(reason)) diff.notes.push(reason);
      continue;
    }
    const forces = now.options.replaceOnChanges.some((pattern) => pathCovers(pattern, field)) || fieldBehaviour(now.type, field)?.kind === "replace";
    const reason = `${field} (takes a value from ${from.join(", ")}, which is replaced)`;
    if (forces) cause(from, reason);
    else if (!diff.notes.includes(reason)) diff.notes.push(reason);
    if (diff.action === "same") diff.action = "update";
  }
  if (diff.replaceReasons.length > 0) diff.action = "replace";
  return grew;
}

/** Deletes the engine refuses (protect) or leaves on the host (retainOnDelete). */
function deletionNotes(old: PlannedResource, now: PlannedResource | undefined): string[] {
  const notes: string[] = [];
  if (old.options.protect || now?.options.protect) notes.push("protected: the engine refuses to delete it (unprotect first)");
  if (old.options.retainOnDelete) notes.push("retainOnDelete: the engine drops it from the state, the provider does not delete it");
  else if (now?.options.retainOnDelete) notes.push("retainOnDelete is new in this change; the delete uses the current state's options (unconfirmed): deploy it first");
  return notes;
}

export function diffPlans(before: Plan, after: Plan): PlanDiff {
  const pairs = pairResources(before, after);
  const decided = new Map<PlannedResource, ResourceDiff>();
  const previous = new Map<PlannedResource, PlannedResource>();
  for (const { old, now } of pairs) {
    if (!old || !now) continue;
    decided.set(now, decide(old, now));
    previous.set(now, old);
  }
  // Replacements propagate along property dependencies until nothing more is replaced.
  const replaced = new Set([...decided.values()].filter((d) => d.action === "replace").map((d) => d.name));
  for (let grew = true; grew;) {
    grew = false;
    for (const [now, diff] of decided) {
      if (!now.custom || !replacedDependencies(diff, now, replaced, previous.get(now)) || replaced.has(now.name)) continue;
      replaced.add(now.name);
      grew = true;
    }
  }
  const blank = () => ({ changes: [], ignored: [], replaceReasons: [], replacedBecauseOf: [], deleteBeforeReplace: false });
  const resources: ResourceDiff[] = [];
  let unchanged = 0;
  for (const { old, now } of pairs) {
    if (now && !old) resources.push({ ...blank(), kind: "added", action: "create", type: now.type, name: now.name, notes: [] });
    else if (old && !now) resources.push({ ...blank(), kind: "removed", action: "delete", type: old.type, name: old.name, notes: deletionNotes(old, undefined) });
    else if (old && now) {
      const diff = decided.get(now)!;
      if (diff.action === "same" && !diff.renamedFrom) {
        unchanged++;
        continue;
      }
      if (diff.action === "replace") {
        diff.deleteBeforeReplace = deletesBeforeReplace(now.type, now.inputs, now.options.deleteBeforeReplace);
        diff.notes.push(...deletionNotes(old, now));
      }
      resources.push(diff);
    }
  }
  return { resources, outputs: diffValues(before.outputs, after.outputs, ""), unchanged };
}

function show(value: unknown): string {
  if (value === undefined) return "(none)";
  if (typeof value === "string") {
    const lines = value.split("\n");
    return lines.length > 1 ? `<${lines.length} lines>` : value;
  }
  return JSON.stringify(value);
}

/** For multi-line values (uploaded files), the lines that differ. */
function lineChanges(before: unknown, after: unknown): string[] {
  if (typeof before !== "string" || typeof after !== "string" || (!before.includes("\n") && !after.includes("\n"))) return [];
  const a = new Set(before.split("\n"));
  const b = new Set(after.split("\n"));
  return [...[...a].filter((l) => !b.has(l)).map((l) => `        - ${l}`), ...[...b].filter((l) => !a.has(l)).map((l) => `        + ${l}`)];
}

/** `pulumi preview`'s symbols: + create, - delete, ~ update in place, +- replace. */
export const SYMBOL: Record<Action, string> = { create: "+", delete: "-", update: "~", replace: "+-", same: "=" };

function headline(r: ResourceDiff): string {
  const what = {
    create: "create",
    delete: "delete",
    update: "update in place",
    replace: `replace${r.deleteBeforeReplace ? ", delete before replace" : ""}; forced by ${r.replaceReasons.join("; ")}`,
    same: "no change",
  }[r.action];
  return `${SYMBOL[r.action]} ${r.type} ${r.name} (${what}${r.renamedFrom ? `; renamed from ${r.renamedFrom} by alias` : ""})`;
}

export function formatPlanDiff(diff: PlanDiff): string {
  const lines: string[] = [];
  for (const resource of diff.resources) {
    lines.push(headline(resource));
    for (const change of resource.changes) {
      lines.push(`    ${change.path}: ${show(change.before)} -> ${show(change.after)}`);
      lines.push(...lineChanges(change.before, change.after));
    }
    for (const change of resource.ignored) lines.push(`    (ignoreChanges) ${change.path}: ${show(change.before)} -> ${show(change.after)}`);
    for (const note of resource.notes) lines.push(`    note: ${note}`);
  }
  if (diff.outputs.length > 0) {
    lines.push("stack outputs:");
    for (const change of diff.outputs) lines.push(`    ${change.path}: ${show(change.before)} -> ${show(change.after)}`);
  }
  const count = (action: Action) => diff.resources.filter((r) => r.action === action).length;
  lines.push(`${count("replace")} to replace, ${count("update")} to update in place, ${count("create")} added, ${count("delete")} removed, ${diff.unchanged} unchanged`);
  return lines.join("\n");
}
