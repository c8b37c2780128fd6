// The dev stack with tls.enabled under mocks: what `pulumi up` declares to put every link on TLS,
// in which order, and that no private key shows in the plan. The same files run for real in
// tests/drills/containerTls.test.ts.
import { byName, CONTAINER, synthFresh, synthOk, uploadContent } from "../helpers/synth";
import type { SynthResult } from "../../scripts/lib/synth";
import { validateStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";
import { API_TLS_FILES } from "../../components/api/env";
import { EXPORTER_TLS_FILES } from "../../components/monitoring/redisExporter";
import { CERTIFICATE_PROBE_JOB, PROMETHEUS_CONFIG_PATH } from "../../components/monitoring/prometheusConfig";
import { DECLARED_CERTIFICATE_EXPIRY_METRIC } from "../../components/monitoring/certificateRules";
import { CLIENT_CERTIFICATE_ROLES } from "../../components/tls/certificates";
import { NODE_EXPORTER_TEXTFILE_DIR } from "../../components/backup/backupJob";
import { spawnSync } from "node:child_process";

const envOf = (container: { inputs: Record<string, unknown> }) => Object.fromEntries(((container.inputs.envs as string[]) ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
const TLS_ON = ['tls={"enabled":true}'];
const TLS_OFF = ['tls={"enabled":false}'];

describe("the dev stack with tls.enabled (and, for contrast, without), under mocks", () => {
  let on: SynthResult;
  let off: SynthResult;
  beforeAll(async () => {
    on = await synthOk("dev", TLS_ON);
    off = await synthOk("dev", TLS_OFF);
  });

  it("writes each data node's and sentinel's TLS files before its container, reloads a data node live after it, and replaces a sentinel with its files command when its certificates change", () => {
    const plan = on.plan.resources;
    const resource = (name: string) => plan.find((r) => r.name === name)!;
    for (const name of ["redis-0", "redis-1", "redis-2", "sentinel-0", "sentinel-1", "sentinel-2"]) {
      expect(resource(`${name}-container`).dependsOn).toContain(`${name}-tls-files`);
    }
    for (const name of ["redis-0", "redis-1", "redis-2"])
      expect(resource(`${name}-tls-reload`).dependsOn).toEqual(expect.arrayContaining([`${name}-container`, `${name}-tls-files`, `${name}-credentials`]));
    for (const name of ["sentinel-0", "sentinel-1", "sentinel-2"]) {
      expect(plan.find((r) => r.name === `${name}-tls-reload`)).toBeUndefined();
      // A reissue replaces the files command (its trigger is the certificates' fingerprint), and with it the sentinel.
      expect(resource(`${name}-container`).options.replaceWith).toEqual([`${name}-tls-files`]);
      expect((byName(on.unmasked, `${name}-tls-files`).inputs.triggers as string[])[1]).toMatch(/^[0-9a-f]{64}$/);
    }
    // With TLS off: none of it, and the sentinels carry no such label.
    expect(off.plan.resources.filter((r) => /-tls-|^tls/.test(r.name))).toEqual([]);
    expect(off.plan.resources.find((r) => r.name === "sentinel-0-container")!.options.replaceWith).toBeUndefined();
  });

  it("never shows a private key in the plan (the unmasked view, the control, holds them)", () => {
    expect(JSON.stringify(on.unmasked)).toContain("BEGIN PRIVATE KEY");
    expect(JSON.stringify(on.plan)).not.toContain("BEGIN PRIVATE KEY");
  });

  it("gives every client its certificate: the API's env names its files, the exporters dial rediss://, the backup's redis-cli gets --tls, and Prometheus probes every endpoint through blackbox_exporter", () => {
    const api = envOf(byName(on.unmasked, "api-container"));
    expect(api).toMatchObject({ REDIS_TLS_CA_FILE: API_TLS_FILES.caCertFile, REDIS_TLS_CERT_FILE: API_TLS_FILES.certFile, REDIS_TLS_KEY_FILE: API_TLS_FILES.keyFile });
    expect(Object.keys(envOf(byName(off.unmasked, "api-container"))).filter((name) => name.startsWith("REDIS_TLS"))).toEqual([]);
    // The env exported for an API deployed elsewhere says the same.
    expect(on.plan.outputs.apiEnv).toMatchObject({ REDIS_TLS_CA_FILE: API_TLS_FILES.caCertFile, REDIS_TLS_CERT_FILE: API_TLS_FILES.certFile });
    expect(on.plan.outputs.redisTlsCaStep).toEqual({ generation: 0, step: "retire" });
    const exporter = envOf(byName(on.unmasked, "redis-0-exporter-container"));
    expect(exporter.REDIS_ADDR).toMatch(/^rediss:\/\//);
    expect(exporter.REDIS_EXPORTER_TLS_CLIENT_CERT_FILE).toBe(EXPORTER_TLS_FILES.certFile);
    expect(envOf(byName(on.unmasked, "backup-container")).VEZA_BACKUP_REDIS_CLI_TLS).toMatch(/^--tls --cacert \S+ --cert \S+ --key \S+$/);
    const prometheus = uploadContent(on.unmasked, byName(on.unmasked, "monitoring-prometheus-container"), PROMETHEUS_CONFIG_PATH);
    expect(prometheus).toContain(`job_name: ${CERTIFICATE_PROBE_JOB}`);
    for (const port of [6379, 6380, 6381, 26379, 26380, 26381]) expect(prometheus).toContain(`127.0.0.1:${port}`);
    expect(on.plan.resources.filter((r) => r.type === CONTAINER && r.name === "monitoring-blackbox-exporter-container")).toHaveLength(1);
    expect(off.plan.resources.find((r) => r.name === "monitoring-blackbox-exporter-container")).toBeUndefined();
  });
});

describe("the client certificates' ends, for the monitoring host's node_exporter", () => {
  it("writes every client certificate's end at each up into the textfile directory its node_exporter reads, in a format promtool accepts", async () => {
    const on = await synthOk("dev", TLS_ON);
    const writer = byName(on.unmasked, "monitoring-certificate-expiry-textfile");
    const text = /printf '%s' '([^']*)'/.exec(String(writer.inputs.stdin))![1];
    const samples = text.split("\n").filter((line) => line.startsWith(DECLARED_CERTIFICATE_EXPIRY_METRIC));
    expect(samples.map((line) => /certificate="([^"]+)"/.exec(line)![1]).sort()).toEqual(CLIENT_CERTIFICATE_ROLES.map((role) => `client-${role}`).sort());
    // 90 days (tls.leafValidityDays) after synth's fixed issue date.
    for (const line of samples) expect(Number(line.split(" ")[1])).toBe(Date.UTC(2026, 0, 1) / 1000 + 90 * 86_400);
    const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect({ status: check.status, problems: `${check.stdout}${check.stderr}`.trim() }).toEqual({ status: 0, problems: "" });
    const nodeExporter = byName(on.unmasked, "node-exporter-local-container");
    expect(nodeExporter.inputs.command).toContain(`--collector.textfile.directory=${NODE_EXPORTER_TEXTFILE_DIR}`);
    expect(on.plan.resources.find((r) => r.name === "node-exporter-local-container")!.dependsOn).toContain("monitoring-certificate-expiry-textfile");
  });
});

describe("the tls section's cross-field rules", () => {
  const problemsWith = (tls: Record<string, unknown>) => {
    const result = validateStackConfig({ ...readStackConfigFile("dev").raw, tls });
    return result.ok ? [] : result.problems.map((p) => `${p.key}=${JSON.stringify(p.value)}`);
  };

  it("refuses a renewal lead time at or below the 21-day expiry ticket, or not below the certificates' lifetime", () => {
    expect(problemsWith({ enabled: true, renewBeforeDays: 21 })).toEqual(["tls.renewBeforeDays=21"]);
    expect(problemsWith({ enabled: true, renewBeforeDays: 90, leafValidityDays: 90 })).toEqual(["tls.renewBeforeDays=90"]);
    expect(problemsWith({ enabled: true, renewBeforeDays: 22 })).toEqual([]);
  });

  it("refuses certificates that outlive their CA, and a CA rotation step with no previous CA", () => {
    expect(problemsWith({ enabled: true, caValidityDays: 365, leafValidityDays: 400 })).toEqual(["tls.leafValidityDays=400"]);
    expect(problemsWith({ enabled: true, caStep: "add" })).toEqual(['tls.caStep="add"']);
    expect(problemsWith({ enabled: true, caGeneration: 1, caStep: "add" })).toEqual([]);
  });
});

describe("a switch of tls.enabled on a stack that ran the other way", () => {
  const ranPlaintext = { redisAddress: "127.0.0.1:6379" };
  const ranTls = { redisAddress: "127.0.0.1:6379", redisTlsCaBundle: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n" };
  const problems = async (overrides: string[], applied?: Record<string, unknown>) => {
    const outcome = await synthFresh("dev", overrides, applied ? { appliedOutputs: applied } : {});
    return outcome.ok ? [] : outcome.problems.map((p) => `${p.key}=${JSON.stringify(p.value)}`);
  };

  it("is refused, naming tls.enabled, when the last up ran in plaintext (a rolling switch would stop at the first replica), and the reverse too", async () => {
    expect(await problems(TLS_ON, ranPlaintext)).toEqual(["tls.enabled=true"]);
    expect(await problems(TLS_OFF, ranTls)).toEqual(["tls.enabled=false"]);
  });

  it("goes ahead once tls.coldSwitch acknowledges the stopped cluster, on a stack already on TLS, and on a new stack", async () => {
    expect(await problems(['tls={"enabled":true,"coldSwitch":true}'], ranPlaintext)).toEqual([]);
    expect(await problems(TLS_ON, ranTls)).toEqual([]);
    expect(await problems(TLS_ON)).toEqual([]);
  });
});

describe("the generated CA moves one step per up, as recorded in the stack's own outputs", () => {
  const ranAt = (generation: number, step: string) => ({
    redisAddress: "127.0.0.1:6379",
    redisTlsCaBundle: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",
    redisTlsCaStep: { generation, step },
  });
  const tlsAt = (generation: number, step: string) => [`tls=${JSON.stringify({ enabled: true, caGeneration: generation, caStep: step })}`];
  const problems = async (overrides: string[], applied: Record<string, unknown>) => {
    const outcome = await synthFresh("dev", overrides, { appliedOutputs: applied });
    return outcome.ok ? [] : outcome.problems.map((p) => `${p.key}=${JSON.stringify(p.value)}: ${p.allowed}`);
  };

  it("refuses a skipped step, naming what was applied and the next step: every leaf would come from a CA the processes not yet reloaded do not trust", async () => {
    expect(await problems(tlsAt(1, "switch"), ranAt(0, "retire"))).toEqual([
      'tls.caStep="generation 1 step switch": generation 0 step retire (what this stack last applied) or generation 1 step add (next): the CA rotates one step per up (add, switch, retire)',
    ]);
    expect(await problems(tlsAt(2, "add"), ranAt(1, "add"))).toEqual([expect.stringContaining("generation 1 step switch (next)")]);
  });

  it("takes the next step, or the same one again", async () => {
    expect(await problems(tlsAt(1, "add"), ranAt(0, "retire"))).toEqual([]);
    expect(await problems(tlsAt(1, "retire"), ranAt(1, "switch"))).toEqual([]);
    expect(await problems(tlsAt(1, "switch"), ranAt(1, "switch"))).toEqual([]);
  });
});
