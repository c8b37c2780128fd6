// The volume's live credentials before a container starts (components/topology/credentialScripts.ts
// renderCredentialSeedScript), run with dash against a temp dir as the seed command runs it; and
// the entry scripts, which refuse to start without them (no uploaded copy to fall back on).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { requireValidStackConfig } from "../../components/validation/validate";
import { dataNodeLiveFiles, dataNodeSeedScript, renderCredentialSeedScript, sentinelSeedScript } from "../../components/topology/credentialScripts";
import { renderDataNodeEntrypoint, renderDataNodeHealthcheck } from "../../components/redis/dataNodeScripts";
import { credentialState, steadyState, type RotationConfig } from "../../components/redis/rotation";
import { CREDENTIAL_NAMES, sha256Hex } from "../../components/redis/acl";
import { renderSentinelEntrypoint } from "../../components/sentinel/sentinelScripts";
import { dataNodeContainer, dataNodeScriptSettings, sentinelContainer, sentinelScriptSettings } from "../../components/topology/containers";
import { CONTAINER_CREDENTIALS_DIR, declaredDataHosts } from "../../components/topology/settings";
import { randomCredentials } from "../../drills/harness/localCluster";
import { readStackConfigFile } from "../../lib/stackFiles";
import { runDash } from "../helpers/dash";
import { stackModel } from "../../components/topology/model";

const config = requireValidStackConfig(readStackConfigFile("prod").raw);
const model = stackModel(config);
const { topology } = model;
const dataHosts = declaredDataHosts(topology);
const isRoot = process.getuid?.() === 0;
const uidOf = (user: string) => Number(spawnSync("id", ["-u", user], { encoding: "utf8" }).stdout.trim());

let work: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "veza-seed-test-"));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

/** Two slots per user at generation 1: at switch servers accept both and clients use the new one. */
const [zero, one] = [randomCredentials(), randomCredentials()];
function stateAt(step: "add" | "switch") {
  const rotation = Object.fromEntries(CREDENTIAL_NAMES.map((n) => [n, { generation: 1, step }])) as RotationConfig;
  return credentialState(rotation, Object.fromEntries(CREDENTIAL_NAMES.map((n) => [n, { 0: zero[n], 1: one[n] }])) as never);
}
const switchState = () => stateAt("switch");

