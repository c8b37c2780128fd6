import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { DockerHost } from "../host/DockerHost";
import { hostCommand, type SshAccess } from "../host/hostCommand";
import { renderDataVolumeCheckCommand } from "../host/hostTuning";
import { ACL_USERS } from "./acl";
import { containerLabels, HEALTHCHECK_TIMING, LOG_OPTIONS, NOFILE_ULIMIT, RESTART_POLICY } from "./containerDefaults";
import type { RedisCredentials } from "./RedisCredentials";
import { CONTAINER_DATA_DIR, REDIS_CONF_PATH, renderRedisConf, renderRedisSecretsConf, type RedisNodeSettings } from "./redisConf";

export interface RedisNodeArgs {
  dockerHost: DockerHost;
  image: string;
  settings: RedisNodeSettings;
  credentials: RedisCredentials;
  memoryLimitMiB: number;
  /** Labels policies and operators read: role, environment, declared headroom... */
  labels: Record<string, string>;
  ssh: SshAccess;
}

/** A hardened Redis data node: one container, its data volume and the volume's disk check. */
export class RedisNode extends pulumi.ComponentResource {
  readonly container: docker.Container;
  readonly volume: docker.Volume;
  readonly address: string;
  readonly port: number;

  constructor(name: string, args: RedisNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:redis:RedisNode", name, {}, opts);
    const { dockerHost, settings } = args;
    const image = dockerHost.image(args.image);
    this.address = settings.announceAddress;
    this.port = settings.port;

    this.volume = new docker.Volume(`${name}-data`, {
      name: `veza-${name}-data`,
      labels: containerLabels({ "size-bytes": String(settings.sizing.dataVolumeBytes), "minimum-bytes": String(settings.sizing.minimumDataVolumeBytes) }),
    }, { parent: this, provider: dockerHost.provider });

    const volumeCheck = hostCommand(`${name}-data-volume-check`, dockerHost.host, {
      create: this.volume.name.apply((volumeName) => renderDataVolumeCheckCommand(args.image, volumeName, settings.sizing.dataVolumeBytes)),
    }, args.ssh, { parent: this, dependsOn: [image, this.volume] });

    this.container = new docker.Container(`${name}-container`, {
      name: `veza-${name}`,
      image: image.imageId,
      // The official image's entrypoint chowns /data and drops to the redis user.
      command: ["redis-server", REDIS_CONF_PATH],
      // Host networking: Sentinel and replicas see real addresses (Redis docs, "Sentinel, Docker,
      // NAT"); bind in redis.conf keeps Redis on the one declared interface.
      networkMode: "host",
      memory: args.memoryLimitMiB,
      // Equal to memory: no swap. A swapping Redis stalls for seconds instead of evicting.
      memorySwap: args.memoryLimitMiB,
      restart: RESTART_POLICY,
      // Redis flushes the AOF on SIGTERM; give it time before SIGKILL.
      stopTimeout: 30,
      envs: [pulumi.interpolate`REDISCLI_AUTH=${args.credentials.passwords.health}`],
      healthcheck: {
        tests: ["CMD-SHELL", `redis-cli -h ${settings.bindAddress} -p ${settings.port} --user ${ACL_USERS.health} --no-auth-warning ping | grep -q PONG`],
        ...HEALTHCHECK_TIMING,
      },
      mounts: [{ type: "volume", source: this.volume.name, target: CONTAINER_DATA_DIR }],
      uploads: [
        { file: REDIS_CONF_PATH, content: renderRedisConf(settings) },
        { file: settings.secretsPath, content: pulumi.secret(args.credentials.all.apply(renderRedisSecretsConf)) },
      ],
      ulimits: [NOFILE_ULIMIT],
      logDriver: "json-file",
      logOpts: LOG_OPTIONS,
      labels: containerLabels(args.labels),
    }, {
      parent: this,
      provider: dockerHost.provider,
      dependsOn: [dockerHost.tuning, volumeCheck],
      // Fixed container name and host port: the old container must go before the new one starts.
      deleteBeforeReplace: true,
    });

    this.registerOutputs({ address: this.address, port: this.port });
  }
}
