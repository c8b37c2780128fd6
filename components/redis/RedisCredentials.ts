import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CREDENTIAL_NAMES, type CredentialName, type Credentials } from "./acl";
import {
  credentialState,
  passwordOf,
  rotationOrder,
  ROTATION_ORDER_PROPERTY,
  slotGeneration,
  SLOTS,
  steadyRotation,
  usedGeneration,
  type CredentialState,
  type RecordedRotation,
  type RotationConfig,
  type Slot,
  type SlotPasswords,
} from "./rotation";

/**
 * The RandomPassword keepers of one slot. Slot 0 at generation 0 has none: it is the password
 * stacks deployed before rotation existed already hold (same resource name), and adding keepers
 * would replace it, i.e. change every password in one `up` with no add step.
 */
export function slotKeepers(generation: number, slot: Slot): Record<string, string> | undefined {
  const held = slotGeneration(generation, slot);
  return slot === 0 && held === 0 ? undefined : { generation: String(held) };
}

/** Slot 0 keeps the name the single password had; slot 1 is new. */
export function slotResourceName(name: string, credential: CredentialName, slot: Slot): string {
  return slot === 0 ? `${name}-${credential}` : `${name}-${credential}-slot1`;
}

/**
 * Two generated passwords per user (components/redis/rotation.ts): the slots of the current and
 * the previous generation, tied to the generation by their keepers, so raising a user's
 * generation regenerates only the slot that held the retired password. Every node and client
 * reads the same plan. Each output is wrapped with pulumi.secret explicitly: derived outputs stay
 * secret under the engine, but mocks do not mark them for us.
 */
export class RedisCredentials extends pulumi.ComponentResource {
  /** The password clients use at this step, per user. */
  readonly passwords: Record<CredentialName, pulumi.Output<string>>;
  /** The clients' passwords as one secret object, for renderers. */
  readonly all: pulumi.Output<Credentials>;
  /** What servers accept and clients use at this step, as one secret. */
  readonly state: pulumi.Output<CredentialState>;
  readonly rotation: RotationConfig;
  /** Each user's two slots: a consumer of one user depends on that user's passwords only. */
  readonly slots: Record<CredentialName, pulumi.Output<SlotPasswords>>;

  constructor(name: string, args: { rotation?: RotationConfig; recorded?: RecordedRotation } = {}, opts?: pulumi.ComponentResourceOptions) {
    const rotation = args.rotation ?? steadyRotation();
    // Each user's step beside the one last applied (checked by declareProgram before anything is
    // declared): a property the policy pack reads (rotation.ts RotationOrder).
    const order = rotationOrder(args.recorded ?? { kind: "new" }, rotation);
    super("veza:redis:Credentials", name, { [ROTATION_ORDER_PROPERTY]: order }, opts);
    this.rotation = rotation;
    const slots = Object.fromEntries(
      CREDENTIAL_NAMES.map((credential) => {
        const generation = this.rotation[credential].generation;
        const results = SLOTS.map((slot) => {
          const keepers = slotKeepers(generation, slot);
          // No special characters: the passwords go into redis.conf, URLs and shell commands unquoted.
          return new random.RandomPassword(slotResourceName(name, credential, slot), { length: 40, special: false, ...(keepers ? { keepers } : {}) }, { parent: this }).result;
        });
        return [credential, pulumi.secret(pulumi.all(results).apply(([zero, one]): SlotPasswords => ({ 0: zero, 1: one })))];
      }),
    ) as Record<CredentialName, pulumi.Output<SlotPasswords>>;
    this.slots = slots;
    this.state = pulumi.secret(pulumi.all(slots).apply((s) => credentialState(this.rotation, s as Record<CredentialName, SlotPasswords>)));
    this.all = pulumi.secret(this.state.apply((s) => s.used));
    // From the user's own slots: another user's rotation does not touch what depends on this one.
    this.passwords = Object.fromEntries(
      CREDENTIAL_NAMES.map((credential) => [credential, pulumi.secret(slots[credential].apply((own) => passwordOf(own, usedGeneration(this.rotation[credential]))))]),
    ) as Record<CredentialName, pulumi.Output<string>>;
    // The engine hands a component's registered outputs to stack policies: the same record again.
    this.registerOutputs({ [ROTATION_ORDER_PROPERTY]: order });
  }
}
