// Failure mode credential-rotation (components/failureModes.ts): a password retires only after its consumers moved.
import type { StackValidationPolicy } from "@pulumi/policy";
import { describeStep, parseCredentialMarker, ROTATION_ORDER_PROPERTY, stepAllowed, type RotationOrder } from "../shared/redis/rotation";
import { CREDENTIALS_COMPONENT } from "../resources";

export const credentialsRetire: StackValidationPolicy = {
  name: "credentials-retire-after-consumers",
  description:
    "Credential rotation in order: each server's step follows what the stack last applied (one step per up: add, switch, retire), so no retire before the switch that moved every declared consumer has completed; and no retire while a consumer outside the stack (credentials.<user>.external) still holds the generation retire removes.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const markers = args.resources.flatMap((r) => leadingMarkers(r.props.triggers).map((marker) => ({ marker, urn: r.urn })));
    const retiring = new Map<string, { generation: number; by: string }>();
    // Each user's step against what the stack last applied (its own outputs, read back by the
    // program: rotation.ts RotationOrder on the Credentials component). Absent on a new stack,
    // which is seeded at the current step. Consumers moved at a switch only once that `up` completed.
    for (const resource of args.resources.filter((r) => r.type === CREDENTIALS_COMPONENT)) {
      const order = resource.props[ROTATION_ORDER_PROPERTY] as RotationOrder | undefined;
      for (const [user, { step, applied }] of Object.entries(order ?? {})) {
        if (applied && !stepAllowed(applied, step)) {
          report(
            `${user} at ${describeStep(step)} cannot follow ${describeStep(applied)}, what this stack last applied: one step per up (add, switch, retire), so the switch that moves every consumer must complete before retire`,
            resource.urn,
          );
        }
      }
    }
    // And the consumers' own markers: what an external API holds is config's word (credentials.<user>.external).
    for (const { marker } of markers) {
      if (marker.kind !== "accepts") continue;
      for (const [user, at] of Object.entries(marker.users)) {
        if (at?.step === "retire" && at.generation > 0) retiring.set(user, { generation: at.generation, by: marker.holder });
      }
    }
    for (const { marker, urn } of markers) {
      if (marker.kind !== "holds") continue;
      for (const [user, held] of Object.entries(marker.users)) {
        const retire = retiring.get(user);
        if (retire && held && held.generation < retire.generation) {
          report(`${marker.holder} still holds generation ${held.generation} of ${user}, whose password step retire removes (${retire.by} at generation ${retire.generation}): switch it first`, urn);
        }
      }
    }
  },
};

/**
 * The credential markers that lead a command's triggers, read in order up to the first other
 * value: a value after them that is unknown in a preview (a script holding a new password) is
 * never read, so it cannot turn this mandatory guard into an advisory "can't run".
 */

function leadingMarkers(triggers: unknown): Array<NonNullable<ReturnType<typeof parseCredentialMarker>>> {
  if (!Array.isArray(triggers)) return [];
  const found: Array<NonNullable<ReturnType<typeof parseCredentialMarker>>> = [];
  for (let index = 0; index < triggers.length; index++) {
    const marker = parseCredentialMarker(triggers[index]);
    if (!marker) break;
    found.push(marker);
  }
  return found;
}
