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