describe("the credentials seed (before a container starts)", () => {
  const state = switchState();
  const seedInto = (dir: string, at = state) => runDash(dataNodeSeedScript("redis-0", dir, at, dataHosts));

  it("is the definition's seed: the live apply's files for this step, into the container's credentials dir", () => {
    expect(dataNodeContainer(config, model, topology.dataNodes[0]).seed(state)).toBe(dataNodeSeedScript("redis-0", CONTAINER_CREDENTIALS_DIR, state, dataHosts));
    expect(sentinelContainer(config, model, topology.sentinels[1]).seed(state)).toBe(sentinelSeedScript("sentinel-1", CONTAINER_CREDENTIALS_DIR, config.sentinel.masterName, state));
  });

  it("writes a fresh volume's files for the current step: each 0600 in a 0700 dir, exactly the rendered content", () => {
    const dir = path.join(work, "veza-credentials");
    const result = seedInto(dir);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: expect.stringContaining("credentials: seeded redis-secrets.conf credentials.sh") });
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    for (const [name, content] of Object.entries(dataNodeLiveFiles(state, dataHosts))) {
      expect([name, fs.readFileSync(path.join(dir, name), "utf8")]).toEqual([name, content]);
      expect([name, fs.statSync(path.join(dir, name)).mode & 0o777]).toEqual([name, 0o600]);
    }
    // The switch step: clients' (the scripts') passwords are generation 1's.
    expect(fs.readFileSync(path.join(dir, "credentials.sh"), "utf8")).toContain(`VEZA_HANDOFF_PASSWORD='${state.used.handoff}'`);
    expect(fs.readdirSync(dir).sort()).toEqual(["credentials.sh", "redis-secrets.conf"]);
  });

  (isRoot ? it : it.skip)("as root, hands the dir and the files to the redis user the server runs as", () => {
    const dir = path.join(work, "veza-credentials");
    expect(seedInto(dir).status).toBe(0);
    const redis = uidOf("redis");
    for (const entry of [dir, path.join(dir, "credentials.sh"), path.join(dir, "redis-secrets.conf")]) expect([entry, fs.statSync(entry).uid]).toEqual([entry, redis]);
  });

  it("writes atomically: beside the file, then renamed (a leftover from an interrupted seed is not taken for the file)", () => {
    const dir = path.join(work, "veza-credentials");
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, "credentials.sh.tmp"), "VEZA_HANDOFF_PASSWORD='half", { mode: 0o600 });
    const script = renderCredentialSeedScript({ name: "redis-0", credentialsDir: dir }, dataNodeLiveFiles(state, dataHosts));
    expect(script).toMatch(/cat > "\$VEZA_CREDENTIALS_DIR\/\$1\.tmp"[\s\S]*mv -f "\$VEZA_CREDENTIALS_DIR\/\$1\.tmp" "\$VEZA_CREDENTIALS_DIR\/\$1"/);
    expect(runDash(script).status).toBe(0);
    expect(fs.readFileSync(path.join(dir, "credentials.sh"), "utf8")).toBe(dataNodeLiveFiles(state, dataHosts)["credentials.sh"]);
    expect(fs.readdirSync(dir).sort()).toEqual(["credentials.sh", "redis-secrets.conf"]);
  });

  it("leaves a populated volume untouched: its live copy (moved forward by the live apply) wins over this step", () => {
    const dir = path.join(work, "veza-credentials");
    // The step before (add): it shares an administrator password with switch, as every allowed step does.
    expect(seedInto(dir, stateAt("add")).status).toBe(0);
    const before = Object.fromEntries(
      fs
        .readdirSync(dir)
        .map((name) => [name, { content: fs.readFileSync(path.join(dir, name), "utf8"), mtimeMs: fs.statSync(path.join(dir, name)).mtimeMs, mode: fs.statSync(path.join(dir, name)).mode }]),
    );
    const again = seedInto(dir);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain("credentials: kept redis-secrets.conf credentials.sh");
    expect(again.stderr).not.toContain("seeded");
    const after = Object.fromEntries(
      fs
        .readdirSync(dir)
        .map((name) => [name, { content: fs.readFileSync(path.join(dir, name), "utf8"), mtimeMs: fs.statSync(path.join(dir, name)).mtimeMs, mode: fs.statSync(path.join(dir, name)).mode }]),
    );
    expect(after).toEqual(before);
  });

  it("replaces a copy from another life of the stack (destroyed, redeployed onto the retained volume): none of its admin passwords is accepted", () => {
    const dir = path.join(work, "veza-credentials");
    expect(seedInto(dir, steadyState(randomCredentials())).status).toBe(0);
    const again = seedInto(dir);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain("left by an earlier life of this stack");
    expect(again.stderr).toContain("credentials: seeded redis-secrets.conf credentials.sh");
    for (const [name, content] of Object.entries(dataNodeLiveFiles(state, dataHosts))) expect(fs.readFileSync(path.join(dir, name), "utf8")).toBe(content.endsWith("\n") ? content : `${content}\n`);
  });

  it("completes a volume that has only one of the files, keeping that one", () => {
    const dir = path.join(work, "veza-credentials");
    fs.mkdirSync(dir, { mode: 0o700 });
    const kept = `user veza-admin on #${sha256Hex(state.accepted.admin[1])}\n`;
    fs.writeFileSync(path.join(dir, "redis-secrets.conf"), kept, { mode: 0o600 });
    expect(seedInto(dir).status).toBe(0);
    expect(fs.readFileSync(path.join(dir, "redis-secrets.conf"), "utf8")).toBe(kept);
    expect(fs.readFileSync(path.join(dir, "credentials.sh"), "utf8")).toBe(dataNodeLiveFiles(state, dataHosts)["credentials.sh"]);
  });
});

describe("the entry and health scripts without live credentials", () => {
  const expected = (name: string, dir: string) => `no live credentials in ${dir}: the ${name}-credentials-seed command of \`pulumi up\` writes them`;

  it("a data node's entry script refuses to start, in one clear line, and touches nothing", () => {
    const dir = path.join(work, "veza-credentials");
    const settings = { ...dataNodeScriptSettings(config, model, topology.dataNodes[1]), dataDir: work, credentials: { dir, files: ["redis-secrets.conf", "credentials.sh"] } };
    const result = runDash(renderDataNodeEntrypoint(settings));
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([expect.stringMatching(new RegExp(`^veza redis-1 [0-9:.]+: ${expected("redis-1", dir).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`))]);
    expect(fs.readdirSync(work)).toEqual([]);
  });

  it("so does a data node whose volume holds only one of the files (Redis would fail on the missing include)", () => {
    const dir = path.join(work, "veza-credentials");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "credentials.sh"), "VEZA_HANDOFF_PASSWORD='x'\n");
    const settings = { ...dataNodeScriptSettings(config, model, topology.dataNodes[0]), dataDir: work, credentials: { dir, files: ["redis-secrets.conf", "credentials.sh"] } };
    const result = runDash(renderDataNodeEntrypoint(settings));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(expected("redis-0", dir));
  });

  it("a sentinel's entry script and a data node's healthcheck refuse too", () => {
    const dir = path.join(work, "missing");
    const sentinel = { ...sentinelScriptSettings(config, model, topology.sentinels[2]), dataDir: work, credentials: { dir, files: ["sentinel-secrets.conf", "credentials.sh"] } };
    const fromSentinel = runDash(renderSentinelEntrypoint(sentinel));
    expect([fromSentinel.status, fromSentinel.stderr.includes(expected("sentinel-2", dir))]).toEqual([1, true]);
    const node = { ...dataNodeScriptSettings(config, model, topology.dataNodes[0]), dataDir: work, credentials: { dir, files: ["redis-secrets.conf", "credentials.sh"] } };
    const fromHealthcheck = runDash(renderDataNodeHealthcheck(node));
    expect([fromHealthcheck.status, fromHealthcheck.stderr.includes(expected("redis-0", dir))]).toEqual([1, true]);
  });
});
