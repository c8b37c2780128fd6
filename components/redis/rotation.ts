// Credential rotation as data: which password each server accepts and each client uses, per
// user, from the stack config's generation and step. Pure; the program, the live-apply scripts,
// the policy pack, `npm run rotate` and the drill all read the same plan.
//
// Redis and Sentinel ACL users may hold several passwords at once, so a rotation is three
// `pulumi up`s with no restart:
//   add     the servers accept the new password beside the old one; clients keep the old one
//   switch  every client (scripts, replicas, sentinels, exporter, API) moves to the new one
//   retire  the old password is removed everywhere: the steady state
// Two RandomPassword slots per user hold generation g (slot g % 2) and g - 1 (the other slot):
// advancing the generation regenerates only the slot whose password was retired.

import { CREDENTIAL_NAMES, type CredentialName, type Credentials } from "./acl";

export const ROTATION_STEPS = ["add", "switch", "retire"] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

export interface UserRotation {
  generation: number;
  step: RotationStep;
  /**
   * The generation consumers outside this stack hold (an `api.mode: external` API reads
   * `redisAppPassword`/`sentinelPassword`): undefined when every consumer is declared here.
   */
  external?: number;
}

export type RotationConfig = Record<CredentialName, UserRotation>;

/** The steady state of a stack that never rotated: generation 0, nothing to add or retire. */
export const STEADY: UserRotation = { generation: 0, step: "retire" };

export function steadyRotation(): RotationConfig {
  return Object.fromEntries(CREDENTIAL_NAMES.map((name) => [name, STEADY])) as RotationConfig;
}

export type Slot = 0 | 1;
export const SLOTS: readonly Slot[] = [0, 1];

export function slotOf(generation: number): Slot {
  return (((generation % 2) + 2) % 2) as Slot;
}

/**
 * The generation each slot holds at generation g: g in its own slot, g - 1 in the other. This is
 * the slot's RandomPassword keeper: raising g to g + 1 changes only the other slot's keeper (from
 * g - 1 to g + 1), so only the retired password is regenerated.
 */
export function slotGeneration(generation: number, slot: Slot): number {
  return slotOf(generation) === slot ? generation : generation - 1;
}

/** What clients hold at a step: the previous generation until `switch`, the current one from then on. */
export function usedGeneration(rotation: UserRotation): number {
  return rotation.step === "add" ? rotation.generation - 1 : rotation.generation;
}

/** The generations servers accept: both from `add` until `retire`, the current one alone after it. */
export function acceptedGenerations(rotation: UserRotation): number[] {
  return rotation.step === "retire" ? [rotation.generation] : [rotation.generation, rotation.generation - 1];
}

/** Both slots' passwords of one user. */
export type SlotPasswords = Record<Slot, string>;

/** What every process is given at this step. */
export interface CredentialState {
  /** The password each client of a user authenticates with. */
  used: Credentials;
  /** The passwords each server accepts for a user, the one clients use first. */
  accepted: Record<CredentialName, string[]>;
  /** The password `retire` removes (the previous generation's), per user; none outside `retire`. */
  retired: Partial<Record<CredentialName, string>>;
  /** Each user's password of its current generation and, from generation 1, of the previous one. */
  current: Credentials;
  previous: Partial<Credentials>;
}

/** The password of `generation` (the current or the previous one) in a state. */
export function passwordAt(state: CredentialState, rotation: UserRotation, name: CredentialName, generation: number): string {
  const password = generation === rotation.generation ? state.current[name] : generation === rotation.generation - 1 ? state.previous[name] : undefined;
  if (password === undefined) throw new Error(`credentials.${name}: generation ${generation} is neither the current (${rotation.generation}) nor the previous one`);
  return password;
}

export function passwordOf(slots: SlotPasswords, generation: number): string {
  return slots[slotOf(generation)];
}

