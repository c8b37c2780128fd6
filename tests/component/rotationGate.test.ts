// The program's own rotation order check (components/stack.ts declareProgram), as `pulumi up`
// meets it: what the stack last applied comes from a StackReference to itself, and a step out of
// order fails before anything is declared (a regenerated slot would lose the password the servers
// still accept).
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "../../components/validation/load";
import { APPLIED_ROTATION_OUTPUT, RotationOrderError } from "../../components/redis/rotation";
import { declareProgram } from "../../components/stack";
import { applyOverrides, readStackConfigFile } from "../../lib/stackFiles";

const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";
// The provider computes one; its form is all the gate's htpasswd checks (this test reads no hash).
const FORMED_BCRYPT_HASH = `$2a$10$${"a".repeat(53)}`;
const registered: Array<{ type: string; name: string; id?: string }> = [];
let recordedOutputs: Record<string, unknown> = {};
let secretOutputNames: string[] = [];

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, id: args.id });
        if (args.type === "pulumi:pulumi:StackReference") return { id: String(args.inputs.name), state: { name: args.inputs.name, outputs: recordedOutputs, secretOutputNames } };
        return {
          id: `${args.name}-id`,
          state: { ...args.inputs, ...(args.type === RANDOM_PASSWORD ? { result: `pw${args.name.replace(/\W/g, "")}`, bcryptHash: FORMED_BCRYPT_HASH } : {}), stdout: "" },
        };
      },
      call: (args) => args.inputs,
    },
    "veza-redis",
    "dev",
    false,
    "organization",
  );
});

function useConfig(overrides: string[]): ReturnType<typeof loadStackConfig> {
  // In plaintext, as the recorded outputs below (no TLS bundle) say the stack last ran: the gate
  // under test is the rotation's; TLS's own switch guard is in stackTls.test.ts.
  const raw = applyOverrides(readStackConfigFile("dev").raw, ['tls={"enabled":false}', ...overrides]);
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(raw).map(([k, v]) => [`veza-redis:${k}`, typeof v === "string" ? v : JSON.stringify(v)])));
  return loadStackConfig();
}

it("reads its own stack (organization/project/stack) and refuses a skipped switch before declaring anything", async () => {
  registered.length = 0;
  recordedOutputs = { redisAddress: "127.0.0.1:6379", [APPLIED_ROTATION_OUTPUT]: { admin: { generation: 1, step: "add" } } };
  const { config, secrets } = useConfig(["credentials.admin.generation=1", "credentials.admin.step=retire"]);
  const error = await declareProgram(config, secrets).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RotationOrderError);
  expect((error as RotationOrderError).problems).toEqual([{ key: "credentials.admin", value: "generation 1 step retire", allowed: expect.stringContaining("generation 1 step switch (next)") }]);
  // The read of its own outputs is all that happened: no password, no command, no container.
  expect(registered).toEqual([{ type: "pulumi:pulumi:StackReference", name: "veza-applied-rotation", id: "organization/veza-redis/dev" }]);
});

it("declares the stack when the step follows what was applied (1 switch -> 1 retire)", async () => {
  registered.length = 0;
  recordedOutputs = { redisAddress: "127.0.0.1:6379", [APPLIED_ROTATION_OUTPUT]: { admin: { generation: 1, step: "switch" } } };
  const { config, secrets } = useConfig(["credentials.admin.generation=1", "credentials.admin.step=retire"]);
  const outputs = await declareProgram(config, secrets);
  // Resolved only once the passwords are registered.
  await new Promise((resolve) => outputs.redisAppPassword.apply(resolve));
  expect(registered.filter((r) => r.type === RANDOM_PASSWORD && r.name.startsWith("redis-credentials-")).length).toBe(24);
});

it("reads a record marked secret as the record, not as a missing one (which would allow any step)", async () => {
  registered.length = 0;
  recordedOutputs = { redisAddress: "127.0.0.1:6379", [APPLIED_ROTATION_OUTPUT]: { admin: { generation: 1, step: "add" } } };
  secretOutputNames = [APPLIED_ROTATION_OUTPUT];
  try {
    const { config, secrets } = useConfig(["credentials.admin.generation=1", "credentials.admin.step=retire"]);
    await expect(declareProgram(config, secrets)).rejects.toThrow(RotationOrderError);
  } finally {
    secretOutputNames = [];
  }
});

it("without the record on a deployed stack, allows only the first rotation's steps: a jump from the steady state to generation 3's retire is refused, naming what may follow", async () => {
  registered.length = 0;
  recordedOutputs = { redisAddress: "127.0.0.1:6379" };
  const jump = useConfig(["credentials.app.generation=3", "credentials.app.step=retire"]);
  const error = await declareProgram(jump.config, jump.secrets).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect((error as RotationOrderError).problems).toEqual([
    { key: "credentials.app", value: "generation 3 step retire", allowed: expect.stringContaining("generation 0 step retire (re-run), generation 1 step add (next)") },
  ]);
  expect(registered.filter((r) => r.type === RANDOM_PASSWORD)).toEqual([]);
  const first = useConfig(["credentials.app.generation=1", "credentials.app.step=add"]);
  await expect(declareProgram(first.config, first.secrets)).resolves.toBeDefined();
});

it("a stack never deployed takes any declared step: no server or client holds a password yet", async () => {
  recordedOutputs = {};
  const { config, secrets } = useConfig(["credentials.app.generation=3", "credentials.app.step=retire"]);
  await expect(declareProgram(config, secrets)).resolves.toBeDefined();
});
