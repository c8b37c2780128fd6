// The API's environment and the runbook's incident preset, under mocks.
import { diffPlans } from "../../lib/planDiff";
import { effectiveToggles } from "../../components/api/env";
import { byName, CONTAINER, synthFresh, synthOk } from "../helpers/synth";
import { runScript } from "../helpers/cli";
import { validateStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";

/**
 * One synth per stack and overrides for the whole file: each takes seconds (a prod synth, over
 * ten on a loaded machine), and the tests only read the results.
 */
const synthesized = new Map<string, ReturnType<typeof synthOk>>();
function synthOnce(stack: string, overrides: string[] = []): ReturnType<typeof synthOk> {
  const key = JSON.stringify([stack, overrides]);
  if (!synthesized.has(key)) synthesized.set(key, synthOk(stack, overrides));
  return synthesized.get(key)!;
}

const envOf = (resource: { inputs: Record<string, unknown> }) => Object.fromEntries((resource.inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));

describe("ApiService and the incident preset", () => {
  it("declares the Sentinel connection and both toggles off by default, passwords only as secret files", async () => {
    const result = await synthOnce("dev");
    const api = byName(result.unmasked, "api-container");
    expect(envOf(api)).toEqual({
      // Where the stand-in (the dev default image) listens; a real backend image does not get them.
      API_BIND: "127.0.0.1",
      API_PORT: "8080",
      MAINTENANCE_MODE: "false",
      RATELIMIT_FAIL_CLOSED: "false",
      REDIS_MODE: "sentinel",
      REDIS_SENTINEL_ADDRS: "127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381",
      REDIS_MASTER_NAME: "veza-redis",
      REDIS_USERNAME: "veza-app",
      REDIS_PASSWORD_FILE: "/run/secrets/redis-password",
      REDIS_SENTINEL_USERNAME: "veza-sentinel-client",
      REDIS_SENTINEL_PASSWORD_FILE: "/run/secrets/redis-sentinel-password",
      // TLS on (the dev stack): the CA bundle and the app's certificate, files beside the passwords.
      REDIS_TLS_CA_FILE: "/run/secrets/redis-ca.crt",
      REDIS_TLS_CERT_FILE: "/run/secrets/redis-client.crt",
      REDIS_TLS_KEY_FILE: "/run/secrets/redis-client.key",
    });
    // The password files are in a volume mounted read-only, written by a command with the
    // passwords on its stdin: the container's inputs hold no secret, so a rotation never replaces it.
    expect(result.secretPaths.get(`${CONTAINER}::api-container`) ?? []).toEqual([]);
    expect(api.inputs.mounts).toEqual([{ type: "volume", source: "veza-backend-api-secrets", target: "/run/secrets", readOnly: true }]);
    const files = byName(result.unmasked, "api-secret-files");
    expect(result.secretPaths.get("command:local:Command::api-secret-files")).toEqual(["stdin"]);
    expect(files.inputs.stdin).toMatch(/^printf '%s' '[A-Za-z0-9-]+' > '\/c\/redis-password.tmp'$/m);
    const check = byName(result.unmasked, "api-redis-connectivity-check");
    expect(result.secretPaths.get("command:local:Command::api-redis-connectivity-check")).toEqual(["stdin", "triggers[2]"]);
    expect(check.inputs.stdin).toMatch(/--user veza-sentinel-client --no-auth-warning sentinel get-master-addr-by-name 'veza-redis'/);
    expect(check.inputs.stdin).toMatch(/--user veza-app --no-auth-warning ping/);
  });

  it("with api.user, runs the API as that uid:gid and hands it its password files (0600, chown by a root with CHOWN only)", async () => {
    const result = await synthOnce("dev", ["api.user=10001:10002"]);
    expect(byName(result.unmasked, "api-container").inputs.user).toBe("10001:10002");
    const files = byName(result.unmasked, "api-secret-files");
    expect(files.inputs.create).toMatch(
      /^docker run --rm --pids-limit 128 -i --network none --cap-drop ALL --user 0:0 --cap-add CHOWN --security-opt no-new-privileges -v 'veza-backend-api-secrets:\/c' /,
    );
    expect(files.inputs.stdin).toMatch(/^umask 077$/m);
    expect(files.inputs.stdin).toMatch(/^chown 10001:10002 '\/c\/redis-password.tmp'$/m);
    expect(files.inputs.stdin).toMatch(/^chown 10001:10002 '\/c\/redis-sentinel-password.tmp'$/m);
    // Without it: the image's user, world-readable files, and no capability for the writer.
    const plain = await synthOnce("dev");
    expect(byName(plain.unmasked, "api-container").inputs.user).toBeUndefined();
    expect(byName(plain.unmasked, "api-secret-files").inputs.stdin).toMatch(/^umask 022$/m);
    expect(byName(plain.unmasked, "api-secret-files").inputs.create).not.toMatch(/CHOWN/);
  });

  it("turning on incident=redis-down changes only the API container's MAINTENANCE_MODE and RATELIMIT_FAIL_CLOSED", async () => {
    const before = (await synthOnce("dev")).plan;
    const after = (await synthOnce("dev", ["incident=redis-down"])).plan;
    const diff = diffPlans(before, after);
    // Declared changes; any other entry is the engine replacing what takes a value from the replaced container.
    const declared = diff.resources.filter((r) => r.changes.length > 0);
    expect(declared.map((r) => [r.kind, r.name])).toEqual([["changed", "api-container"]]);
    for (const r of diff.resources.filter((r) => r.changes.length === 0)) expect(r.replacedBecauseOf).toContain("api-container");
    expect(declared[0].changes).toEqual([
      { path: "envs[MAINTENANCE_MODE]", before: "MAINTENANCE_MODE=false", after: "MAINTENANCE_MODE=true" },
      { path: "envs[RATELIMIT_FAIL_CLOSED]", before: "RATELIMIT_FAIL_CLOSED=false", after: "RATELIMIT_FAIL_CLOSED=true" },
    ]);
    expect(after.outputs.apiToggles).toEqual({
      maintenanceMode: { value: true, source: "incident preset redis-down" },
      rateLimitFailClosed: { value: true, source: "incident preset redis-down" },
    });
  });

  it("lets an explicit toggle win over the preset, and says so", () => {
    expect(effectiveToggles({ incident: "redis-down", maintenanceMode: false, rateLimitFailClosed: undefined })).toEqual({
      maintenanceMode: { value: false, source: "explicit" },
      rateLimitFailClosed: { value: true, source: "incident preset redis-down" },
    });
    expect(effectiveToggles({ incident: "none", maintenanceMode: true, rateLimitFailClosed: undefined }).maintenanceMode).toEqual({ value: true, source: "explicit" });
  });

  it.each([["maintenanceMode=yes"], ["rateLimitFailClosed=1"], ["incident=panic"]])("rejects %s with a clear error and declares nothing", async (override) => {
    const outcome = await synthFresh("dev", [override]);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.problems.map((p) => p.key)).toEqual([override.split("=")[0]]);
  });

  it("points the API at the new topology when a sentinel is added", async () => {
    const after = await synthOnce("dev", ["sentinel.count=5", "sentinel.quorum=3"]);
    expect(envOf(byName(after.unmasked, "api-container")).REDIS_SENTINEL_ADDRS).toBe("127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381,127.0.0.1:26382,127.0.0.1:26383");
  });

  it("passes extra variables through, and refuses ones that would shadow the declared toggles or connection", async () => {
    const result = await synthOnce("dev", ["api.extraEnv.LOG_LEVEL=debug"]);
    expect(envOf(byName(result.unmasked, "api-container")).LOG_LEVEL).toBe("debug");
    const refused = await synthFresh("dev", ["api.extraEnv.MAINTENANCE_MODE=true", "api.extraEnv.REDIS_URL=redis://elsewhere"]);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.problems.map((p) => p.key)).toEqual(["api.extraEnv.MAINTENANCE_MODE", "api.extraEnv.REDIS_URL"]);
  });

  it("uses a URL without the password when Sentinel is off", async () => {
    const result = await synthOnce("dev", ["sentinel.enabled=false"]);
    const env = envOf(byName(result.unmasked, "api-container"));
    expect(env.REDIS_MODE).toBe("standalone");
    expect(env.REDIS_URL).toBe("rediss://veza-app@127.0.0.1:6379/0");
    expect(result.unmasked.filter((r) => r.name.startsWith("sentinel-"))).toEqual([]);
  });

  it("in external mode declares no container but still exports the env and checks connectivity", async () => {
    const result = await synthOnce("dev", ["api.mode=external", "api.metrics.address=api.internal:8080"]);
    expect(result.unmasked.find((r) => r.name === "api-container")).toBeUndefined();
    expect(result.plan.outputs.apiEnv).toMatchObject({ MAINTENANCE_MODE: "false", REDIS_MASTER_NAME: "veza-redis" });
    expect(byName(result.unmasked, "api-redis-connectivity-check").inputs.create).toMatch(/docker run --rm --pids-limit 128 -i --network host/);
  });

  it("npm run plan-diff for the preset prints exactly the API's two variables and no secret", () => {
    const result = runScript("plan-diff", ["--stack", "dev", "--config", "incident=redis-down"]);
    expect(result.status).toBe(0);
    const resourceLines = result.stdout.split("\n").filter((l) => /^(\+-|[~+-]) /.test(l));
    expect(resourceLines[0]).toBe("+- docker:index/container:Container api-container (replace, delete before replace; forced by envs)");
    for (const line of resourceLines.slice(1)) expect(line).toMatch(/takes a value from api-container, which is replaced/);
    const changed = result.stdout.split("\n").filter((l) => /^ {4}envs/.test(l));
    expect(changed).toEqual([
      "    envs[MAINTENANCE_MODE]: MAINTENANCE_MODE=false -> MAINTENANCE_MODE=true",
      "    envs[RATELIMIT_FAIL_CLOSED]: RATELIMIT_FAIL_CLOSED=false -> RATELIMIT_FAIL_CLOSED=true",
    ]);
    expect(result.stdout).toMatch(/^\d+ to replace, 0 to update in place, 0 added, 0 removed/m);
    expect(result.stdout).not.toMatch(/synthpw|REDISCLI_AUTH=\w/);
  });

  it("container mode: the preset's replacement gives the API its stop grace (SIGTERM, 30 s for in-flight requests, then SIGKILL)", async () => {
    const api = byName((await synthOnce("dev")).unmasked, "api-container");
    expect(api.inputs).toMatchObject({ destroyGraceSeconds: 30, stopTimeout: 30 });
    expect(byName((await synthOnce("dev", ["api.stopGraceSeconds=90"])).unmasked, "api-container").inputs).toMatchObject({ destroyGraceSeconds: 90, stopTimeout: 90 });
  });

  it("external mode: the stack writes the toggles file on the API host, atomically, then restarts the API with its grace", async () => {
    const result = await synthOnce("prod");
    const apply = byName(result.unmasked, "api-incident-toggles");
    expect(apply.type).toBe("command:remote:Command");
    expect(apply.inputs.create).toBe(
      "docker run --rm --pids-limit 128 -i --network none --cap-drop ALL -v '/etc/veza:/data' --entrypoint sh 'veza/redis:7.0.15-1-deb12u10' -s && docker restart --time 30 'veza-backend-api'",
    );
    expect(apply.inputs.stdin).toContain("\nMAINTENANCE_MODE=false\nRATELIMIT_FAIL_CLOSED=false\nVEZA_TOGGLES\nmv -f \"$tmp\" '/data/backend-api-toggles.env'\n");
    // Waits for nothing of Redis: it is applied while Redis is down.
    expect(apply.dependsOn.filter((d: string) => /^(redis|sentinel)-\d/.test(d))).toEqual([]);
    const custom = byName(
      (await synthOnce("prod", ["api.restartCommand=docker compose -f /srv/veza/compose.yml up -d backend-api", "api.togglesFile=/srv/veza/toggles.env"])).unmasked,
      "api-incident-toggles",
    );
    expect(custom.inputs.create).toMatch(/-v '\/srv\/veza:\/data' .* -s && docker compose -f \/srv\/veza\/compose.yml up -d backend-api$/);
  });

  it("external mode: entering and leaving the incident change the same resource, the toggles command, and nothing else", async () => {
    const calm = (await synthOnce("prod")).plan;
    const incident = (await synthOnce("prod", ["incident=redis-down"])).plan;
    for (const [before, after, from, to] of [
      [calm, incident, "false", "true"],
      [incident, calm, "true", "false"],
    ] as const) {
      const declared = diffPlans(before, after).resources.filter((r) => r.changes.length > 0);
      expect(declared.map((r) => [r.kind, r.name])).toEqual([["changed", "api-incident-toggles"]]);
      expect(declared[0].changes.map((c) => c.path)).toEqual(["stdin", "triggers"]);
      expect(JSON.stringify(declared[0].changes)).toContain(`MAINTENANCE_MODE=${from}`);
      expect(JSON.stringify(declared[0].changes)).toContain(`RATELIMIT_FAIL_CLOSED=${to}`);
    }
  });

  it("refuses a toggles file in / or with a dot component, and a restart command of more than one line, naming the key", async () => {
    for (const override of ["api.togglesFile=/toggles.env", "api.togglesFile=/etc/../root/x"]) {
      const outcome = await synthFresh("prod", [override]);
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.problems.map((p) => p.key)).toEqual(["api.togglesFile"]);
    }
    // A YAML block scalar in the stack file can hold a line break (a --config value cannot: YAML folds it).
    const raw = readStackConfigFile("prod").raw as { api: Record<string, unknown> };
    const result = validateStackConfig({ ...raw, api: { ...raw.api, restartCommand: "docker restart veza-backend-api\nrm -rf /" } });
    expect(result.ok ? [] : result.problems.map((p) => p.key)).toContain("api.restartCommand");
  });

  it("npm run plan-diff --stack prod for the preset shows the API's toggles as a resource change", () => {
    const result = runScript("plan-diff", ["--stack", "prod", "--config", "incident=redis-down"]);
    expect(result.status).toBe(0);
    const resourceLines = result.stdout.split("\n").filter((l) => /^(\+-|[~+-]) /.test(l));
    expect(resourceLines).toEqual(["+- command:remote:Command api-incident-toggles (replace; forced by triggers (replaceOnChanges triggers[*]))"]);
    expect(result.stdout).toMatch(/^1 to replace, 0 to update in place, 0 added, 0 removed/m);
  });

  it("dev deploys the stand-in API, built on the host from images/api-standin, probed by python3 (its image has no wget); a real image gets neither", async () => {
    const api = byName((await synthOnce("dev")).unmasked, "api-container");
    expect((api.inputs.healthcheck as { tests: string[] }).tests).toEqual([
      "CMD",
      "python3",
      "-c",
      "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4)",
      "http://127.0.0.1:8080/metrics",
    ]);
    const real = byName((await synthOnce("dev", ["api.image=registry.veza.fr/veza/backend-api:2026.11.3"])).unmasked, "api-container");
    expect((real.inputs.healthcheck as { tests: string[] }).tests).toEqual(["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/metrics"]);
    expect(Object.keys(envOf(real))).not.toContain("API_PORT");
  });
});
