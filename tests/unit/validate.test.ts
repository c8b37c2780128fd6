import fc from "fast-check";
import { validateStackConfig, requireValidStackConfig, StackConfigError } from "../../components/validation/validate";
import type { RawObject } from "../../components/config/reader";
import { computeSizing } from "../../components/redis/sizing";
import { stackTopology } from "../../components/topology/ports";
import { readRawConfig } from "../../components/validation/load";
import { checkConfigOverride, UsageError } from "../../scripts/lib/args";
import { applyOverrides, readStackConfigFile } from "../../lib/stackFiles";

// Each host its own daemon: hosts that share one are one machine (refused below).
const host = (name: string, address = "127.0.0.1") => ({ name, dockerHost: name === "local" ? "unix:///var/run/docker.sock" : `unix:///run/docker-${name}.sock`, address });
const valid = (): RawObject => ({ environment: "dev", hosts: [host("local")], redis: { memoryLimitMiB: 512 } });

function problemKeys(raw: RawObject): string[] {
  const result = validateStackConfig(raw);
  return result.ok ? [] : result.problems.map((p) => p.key);
}

function problemFor(raw: RawObject, key: string) {
  const result = validateStackConfig(raw);
  if (result.ok) throw new Error("expected problems");
  const problem = result.problems.find((p) => p.key === key);
  if (!problem) throw new Error(`no problem for ${key}; got ${result.problems.map((p) => p.key).join(", ")}`);
  return problem;
}