export function credentialState(rotation: RotationConfig, slots: Record<CredentialName, SlotPasswords>): CredentialState {
  const used = {} as Credentials;
  const accepted = {} as Record<CredentialName, string[]>;
  const retired: Partial<Record<CredentialName, string>> = {};
  const current = {} as Credentials;
  const previous: Partial<Credentials> = {};
  for (const name of CREDENTIAL_NAMES) {
    const r = rotation[name];
    current[name] = passwordOf(slots[name], r.generation);
    if (r.generation > 0) previous[name] = passwordOf(slots[name], r.generation - 1);
    used[name] = passwordOf(slots[name], usedGeneration(r));
    // Clients' password first: the scripts try the accepted passwords in this order.
    const generations = [usedGeneration(r), ...acceptedGenerations(r).filter((g) => g !== usedGeneration(r))];
    accepted[name] = generations.map((g) => passwordOf(slots[name], g));
    if (r.step === "retire" && r.generation > 0) retired[name] = passwordOf(slots[name], r.generation - 1);
  }
  return { used, accepted, retired, current, previous };
}

/** One password per user, nothing being rotated: the drills' and tests' plain clusters. */
export function steadyState(credentials: Credentials): CredentialState {
  const accepted = Object.fromEntries(CREDENTIAL_NAMES.map((name) => [name, [credentials[name]]])) as Record<CredentialName, string[]>;
  return { used: credentials, accepted, retired: {}, current: credentials, previous: {} };
}

/** Plain credentials are the steady state: one password per user. */
export function asCredentialState(credentials: Credentials | CredentialState): CredentialState {
  return "accepted" in credentials ? credentials : steadyState(credentials);
}

/** The next step of a user's rotation, as `npm run rotate` walks it. */
export function nextRotation(current: UserRotation): UserRotation {
  if (current.step === "retire") return { ...current, generation: current.generation + 1, step: "add" };
  if (current.step === "add") return { ...current, step: "switch" };
  return { ...current, step: "retire" };
}

/**
 * The label a credential-holding resource carries (in its command's triggers), read by the
 * policy pack: which generation of which users it accepts or holds at which step. Markers lead
 * the triggers: the pack reads them up to the first other value (see policies.ts, leadingMarkers).
 */
export interface CredentialMarker {
  "veza-credentials": {
    /** `accepts`: a server's ACL (the live apply); `holds`: a client's copy. */
    kind: "accepts" | "holds";
    /** The consumer or server, e.g. redis-0, sentinel-1, api, redis-exporter-2. */
    holder: string;
    /** accepts: the generation and step of each user; holds: the generation held (a step changes no client file by itself). */
    users: Partial<Record<CredentialName, { generation: number; step?: RotationStep }>>;
  };
}

/** A server's ACL: the generation and step each user is at. */
export function acceptsMarker(holder: string, rotation: RotationConfig, users: readonly CredentialName[]): string {
  return credentialMarker("accepts", holder, rotation, users, (name) => rotation[name].generation);
}

/** A client's copy: the generation it uses at this step (or, for a consumer outside the stack, what config says it holds). */
export function holdsMarker(holder: string, rotation: RotationConfig, users: readonly CredentialName[], held: (name: CredentialName) => number = (name) => usedGeneration(rotation[name])): string {
  return credentialMarker("holds", holder, rotation, users, held);
}

export function credentialMarker(kind: "accepts" | "holds", holder: string, rotation: RotationConfig, users: readonly CredentialName[], heldGeneration: (name: CredentialName) => number): string {
  const marker: CredentialMarker = {
    "veza-credentials": {
      kind,
      holder,
      users: Object.fromEntries(users.map((name) => [name, kind === "holds" ? { generation: heldGeneration(name) } : { generation: rotation[name].generation, step: rotation[name].step }])),
    },
  };
  return JSON.stringify(marker);
}

export function parseCredentialMarker(text: unknown): CredentialMarker["veza-credentials"] | undefined {
  if (typeof text !== "string" || !text.startsWith('{"veza-credentials"')) return undefined;
  try {
    return (JSON.parse(text) as CredentialMarker)["veza-credentials"];
  } catch {
    return undefined;
  }
}

/**
 * What this stack last applied, read back from its own `credentialRotation` output (the rotation
 * of the last `up` whose every credential command completed: a failed `up` records nothing).
 * `new`: a stack never deployed, which the seed gives the current step directly (no server or
 * client holds a password yet). `unrecorded`: a deployed stack without the record (deployed before
 * it existed, or the output lost): what it applied is unknown, so only the first rotation's steps
 * from the steady state are allowed (a jump to generation 3's retire would remove passwords
 * clients may still use).
 */
