// The CrossGuard pack over real plans: the repo's stacks pass, and every policy catches a fixture
// that violates it (a config override or a hand-edited resource of the dev plan).
import { policies } from "../../policy/policies";
import { runPolicies, type Violation } from "../../scripts/lib/policyRunner";
import type { PlannedResource } from "../../scripts/lib/synth";
import { stackNames } from "../../lib/stackFiles";
import YAML from "yaml";
import { synthOk } from "../helpers/synth";
import { ROTATION_ORDER_PROPERTY, type UserRotation } from "../../components/redis/rotation";
import { seededFiles } from "../../components/base/shell";
import { runScript } from "../helpers/cli";
import * as fs from "node:fs";
import * as path from "node:path";
import { cleanedTempDirs } from "../helpers/tempDirs";

const tempDir = cleanedTempDirs();
const tempFile = (name: string, content: string) => {
  const file = path.join(tempDir("veza-policy-"), name);
  fs.writeFileSync(file, content);
  return file;
};

type Mutation = (resources: PlannedResource[]) => void;

const find = (resources: PlannedResource[], name: string) => resources.find((r) => r.name === name)!;
const upload = (resource: PlannedResource, suffix: string) => (resource.inputs.uploads as Array<{ file: string; content: string }>).find((u) => u.file.endsWith(suffix))!;
/** A container's file, edited where it is uploaded: in its config carrier (`<container resource>-config`). */
const editConf =
  (name: string, suffix: string, edit: (text: string) => string): Mutation =>
  (resources) => {
    const file = upload(find(resources, `${name}-config`), suffix);
    file.content = edit(file.content);
  };
/** A file a seed command writes into its volume (the ACL files: no container uploads them), edited in its stdin. */
const editSeeded =
  (name: string, file: string, edit: (text: string) => string): Mutation =>
  (resources) => {
    const resource = find(resources, name);
    const text = seededFiles(resource.inputs.stdin as string).get(file)!;
    resource.inputs.stdin = (resource.inputs.stdin as string).replace(text, edit(text));
  };
const setInput =
  (name: string, key: string, value: unknown): Mutation =>
  (resources) => {
    find(resources, name).inputs[key] = value;
  };
const setLabel = (resource: PlannedResource, label: string, value: string) => {
  const labels = resource.inputs.labels as Array<{ label: string; value: string }>;
  const entry = labels.find((l) => l.label === `veza.${label}`);
  if (entry) entry.value = value;
  else labels.push({ label: `veza.${label}`, value });
};
/** Three hosts that all say 127.0.0.1 (the dev plan's processes, relabelled h0..h2). */
const threeHostsOneAddress: Mutation = (resources) => {
  for (const i of [0, 1, 2]) {
    for (const name of [`redis-${i}-container`, `sentinel-${i}-container`]) {
      setLabel(find(resources, name), "host", `h${i}`);
      setLabel(find(resources, name), "host-count", "3");
    }
  }
};

/** A marker in a credentials command's triggers (components/redis/rotation.ts), edited in place. */
type MarkerUsers = Record<string, { generation: number; step?: string }>;
/** Sets one user's entry of the Credentials component's rotation order (what the stack last applied). */
const editOrder =
  (user: string, entry: { step: UserRotation; applied?: UserRotation }): Mutation =>
  (resources) => {
    (find(resources, "redis-credentials").inputs[ROTATION_ORDER_PROPERTY] as Record<string, unknown>)[user] = entry;
  };
const editMarker =
  (name: string, kind: "accepts" | "holds", edit: (users: MarkerUsers) => void): Mutation =>
  (resources) => {
    const triggers = find(resources, name).inputs.triggers as string[];
    const index = triggers.findIndex((t) => typeof t === "string" && t.includes(`"kind":"${kind}"`));
    const marker = JSON.parse(triggers[index]) as { "veza-credentials": { users: MarkerUsers } };
    edit(marker["veza-credentials"].users);
    triggers[index] = JSON.stringify(marker);
  };

