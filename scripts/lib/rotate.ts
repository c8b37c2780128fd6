// `npm run rotate`'s planning, pure: from a stack's credentials config, the next step of each
// user's rotation, the `pulumi config set --path` lines that declare it, and what it does live.
import { CREDENTIAL_NAMES, type CredentialName } from "../../components/redis/acl";
import { describeStep, nextRotation, sameStep, type RecordedRotation, type RotationConfig, type RotationStep, type UserRotation } from "../../components/redis/rotation";

/** What each step changes on the running cluster, as an operator sees it (docs/rotation.md). */
export const STEP_EFFECTS: Record<RotationStep, string> = {
  add: "every data node and sentinel accepts the new password beside the old one (ACL SETUSER ... reset on #old #new, live); clients keep the old one",
  switch:
    "every client moves to the new password: replicas (CONFIG SET masterauth), sentinels (SENTINEL SET auth-pass, SENTINEL CONFIG SET sentinel-pass), the entry and health scripts, the exporter (file + /-/reload), the API's password files; both passwords still accepted",
  retire: "the old password is removed from every ACL (ACL SETUSER ... reset on #new); a consumer still holding it is refused at its next connection (RedisAuthFailures)",
};

export interface UserStep {
  user: CredentialName;
  from: UserRotation;
  to: UserRotation;
}

/** `all` or one credential name; anything else names the allowed values. */
export function parseUsers(value: string): CredentialName[] {
  if (value === "all") return [...CREDENTIAL_NAMES];
  if ((CREDENTIAL_NAMES as readonly string[]).includes(value)) return [value as CredentialName];
  throw new Error(`--user ${JSON.stringify(value)}: one of all, ${CREDENTIAL_NAMES.join(", ")}`);
}

export function nextSteps(current: RotationConfig, users: CredentialName[]): UserStep[] {
  return users.map((user) => ({ user, from: current[user], to: nextRotation(current[user]) }));
}

/** The overrides as `pulumi config set --path` and plan-diff's --config take them. */
export function configOverrides(steps: UserStep[]): string[] {
  return steps.flatMap(({ user, to }) => [`credentials.${user}.generation=${to.generation}`, `credentials.${user}.step=${to.step}`]);
}

export function describeSteps(stack: string, steps: UserStep[]): string[] {
  const lines = steps.map(({ user, from, to }) => `  ${user}: generation ${from.generation} ${from.step} -> generation ${to.generation} ${to.step}`);
  const kinds = [...new Set(steps.map((s) => s.to.step))];
  return [
    `rotate: stack ${stack}, next step for ${steps.length} user${steps.length === 1 ? "" : "s"}:`,
    ...lines,
    ...kinds.map((step) => `what ${step} does live (no container is replaced, no process restarted): ${STEP_EFFECTS[step]}`),
    ...(kinds.includes("retire") && steps.some((s) => s.from.external !== undefined && s.from.external !== s.to.generation)
      ? ["before retire: redeploy the consumers outside this stack and set credentials.<user>.external to the current generation (the validator and the policy pack refuse otherwise)"]
      : []),
    "declare it (one step per `up`; the next step only after this one is applied):",
    ...configOverrides(steps).map((o) => `  pulumi config set --path --stack ${stack} ${o.replace("=", " ")}`),
    `then: npm run preview -- --stack ${stack} && npm run up -- --stack ${stack}; run npm run rotate again for the next step`,
  ];
}

/**
 * The users whose declared step the stack has not applied yet (from `pulumi stack output --json`,
 * its credentialRotation): their next step waits for an `up` of the declared one, which the
 * program would otherwise refuse as two steps at once.
 */
export function unappliedSteps(declared: RotationConfig, recorded: RecordedRotation, users: CredentialName[]): UserStep[] {
  if (recorded.kind !== "applied") return [];
  return users.filter((user) => !sameStep(declared[user], recorded.rotation[user])).map((user) => ({ user, from: recorded.rotation[user], to: declared[user] }));
}

export function describeUnapplied(stack: string, pending: UserStep[]): string[] {
  return [
    `rotate: stack ${stack}: ${pending.length} user${pending.length === 1 ? "" : "s"} declared but not applied yet (the last successful \`up\` recorded otherwise):`,
    ...pending.map(({ user, from, to }) => `  ${user}: declared ${describeStep(to)}, applied ${describeStep(from)}`),
    `apply it first: npm run up -- --stack ${stack} (or set the declared step back); then run npm run rotate again`,
  ];
}