describe("stack config validation", () => {
  it("accepts the minimal config and fills the documented defaults", () => {
    const config = requireValidStackConfig(valid());
    expect(config.redis.evictionPolicy).toBe("allkeys-lru");
    expect(config.redis.forkHeadroomPercent).toBe(75);
    expect(config.sentinel).toMatchObject({ enabled: true, replicas: 2, count: 3, quorum: 2, downAfterMilliseconds: 2000, failoverTimeoutMilliseconds: 10000 });
    expect(config.hosts[0].bindAddress).toBe("127.0.0.1");
  });

  it.each([[0], [-512], ["lots"], [12.5]])("rejects a memory limit of %p, naming the key, the value and the range", (bad) => {
    const problem = problemFor({ ...valid(), redis: { memoryLimitMiB: bad } }, "redis.memoryLimitMiB");
    expect(problem.value).toBe(bad);
    expect(problem.allowed).toMatch(/integer from 64 to/);
  });

  it("rejects a maxmemory that leaves less than the fork headroom", () => {
    const problem = problemFor({ ...valid(), redis: { memoryLimitMiB: 512, forkHeadroomPercent: 75, maxmemoryMiB: 400 } }, "redis.maxmemoryMiB");
    expect(problem.allowed).toMatch(/at most 128 MiB/);
  });

  it("rejects a headroom below the sizing model's full copy of a fragmented dataset", () => {
    expect(problemFor({ ...valid(), redis: { forkHeadroomPercent: 25 } }, "redis.forkHeadroomPercent").allowed).toMatch(/at least 70/);
    // 60% (the earlier default) let fork children be OOM-killed on a 2-core machine.
    expect(problemFor({ ...valid(), redis: { forkHeadroomPercent: 60 } }, "redis.forkHeadroomPercent").value).toBe(60);
    // Above the flat floor but below the model's minimum for a small limit: the baseline weighs more there.
    const small = problemFor({ ...valid(), redis: { memoryLimitMiB: 256, forkHeadroomPercent: 72 } }, "redis.forkHeadroomPercent");
    expect(small.allowed).toMatch(/^at least 73 for a 256 MiB limit: a fork can copy the whole dataset at 1.5x fragmentation/);
    expect(problemKeys({ ...valid(), redis: { memoryLimitMiB: 256, forkHeadroomPercent: 73 } })).not.toContain("redis.forkHeadroomPercent");
  });

  it("rejects noeviction and unknown eviction policies", () => {
    expect(problemFor({ ...valid(), redis: { evictionPolicy: "noeviction" } }, "redis.evictionPolicy").allowed).toMatch(/allkeys-lru.*noeviction makes a full Redis refuse writes|evicting policy/);
    expect(problemKeys({ ...valid(), redis: { evictionPolicy: "lru-please" } })).toContain("redis.evictionPolicy");
    expect(problemKeys({ ...valid(), redis: { evictionPolicy: "allkeys-random", allowedEvictionPolicies: ["allkeys-lru"] } })).toContain("redis.evictionPolicy");
  });

  it("rejects an AOF rewrite min size larger than the volume, and a volume under the sizing minimum", () => {
    const keys = problemKeys({ ...valid(), redis: { aofRewriteMinSizeMiB: 2048, dataVolumeMiB: 1024 } });
    expect(keys).toEqual(expect.arrayContaining(["redis.aofRewriteMinSizeMiB", "redis.dataVolumeMiB"]));
  });

  it("rejects a host without an address and duplicate host names", () => {
    const keys = problemKeys({ ...valid(), hosts: [{ name: "a", dockerHost: "unix:///var/run/docker.sock" }, host("a", "127.0.0.2")] });
    expect(keys).toEqual(expect.arrayContaining(["hosts[0].address", "hosts[1].name"]));
  });

  it("requires a bind IP when the address is a DNS name, and refuses all-interfaces binds", () => {
    expect(problemKeys({ ...valid(), hosts: [{ ...host("a"), address: "redis.internal" }] })).toContain("hosts[0].bindAddress");
    expect(problemKeys({ ...valid(), hosts: [{ ...host("a"), bindAddress: "0.0.0.0" }] })).toContain("hosts[0].bindAddress");
  });

  it("rejects ports outside 1..65535 and ports used twice on one host", () => {
    expect(problemKeys({ ...valid(), redis: { port: 70000 } })).toContain("redis.port");
    // Sentinel ports 6380.. collide with replicas at 6380 and 6381 on the single host.
    const clash = problemFor({ ...valid(), sentinel: { port: 6380 } }, "ports.sentinel-0");
    expect(clash.allowed).toMatch(/redis-1 listens on 6380/);
    expect(problemKeys({ ...valid(), redis: { port: 65535 } })).toContain("ports.redis-1");
  });

  it.each(["redis", "redis:latest", "registry.example:5000/redis", "redis:"])("rejects the unpinned image %p", (image) => {
    expect(problemFor({ ...valid(), redis: { image } }, "redis.image").allowed).toMatch(/pinned/);
  });

  it("accepts images pinned by tag or digest", () => {
    expect(problemKeys({ ...valid(), redis: { image: "registry.example:5000/redis:7.0.15" } })).toEqual([]);
    expect(problemKeys({ ...valid(), redis: { image: `redis@sha256:${"a".repeat(64)}` } })).toEqual([]);
  });

  it("requires each ssh:// host's public key (strict host-key checking) and refuses one on a local socket", () => {
    const sshHost = { name: "a", dockerHost: "ssh://deploy@10.0.0.1", address: "10.0.0.1" };
    const missing = problemFor({ ...valid(), hosts: [sshHost] }, "hosts[0].sshHostKey");
    expect(missing.allowed).toMatch(/required for ssh:\/\/ hosts/);
    expect(problemFor({ ...valid(), hosts: [{ ...sshHost, sshHostKey: "ssh-ed25519 not base64!" }] }, "hosts[0].sshHostKey").value).toBe("ssh-ed25519 not base64!");
    expect(problemKeys({ ...valid(), hosts: [{ ...sshHost, sshHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVASznxN7zUMGGt3onAoz7nzW0tNXTPQ94Xy/y3sf7F" }] })).toEqual([]);
    expect(problemFor({ ...valid(), hosts: [{ ...host("local"), sshHostKey: "ssh-ed25519 AAAA" }] }, "hosts[0].sshHostKey").allowed).toMatch(/only ssh:\/\/ Docker hosts/);
  });

  it("reports every problem at once", () => {
    const result = validateStackConfig({ hosts: [host("a"), host("a")], redis: { memoryLimitMiB: 0, evictionPolicy: "noeviction", image: "redis:latest" }, maintenanceMode: "yes" });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.problems.map((p) => p.key).sort()).toEqual([
        "hosts[1].address",
        "hosts[1].dockerHost",
        "hosts[1].name",
        "maintenanceMode",
        "redis.evictionPolicy",
        "redis.image",
        "redis.memoryLimitMiB",
      ]);
    expect(() => requireValidStackConfig({ hosts: [] })).toThrow(StackConfigError);
  });

  const withMonitoringHost = (): RawObject => ({ ...valid(), hosts: [host("local"), { ...host("mon", "127.0.0.2"), role: "monitoring" }], monitoring: { host: "mon" } });

  it("requires the Slack, PagerDuty and heartbeat secrets outside dev, so that pages reach someone and a dead alerting is noticed", () => {
    expect(problemKeys({ ...withMonitoringHost(), environment: "production" })).toEqual(["slackWebhookUrl", "pagerdutyRoutingKey", "heartbeatWebhookUrl"]);
    expect(
      problemKeys({ ...withMonitoringHost(), environment: "production", slackWebhookUrl: "https://hooks.example/x", pagerdutyRoutingKey: "k", heartbeatWebhookUrl: "https://hc.example/p" }),
    ).toEqual([]);
    expect(problemKeys({ ...valid(), environment: "production", monitoring: { enabled: false } })).toEqual([]);
  });

  it("refuses a webhook URL with a newline or a space (it would write YAML of its own into alertmanager.yml), without echoing the secret", () => {
    const secrets = { slackWebhookUrl: "https://hooks.example/x", pagerdutyRoutingKey: "k", heartbeatWebhookUrl: "https://hc.example/p" };
    for (const [key, bad] of [
      ["heartbeatWebhookUrl", "https://hc.example/p\n    send_resolved: true"],
      ["heartbeatWebhookUrl", "https://hc.example/p x"],
      ["slackWebhookUrl", "hooks.example/x"],
    ] as const) {
      const problem = problemFor({ ...withMonitoringHost(), environment: "production", ...secrets, [key]: bad }, key);
      expect(problem.value).toBeUndefined();
      expect(problem.allowed).toMatch(/an http\(s\) URL without whitespace or control characters/);
      // dev checks the format too, when the secret is set.
      expect(problemKeys({ ...valid(), [key]: bad })).toEqual([key]);
    }
    expect(problemKeys({ ...valid(), heartbeatWebhookUrl: "https://hc.example/ping/abc?x=1&y=a|b/c" })).toEqual([]);
  });

  it("outside dev, refuses monitoring on a host that holds a data node or a sentinel, naming what it holds", () => {
    const problem = problemFor({ ...valid(), environment: "staging", slackWebhookUrl: "x", pagerdutyRoutingKey: "k", heartbeatWebhookUrl: "h" }, "monitoring.host");
    expect(problem.value).toBe("local");
    expect(problem.allowed).toMatch(/holds redis-0, redis-1, redis-2, sentinel-0.*role monitoring/);
    expect(problemKeys({ ...valid(), environment: "dev" })).toEqual([]);
  });

  it("places no Redis process on a host of role monitoring, and refuses an unknown role or a stack with no Redis host", () => {
    const config = requireValidStackConfig(withMonitoringHost());
    expect(stackTopology(config).dataNodes.map((n) => n.host.name)).toEqual(["local", "local", "local"]);
    expect(stackTopology(config).sentinels.map((n) => n.host.name)).toEqual(["local", "local", "local"]);
    expect(problemFor({ ...valid(), hosts: [{ ...host("a"), role: "cache" }] }, "hosts[0].role").allowed).toMatch(/one of redis, monitoring/);
    expect(problemKeys({ ...valid(), hosts: [{ ...host("a"), role: "monitoring" }] })).toContain("hosts");
  });

  it("scrapes the API's metrics by default in container mode, and requires the address in external mode", () => {
    expect(requireValidStackConfig(valid()).api.metrics).toEqual({ enabled: true, path: "/metrics", port: 8080 });
    expect(requireValidStackConfig({ ...valid(), api: { port: 9000 } }).api.metrics.port).toBe(9000);
    const missing = problemFor({ ...valid(), api: { mode: "external" } }, "api.metrics.address");
    expect(missing.allowed).toMatch(/required in external mode.*or api.metrics.enabled false/);
    expect(requireValidStackConfig({ ...valid(), api: { mode: "external", metrics: { address: "api.internal:8080" } } }).api.metrics.address).toBe("api.internal:8080");
    expect(problemKeys({ ...valid(), api: { mode: "external", metrics: { enabled: false } } })).toEqual([]);
    expect(problemFor({ ...valid(), api: { metrics: { address: "api:1" } } }, "api.metrics.address").allowed).toMatch(/only with api.mode external/);
    expect(problemFor({ ...valid(), api: { metrics: { path: "metrics" } } }, "api.metrics.path").value).toBe("metrics");
    expect(problemFor({ ...valid(), api: { metrics: { port: 70000 } } }, "api.metrics.port").allowed).toMatch(/integer from 1024 to 65535/);
    expect(problemFor({ ...valid(), api: { metrics: "on" } }, "api.metrics").allowed).toMatch(/object/);
    // A separate metrics port is a port the API host listens on.
    expect(problemFor({ ...valid(), api: { metrics: { port: 9090 } } }, "ports.api-metrics").allowed).toMatch(/prometheus listens on 9090/);
  });

  it("names unknown keys instead of ignoring a typo", () => {
    expect(problemFor({ ...valid(), maintenanceMod: true }, "maintenanceMod").allowed).toMatch(/known field/);
    expect(problemKeys({ ...valid(), redis: { memoryLimitMB: 512 } })).toContain("redis.memoryLimitMB");
  });

  it("reads the strings `pulumi config set` stores as numbers and booleans, and nothing else", () => {
    const config = requireValidStackConfig({ ...valid(), redis: { memoryLimitMiB: " 1024 ", rdbSnapshots: "true" }, sentinel: { count: "5", quorum: "3" }, maintenanceMode: "false" });
    expect(config.redis).toMatchObject({ memoryLimitMiB: 1024, rdbSnapshots: true });
    expect(config.sentinel).toMatchObject({ count: 5, quorum: 3 });
    expect(config.maintenanceMode).toBe(false);
    expect(problemFor({ ...valid(), redis: { memoryLimitMiB: "" } }, "redis.memoryLimitMiB").value).toBe("");
    expect(problemFor({ ...valid(), redis: { rdbSnapshots: "yes" } }, "redis.rdbSnapshots").allowed).toBe("a boolean: true or false");
  });

  it("lenient declares an unknown incident preset or API mode with the fallback: those choices select code paths", () => {
    const result = validateStackConfig({ ...readStackConfigFile("dev").raw, incident: "panic" }, { lenient: true });
    expect(!result.ok && result.lenientConfig?.incident).toBe("none");
    expect(!result.ok && result.problems.map((p) => p.key)).toEqual(["incident"]);
  });

  it("lenient (the policy pack's bypass) keeps a bad value of the right type; strict carries the fallback", () => {
    const raw = { ...valid(), redis: { forkHeadroomPercent: "25", evictionPolicy: "noeviction", image: "redis:latest" } };
    const lenient = validateStackConfig(raw, { lenient: true });
    expect(lenient.ok).toBe(false);
    if (lenient.ok) return;
    expect(lenient.lenientConfig?.redis).toMatchObject({ forkHeadroomPercent: 25, evictionPolicy: "noeviction", image: "redis:latest" });
    const strict = validateStackConfig(raw);
    expect(strict.ok).toBe(false);
    if (strict.ok) return;
    expect(strict.lenientConfig).toBeUndefined();
    expect(strict.problems.map((p) => p.key)).toEqual(lenient.problems.map((p) => p.key));
  });

  it("names the backup key, the value and what is allowed: an interval out of range, an unknown host, a backup with monitoring off", () => {
    expect(problemFor({ ...valid(), backup: { intervalMinutes: 2 } }, "backup.intervalMinutes").allowed).toMatch(/5/);
    expect(problemFor({ ...valid(), backup: { host: "nowhere" } }, "backup.host")).toMatchObject({ value: "nowhere" });
    expect(problemFor({ ...valid(), monitoring: { enabled: false }, backup: { enabled: true } }, "backup.enabled").allowed).toContain("monitoring.enabled is false");
    expect(problemFor({ ...valid(), backup: { keepHourly: 0, keepDaily: 0 } }, "backup.keepDaily").allowed).toContain("grows without bound");
    // Unset, it follows monitoring: turning monitoring off does not also require turning backups off.
    expect(problemKeys({ ...valid(), monitoring: { enabled: false } })).toEqual([]);
  });

  it("lists the known keys, from the schema, when a key is unknown", () => {
    expect(problemFor({ ...valid(), redis: { memoryLimitMB: 512 } }, "redis.memoryLimitMB").allowed).toBe(
      "a known field (image, memoryLimitMiB, forkHeadroomPercent, maxmemoryMiB, evictionPolicy, allowedEvictionPolicies, aofRewritePercentage, aofRewriteMinSizeMiB, dataVolumeMiB, volumeHeadroomFactor, rdbSnapshots, port, tcpBacklog, maxClients, minReplicasToWrite, minReplicasMaxLagSeconds)",
    );
    expect(problemFor({ ...valid(), sentinels: {} }, "sentinels").allowed).toMatch(
      /^a known field \(environment, hosts, redis, sentinel, api, monitoring, backup, incident, maintenanceMode, rateLimitFailClosed, credentials, tls, firewall, slackWebhookUrl, pagerdutyRoutingKey, heartbeatWebhookUrl, sshPrivateKey\)$/,
    );
  });

  describe("Sentinel rules", () => {
    it.each([[2], [4], [1]])("rejects %p sentinels", (count) => {
      expect(problemKeys({ ...valid(), sentinel: { count, quorum: 1 } })).toContain("sentinel.count");
    });

    it("rejects a quorum below a majority or above the count", () => {
      expect(problemKeys({ ...valid(), sentinel: { count: 5, quorum: 2 } })).toContain("sentinel.quorum");
      expect(problemKeys({ ...valid(), sentinel: { count: 3, quorum: 4 } })).toContain("sentinel.quorum");
    });

    it("rejects no replica, a down-after under a second and a failover timeout not above it", () => {
      const keys = problemKeys({ ...valid(), sentinel: { replicas: 0, downAfterMilliseconds: 500, failoverTimeoutMilliseconds: 400 } });
      expect(keys).toEqual(expect.arrayContaining(["sentinel.replicas", "sentinel.downAfterMilliseconds", "sentinel.failoverTimeoutMilliseconds"]));
    });

    it("rejects two hosts: a replica would share the master's host and one host would hold 2 of 3 sentinels", () => {
      const result = validateStackConfig({ ...valid(), hosts: [host("a", "10.0.0.1"), host("b", "10.0.0.2")] });
      expect(result.ok).toBe(false);
      if (!result.ok)
        expect(result.problems.filter((p) => p.key === "hosts").map((p) => p.allowed)).toEqual([expect.stringMatching(/at least 3 hosts/), expect.stringMatching(/none holds a majority/)]);
    });

    it("ignores Sentinel rules when Sentinel is off", () => {
      expect(problemKeys({ ...valid(), sentinel: { enabled: false, count: 2 } })).toEqual([]);
    });
  });

  describe("properties", () => {
    const invalidations: Array<[string, fc.Arbitrary<(raw: RawObject) => void>]> = [
      [
        "redis.memoryLimitMiB",
        fc
          .oneof(
            fc.integer({ max: 63 }),
            fc.string().filter((s) => !/^\s*\d+\s*$/.test(s)),
            fc.double({ noInteger: true }),
          )
          .map((v) => (raw) => {
            (raw.redis as RawObject).memoryLimitMiB = v;
          }),
      ],
      [
        "redis.evictionPolicy",
        fc
          .string()
          .filter((s) => !["allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu"].includes(s))
          .map((v) => (raw) => {
            (raw.redis as RawObject).evictionPolicy = v;
          }),
      ],
      [
        "redis.port",
        fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 65536 })).map((v) => (raw) => {
          (raw.redis as RawObject).port = v;
        }),
      ],
      [
        "redis.image",
        fc.oneof(fc.constantFrom("redis", "redis:latest", "a/b:latest"), fc.stringMatching(/^[a-z]{1,8}$/)).map((v) => (raw) => {
          (raw.redis as RawObject).image = v;
        }),
      ],
      [
        "sentinel.count",
        fc
          .integer({ min: 1, max: 20 })
          .filter((n) => n < 3 || n % 2 === 0)
          .map((v) => (raw) => {
            raw.sentinel = { count: v, quorum: Math.max(1, Math.floor(v / 2) + 1) };
          }),
      ],
      [
        "maintenanceMode",
        fc
          .anything()
          .filter((v) => v !== undefined && v !== true && v !== false && v !== "true" && v !== "false")
          .map((v) => (raw) => {
            raw.maintenanceMode = v;
          }),
      ],
      [
        "hosts[0].address",
        fc.constantFrom(undefined, "", "not an address!").map((v) => (raw) => {
          (raw.hosts as RawObject[])[0].address = v;
        }),
      ],
    ];

    it("always reports a random invalid value under its own key (or a path inside it), never throwing", () => {
      const mutation = fc.constantFrom(...invalidations).chain(([key, arbitrary]) => arbitrary.map((mutate) => ({ key, mutate })));
      fc.assert(
        fc.property(mutation, ({ key, mutate }) => {
          const raw: RawObject = { ...valid(), redis: { memoryLimitMiB: 512 }, hosts: [host("local")] };
          mutate(raw);
          // An object holding a `__proto__` or `prototype` key is reported at that key, e.g.
          // maintenanceMode.prototype (found by the seed -1958078991): still the user's key.
          return problemKeys(raw).some((reported) => reported === key || reported.startsWith(`${key}.`) || reported.startsWith(`${key}[`));
        }),
        { numRuns: 300 },
      );
    });

    it("names the path of a prototype key inside a value, and refuses the value", () => {
      const raw: RawObject = { ...valid(), maintenanceMode: JSON.parse('{"prototype": 1, "__proto__": "x"}') };
      expect(problemKeys(raw)).toEqual(expect.arrayContaining([expect.stringMatching(/^maintenanceMode\.(prototype|__proto__)$/)]));
      expect(validateStackConfig(raw).ok).toBe(false);
    });

    it("never throws on arbitrary input: either a config or a list of problems", () => {
      fc.assert(
        fc.property(fc.dictionary(fc.constantFrom("environment", "hosts", "redis", "sentinel", "api", "monitoring", "incident", "x"), fc.anything()), (raw) => {
          const result = validateStackConfig(raw);
          return result.ok || (result.problems.length > 0 && result.problems.every((p) => typeof p.key === "string" && p.key.length > 0 && typeof p.allowed === "string"));
        }),
        { numRuns: 500 },
      );
    });

    it("accepts a maxmemory exactly when it fits under the limit minus the fork headroom", () => {
      fc.assert(
        fc.property(fc.integer({ min: 128, max: 65536 }), fc.integer({ min: 75, max: 90 }), fc.integer({ min: 16, max: 65536 }), (memoryLimitMiB, forkHeadroomPercent, maxmemoryMiB) => {
          const result = validateStackConfig({ ...valid(), redis: { memoryLimitMiB, forkHeadroomPercent, maxmemoryMiB } });
          const fits = maxmemoryMiB * 100 <= memoryLimitMiB * (100 - forkHeadroomPercent);
          if (result.ok) {
            const sizing = computeSizing(result.config.redis);
            return fits && sizing.maxmemoryBytes + sizing.forkHeadroomBytes <= sizing.memoryLimitBytes;
          }
          return !fits && result.problems.some((p) => p.key === "redis.maxmemoryMiB");
        }),
        { numRuns: 500 },
      );
    });
  });
});

// Input that cannot inject. Each row: the key, a bad value, what the problem says.
describe("input that cannot inject", () => {
  const digest = `sha256:${"0123456789abcdef".repeat(4)}`;
  const threeHosts = (addresses: string[], dockerHosts?: string[]) =>
    addresses.map((address, i) => ({
      name: `h${i}`,
      dockerHost: dockerHosts?.[i] ?? `ssh://ops@10.1.0.${i + 1}`,
      address,
      sshHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVASznxN7zUMGGt3onAoz7nzW0tNXTPQ94Xy/y3sf7F",
    }));
  const set = (path: string, value: unknown) => (raw: RawObject) => {
    const [section, field] = path.split(".");
    raw[section] = { ...((raw[section] as RawObject) ?? {}), [field]: value };
  };

  it.each<[string, unknown, (raw: RawObject) => void, RegExp]>([
    ["redis.image", "redis:7.0.15;id", set("redis.image", "redis:7.0.15;id"), /not an image reference: \[registry\[:port\]\/\]lowercase\/path\[:tag\]\[@sha256:<64 hex>\]/],
    ["redis.image", "redis:7.0.15 && id", set("redis.image", "redis:7.0.15 && id"), /not an image reference/],
    ["redis.image", "redis:$(id)", set("redis.image", "redis:$(id)"), /not an image reference/],
    ["redis.image", "redis:`id`", set("redis.image", "redis:`id`"), /not an image reference/],
    ["redis.image", "redis:7\nid", set("redis.image", "redis:7\nid"), /not an image reference/],
    ["redis.image", "Redis:7.0.15", set("redis.image", "Redis:7.0.15"), /not an image reference/],
    ["redis.image", `redis@${digest};id`, set("redis.image", `redis@${digest};id`), /not an image reference/],
    ["redis.image", "redis@sha256:abc", set("redis.image", "redis@sha256:abc"), /not an image reference/],
    ["redis.image", `redis:${"x".repeat(129)}`, set("redis.image", `redis:${"x".repeat(129)}`), /not an image reference/],
    ["api.image", "veza-backend-api:dev'", set("api.image", "veza-backend-api:dev'"), /not an image reference/],
    ["monitoring.prometheusImage", "prom/prometheus:v2.53.2|sh", set("monitoring.prometheusImage", "prom/prometheus:v2.53.2|sh"), /not an image reference/],
    [
      "hosts[2].address",
      "10.1.0.1",
      (raw) => {
        raw.hosts = threeHosts(["10.1.0.1", "10.1.0.2", "10.1.0.1"]);
      },
      /an address no other host uses \(hosts\[0\] "h0" has it\)/,
    ],
    [
      "hosts[1].address",
      "REDIS-A.internal",
      (raw) => {
        raw.hosts = threeHosts(["redis-a.internal", "REDIS-A.internal", "c"]).map((h, i) => ({ ...h, bindAddress: `10.1.0.${i + 1}` }));
      },
      /an address no other host uses/,
    ],
    [
      "hosts[1].dockerHost",
      "ssh://root@10.1.0.1:22",
      (raw) => {
        raw.hosts = threeHosts(["10.1.0.1", "10.1.0.2", "10.1.0.3"], ["ssh://ops@10.1.0.1", "ssh://root@10.1.0.1:22", "ssh://ops@10.1.0.3"]);
      },
      /a Docker host no other host uses \(hosts\[0\] "h0" reaches the same daemon\)/,
    ],
    [
      "hosts[1].dockerHost",
      "unix:///var/run/docker.sock",
      (raw) => {
        raw.hosts = [host("local"), { ...host("b", "127.0.0.2"), dockerHost: "unix:///var/run/docker.sock" }];
      },
      /a Docker host no other host uses/,
    ],
    [
      "hosts[0].address",
      "::1",
      (raw) => {
        raw.hosts = [host("local", "::1")];
      },
      /an IPv4 address or a DNS name; IPv6 is not supported \(every host:port/,
    ],
    [
      "hosts[0].address",
      "fe80::1",
      (raw) => {
        raw.hosts = [{ ...host("local", "fe80::1"), bindAddress: "127.0.0.1" }];
      },
      /IPv6 is not supported/,
    ],
    [
      "hosts[0].bindAddress",
      "::1",
      (raw) => {
        raw.hosts = [{ ...host("local", "redis.internal"), bindAddress: "::1" }];
      },
      /an IPv4 address on this host; IPv6 is not supported/,
    ],
    [
      "hosts[0].address",
      "10.0.0.1:6379",
      (raw) => {
        raw.hosts = [host("local", "10.0.0.1:6379")];
      },
      /an IPv4 address or a DNS name \(.*no port\)/,
    ],
    [
      "hosts[0].dockerHost",
      "ssh://deploy@10.0.0.1;id",
      (raw) => {
        raw.hosts = [{ ...host("local"), dockerHost: "ssh://deploy@10.0.0.1;id" }];
      },
      /a Docker host URI: unix:\/\/\/<socket path>/,
    ],
    [
      "hosts[0].dockerHost",
      "ssh://de$(id)@10.0.0.1",
      (raw) => {
        raw.hosts = [{ ...host("local"), dockerHost: "ssh://de$(id)@10.0.0.1" }];
      },
      /a Docker host URI/,
    ],
    [
      "hosts[0].dockerHost",
      "ssh://-oProxyCommand=id@10.0.0.1",
      (raw) => {
        raw.hosts = [{ ...host("local"), dockerHost: "ssh://-oProxyCommand=id@10.0.0.1" }];
      },
      /a Docker host URI/,
    ],
    [
      "hosts[0].dockerHost",
      "ssh://deploy@10.0.0.1:99999",
      (raw) => {
        raw.hosts = [{ ...host("local"), dockerHost: "ssh://deploy@10.0.0.1:99999" }];
      },
      /port 1-65535/,
    ],
    [
      "hosts[0].dockerHost",
      "unix:///run/docker.sock`id`",
      (raw) => {
        raw.hosts = [{ ...host("local"), dockerHost: "unix:///run/docker.sock`id`" }];
      },
      /a Docker host URI/,
    ],
    ["monitoring.dataMountpoint", "/data{{ $labels.instance }}", set("monitoring.dataMountpoint", "/data{{ $labels.instance }}"), /an absolute mountpoint .*letters, digits, \. _ - and \//],
    ["monitoring.dataMountpoint", '/data"}', set("monitoring.dataMountpoint", '/data"}'), /an absolute mountpoint/],
    ["redis.port", 80, set("redis.port", 80), /an integer from 1024 to 65535 \(unprivileged/],
    ["sentinel.port", 1023, set("sentinel.port", 1023), /from 1024 to 65535/],
    ["api.port", 443, set("api.port", 443), /from 1024 to 65535/],
    ["api.user", "0:0", set("api.user", "0:0"), /a numeric uid:gid such as 10001:10001, neither 0/],
    ["api.user", "10001:0", set("api.user", "10001:0"), /neither 0 \(the API need not run as root or in root's group\)/],
    ["api.user", "app", set("api.user", "app"), /a numeric uid:gid/],
    [
      "api.user",
      "10001:10001",
      (raw) => {
        raw.api = { mode: "external", user: "10001:10001", metrics: { enabled: false } };
      },
      /nothing in external mode/,
    ],
    ["monitoring.grafanaPort", 80, set("monitoring.grafanaPort", 80), /from 1024 to 65535/],
    ["monitoring.nodeExporterPort", 0, set("monitoring.nodeExporterPort", 0), /from 1024 to 65535/],
    [
      "api.metrics.address",
      "api.internal:99999",
      (raw) => {
        raw.api = { mode: "external", metrics: { address: "api.internal:99999" } };
      },
      /a port from 1 to 65535/,
    ],
    [
      "api.metrics.address",
      "::1:9100",
      (raw) => {
        raw.api = { mode: "external", metrics: { address: "::1:9100" } };
      },
      /an IPv6 address in brackets/,
    ],
    ["redis.maxClients", 65505, set("redis.maxClients", 65505), /from 100 to 65504 \(the container's nofile limit 65536 minus the 32 descriptors Redis keeps/],
    [
      "monitoring.runbookBaseUrl",
      'https://git.example/"runbooks',
      set("monitoring.runbookBaseUrl", 'https://git.example/"runbooks'),
      /an absolute http\(s\) URL .*no quotes, spaces, newlines, braces/,
    ],
    ["monitoring.runbookBaseUrl", "https://git.example/run books", set("monitoring.runbookBaseUrl", "https://git.example/run books"), /absolute http\(s\) URL/],
    ["monitoring.runbookBaseUrl", "https://git.example/a\nb: c", set("monitoring.runbookBaseUrl", "https://git.example/a\nb: c"), /absolute http\(s\) URL/],
    ["monitoring.runbookBaseUrl", "https://git.example/{{ $labels.instance }}", set("monitoring.runbookBaseUrl", "https://git.example/{{ $labels.instance }}"), /absolute http\(s\) URL/],
    ["monitoring.runbookBaseUrl", "docs/runbooks", set("monitoring.runbookBaseUrl", "docs/runbooks"), /absolute http\(s\) URL/],
    ["monitoring.runbookBaseUrl", "ftp://git.example/runbooks", set("monitoring.runbookBaseUrl", "ftp://git.example/runbooks"), /absolute http\(s\) URL/],
    ["monitoring.runbookBaseUrl", "https://git.example/runbooks/", set("monitoring.runbookBaseUrl", "https://git.example/runbooks/"), /no trailing slash/],
  ])("%s = %j: refused, naming the key, the value and what is allowed", (key, value, mutate, allowed) => {
    const raw = valid();
    mutate(raw);
    const problem = problemFor(raw, key);
    expect(problem.value).toEqual(value);
    expect(problem.allowed).toMatch(allowed);
  });

  it.each([
    ["redis.image", "registry.example:5000/team/redis:7.0.15"],
    ["redis.image", `redis:7.0.15@${digest}`],
    ["redis.image", `redis@${digest}`],
    ["redis.image", "localhost/redis:7"],
    ["redis.image", "[fd00::1]:5000/redis:7.2.11"],
    ["redis.image", "ghcr.io/a_b/c__d/e-f:v1.2_3-RC"],
    ["redis.maxClients", 65504],
    ["redis.port", 1024],
    ["monitoring.runbookBaseUrl", "https://git.example:8443/veza/infra-redis/src/branch/main/docs/runbooks?plain=1"],
  ])("%s = %j: accepted", (key, value) => {
    const raw = valid();
    set(key, value)(raw);
    expect(problemKeys(raw)).toEqual([]);
  });

  it("accepts an external metrics endpoint on any port, an IPv6 one in brackets", () => {
    for (const address of ["api.internal:443", "10.0.0.5:80", "[fd00::5]:9100"]) {
      expect(problemKeys({ ...valid(), api: { mode: "external", metrics: { address } } })).toEqual([]);
    }
  });

  it("the shell's metacharacters never pass the image grammar, wherever they are put in a valid reference", () => {
    const meta = fc.constantFrom(..." ;&|$`'\"\\\n\t()<>*?{}!#~%^=,".split(""));
    const reference = fc.constantFrom("redis:7.0.15-bookworm", "registry.example:5000/team/redis:7.0.15", `redis@${digest}`, "prom/prometheus:v2.53.2");
    fc.assert(
      fc.property(reference, meta, fc.nat(), (ref, char, at) => {
        const position = at % (ref.length + 1);
        const image = `${ref.slice(0, position)}${char}${ref.slice(position)}`;
        return problemFor({ ...valid(), redis: { image } }, "redis.image").allowed.includes("not an image reference");
      }),
      { numRuns: 300 },
    );
  });

  describe("prototype keys", () => {
    it.each<[string, () => RawObject]>([
      ["__proto__", () => JSON.parse('{"__proto__": {"sentinel": {"enabled": false}}}') as RawObject],
      ["redis.constructor", () => ({ redis: JSON.parse('{"constructor": {"prototype": {"polluted": true}}}') })],
      ["hosts[0].prototype", () => ({ hosts: [{ ...host("local"), prototype: "x" }] })],
      ["monitoring.slo.__proto__", () => ({ monitoring: { slo: JSON.parse('{"__proto__": {"requestsTotal": "x"}}') } })],
    ])("%s is refused before anything reads the config, and pollutes nothing", (key, make) => {
      const raw = { ...valid(), ...make() };
      const result = validateStackConfig(raw, { lenient: true });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problems).toEqual([{ key, value: expect.anything(), allowed: expect.stringMatching(/^a key other than __proto__, constructor, prototype \(they reach Object\.prototype/) }]);
      // No config comes out, not even for the policy pack's lenient run.
      expect(result.lenientConfig).toBeUndefined();
      expect(({} as RawObject).polluted).toBeUndefined();
      expect(({} as RawObject).sentinel).toBeUndefined();
    });

    it("the program's reader keeps a `veza-redis:__proto__` key a key (it replaced the config's prototype, and turned Sentinel off unseen)", () => {
      const raw = readRawConfig("veza-redis", { "veza-redis:environment": "dev", "veza-redis:__proto__": '{"sentinel":{"enabled":false},"monitoring":{"enabled":false}}' });
      expect(Object.getPrototypeOf(raw)).toBe(Object.prototype);
      expect(raw.sentinel).toBeUndefined();
      expect(() => requireValidStackConfig(raw)).toThrow(/__proto__: got \{"sentinel":\{"enabled":false\},"monitoring":\{"enabled":false\}\}; allowed: a key other than __proto__/);
    });

    it("--config overrides: a prototype key in the path is a usage error naming it, and applyOverrides never walks into Object.prototype", () => {
      for (const override of ["__proto__.enabled=false", "redis.constructor.prototype.x=1", "veza-redis:hosts[0].__proto__=x"]) {
        expect(() => checkConfigOverride(override)).toThrow(UsageError);
        expect(() => checkConfigOverride(override)).toThrow(/^invalid config key ".*": "(__proto__|constructor)" in the key path; allowed: a key other than __proto__, constructor, prototype/);
        expect(() => applyOverrides(valid(), [override])).toThrow(/in the key path/);
      }
      expect(({} as RawObject).enabled).toBeUndefined();
      // A value that is an object with such a key stays data, for the validator to name.
      const raw = applyOverrides(valid(), ['redis={"__proto__":{"port":1}}']);
      expect(problemKeys(raw)).toEqual(["redis.__proto__"]);
      expect(({} as RawObject).port).toBeUndefined();
    });
  });
});

describe("firewall config", () => {
  const sshHosts = () =>
    ["10.1.0.1", "10.1.0.2", "10.1.0.3"].map((address, i) => ({
      name: `h${i}`,
      dockerHost: `ssh://ops@${address}`,
      address,
      sshHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVASznxN7zUMGGt3onAoz7nzW0tNXTPQ94Xy/y3sf7F",
    }));
  const remote = (firewall?: RawObject, api: RawObject = { mode: "container" }): RawObject => ({ ...valid(), hosts: sshHosts(), api, ...(firewall ? { firewall } : {}) });

  it("is on by default for hosts reached over ssh and off for a local Docker", () => {
    expect(requireValidStackConfig(remote()).firewall).toEqual({ enabled: true, clientSources: [] });
    expect(requireValidStackConfig(valid()).firewall).toEqual({ enabled: false, clientSources: [] });
    expect(requireValidStackConfig(remote({ enabled: false })).firewall.enabled).toBe(false);
  });

  it("refuses an external API with no client source while on, naming the key: every data host would refuse the API", () => {
    const external = { mode: "external", host: "h0", metrics: { address: "api.internal:8080" } };
    expect(problemFor(remote(undefined, external), "firewall.clientSources").allowed).toMatch(/^at least one address or network while api.mode is external/);
    expect(problemKeys(remote({ clientSources: ["10.2.0.0/24"] }, external))).toEqual([]);
    expect(problemKeys(remote({ enabled: false }, external))).toEqual([]);
  });

  it.each(["10.2.0.1/24", "10.2.0.0/33", "10.2.0.0/", "0.0.0.0/0", "0.0.0.0/1", "10.0.0.0/7", "::1", "fd00::/8", "api.internal", "10.2.0.0/24\nflush ruleset", ""])(
    "refuses the client source %j",
    (source) => {
      const problem = problemFor(remote({ clientSources: [source] }), "firewall.clientSources");
      expect(problem.allowed).toBe("a list of IPv4 addresses or IPv4 networks in CIDR notation, /8 to /32, without host bits (e.g. 10.20.1.0/24)");
    },
  );

  it("accepts addresses and networks, /8 to /32", () => {
    const sources = ["10.2.0.7", "10.2.0.0/24", "10.0.0.0/8", "10.2.0.7/32"];
    expect(requireValidStackConfig(remote({ clientSources: sources })).firewall.clientSources).toEqual(sources);
  });
});