const setBuildArg =
  (name: string, value: string): Mutation =>
  (resources) => {
    (find(resources, "local-build-veza-redis-7-0-15-1-deb12u10").inputs.build as { args: Record<string, string> }).args[name] = value;
  };

async function check(resources: PlannedResource[]): Promise<Violation[]> {
  return runPolicies(resources, "veza-redis", "dev");
}

describe("policy pack", () => {
  let dev: PlannedResource[];
  beforeAll(async () => {
    dev = (await synthOk("dev")).unmasked;
  });
  const mutated = (mutation: Mutation) => {
    const copy = structuredClone(dev);
    mutation(copy);
    return copy;
  };

  it.each(stackNames())("passes the repo's own %s stack with no mandatory violation", async (stack) => {
    const violations = await check((await synthOk(stack)).unmasked);
    expect(violations.filter((v) => v.level === "mandatory")).toEqual([]);
  });

  const fixtures: Array<[string, "mandatory" | "advisory", Mutation, RegExp]> = [
    // The servers retire generation 0 of the app password while the API's check still holds it.
    [
      "credentials-retire-after-consumers",
      "mandatory",
      (r) => {
        for (const node of ["redis-0", "redis-1", "redis-2"])
          editMarker(`${node}-credentials`, "accepts", (users) => {
            users.app = { generation: 1, step: "retire" };
          })(r);
      },
      /api-connectivity-check still holds generation 0 of app, whose password step retire removes \(redis-\d at generation 1\)/,
    ],
    // Retire straight after add, as recorded by the stack (its own credentialRotation output,
    // on the Credentials component): the switch never ran, although every in-stack consumer's
    // marker says generation 1 (they come from the same config).
    [
      "credentials-retire-after-consumers",
      "mandatory",
      (r) => {
        for (const node of ["redis-0", "redis-1", "redis-2"])
          editMarker(`${node}-credentials`, "accepts", (users) => {
            users.app = { generation: 1, step: "retire" };
          })(r);
        for (const consumer of ["api-redis-connectivity-check", "api-secret-files"])
          editMarker(consumer, "holds", (users) => {
            users.app = { generation: 1 };
          })(r);
        editOrder("app", { step: { generation: 1, step: "retire" }, applied: { generation: 1, step: "add" } })(r);
      },
      /^app at generation 1 step retire cannot follow generation 1 step add, what this stack last applied/,
    ],
    // A generation skipped: 0 retire straight to 2 add (slot 0 regenerated while servers accept only it).
    [
      "credentials-retire-after-consumers",
      "mandatory",
      editOrder("sentinelAdmin", { step: { generation: 2, step: "add" }, applied: { generation: 0, step: "retire" } }),
      /^sentinelAdmin at generation 2 step add cannot follow generation 0 step retire/,
    ],
    // A replica's masterauth left on the old replication password at retire.
    [
      "credentials-retire-after-consumers",
      "mandatory",
      (r) => {
        for (const node of ["redis-0", "redis-1", "redis-2"])
          editMarker(`${node}-credentials`, "accepts", (users) => {
            users.replication = { generation: 4, step: "retire" };
          })(r);
        for (const node of ["redis-0", "redis-2"])
          editMarker(`${node}-credentials`, "holds", (users) => {
            users.replication = { generation: 4 };
          })(r);
        editMarker("redis-1-credentials", "holds", (users) => {
          users.replication = { generation: 3 };
        })(r);
      },
      /^redis-1 still holds generation 3 of replication/,
    ],
    ["redis-memory-limit-and-fork-headroom", "mandatory", setInput("redis-1-container", "memorySwap", 1024), /memorySwap/],
    [
      "redis-memory-limit-and-fork-headroom",
      "mandatory",
      editConf("redis-0-container", "/redis.conf", (t) => t.replace(/^maxmemory \d+$/m, "maxmemory 180000000")),
      /^maxmemory 180000000 B is too large for the 512 MiB limit: a fork's full copy of it at 1.5x fragmentation, plus 16 MiB of baseline, reaches 531 MiB, over 90% of the limit \(at most 155468868 B\)$/,
    ],
    ["redis-memory-limit-and-fork-headroom", "mandatory", setInput("sentinel-0-container", "memory", undefined), /no memory limit/],
    ["redis-evicting-maxmemory-policy", "mandatory", editConf("redis-0-container", "/redis.conf", (t) => t.replace("maxmemory-policy allkeys-lru", "maxmemory-policy noeviction")), /noeviction/],
    ["redis-aof-auto-rewrite", "mandatory", editConf("redis-2-container", "/redis.conf", (t) => t.replace("appendonly yes", "appendonly no")), /appendonly/],
    ["redis-aof-auto-rewrite", "mandatory", editConf("redis-2-container", "/redis.conf", (t) => t.replace("auto-aof-rewrite-percentage 100", "auto-aof-rewrite-percentage 0")), /never rewritten/],
    [
      "redis-data-volume-sized",
      "mandatory",
      (r) => {
        (find(r, "redis-1-container").inputs.labels as Array<{ label: string; value: string }>).find((l) => l.label === "veza.data-volume-bytes")!.value = String(64 * 1024 * 1024);
      },
      /under the sizing minimum/,
    ],
    [
      "redis-auth-required",
      "mandatory",
      editSeeded("redis-0-credentials-seed", "redis-secrets.conf", (t) => t.replace("user default off", "user default on nopass resetchannels ~* +@all")),
      /default user/,
    ],
    ["redis-auth-required", "mandatory", editConf("redis-0-container", "/redis.conf", (t) => `${t}requirepass hunter2\n`), /plain-text password/],
    [
      "redis-auth-required",
      "mandatory",
      editSeeded("sentinel-1-credentials-seed", "sentinel-secrets.conf", (t) => t.replace("user default off", "requirepass hunter2")),
      /default user is not off[\s\S]*has a requirepass/,
    ],
    [
      "redis-least-privilege",
      "mandatory",
      editSeeded("redis-0-credentials-seed", "redis-secrets.conf", (t) => t.replace(/^(user veza-app .*)$/m, "$1 &*")),
      /user veza-app may publish on __sentinel__:hello/,
    ],
    [
      "redis-least-privilege",
      "mandatory",
      editSeeded("redis-1-credentials-seed", "redis-secrets.conf", (t) => t.replace(/^(user veza-exporter .*)$/m, "$1 +config|get +client|pause")),
      /veza-exporter is granted \+config\|get \+client\|pause/,
    ],
    [
      "redis-least-privilege",
      "mandatory",
      editSeeded("sentinel-2-credentials-seed", "sentinel-secrets.conf", (t) => t.replace(/^(user veza-sentinel-client .*)$/m, "$1 +sentinel|set")),
      /veza-sentinel-client is granted \+sentinel\|set/,
    ],
    [
      "redis-least-privilege",
      "mandatory",
      editSeeded("sentinel-0-credentials-seed", "sentinel-secrets.conf", (t) => t.replace(/^(user veza-failover .*)$/m, "$1 allchannels")),
      /veza-failover may publish hellos/,
    ],
    [
      "redis-least-privilege",
      "mandatory",
      (r) => {
        const e = find(r, "redis-2-exporter-container");
        e.inputs.envs = [...(e.inputs.envs as string[]).filter((x) => !x.startsWith("REDIS_EXPORTER_CONFIG_COMMAND=")), "REDIS_PASSWORD=x"];
      },
      /REDIS_PASSWORD in the exporter's environment[\s\S]*sends CONFIG GET/,
    ],
    [
      "redis-least-privilege",
      "mandatory",
      (r) => {
        const api = find(r, "api-container");
        api.inputs.envs = (api.inputs.envs as string[]).map((x) => x.replace(/^REDIS_SENTINEL_USERNAME=.*/, "REDIS_SENTINEL_USERNAME=veza-sentinel-admin"));
      },
      /API's Sentinel user is veza-sentinel-admin/,
    ],
    ["redis-not-exposed", "mandatory", editConf("redis-0-container", "/redis.conf", (t) => t.replace("bind 127.0.0.1", "bind 0.0.0.0")), /all interfaces/],
    [
      "sentinel-quorum-and-spread",
      "mandatory",
      (r) =>
        r.splice(
          r.findIndex((x) => x.name === "sentinel-2-container"),
          1,
        ),
      /2 sentinels/,
    ],
    ["sentinel-quorum-and-spread", "mandatory", editConf("sentinel-0-container", "/sentinel.conf", (t) => t.replace(/(sentinel monitor \S+ \S+ \d+) 2/, "$1 1")), /quorum 1 is not a majority/],
    ["sentinel-quorum-and-spread", "mandatory", editConf("redis-1-container", "/redis.conf", (t) => t.replace("min-replicas-to-write 1", "min-replicas-to-write 0")), /min-replicas-to-write is 0/],
    ["redis-restart-and-healthcheck", "mandatory", setInput("redis-2-container", "restart", "no"), /restart policy no/],
    ["redis-restart-and-healthcheck", "mandatory", setInput("sentinel-2-container", "healthcheck", undefined), /no healthcheck/],
    ["redis-safe-replacement", "mandatory", setInput("redis-1-container", "wait", false), /wait is not true/],
    ["redis-safe-replacement", "mandatory", setInput("redis-0-container", "destroyGraceSeconds", undefined), /SIGKILLs it at once/],
    ["redis-safe-replacement", "mandatory", setInput("redis-2-container", "destroyGraceSeconds", 10), /under the handoff budget/],
    ["redis-safe-replacement", "mandatory", setInput("sentinel-1-container", "stopTimeout", 0), /kill it before it hands off/],
    ["redis-safe-replacement", "mandatory", setInput("redis-0-container", "entrypoints", ["redis-server", "/etc/veza/redis.conf"]), /declared topology, not the running cluster's/],
    [
      "images-pinned",
      "mandatory",
      (r) => {
        find(r, "local-image-veza-redis-7-0-15-1-deb12u10").inputs.name = "redis";
      },
      /untagged/,
    ],
    [
      "images-pinned",
      "mandatory",
      (r) => {
        find(r, "local-image-veza-redis-7-0-15-1-deb12u10").inputs.name = "veza/redis:1.0;id";
      },
      /image veza\/redis:1\.0;id: not an image reference/,
    ],
    ["images-pinned", "mandatory", setInput("redis-0-container", "image", `sha256:${"a".repeat(64)};id`), /not an image reference/],
    ["sentinel-quorum-and-spread", "mandatory", threeHostsOneAddress, /hosts h0, h1, h2 all announce 127\.0\.0\.1: they are one machine/],
    [
      "sentinel-quorum-and-spread",
      "mandatory",
      (r) => {
        r.push({ ...structuredClone(find(r, "local-docker")), name: "other-docker" });
      },
      /other-docker and local-docker reach the same Docker daemon \(unix:\/\/\/var\/run\/docker\.sock\)/,
    ],
    [
      "images-not-known-vulnerable",
      "mandatory",
      (r) => {
        find(r, "local-image-veza-redis-7-0-15-1-deb12u10").inputs.name = "redis:7.0.15-bookworm";
      },
      /end-of-life.*\[redis-7\.0; https:\/\//,
    ],
    ["images-not-known-vulnerable", "mandatory", setBuildArg("REDIS_VERSION", "5:7.0.15-1~deb12u5"), /lacks the backported fixes for CVE-2025-49844/],
    ["images-not-known-vulnerable", "mandatory", setBuildArg("BASE_IMAGE", "debian:bookworm-slim"), /not pinned by digest/],
    ["containers-hardened", "mandatory", setInput("redis-0-exporter-container", "capabilities", undefined), /does not drop ALL capabilities/],
    [
      "containers-hardened",
      "mandatory",
      setInput("redis-0-container", "capabilities", { drops: ["ALL"], adds: ["CHOWN", "DAC_OVERRIDE", "KILL", "SETGID", "SETUID", "SYS_ADMIN"] }),
      /adds capabilities SYS_ADMIN beyond what a redis container needs/,
    ],
    ["containers-hardened", "mandatory", setInput("monitoring-grafana-container", "securityOpts", []), /no no-new-privileges:true/],
    ["containers-hardened", "mandatory", setInput("node-exporter-local-container", "readOnly", false), /root filesystem is writable/],
    // The kinds with files are no exception.
    ["containers-hardened", "mandatory", setInput("redis-0-container", "readOnly", false), /root filesystem is writable/],
    ["containers-hardened", "mandatory", setInput("monitoring-grafana-container", "uploads", [{ file: "/etc/grafana/x", content: "x" }]), /uploads into a running container/],
    ["containers-hardened", "mandatory", setInput("sentinel-1-container-config", "start", true), /a config carrier that is started/],
    ["containers-hardened", "mandatory", setInput("monitoring-alertmanager-container-config", "networkMode", "host"), /a config carrier on network host/],
    [
      "containers-config-read-only",
      "mandatory",
      (r) => {
        (find(r, "redis-2-container").inputs.mounts as Array<{ readOnly?: boolean }>)[0].readOnly = false;
      },
      /mounts its config volume at \/etc\/veza writable/,
    ],
    [
      "containers-config-read-only",
      "mandatory",
      (r) => {
        (find(r, "monitoring-prometheus-container").inputs.mounts as unknown[]).shift();
      },
      /no config volume at \/etc\/prometheus: it would run on the image's files/,
    ],
    [
      "containers-config-read-only",
      "mandatory",
      (r) => {
        (find(r, "sentinel-0-container-config").inputs.mounts as Array<{ target?: string }>)[0].target = "/etc/other";
      },
      /no config volume at \/etc\/veza: its uploads would land in its own root/,
    ],
    [
      "containers-config-read-only",
      "mandatory",
      (r) => {
        setLabel(find(r, "monitoring-grafana-container-config"), "config-for-kind", "api");
      },
      /a config carrier for a api container, a kind with no config root/,
    ],
    [
      "containers-config-read-only",
      "mandatory",
      (r) => {
        (find(r, "redis-0-container-config").inputs.uploads as unknown[]).push({ file: "/tmp/redis.conf", content: "maxmemory-policy noeviction\n" });
      },
      /uploads \/tmp\/redis\.conf outside \/etc\/veza/,
    ],
    [
      "containers-config-read-only",
      "mandatory",
      (r) => {
        (find(r, "monitoring-grafana-container").inputs.tmpfs as Record<string, string>)["/etc/grafana/provisioning"] = "rw";
      },
      /mounts \/etc\/grafana\/provisioning over its config at \/etc\/grafana/,
    ],
    ["containers-hardened", "mandatory", setInput("redis-1-container-config", "entrypoints", ["sh", "/etc/veza/entrypoint.sh"]), /a config carrier whose entrypoint is/],
    [
      "containers-hardened",
      "mandatory",
      (r) => {
        (find(r, "sentinel-2-container-config").inputs.mounts as unknown[]).push({ type: "bind", source: "/", target: "/host" });
      },
      /a config carrier with more than its one config volume/,
    ],
    // An ACL file uploaded to a carrier instead of seeded is checked all the same.
    [
      "redis-least-privilege",
      "mandatory",
      (r) => {
        (find(r, "redis-0-container-config").inputs.uploads as unknown[]).push({
          file: "/etc/veza/redis-secrets.conf",
          content: `user default off\nuser veza-app on #${"a".repeat(64)} ~* &* +@all\n`,
        });
      },
      /user veza-app may publish on __sentinel__:hello/,
    ],
    ["containers-hardened", "mandatory", setInput("monitoring-prometheus-container", "privileged", true), /privileged/],
    ["containers-hardened", "mandatory", setInput("sentinel-0-exporter-container", "pidMode", "host"), /host PID namespace/],
    ["containers-hardened", "mandatory", setInput("api-container", "memory", undefined), /no memory limit/],
    ["containers-hardened", "mandatory", setInput("node-exporter-local-container", "healthcheck", undefined), /no healthcheck/],
    [
      "containers-pids-limited",
      "mandatory",
      (r) => {
        r.splice(r.indexOf(find(r, "redis-1-container-pids-limit")), 1);
      },
      /redis-1-container: no redis-1-container-pids-limit command sets its pids limit to 64/,
    ],
    [
      "containers-pids-limited",
      "mandatory",
      (r) => {
        const command = find(r, "monitoring-grafana-container-pids-limit");
        command.inputs.create = (command.inputs.create as string).replaceAll("512", "0");
      },
      /monitoring-grafana-container: .*pids limit to 512/,
    ],
    [
      "containers-pids-limited",
      "mandatory",
      (r) => {
        const command = find(r, "sentinel-2-container-pids-limit");
        command.dependsOn = [];
        command.propertyDependencies = {};
      },
      /sentinel-2-container-pids-limit: does not wait for sentinel-2-container: a replaced container would run without its pids limit/,
    ],
    [
      "containers-pids-limited",
      "mandatory",
      (r) => {
        find(r, "redis-0-container-pids-limit").inputs.environment = { DOCKER_HOST: "unix:///run/other-docker.sock" };
      },
      /redis-0-container-pids-limit: runs against unix:\/\/\/run\/other-docker\.sock, not redis-0-container's unix:\/\/\/var\/run\/docker\.sock/,
    ],
    ["api-runs-as-declared-user", "advisory", setInput("api-container", "user", "0:0"), /user 0:0: the API runs as root or in root's group/],
    [
      "api-declares-redis-toggles",
      "mandatory",
      (r) => {
        const api = find(r, "api-container");
        api.inputs.envs = (api.inputs.envs as string[]).filter((e) => !e.startsWith("RATELIMIT_FAIL_CLOSED="));
      },
      /RATELIMIT_FAIL_CLOSED is not declared/,
    ],
    [
      "alerts-have-severity-and-runbook",
      "mandatory",
      editConf("monitoring-prometheus-container", "/rules/redis.yml", (t) => t.replace(/^(\s+)runbook_url: .*redis-down\.md$/m, "$1runbook_url: none")),
      /RedisUnreachable has no runbook_url/,
    ],
    ["alerts-have-severity-and-runbook", "mandatory", editConf("monitoring-prometheus-container", "/rules/redis.yml", (t) => t.replace("severity: page", "severity: critical")), /severity critical/],
    [
      "alerts-have-severity-and-runbook",
      "mandatory",
      editConf("monitoring-prometheus-container", "/rules/redis.yml", (t) => t.replace("severity: page", "severity: heartbeat")),
      /RedisUnreachable has severity heartbeat/,
    ],
    [
      "alerting-has-dead-mans-switch",
      "mandatory",
      editConf("monitoring-alertmanager-container", "/alertmanager.yml", (t) => t.replace('severity="heartbeat"', 'severity="none"')),
      /dead man's switch never hears/,
    ],
    // Prometheus's password let through to everything: it could silence every alert.
    [
      "alertmanager-behind-gate",
      "mandatory",
      editConf("monitoring-alertmanager-gate-container", "/nginx.conf", (t) => t.replace('"prometheus POST /api/v2/alerts" 0;', '"~^prometheus " 0;')),
      /monitoring-alertmanager-gate-container: its \/etc\/alertmanager-gate\/nginx\.conf is not the gate rendered for Alertmanager's port 9193/,
    ],
    // Alertmanager on the host's address too (the flag repeats): every client reaches it without the gate.
    [
      "alertmanager-behind-gate",
      "mandatory",
      (r) => {
        const container = r.find((x) => x.name === "monitoring-alertmanager-container")!;
        container.inputs.entrypoints = (container.inputs.entrypoints as string[]).map((arg) =>
          arg.replace("--web.listen-address=127.0.0.1:9193", "--web.listen-address=127.0.0.1:9193 --web.listen-address=0.0.0.0:9093"),
        );
      },
      /monitoring-alertmanager-container listens on 0\.0\.0\.0:9093: Alertmanager must listen on 127\.0\.0\.1 only, behind its gate/,
    ],
    // No web config: every process on the monitoring host reaches Alertmanager without a password.
    [
      "alertmanager-behind-gate",
      "mandatory",
      (r) => {
        const container = r.find((x) => x.name === "monitoring-alertmanager-container")!;
        container.inputs.entrypoints = (container.inputs.entrypoints as string[]).map((arg) => arg.replace(/ --web\.config\.file=\S+/, ""));
      },
      /monitoring-alertmanager-container runs without --web\.config\.file=\/etc\/alertmanager\/web-config\.yml/,
    ],
    // Prometheus's user listed by Alertmanager itself: its password reaches silences from the host.
    [
      "alertmanager-behind-gate",
      "mandatory",
      editConf("monitoring-alertmanager-container", "/web-config.yml", (t) => `${t}  prometheus: $2a$10$${"a".repeat(53)}\n`),
      /web config lists alertmanager-gate, prometheus: only alertmanager-gate may reach Alertmanager/,
    ],
    // HTTPS on the gate while Prometheus alerts over HTTP: the rendered gate follows Prometheus's scheme.
    [
      "alertmanager-behind-gate",
      "mandatory",
      editConf("monitoring-alertmanager-gate-container", "/nginx.conf", (t) => t.replace("listen 127.0.0.1:9093;", "listen 127.0.0.1:9093 ssl;")),
      /is not the gate rendered for Alertmanager's port 9193 over HTTP/,
    ],
    [
      "slo-rules-complete",
      "mandatory",
      editConf("monitoring-prometheus-container", "/rules/slo.yml", (t) => {
        const doc = YAML.parse(t);
        doc.groups[0].rules.splice(0, 1);
        return YAML.stringify(doc);
      }),
      /20 SLO recording rules, expected 21/,
    ],
    ["slo-rules-complete", "mandatory", editConf("monitoring-prometheus-container", "/rules/slo.yml", (t) => t.replace(/severity: ticket/, "severity: page")), /3 FastBurn pages, 2 SlowBurn tickets/],
  ];

  it.each(fixtures.map(([policy, level, mutation, message], i) => [`${policy} #${i}`, policy, level, mutation, message] as const))(
    "%s catches its violating fixture",
    async (_label, policy, level, mutation, message) => {
      const violations = await check(mutated(mutation));
      const mine = violations.filter((v) => v.policy === policy);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.every((v) => v.level === level)).toBe(true);
      expect(mine.map((v) => v.message).join("\n")).toMatch(message);
      // Only the mutated policy complains (besides the advisory that the dev stack always carries).
      expect(violations.filter((v) => v.level === "mandatory" && v.policy !== policy)).toEqual([]);
    },
  );

  it("reports the advisory on sessions and revocations kept under allkeys-lru, and not under volatile-lru", async () => {
    const advisory = (await check(dev)).filter((v) => v.policy === "sessions-and-revocations-evictable");
    expect(advisory).toEqual([expect.objectContaining({ level: "advisory", resource: "redis-0-container" })]);
    const volatile = mutated(editConf("redis-0-container", "/redis.conf", (t) => t.replace("maxmemory-policy allkeys-lru", "maxmemory-policy volatile-lru")));
    expect((await check(volatile)).filter((v) => v.policy === "sessions-and-revocations-evictable")).toEqual([]);
  });

  it("advises an api.user while the API runs as its image's user with world-readable password files, and is quiet once it is set", async () => {
    expect((await check(dev)).filter((v) => v.policy === "api-runs-as-declared-user")).toEqual([
      expect.objectContaining({ level: "advisory", resource: "api-container", message: expect.stringMatching(/world-readable \(0644\)/) }),
    ]);
    const withUser = (await synthOk("dev", ["api.user=10001:10001"])).unmasked;
    expect((await runPolicies(withUser, "veza-redis", "dev")).filter((v) => v.policy === "api-runs-as-declared-user")).toEqual([]);
  });

  it("refuses a pids limit command sent over SSH to another host than its container's (prod: every node exporter is named veza-node-exporter)", async () => {
    const prod = (await synthOk("prod")).unmasked;
    const command = find(prod, "node-exporter-redis-b-container-pids-limit");
    (command.inputs.connection as { host: string }).host = "10.20.0.14";
    const violations = (await runPolicies(prod, "veza-redis", "prod")).filter((v) => v.policy === "containers-pids-limited");
    expect(violations).toEqual([
      expect.objectContaining({
        level: "mandatory",
        resource: "node-exporter-redis-b-container-pids-limit",
        message: expect.stringMatching(/runs against ssh:\/\/deploy@10\.20\.0\.14:22, not node-exporter-redis-b-container's ssh:\/\/deploy@10\.20\.0\.12/),
      }),
    ]);
  });

  it("refuses a production data volume that is not protected (the options synth recorded)", async () => {
    const prod = (await synthOk("prod")).unmasked;
    expect((await runPolicies(prod, "veza-redis", "prod")).filter((v) => v.policy === "redis-safe-replacement")).toEqual([]);
    find(prod, "redis-1-data").options.protect = false;
    const violations = (await runPolicies(prod, "veza-redis", "prod")).filter((v) => v.policy === "redis-safe-replacement");
    expect(violations).toEqual([expect.objectContaining({ level: "mandatory", resource: "redis-1-data", message: expect.stringMatching(/without protect/) })]);
  });

  it("has a violating fixture for every policy in the pack", () => {
    // The backup policies' fixtures need the prod plan (production is mandatory there): tests/policy/backup.test.ts.
    const backup = ["backup-required", "backup-recommended", "backup-off-data-hosts", "backup-repository-retained"];
    // redis-hosts-firewalled is mandatory in production only: tests/policy/hostsFirewalled.test.ts over the prod plan.
    const covered = new Set([...fixtures.map(([policy]) => policy), "sessions-and-revocations-evictable", ...backup, "redis-hosts-firewalled"]);
    expect(policies.map((p) => p.name).filter((name) => !covered.has(name))).toEqual([]);
  });

  it("does not crash on values unknown during preview: it reports them as advisory", async () => {
    const unknown = mutated((r) => {
      find(r, "redis-0-container-config").inputs.uploads = "[unknown]";
      find(r, "redis-1-container").inputs.memory = "[unknown]";
      find(r, "local-image-veza-redis-7-0-15-1-deb12u10").inputs.name = "[unknown]";
    });
    const violations = await check(unknown);
    expect(violations.filter((v) => v.level === "mandatory")).toEqual([]);
    expect(violations.filter((v) => /can't run during preview/.test(v.message)).length).toBeGreaterThan(0);
  });

  it.each([
    ["redis.evictionPolicy=noeviction", "redis-evicting-maxmemory-policy"],
    ["sentinel.count=2", "sentinel-quorum-and-spread"],
    ["redis.image=redis:latest", "images-pinned"],
  ])("npm run policy -- --config %s exits 1 naming %s", (override, policy) => {
    const result = runScript("policy", ["--stack", "dev", "--config", override]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^mandatory ${policy} `, "m"));
    // The program's own validation would refuse it first; the pack is the second gate.
    expect(result.stdout).toMatch(/^mandatory stack-config-valid stack: /m);
  });

  it("npm run policy -- --applied <stack outputs> exits 1 on a retire the stack's record says skips the switch", () => {
    const applied = tempFile("applied.json", JSON.stringify({ redisAddress: "127.0.0.1:6379", credentialRotation: { app: { generation: 1, step: "add" } } }));
    const result = runScript("policy", ["--stack", "dev", "--config", "credentials.app.generation=1", "--config", "credentials.app.step=retire", "--applied", applied]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^mandatory credentials-retire-after-consumers redis-credentials: app at generation 1 step retire cannot follow generation 1 step add/m);
  });

  it("npm run policy -- --stack dev exits 0", () => {
    const result = runScript("policy", ["--stack", "dev"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/0 mandatory and 2 advisory violations/);
  });
});
