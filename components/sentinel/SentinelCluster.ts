import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { StackConfig } from "../config/types";
import type { DockerHost } from "../host/DockerHost";
import type { SshAccess } from "../host/hostCommand";
import { ACL_USERS } from "../redis/acl";
import { containerLabels, HEALTHCHECK_TIMING, LOG_OPTIONS, NOFILE_ULIMIT, RESTART_POLICY } from "../redis/containerDefaults";
import type { RedisCredentials } from "../redis/RedisCredentials";
import { RedisNode } from "../redis/RedisNode";
import type { RedisEndpoint, Topology } from "../topology/placement";
import { dataNodeSettings, sentinelSettings } from "../topology/settings";
import { renderSentinelConf, renderSentinelSecretsConf, SENTINEL_CONF_PATH } from "./sentinelConf";
import { dataNodeLabels } from "../redis/nodeLabels";

/** Sentinel needs little memory; the limit only stops a runaway from starving Redis. */
export const SENTINEL_MEMORY_LIMIT_MIB = 128;

export interface SentinelClusterArgs {
  config: StackConfig;
  topology: Topology;
  dockerHosts: Map<string, DockerHost>;
  credentials: RedisCredentials;
  ssh: SshAccess;
}

/** One master, N replicas (hardened RedisNodes) and S sentinels, spread over the hosts. */
export class SentinelCluster extends pulumi.ComponentResource {
  readonly nodes: RedisNode[];
  readonly sentinels: docker.Container[];
  readonly masterName: string;
  readonly sentinelEndpoints: RedisEndpoint[];

  constructor(name: string, args: SentinelClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:redis:SentinelCluster", name, {}, opts);
    const { config, topology, dockerHosts } = args;
    this.masterName = config.sentinel.masterName;

    this.nodes = topology.dataNodes.map((node) => new RedisNode(node.name, {
      dockerHost: dockerHosts.get(node.host.name)!,
      image: config.redis.image,
      settings: dataNodeSettings(config, topology, node),
      credentials: args.credentials,
      memoryLimitMiB: config.redis.memoryLimitMiB,
      labels: dataNodeLabels(config, node.role, node.host.name),
      ssh: args.ssh,
    }, { parent: this }));

    this.sentinels = topology.sentinels.map((sentinel) => {
      const dockerHost = dockerHosts.get(sentinel.host.name)!;
      const settings = sentinelSettings(config, topology, sentinel);
      return new docker.Container(`${sentinel.name}-container`, {
        name: `veza-${sentinel.name}`,
        image: dockerHost.image(config.redis.image).imageId,
        command: ["redis-server", SENTINEL_CONF_PATH, "--sentinel"],
        networkMode: "host",
        memory: SENTINEL_MEMORY_LIMIT_MIB,
        memorySwap: SENTINEL_MEMORY_LIMIT_MIB,
        restart: RESTART_POLICY,
        envs: [pulumi.interpolate`REDISCLI_AUTH=${args.credentials.passwords.health}`],
        healthcheck: {
          tests: ["CMD-SHELL", `redis-cli -h ${settings.bindAddress} -p ${settings.port} --user ${ACL_USERS.health} --no-auth-warning ping | grep -q PONG`],
          ...HEALTHCHECK_TIMING,
        },
        // Sentinel rewrites its config file, so it lives under /data, which the entrypoint
        // hands to the redis user.
        uploads: [
          { file: SENTINEL_CONF_PATH, content: renderSentinelConf(settings) },
          { file: settings.secretsPath, content: pulumi.secret(args.credentials.all.apply((c) => renderSentinelSecretsConf(config.sentinel.masterName, c))) },
        ],
        ulimits: [NOFILE_ULIMIT],
        logDriver: "json-file",
        logOpts: LOG_OPTIONS,
        labels: containerLabels({
          component: "sentinel",
          environment: config.environment,
          host: sentinel.host.name,
          "sentinel-count": String(config.sentinel.count),
          "sentinel-quorum": String(config.sentinel.quorum),
          "host-count": String(config.hosts.length),
        }),
      }, {
        parent: this,
        provider: dockerHost.provider,
        // Sentinels start after the data nodes so their first look finds the master up.
        dependsOn: [dockerHost.tuning, ...this.nodes.map((n) => n.container)],
        deleteBeforeReplace: true,
      });
    });

    this.sentinelEndpoints = topology.sentinels.map((s) => ({ host: s.host.address, port: s.port }));
    this.registerOutputs({ masterName: this.masterName, sentinels: this.sentinelEndpoints });
  }
}
