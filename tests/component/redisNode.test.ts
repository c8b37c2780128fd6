import { computeSizing, MiB } from "../../components/redis/sizing";
import { renderRedisConf, REDIS_CONF_PATH } from "../../components/redis/redisConf";
import { HEALTHCHECK_FILE } from "../../components/base/shell";
import { dataNodeSettings } from "../../components/topology/settings";
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";
import { byName, CONTAINER, label, ofType, synthOk, uploadContent, uploadsOf, configCarrierOf, type Resource } from "../helpers/synth";
import type { SynthResult } from "../../scripts/lib/synth";
import { stackModel } from "../../components/topology/model";

describe("RedisNode under mocks (dev stack)", () => {
  let result: SynthResult;
  let redisContainers: Resource[];
  beforeAll(async () => {
    result = await synthOk("dev");
    redisContainers = ofType(result.unmasked, CONTAINER).filter((c) => label(c, "component") === "redis");
  });

  it("declares one container per data node with the memory limit and no swap", () => {
    expect(redisContainers.map((c) => c.name).sort()).toEqual(["redis-0-container", "redis-1-container", "redis-2-container"]);
    for (const container of redisContainers) {
      expect(container.inputs.memory).toBe(512);
      expect(container.inputs.memorySwap).toBe(container.inputs.memory);
    }
  });

  it("restarts unless stopped and health-checks with the uploaded script, its password in a file, not the environment", () => {
    for (const container of redisContainers) {
      expect(container.inputs.restart).toBe("unless-stopped");
      const healthcheck = container.inputs.healthcheck as { tests: string[] };
      expect(healthcheck.tests).toEqual(["CMD", "sh", HEALTHCHECK_FILE]);
      // Only the volume's live copy: no uploaded one to fall back on, and a clear refusal without it.
      expect(uploadContent(result.unmasked, container, HEALTHCHECK_FILE)).toContain(`load_credentials() { . "$VEZA_CREDENTIALS_DIR/credentials.sh"; }`);
      expect(uploadContent(result.unmasked, container, HEALTHCHECK_FILE)).toContain("-credentials-seed command of \\`pulumi up\\` writes them");
      expect(container.inputs.envs).toBeUndefined();
    }
  });

  it("uploads exactly the renderer's redis.conf for each node", () => {
    const config = requireValidStackConfig(readStackConfigFile("dev").raw);
    const model = stackModel(config);
    const { topology } = model;
    for (const node of topology.dataNodes) {
      const container = byName(result.unmasked, `${node.name}-container`);
      expect(uploadContent(result.unmasked, container, REDIS_CONF_PATH)).toBe(renderRedisConf(dataNodeSettings(config, model, node)));
    }
    const sizing = computeSizing(config.redis);
    expect(uploadContent(result.unmasked, byName(result.unmasked, "redis-0-container"), REDIS_CONF_PATH)).toContain(`maxmemory ${sizing.maxmemoryBytes}\n`);
    expect(sizing.maxmemoryBytes).toBe(Math.floor(512 * MiB * 0.25));
  });

  it("keeps every password secret: out of the containers, on the seed's and the live apply's stdin only", () => {
    for (const container of redisContainers) {
      // No secret input at all: the passwords reach the volume through the seed command.
      expect(result.secretPaths.get(`${CONTAINER}::${container.name}`) ?? []).toEqual([]);
      expect(result.secretPaths.get(`${CONTAINER}::${configCarrierOf(result.unmasked, container)!.name}`) ?? []).toEqual([]);
      const files = uploadsOf(result.unmasked, container)
        .map((u) => u.file)
        .sort();
      expect(files).toEqual([REDIS_CONF_PATH, "/etc/veza/entrypoint.sh", HEALTHCHECK_FILE].sort());
      const node = container.name.replace(/-container$/, "");
      for (const command of [`${node}-credentials-seed`, `${node}-credentials`]) {
        expect([command, result.secretPaths.get(`command:local:Command::${command}`)]).toEqual([command, ["stdin"]]);
        expect(byName(result.unmasked, command).inputs.stdin as string).toMatch(/^VEZA_HEALTH_PASSWORD='synthpw/m);
      }
      const masked = result.plan.resources.find((r) => r.name === container.name)!;
      expect(JSON.stringify(masked.inputs)).not.toMatch(/synthpw/);
    }
    for (const password of ofType(result.unmasked, "random:index/randomPassword:RandomPassword")) {
      expect(password.inputs.special).toBe(false);
      expect(password.inputs.length).toBeGreaterThanOrEqual(32);
    }
    expect(JSON.stringify(result.plan)).not.toMatch(/synthpw/);
  });

  it("seeds the same ACL file (the same password hashes) into every node's volume", () => {
    const seeds = redisContainers.map((c) => byName(result.unmasked, `${c.name.replace(/-container$/, "")}-credentials-seed`).inputs.stdin as string);
    const aclFile = (seed: string) => /seed_file 'redis-secrets\.conf' <<'VEZA_CREDENTIALS_EOF'\n([\s\S]*?)VEZA_CREDENTIALS_EOF/.exec(seed)![1];
    expect(new Set(seeds.map(aclFile)).size).toBe(1);
    expect(aclFile(seeds[0])).toMatch(/^user veza-app on #[0-9a-f]{64} /m);
    expect(aclFile(seeds[0])).toMatch(/^user default off$/m);
  });

  it("mounts a named data volume and checks its room before Redis starts", () => {
    for (const container of redisContainers) {
      const mounts = container.inputs.mounts as Array<{ source: string; target: string; type: string }>;
      // Its files read-only from its config carrier's volume, its data in the named volume.
      expect(mounts).toEqual([
        { type: "volume", source: (configCarrierOf(result.unmasked, container)!.inputs.mounts as Array<{ source: string }>)[0].source, target: "/etc/veza", readOnly: true },
        { type: "volume", source: `veza-${container.name.replace(/-container$/, "")}-data`, target: "/data" },
      ]);
    }
    const check = byName(result.unmasked, "redis-0-data-volume-check");
    expect(check.inputs.create).toMatch(/docker run --rm --pids-limit 128 -v 'veza-redis-0-data:\/data'/);
  });

  it("runs the host kernel tuning on the host and sets the Docker host for local commands", () => {
    const tuning = byName(result.unmasked, "local-kernel-tuning");
    expect(tuning.type).toBe("command:local:Command");
    expect(tuning.inputs.create).toMatch(/--privileged --network host/);
    expect((tuning.inputs.environment as Record<string, string>).DOCKER_HOST).toBe("unix:///var/run/docker.sock");
    // Redis starts only after the kernel is tuned, the data volume has room and holds its live credentials.
    for (const container of redisContainers) {
      const node = container.name.replace(/-container$/, "");
      expect(container.dependsOn).toEqual(expect.arrayContaining(["local-kernel-tuning", `${node}-data-volume-check`, `${node}-credentials-seed`]));
    }
  });

  it("uses host networking, bounded logs, a nofile limit and deleteBeforeReplace-safe fixed names", () => {
    for (const container of redisContainers) {
      expect(container.inputs.networkMode).toBe("host");
      expect(container.inputs.logOpts).toEqual({ "max-size": "10m", "max-file": "5" });
      expect(container.inputs.ulimits).toEqual([{ name: "nofile", soft: 65536, hard: 65536 }]);
      expect(container.inputs.name).toMatch(/^veza-redis-\d$/);
    }
  });

  it("pulls each image once per host and keeps it locally", () => {
    const images = ofType(result.unmasked, "docker:index/remoteImage:RemoteImage");
    expect(images.map((i) => i.inputs.name).sort()).toEqual([
      "grafana/grafana:12.2.0",
      "prom/node-exporter:v1.8.2",
      "veza/alertmanager-gate:nginx-1.22.1-9-deb12u12",
      "veza/alertmanager:0.28.1-ds-1",
      "veza/api-standin:1-py3.11.2-1-b1",
      "veza/backup:restic-0.14.0-1-b5-redis-7.0.15-1-deb12u10",
      "veza/blackbox-exporter:0.26.0-1",
      "veza/prometheus:2.53.3-ds1-2",
      "veza/redis-exporter:1.69.0-1",
      "veza/redis:7.0.15-1-deb12u10",
    ]);
    for (const image of images) expect(image.inputs.keepLocally).toBe(true);
  });
});
