import { computeSizing, MiB } from "../../components/redis/sizing";
import { renderRedisConf, REDIS_CONF_PATH, REDIS_SECRETS_PATH } from "../../components/redis/redisConf";
import { CREDENTIALS_FILE, HEALTHCHECK_FILE } from "../../components/topology/shell";
import { stackTopology } from "../../components/topology/ports";
import { dataNodeSettings } from "../../components/topology/settings";
import { requireValidStackConfig } from "../../components/config/validate";
import { readStackConfigFile } from "../../scripts/lib/stackFiles";
import { byName, CONTAINER, label, ofType, synthOk, uploadContent, type Resource } from "../helpers/synth";
import type { SynthResult } from "../../scripts/lib/synth";

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
      // The volume's live copy first (a rotation step rewrites it), the uploaded seed otherwise.
      expect(uploadContent(container, HEALTHCHECK_FILE)).toContain(`then . "$VEZA_CREDENTIALS_DIR/credentials.sh"; else . '${CREDENTIALS_FILE}'; fi`);
      expect(uploadContent(container, CREDENTIALS_FILE)).toMatch(/^VEZA_HEALTH_PASSWORD='synthpw/m);
      expect(container.inputs.envs).toBeUndefined();
    }
  });

  it("uploads exactly the renderer's redis.conf for each node", () => {
    const config = requireValidStackConfig(readStackConfigFile("dev").raw);
    const topology = stackTopology(config);
    for (const node of topology.dataNodes) {
      const container = byName(result.unmasked, `${node.name}-container`);
      expect(uploadContent(container, REDIS_CONF_PATH)).toBe(renderRedisConf(dataNodeSettings(config, topology, node)));
    }
    const sizing = computeSizing(config.redis);
    expect(uploadContent(byName(result.unmasked, "redis-0-container"), REDIS_CONF_PATH)).toContain(`maxmemory ${sizing.maxmemoryBytes}\n`);
    expect(sizing.maxmemoryBytes).toBe(Math.floor(512 * MiB * 0.4));
  });

  it("keeps every password secret: the ACL file, the scripts' credentials file and the generated passwords", () => {
    for (const container of redisContainers) {
      const paths = result.secretPaths.get(`${CONTAINER}::${container.name}`);
      const uploads = container.inputs.uploads as Array<{ file: string }>;
      const secretUploads = [REDIS_SECRETS_PATH, CREDENTIALS_FILE].map((file) => `uploads[${uploads.findIndex((u) => u.file === file)}].content`);
      expect(paths?.slice().sort()).toEqual(secretUploads.sort());
      const masked = result.plan.resources.find((r) => r.name === container.name)!;
      expect(JSON.stringify(masked.inputs)).not.toMatch(/synthpw/);
    }
    for (const password of ofType(result.unmasked, "random:index/randomPassword:RandomPassword")) {
      expect(password.inputs.special).toBe(false);
      expect(password.inputs.length).toBeGreaterThanOrEqual(32);
    }
    expect(JSON.stringify(result.plan)).not.toMatch(/synthpw/);
  });

  it("uses the same password references on every node", () => {
    const secretsFiles = redisContainers.map((c) => uploadContent(c, REDIS_SECRETS_PATH));
    expect(new Set(secretsFiles).size).toBe(1);
    expect(secretsFiles[0]).toMatch(/^user veza-app on #[0-9a-f]{64} /m);
    expect(secretsFiles[0]).toMatch(/^user default off$/m);
  });

  it("mounts a named data volume and checks its room before Redis starts", () => {
    for (const container of redisContainers) {
      const mounts = container.inputs.mounts as Array<{ source: string; target: string; type: string }>;
      expect(mounts).toEqual([{ type: "volume", source: `veza-${container.name.replace(/-container$/, "")}-data`, target: "/data" }]);
    }
    const check = byName(result.unmasked, "redis-0-data-volume-check");
    expect(check.inputs.create).toMatch(/docker run --rm -v 'veza-redis-0-data:\/data'/);
  });

  it("runs the host kernel tuning on the host and sets the Docker host for local commands", () => {
    const tuning = byName(result.unmasked, "local-kernel-tuning");
    expect(tuning.type).toBe("command:local:Command");
    expect(tuning.inputs.create).toMatch(/--privileged --network host/);
    expect((tuning.inputs.environment as Record<string, string>).DOCKER_HOST).toBe("unix:///var/run/docker.sock");
    // Redis starts only after the kernel is tuned and the data volume has room.
    for (const container of redisContainers) {
      expect(container.dependsOn).toEqual(expect.arrayContaining(["local-kernel-tuning", `${container.name.replace(/-container$/, "")}-data-volume-check`]));
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
      "grafana/grafana:12.2.0", "oliver006/redis_exporter:v1.62.0-alpine", "prom/alertmanager:v0.27.0", "prom/node-exporter:v1.8.2", "prom/prometheus:v2.53.2",
      "veza-backend-api:dev", "veza/redis:7.0.15-1-deb12u10",
    ]);
    for (const image of images) expect(image.inputs.keepLocally).toBe(true);
  });
});
