// What each policy does when a value it reads is unknown, as during `pulumi preview`.
// @pulumi/policy hands a policy its resource's properties behind unknownCheckingProxy
// (node_modules/@pulumi/policy/proxy.js): reading an unknown value throws UnknownValueError, and
// the pack's server (server.js, analyze and analyzeStack) turns that into one diagnostic with
// enforcementLevel "advisory", "can't run policy ... during preview". The policy's other checks on
// that resource do not run, and a mandatory policy cannot block there. During `pulumi up` the
// engine analyzes each resource again, on resolved inputs, before creating or updating it
// (pulumi/pulumi step_generator.go: a mandatory diagnostic when !DryRun marks the resource
// invalid and stops the update), which is why `npm run up` always loads the pack.
import * as fs from "node:fs";
import * as path from "node:path";
import { policies } from "../../policy/policies";
import { runPolicies, type Violation } from "../../scripts/lib/policyRunner";
import { UNKNOWN_MARK } from "../../scripts/lib/serialized";
import { PROJECT_ROOT } from "../../lib/stackFiles";
import type { PlannedResource } from "../../scripts/lib/synth";
import { synthOk } from "../helpers/synth";
import { CREDENTIAL_SEED_SUFFIX, seededFiles } from "../../components/base/shell";

const CANT_RUN = /^can't run during preview: /;
const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";
const REMOTE_IMAGE_TYPE = "docker:index/remoteImage:RemoteImage";

