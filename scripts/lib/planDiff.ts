// What a config change does to each resource, computed from two synth plans: the offline
// counterpart of `pulumi preview --diff`, for incident review. Secrets are already masked in
// the plans, so no secret value can be printed.
import type { Plan, PlannedResource } from "./synth";

export interface Change {
  path: string;
  before: unknown;
  after: unknown;
}

export interface ResourceDiff {
  kind: "added" | "removed" | "changed";
  type: string;
  name: string;
  changes: Change[];
}

export interface PlanDiff {
  resources: ResourceDiff[];
  outputs: Change[];
  unchanged: number;
}

const key = (r: PlannedResource) => `${r.type}::${r.name}`;

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

export function diffPlans(before: Plan, after: Plan): PlanDiff {
  const a = new Map(before.resources.map((r) => [key(r), r]));
  const b = new Map(after.resources.map((r) => [key(r), r]));
  const resources: ResourceDiff[] = [];
  let unchanged = 0;
  for (const [k, resource] of b) {
    const old = a.get(k);
    if (!old) resources.push({ kind: "added", type: resource.type, name: resource.name, changes: [] });
    else {
      const changes = diffValues(old.inputs, resource.inputs, "");
      if (changes.length > 0) resources.push({ kind: "changed", type: resource.type, name: resource.name, changes });
      else unchanged++;
    }
  }
  for (const [k, resource] of a) if (!b.has(k)) resources.push({ kind: "removed", type: resource.type, name: resource.name, changes: [] });
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

export function formatPlanDiff(diff: PlanDiff): string {
  const symbol = { added: "+", removed: "-", changed: "~" } as const;
  const lines: string[] = [];
  for (const resource of diff.resources) {
    lines.push(`${symbol[resource.kind]} ${resource.type} ${resource.name}${resource.kind === "changed" ? "" : ` (${resource.kind})`}`);
    for (const change of resource.changes) {
      lines.push(`    ${change.path}: ${show(change.before)} -> ${show(change.after)}`);
      lines.push(...lineChanges(change.before, change.after));
    }
  }
  if (diff.outputs.length > 0) {
    lines.push("stack outputs:");
    for (const change of diff.outputs) lines.push(`    ${change.path}: ${show(change.before)} -> ${show(change.after)}`);
  }
  const count = (kind: ResourceDiff["kind"]) => diff.resources.filter((r) => r.kind === kind).length;
  lines.push(`${count("changed")} changed, ${count("added")} added, ${count("removed")} removed, ${diff.unchanged} unchanged`);
  return lines.join("\n");
}