export type RecordedRotation = { kind: "new" } | { kind: "unrecorded" } | { kind: "applied"; rotation: RotationConfig };

/** The stack output that records the applied rotation (index.ts exports it). */
export const APPLIED_ROTATION_OUTPUT = "credentialRotation";
/** An output every deployed stack has had from the start: its presence without the record means "deployed before the record existed". */
export const ALWAYS_EXPORTED_OUTPUT = "redisAddress";

/**
 * The record from the stack's outputs. A malformed record is an error, not a guess: guessing
 * wrong would allow a step that locks clients out.
 */
export function recordedRotation(record: unknown, alwaysExported: unknown): RecordedRotation {
  if (record === undefined || record === null) return alwaysExported === undefined ? { kind: "new" } : { kind: "unrecorded" };
  const rotation = steadyRotation();
  const fail = (why: string): never => {
    throw new RotationOrderError([
      {
        key: `stack output ${APPLIED_ROTATION_OUTPUT}`,
        value: JSON.stringify(record),
        allowed: `what the last \`pulumi up\` applied, per user { generation, step }; this one is malformed (${why}): restore it from the stack's history (\`pulumi stack history\`, \`pulumi stack export\`), never by guessing`,
      },
    ]);
  };
  if (typeof record !== "object" || Array.isArray(record)) fail(`expected an object of users, got ${JSON.stringify(record)}`);
  for (const [name, value] of Object.entries(record as Record<string, unknown>)) {
    if (!(CREDENTIAL_NAMES as readonly string[]).includes(name)) continue; // a user since removed from the program
    const entry = value as Partial<UserRotation> | null;
    if (!entry || !Number.isInteger(entry.generation) || (entry.generation as number) < 0 || !ROTATION_STEPS.includes(entry.step as RotationStep)) fail(`${name}: ${JSON.stringify(value)}`);
    rotation[name as CredentialName] = { generation: entry!.generation as number, step: entry!.step as RotationStep };
  }
  return { kind: "applied", rotation };
}

/** The record from a stack's outputs as `pulumi stack output --json` prints them (or a mock holds them). */
export function recordedFromOutputs(outputs: Record<string, unknown>): RecordedRotation {
  return recordedRotation(outputs[APPLIED_ROTATION_OUTPUT], outputs[ALWAYS_EXPORTED_OUTPUT]);
}

/** The same generation and step (an `external` aside). */
export const sameStep = (a: UserRotation, b: UserRotation) => a.generation === b.generation && a.step === b.step;

/**
 * Where a user may go from what was applied: the same step again (a re-run, or an `up` that
 * failed half-way), the next step, or one step back before retire (abandoning an add, or moving
 * clients back before retire). Never back past a retire: the retired password may be the leaked one.
 */
export function allowedSteps(applied: UserRotation): Array<{ to: UserRotation; why: string }> {
  const steps = [
    { to: { generation: applied.generation, step: applied.step }, why: "re-run" },
    { to: nextRotation({ generation: applied.generation, step: applied.step }), why: "next" },
  ];
  if (applied.step === "add") steps.push({ to: { generation: applied.generation - 1, step: "retire" }, why: "abandon the rotation" });
  if (applied.step === "switch") steps.push({ to: { generation: applied.generation, step: "add" }, why: "clients back to the old password" });
  return steps;
}

export function describeStep(r: UserRotation): string {
  return `generation ${r.generation} step ${r.step}`;
}

/**
 * The users whose configured step cannot follow what this stack last applied, one message each.
 * A skipped step moves clients to a password the servers do not accept yet (add skipped), or
 * removes the one clients still use (switch skipped): either locks clients out, the admin too.
 */
export function rotationOrderProblems(recorded: RecordedRotation, target: RotationConfig): RotationOrderProblem[] {
  if (recorded.kind === "new") return [];
  return CREDENTIAL_NAMES.flatMap((name) => {
    const applied = recorded.kind === "applied" ? recorded.rotation[name] : STEADY;
    const allowed = allowedSteps(applied);
    if (allowed.some((a) => sameStep(a.to, target[name]))) return [];
    const from =
      recorded.kind === "applied" ? "what this stack last applied" : `the steady state: this deployed stack has no ${APPLIED_ROTATION_OUTPUT} output, so only the first rotation's steps are allowed`;
    return [
      {
        key: `credentials.${name}`,
        value: describeStep(target[name]),
        allowed: `a step that can follow ${describeStep(applied)}, ${from}: ${allowed.map((a) => `${describeStep(a.to)} (${a.why})`).join(", ")}`,
      },
    ];
  });
}