const find = (resources: PlannedResource[], name: string) => {
  const found = resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource ${name}`);
  return found;
};
type Uploads = Array<{ file: string; content: unknown }>;
const uploadOf = (resource: PlannedResource, suffix: string) => (resource.inputs.uploads as Uploads).find((u) => u.file.endsWith(suffix))!;
const labelOf = (resource: PlannedResource, name: string) => ((resource.inputs.labels ?? []) as Array<{ label: string; value: string }>).find((l) => l.label === `veza.${name}`);

/** An input of one resource, with a way to change it and to make it unknown. */
interface Place {
  resource: string;
  describe: string;
  set: (r: PlannedResource, value: unknown) => void;
  get: (r: PlannedResource) => unknown;
}
const input = (resource: string, key: string): Place => ({
  resource,
  describe: `${resource} ${key}`,
  set: (r, v) => {
    r.inputs[key] = v;
  },
  get: (r) => r.inputs[key],
});
/** A container's file, where it is uploaded: its config carrier (`<container resource>-config`). */
const upload = (container: string, suffix: string): Place => ({
  resource: `${container}-config`,
  describe: `${container} upload ${suffix}`,
  set: (r, v) => {
    uploadOf(r, suffix).content = v;
  },
  get: (r) => uploadOf(r, suffix).content,
});
/** A file a seed command writes into its volume (the ACL files), in its stdin; unknown, the whole stdin is. */
const seeded = (resource: string, file: string): Place => ({
  resource,
  describe: `${resource} seeded ${file}`,
  set: (r, v) => {
    r.inputs.stdin = v === UNKNOWN_MARK ? v : (r.inputs.stdin as string).replace(seededFiles(r.inputs.stdin as string).get(file)!, String(v));
  },
  get: (r) => seededFiles(r.inputs.stdin as string).get(file),
});
const trigger = (resource: string, index: number): Place => ({
  resource,
  describe: `${resource} triggers[${index}]`,
  set: (r, v) => {
    (r.inputs.triggers as unknown[])[index] = v;
  },
  get: (r) => (r.inputs.triggers as unknown[])[index],
});
/** A credential marker (components/redis/rotation.ts) with one user moved to a generation and step. */
const markerWith = (user: string, at: { generation: number; step: string }) => (text: unknown) => {
  const marker = JSON.parse(String(text)) as { "veza-credentials": { users: Record<string, unknown> } };
  marker["veza-credentials"].users[user] = at;
  return JSON.stringify(marker);
};
type Labels = Array<{ label: string; value: string }>;
/** A container's labels without its kind: the backup job is no longer one. */
const withoutBackupLabel = (labels: unknown) => (labels as Labels).filter((l) => l.label !== "veza.component");
const buildArg = (resource: string, name: string): Place => ({
  resource,
  describe: `${resource} build arg ${name}`,
  set: (r, v) => {
    (r.inputs.build as { args: Record<string, unknown> }).args[name] = v;
  },
  get: (r) => (r.inputs.build as { args: Record<string, unknown> }).args[name],
});

/**
 * For every policy: a value it reads, a violating edit of that value (known, as at `up`), and the
 * same value unknown (as in a preview where the value comes from a resource being created).
 */
const cases: Array<{ policy: string; place: Place; violate: (value: unknown) => unknown; message: RegExp }> = [
  { policy: "redis-memory-limit-and-fork-headroom", place: input("redis-1-container", "memorySwap"), violate: () => 4096, message: /memorySwap 4096/ },
  {
    policy: "redis-evicting-maxmemory-policy",
    place: upload("redis-0-container", "/redis.conf"),
    violate: (t) => String(t).replace("maxmemory-policy allkeys-lru", "maxmemory-policy noeviction"),
    message: /noeviction/,
  },
  { policy: "redis-aof-auto-rewrite", place: upload("redis-2-container", "/redis.conf"), violate: (t) => String(t).replace("appendonly yes", "appendonly no"), message: /appendonly/ },
  {
    policy: "redis-data-volume-sized",
    place: { ...input("redis-1-container", "labels"), describe: "redis-1-container labels" },
    violate: (labels) => (labels as Array<{ label: string; value: string }>).map((l) => (l.label === "veza.data-volume-bytes" ? { ...l, value: "1024" } : l)),
    message: /under the sizing minimum/,
  },
  {
    policy: "redis-auth-required",
    place: seeded("redis-0-credentials-seed", "redis-secrets.conf"),
    violate: (t) => String(t).replace("user default off", "user default on nopass ~* +@all"),
    message: /default user/,
  },
  {
    policy: "redis-least-privilege",
    place: seeded("sentinel-2-credentials-seed", "sentinel-secrets.conf"),
    violate: (t) => String(t).replace(/^(user veza-sentinel-client .*)$/m, "$1 +sentinel|set"),
    message: /veza-sentinel-client is granted/,
  },
  { policy: "redis-not-exposed", place: upload("redis-0-container", "/redis.conf"), violate: (t) => String(t).replace("bind 127.0.0.1", "bind 0.0.0.0"), message: /all interfaces/ },
  {
    policy: "sentinel-quorum-and-spread",
    place: upload("sentinel-0-container", "/sentinel.conf"),
    violate: (t) => String(t).replace(/(sentinel monitor \S+ \S+ \d+) 2/, "$1 1"),
    message: /quorum 1 is not a majority/,
  },
  { policy: "redis-restart-and-healthcheck", place: input("redis-2-container", "restart"), violate: () => "no", message: /restart policy no/ },
  { policy: "redis-safe-replacement", place: input("redis-1-container", "wait"), violate: () => false, message: /wait is not true/ },
  { policy: "images-pinned", place: input("redis-0-container", "image"), violate: () => "redis:latest", message: /latest/ },
  { policy: "images-pinned", place: input("local-image-veza-redis-7-0-15-1-deb12u10", "name"), violate: () => "redis", message: /untagged/ },
  { policy: "images-not-known-vulnerable", place: input("sentinel-0-container", "image"), violate: () => "redis:7.0.15-bookworm", message: /end-of-life/ },
  { policy: "images-not-known-vulnerable", place: buildArg("local-build-veza-redis-7-0-15-1-deb12u10", "REDIS_VERSION"), violate: () => "5:7.0.15-1~deb12u5", message: /CVE-2025-49844/ },
  { policy: "containers-hardened", place: input("redis-0-exporter-container", "capabilities"), violate: () => undefined, message: /does not drop ALL capabilities/ },
  {
    policy: "containers-config-read-only",
    place: input("redis-2-container", "mounts"),
    violate: (mounts) => (mounts as Array<Record<string, unknown>>).map((m, i) => (i === 0 ? { ...m, readOnly: false } : m)),
    message: /mounts its config volume at \/etc\/veza writable/,
  },
  {
    policy: "containers-pids-limited",
    place: input("redis-1-container-pids-limit", "create"),
    violate: (c) => String(c).replace("--pids-limit 64", "--pids-limit 0"),
    message: /no redis-1-container-pids-limit command sets its pids limit to 64/,
  },
  { policy: "api-runs-as-declared-user", place: input("api-container", "user"), violate: () => "0:0", message: /user 0:0: the API runs as root or in root's group/ },
  {
    policy: "api-declares-redis-toggles",
    place: input("api-container", "envs"),
    violate: (envs) => (envs as string[]).filter((e) => !e.startsWith("MAINTENANCE_MODE=")),
    message: /MAINTENANCE_MODE is not declared/,
  },
  {
    policy: "alerts-have-severity-and-runbook",
    place: upload("monitoring-prometheus-container", "/rules/redis.yml"),
    violate: (t) => String(t).replace("severity: page", "severity: critical"),
    message: /severity critical/,
  },
  {
    policy: "slo-rules-complete",
    place: upload("monitoring-prometheus-container", "/rules/slo.yml"),
    violate: (t) => String(t).replace(/severity: ticket/, "severity: page"),
    message: /2 SlowBurn tickets/,
  },
  {
    policy: "alerting-has-dead-mans-switch",
    place: upload("monitoring-alertmanager-container", "/alertmanager.yml"),
    violate: (t) => String(t).replace('severity="heartbeat"', 'severity="none"'),
    message: /dead man's switch never hears/,
  },
  {
    policy: "credentials-retire-after-consumers",
    place: trigger("redis-0-credentials", 0),
    violate: markerWith("app", { generation: 1, step: "retire" }),
    message: /api-connectivity-check still holds generation 0 of app/,
  },
  { policy: "sessions-and-revocations-evictable", place: upload("redis-0-container", "/redis.conf"), violate: (t) => t, message: /allkeys-lru may evict/ },
  {
    policy: "alertmanager-behind-gate",
    place: upload("monitoring-alertmanager-gate-container", "/nginx.conf"),
    violate: (t) => String(t).replace('"prometheus POST /api/v2/alerts" 0;', '"~^prometheus " 0;'),
    message: /is not the gate rendered for Alertmanager's port/,
  },
  // A production label on a dev container: its host (a local Docker) declares no firewall.
  {
    policy: "redis-hosts-firewalled",
    place: input("redis-0-container", "labels"),
    violate: (labels) => (labels as Labels).map((l) => (l.label === "veza.environment" ? { ...l, value: "production" } : l)),
    message: /redis-0-container on host local does not wait for a local-firewall command/,
  },
  // The backup policies read every container's labels: the backup job is found by its component label.
  {
    policy: "backup-required",
    place: input("backup-container", "labels"),
    violate: (labels) => withoutBackupLabel(labels).map((l) => (l.label === "veza.environment" ? { ...l, value: "production" } : l)),
    message: /^production stack has no backup job/,
  },
  { policy: "backup-recommended", place: input("backup-container", "labels"), violate: withoutBackupLabel, message: /^dev stack has no backup job/ },
  {
    policy: "backup-off-data-hosts",
    place: input("backup-container", "labels"),
    violate: (labels) => (labels as Labels).map((l) => (l.label === "veza.environment" ? { ...l, value: "production" } : l)),
    message: /runs on host local with data node/,
  },
  {
    policy: "backup-repository-retained",
    place: input("backup-container", "mounts"),
    violate: (mounts) => (mounts as Array<{ target: string }>).filter((m) => m.target !== "/repository"),
    message: /is not a declared volume mounted writable/,
  },
];

const ofPolicy = (violations: Violation[], policy: string) => violations.filter((v) => v.policy === policy);

describe("each policy when the value it reads is unknown", () => {
  let dev: PlannedResource[];
  beforeAll(async () => {
    dev = (await synthOk("dev")).unmasked;
  });

  it("has a case for every policy in the pack", () => {
    expect(policies.map((p) => p.name).filter((name) => !cases.some((c) => c.policy === name))).toEqual([]);
  });

  it.each(cases.map((c) => [`${c.policy}: ${c.place.describe}`, c] as const))("%s: known (as at up) it reports; unknown (as in preview) it is downgraded to advisory", async (_label, c) => {
    const level = policies.find((p) => p.name === c.policy)!.enforcementLevel;
    const known = structuredClone(dev);
    const resource = find(known, c.place.resource);
    c.place.set(resource, c.violate(c.place.get(resource)));
    const atUp = ofPolicy(await runPolicies(known, "veza-redis", "dev"), c.policy);
    expect(
      atUp
        .filter((v) => v.level === level)
        .map((v) => v.message)
        .join("\n"),
    ).toMatch(c.message);

    const unknown = structuredClone(known);
    c.place.set(find(unknown, c.place.resource), UNKNOWN_MARK);
    const inPreview = ofPolicy(await runPolicies(unknown, "veza-redis", "dev"), c.policy);
    // The violation is not reported, mandatory or not: the policy stopped at the unknown value.
    expect(inPreview.map((v) => v.message).join("\n")).not.toMatch(c.message);
    expect(inPreview.filter((v) => v.level === "mandatory")).toEqual([]);
    // Stack policies stop for the whole stack; resource policies for that resource only.
    const stackPolicy = "validateStack" in policies.find((p) => p.name === c.policy)!;
    expect(inPreview).toEqual([expect.objectContaining({ level: "advisory", resource: stackPolicy ? "stack" : c.place.resource, message: expect.stringMatching(CANT_RUN) })]);
  });

  it("a check that ran before the policy reached the unknown value still reports (mandatory), and so do the other resources", async () => {
    // redis-memory-limit-and-fork-headroom compares memorySwap before it reads redis.conf: swap is
    // caught even while redis.conf is unknown; its maxmemory checks are not. It reads redis.conf
    // from the node's config carrier, so it runs over the stack: an unknown on one node does not
    // stop the check of the next, and the policy says once, at the end, that it could not decide.
    const plan = structuredClone(dev);
    for (const name of ["redis-0-container", "redis-1-container"]) find(plan, name).inputs.memorySwap = 4096;
    uploadOf(find(plan, "redis-0-container-config"), "/redis.conf").content = UNKNOWN_MARK;
    const memory = ofPolicy(await runPolicies(plan, "veza-redis", "dev"), "redis-memory-limit-and-fork-headroom");
    expect(memory.map((v) => [v.level, v.resource, v.message.replace(/:.*/s, "")]).sort()).toEqual([
      ["advisory", "stack", "can't run during preview"],
      ["mandatory", "redis-0-container", "memorySwap 4096 != memory 512"],
      ["mandatory", "redis-1-container", "memorySwap 4096 != memory 512"],
    ]);
  });
});

/** policy -> the sorted kinds (veza.component label, else resource type) it could not decide on. */
function undecided(violations: Violation[], resources: PlannedResource[]): Record<string, string[]> {
  const kindOf = (name: string) => {
    // A seed command counts as the container whose volume it seeds (it holds that container's ACL file).
    const r = resources.find((x) => x.name === (name.endsWith(CREDENTIAL_SEED_SUFFIX) ? `${name.slice(0, -CREDENTIAL_SEED_SUFFIX.length)}-container` : name));
    return (r && labelOf(r, "component")?.value) ?? r?.type ?? name;
  };
  const table: Record<string, Set<string>> = {};
  for (const v of violations.filter((x) => CANT_RUN.test(x.message))) (table[v.policy] ??= new Set()).add(kindOf(v.resource));
  return Object.fromEntries(
    Object.entries(table)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([p, kinds]) => [p, [...kinds].sort()]),
  );
}

/** Every input path that is unknown, as "<kind> <input>" (uploads by file name). */
function unknownInputs(resources: PlannedResource[]): string[] {
  const found = new Set<string>();
  for (const r of resources) {
    const kind = labelOf(r, "component")?.value ?? r.type;
    const walk = (value: unknown, at: string) => {
      if (value === UNKNOWN_MARK) found.add(`${kind} ${at}`);
      else if (Array.isArray(value)) value.forEach((item, i) => walk(item, at === "uploads" ? `upload ${(item as { file: string }).file.split("/").pop()}` : `${at}[${i}]`));
      else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) walk(v, at.startsWith("upload ") ? at : at ? `${at}.${k}` : k);
    };
    walk(r.inputs, "");
  }
  return [...found].sort();
}

/** The mandatory policies a new stack's preview cannot decide (docs/policy-pack.md, "Under a real preview"). */
const UNDECIDED_UNDER_PREVIEW = ["images-not-known-vulnerable", "images-pinned", "redis-auth-required", "redis-least-privilege"];

describe("a real preview: the dev and prod programs with their computed values unknown", () => {
  it.each(["dev", "prod"])("%s, a new stack (every resource created): the mandatory policies that cannot decide, and on what", async (stack) => {
    const plan = (await synthOk(stack, [], { previewCreates: () => true })).unmasked;
    const violations = await runPolicies(plan, "veza-redis", stack);
    expect(violations.filter((v) => v.level === "mandatory")).toEqual([]);
    const table = undecided(violations, plan);
    // Passwords (their hashes sit in the ACL files) and pulled image ids are computed by providers.
    expect(table["redis-auth-required"]).toEqual(["redis", "sentinel"]);
    expect(table["redis-least-privilege"]).toEqual(["redis", "sentinel"]);
    // The container half only: the RemoteImage's name and the build's args are config, known.
    expect(table["images-pinned"]).not.toContain(REMOTE_IMAGE_TYPE);
    expect(table["images-pinned"]).toEqual(expect.arrayContaining(["redis", "redis-exporter", "sentinel"]));
    expect(table["images-not-known-vulnerable"]).toEqual(table["images-pinned"]);
    expect(Object.keys(table)).toEqual(UNDECIDED_UNDER_PREVIEW);
    // No password in a container: only the pulled image's id is unknown there (the ACL files are
    // in the seed commands' stdin, unknown with the passwords), and the config volume's name, a
    // digest of that id and the files.
    expect(unknownInputs(plan).filter((p) => /^(redis|sentinel) /.test(p))).toEqual(["redis image", "redis mounts[0].source", "sentinel image", "sentinel mounts[0].source"]);
  });

  it("dev, a password rotation (the RandomPasswords replaced, nothing else): only the ACL policies cannot decide", async () => {
    const plan = (await synthOk("dev", [], { previewCreates: (type) => type === RANDOM_PASSWORD })).unmasked;
    const violations = await runPolicies(plan, "veza-redis", "dev");
    expect(violations.filter((v) => v.level === "mandatory")).toEqual([]);
    expect(undecided(violations, plan)).toEqual({ "redis-auth-required": ["redis", "sentinel"], "redis-least-privilege": ["redis", "sentinel"] });
  });

  it("docs/policy-pack.md names exactly these policies as advisory-on-unknown under preview", () => {
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "policy-pack.md"), "utf8");
    const section = /<!-- preview-unknowns -->([\s\S]*?)<!-- \/preview-unknowns -->/.exec(readme)?.[1] ?? "";
    const named = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]).sort();
    expect(named).toEqual(UNDECIDED_UNDER_PREVIEW);
  });
});
