// Credential rotation as data (components/redis/rotation.ts), its config validation, and the
// live-apply scripts as text.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { cleanedTempDirs } from "../helpers/tempDirs";
import { CREDENTIAL_NAMES, sha256Hex, SENTINEL_USERS } from "../../components/redis/acl";
import { renderDataNodeLiveScript, renderSentinelLiveScript, renderVolumeFilesScript } from "../../components/topology/credentialScripts";
import { slotKeepers } from "../../components/redis/RedisCredentials";
import { appliedFromMarkers, credentialState, slotGeneration, steadyRotation, type RotationConfig, type RotationStep, type SlotPasswords } from "../../components/redis/rotation";
import { validateStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";

const tempDir = cleanedTempDirs();
const slots = Object.fromEntries(CREDENTIAL_NAMES.map((n) => [n, { 0: `${n}Zero0`, 1: `${n}One1` }])) as Record<(typeof CREDENTIAL_NAMES)[number], SlotPasswords>;
const at = (generation: number, step: RotationStep): RotationConfig => Object.fromEntries(CREDENTIAL_NAMES.map((n) => [n, { generation, step }])) as RotationConfig;

describe("rotation slots and steps", () => {
  it("raising the generation changes only the keeper of the slot being replaced", () => {
    for (let g = 0; g < 6; g++) {
      const changed = ([0, 1] as const).filter((slot) => JSON.stringify(slotKeepers(g, slot)) !== JSON.stringify(slotKeepers(g + 1, slot)));
      expect(changed).toEqual([(g + 1) % 2]);
      expect(slotGeneration(g + 1, ((g + 1) % 2) as 0 | 1)).toBe(g + 1);
    }
    // Slot 0 at generation 0: no keepers, so stacks deployed before keep their passwords.
    expect(slotKeepers(0, 0)).toBeUndefined();
    expect(slotKeepers(0, 1)).toEqual({ generation: "-1" });
  });

  it("add accepts both and uses the old, switch uses the new, retire accepts only the new", () => {
    const add = credentialState(at(1, "add"), slots);
    expect([add.used.app, add.accepted.app]).toEqual(["appZero0", ["appZero0", "appOne1"]]);
    const sw = credentialState(at(1, "switch"), slots);
    expect([sw.used.app, sw.accepted.app]).toEqual(["appOne1", ["appOne1", "appZero0"]]);
    const retire = credentialState(at(1, "retire"), slots);
    expect([retire.used.app, retire.accepted.app, retire.retired.app]).toEqual(["appOne1", ["appOne1"], "appZero0"]);
    // Generation 2 reuses slot 0 (regenerated in the program): the previous one is slot 1.
    expect(credentialState(at(2, "add"), slots).accepted.replication).toEqual(["replicationOne1", "replicationZero0"]);
    expect(credentialState(steadyRotation(), slots).accepted.admin).toEqual(["adminZero0"]);
  });
});

describe("credentials config validation", () => {
  const raw = readStackConfigFile("dev").raw;
  const problems = (credentials: unknown) => {
    const result = validateStackConfig({ ...raw, credentials });
    return result.ok ? [] : result.problems;
  };

  it("accepts a rotation under way and defaults every user to generation 0, retire", () => {
    const result = validateStackConfig({ ...raw, credentials: { app: { generation: "3", step: "switch", external: 2 } } });
    expect(result.ok && result.config.credentials.app).toEqual({ generation: 3, step: "switch", external: 2 });
    expect(result.ok && result.config.credentials.sentinelPeer).toEqual({ generation: 0, step: "retire" });
  });

  it("names the key, the value and what is allowed", () => {
    expect(problems({ root: { generation: 1 } })).toEqual([expect.objectContaining({ key: "credentials.root", allowed: expect.stringContaining("a credential name (admin, app") })]);
    expect(problems({ app: { step: "rotate" } })).toEqual([expect.objectContaining({ key: "credentials.app.step", value: "rotate", allowed: expect.stringMatching(/^one of add, switch, retire/) })]);
    expect(problems({ app: { generation: 0, step: "add" } })).toEqual([
      expect.objectContaining({ key: "credentials.app.step", value: "add", allowed: expect.stringContaining("raise the generation") }),
    ]);
    expect(problems({ app: { generation: -1 } })).toEqual([expect.objectContaining({ key: "credentials.app.generation", value: -1 })]);
    expect(problems({ app: { generation: 4, step: "switch", external: 2 } })).toEqual([
      expect.objectContaining({ key: "credentials.app.external", value: 2, allowed: expect.stringContaining("4 or 3") }),
    ]);
    // A raised generation alone would be add, switch and retire in one up: the step is required.
    expect(problems({ app: { generation: 2 } })).toEqual([expect.objectContaining({ key: "credentials.app.step", value: undefined, allowed: expect.stringContaining("one step per `pulumi up`") })]);
    // The guard before retire: a consumer outside the stack still on the old generation.
    expect(problems({ app: { generation: 4, step: "retire", external: 3 } })).toEqual([
      expect.objectContaining({ key: "credentials.app.external", value: 3, allowed: expect.stringContaining("before step retire") }),
    ]);
  });
});

describe("an API outside the stack", () => {
  const raw = readStackConfigFile("dev").raw as Record<string, Record<string, unknown>>;
  const externalApi = { ...raw.api, mode: "external", metrics: { address: "10.0.0.9:8080" } };

  it("must say which generation it holds once its users rotate: the stack cannot see it", () => {
    const result = validateStackConfig({
      ...raw,
      api: externalApi,
      credentials: { app: { generation: 1, step: "add" }, sentinelClients: { generation: 1, step: "add", external: 0 }, exporter: { generation: 1, step: "add" } },
    });
    expect(result.ok ? [] : result.problems).toEqual([expect.objectContaining({ key: "credentials.app.external", value: undefined, allowed: expect.stringContaining("api.mode is external") })]);
    expect(validateStackConfig({ ...raw, api: externalApi }).ok).toBe(true);
  });
});

describe("the live-apply scripts", () => {
  const state = credentialState(at(1, "switch"), slots);
  const settings = { name: "redis-0", local: { host: "10.0.0.1", port: 6379 }, credentialsDir: "/data/veza-credentials" };
  const scripts = [
    renderDataNodeLiveScript(settings, state, ["10.0.0.1"]),
    renderSentinelLiveScript({ ...settings, name: "sentinel-0", local: { host: "10.0.0.1", port: 26379 } }, "veza-redis", state),
  ];

  it("are valid POSIX sh (dash -n)", () => {
    for (const script of scripts) expect(spawnSync("dash", ["-n"], { input: script, encoding: "utf8" }).stderr).toBe("");
  });

  it("give ACL SETUSER hashes only, exactly the accepted ones, and set what clients use", () => {
    const [data, sentinel] = scripts;
    const appLine = data.split("\n").find((l) => l.startsWith("ACL SETUSER veza-app "))!;
    expect(appLine).toContain(`#${sha256Hex("appOne1")} #${sha256Hex("appZero0")}`);
    expect(appLine).not.toMatch(/appOne1|appZero0|>/);
    expect(data).toMatch(/^CONFIG SET masterauth replicationOne1$/m);
    expect(sentinel).toMatch(/^SENTINEL SET veza-redis auth-pass sentinelOne1$/m);
    expect(sentinel).toMatch(/^SENTINEL CONFIG SET sentinel-pass sentinelPeerOne1$/m);
    // The live copy is written before the server is touched.
    expect(data.indexOf("write_live")).toBeLessThan(data.indexOf("run_as_admin 'veza-admin'"));
  });

  it("end the retired users' sessions at retire only, after the ACL change, and parse as sh at every step", () => {
    const stepOf = (step: RotationStep) => credentialState({ ...steadyRotation(), app: { generation: 1, step }, sentinelClients: { generation: 1, step } }, slots);
    for (const step of ["add", "switch"] as const) {
      expect(renderDataNodeLiveScript(settings, stepOf(step), ["10.0.0.1"])).not.toMatch(/^retire_sessions '/m);
    }
    const data = renderDataNodeLiveScript(settings, stepOf("retire"), ["10.0.0.1"]);
    const sentinel = renderSentinelLiveScript({ ...settings, name: "sentinel-0" }, "veza-redis", stepOf("retire"));
    expect(data).toMatch(/^retire_sessions 'veza-app'$/m);
    expect(sentinel).toMatch(new RegExp(`^retire_sessions '${SENTINEL_USERS.client.name}'$`, "m"));
    expect(data.indexOf("retire_sessions 'veza-app'")).toBeGreaterThan(data.indexOf("ACL SETUSER veza-app "));
    for (const script of [data, sentinel]) expect(spawnSync("dash", ["-n"], { input: script, encoding: "utf8" }).stderr).toBe("");
  });

  it("writes a consumer's files byte-exact (no trailing newline in a password file)", () => {
    const dir = tempDir("veza-rotation-");
    const script = renderVolumeFilesScript(dir, { "redis-password": "pw'x" });
    expect(spawnSync("dash", ["-c", script], { encoding: "utf8" }).status).toBe(0);
    expect(fs.readFileSync(`${dir}/redis-password`, "utf8")).toBe("pw'x");
  });
});

describe("the applied record, from what the credential commands last ran with", () => {
  const accepts = (holder: string, generation: number, step: RotationStep) => ({ kind: "accepts" as const, holder, users: { app: { generation, step } } });
  const holds = (holder: string, generation: number) => ({ kind: "holds" as const, holder, users: { app: { generation } } });
  const declared = at(1, "retire");
  const appOf = (markers: Parameters<typeof appliedFromMarkers>[0]) => appliedFromMarkers(markers, declared).app;

  it("is the step every server and consumer ran", () => {
    expect(appOf([accepts("redis-0", 1, "switch"), accepts("redis-1", 1, "switch"), holds("api", 1)])).toEqual({ generation: 1, step: "switch" });
  });

  it("is the earliest step when a server's command did not run (up --target, or a failure before it)", () => {
    expect(appOf([accepts("redis-0", 1, "switch"), accepts("redis-1", 1, "add"), holds("api", 1)])).toEqual({ generation: 1, step: "add" });
    expect(appOf([accepts("redis-0", 2, "add"), accepts("redis-1", 1, "retire")])).toEqual({ generation: 1, step: "retire" });
  });

  it("stays at add while a consumer still holds the previous generation: retire cannot follow", () => {
    expect(appOf([accepts("redis-0", 1, "switch"), accepts("redis-1", 1, "switch"), holds("redis-2-exporter", 0)])).toEqual({ generation: 1, step: "add" });
  });

  it("keeps what config declares for a user no command names", () => {
    expect(appliedFromMarkers([], declared).admin).toEqual({ generation: 1, step: "retire" });
  });
});