/** The shape of a config problem (components/config/reader.ts): the key, the value, what is allowed. */
export interface RotationOrderProblem {
  key: string;
  value: string;
  allowed: string;
}

/** Refuses the whole program before any password is generated or applied. */
export class RotationOrderError extends Error {
  constructor(readonly problems: RotationOrderProblem[]) {
    super(`credential rotation out of order (one step per \`pulumi up\`: add, switch, retire):\n${problems.map((p) => `  ${p.key}: ${p.value} is not allowed; allowed: ${p.allowed}`).join("\n")}`);
    this.name = "RotationOrderError";
  }
}

/**
 * Each user's step and the one this stack last applied: the Credentials component's property,
 * read by the policy pack. On the component, not in the commands' triggers: the record moves
 * with every `up`, and in a trigger it would re-run every live apply on the `up` after a step.
 */
export type RotationOrder = Record<CredentialName, { step: UserRotation; applied?: UserRotation }>;
export const ROTATION_ORDER_PROPERTY = "rotationOrder";

export function rotationOrder(recorded: RecordedRotation, target: RotationConfig): RotationOrder {
  const plain = (r: UserRotation): UserRotation => ({ generation: r.generation, step: r.step });
  return Object.fromEntries(
    CREDENTIAL_NAMES.map((name) => [name, { step: plain(target[name]), ...(recorded.kind === "applied" ? { applied: plain(recorded.rotation[name]) } : {}) }]),
  ) as RotationOrder;
}

/** Whether `to` may follow `applied` (allowedSteps). */
export function stepAllowed(applied: UserRotation, to: UserRotation): boolean {
  return allowedSteps(applied).some((a) => sameStep(a.to, to));
}

const STEP_RANK: Record<RotationStep, number> = { add: 0, switch: 1, retire: 2 };

/** Steps in the order a rotation walks them: (g, add) < (g, switch) < (g, retire) < (g+1, add). */
function rank(r: UserRotation): number {
  return r.generation * 3 + STEP_RANK[r.step];
}

function fromRank(value: number): UserRotation {
  return { generation: Math.floor(value / 3), step: ROTATION_STEPS[value % 3] };
}

/**
 * What was really applied, per user, from the credential commands' recorded triggers (their
 * markers): a command the engine did not run (`up --target`, an earlier failure) keeps the
 * triggers of its last run. The earliest step any server is at, capped at `add` of the
 * generation while a consumer still holds the one before: from there every allowed step is safe
 * for every server and consumer. A user no command names keeps what config declares.
 */
export function appliedFromMarkers(markers: ReadonlyArray<CredentialMarker["veza-credentials"]>, declared: RotationConfig): RotationConfig {
  const applied = { ...declared };
  for (const name of CREDENTIAL_NAMES) {
    const servers = markers.filter((m) => m.kind === "accepts" && m.users[name]?.step !== undefined).map((m) => m.users[name]!);
    if (servers.length === 0) continue;
    let earliest = Math.min(...servers.map((u) => rank({ generation: u.generation, step: u.step! })));
    const { generation } = fromRank(earliest);
    for (const consumer of markers.filter((m) => m.kind === "holds" && m.users[name] !== undefined)) {
      const held = consumer.users[name]!.generation;
      if (held < generation) earliest = Math.min(earliest, rank({ generation: held + 1, step: "add" }));
    }
    applied[name] = { ...fromRank(earliest), ...(declared[name].external !== undefined ? { external: declared[name].external } : {}) };
  }
  return applied;
}

/** Every credential marker in a command's (recorded) triggers. */
export function markersIn(triggers: unknown): Array<CredentialMarker["veza-credentials"]> {
  return Array.isArray(triggers) ? triggers.map(parseCredentialMarker).filter((m): m is CredentialMarker["veza-credentials"] => m !== undefined) : [];
}
