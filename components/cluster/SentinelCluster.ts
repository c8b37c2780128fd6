import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { StackConfig } from "../config/types";
import type { DockerHost } from "../host/DockerHost";
import type { SshAccess } from "../host/hostCommand";
import { containerLabels, credentialSeed, declaredConfig, redisFamilyContainerArgs, tlsFilesCommand } from "../host/containerDefaults";
import { OUTGOING_ROLE, outgoingClientTls } from "../tls/certificates";
import type { StackCertificates } from "../tls/StackCertificates";
import type { RedisCredentials } from "../redis/RedisCredentials";
import { RedisNode } from "./RedisNode";
import type { StackModel } from "../topology/model";
import type { RedisEndpoint } from "../base/endpoints";
import { dataNodeSettings, declaredDataHosts } from "../topology/settings";
import { dataNodeContainer, sentinelContainer } from "../topology/containers";
import { dataNodeLabels } from "../topology/nodeLabels";
import { dockerExecStdinScript, hostCommand, type HostCommand } from "../host/hostCommand";
import { renderSentinelLiveScript } from "../topology/credentialScripts";
import { acceptsMarker, holdsMarker } from "../redis/rotation";
import { CONTAINER_DATA_DIR } from "../redis/redisConf";
import { SENTINEL_ROLES, SENTINEL_USERS } from "../redis/acl";
import { CONTAINER_CREDENTIALS_DIR, CONTAINER_TLS_FILES, sentinelSettings } from "../topology/settings";
import { hardenedContainer } from "../host/hardenedContainer";

/** Sentinel needs little memory; the limit only stops a runaway from starving Redis. */
export const SENTINEL_MEMORY_LIMIT_MIB = 128;

export interface SentinelClusterArgs {
  config: StackConfig;
  /** Placement and sizing, computed once for the stack. */
  model: StackModel;
  dockerHosts: Map<string, DockerHost>;
  credentials: RedisCredentials;
  /** With TLS on: the stack's certificates, which every data node and sentinel gets its files from. */
  certificates?: StackCertificates;
  ssh: SshAccess;
}

/**
 * The data nodes (hardened RedisNodes) and, with Sentinel enabled, the sentinels, spread over the
 * hosts. With Sentinel off it holds the one standalone node, so a node's URN is the same either
 * way and toggling `sentinel.enabled` updates it instead of creating a second container beside it.
 *
 * The rolling order is in the dependency graph: the replicas, then the initial master, then the
 * sentinels, each container depending on the one before. The Node SDK registers a resource only
 * once its dependsOn resources are done, and `wait: true` makes "done" mean healthy, so the engine
 * replaces one container at a time, whatever change they all share (an image bump).
 */
export class SentinelCluster extends pulumi.ComponentResource {
  /** In declared order (redis-0 first). */
  readonly nodes: RedisNode[];
  readonly sentinels: docker.Container[];
  /** Each sentinel's volume seeded with the live credentials before its container is created. */
  readonly sentinelSeeds: pulumi.Resource[] = [];
  /** Each sentinel's rotation step, applied live (docker exec). */
  readonly sentinelCredentials: HostCommand[] = [];
  readonly masterName: string;
  readonly sentinelEndpoints: RedisEndpoint[];

  constructor(name: string, args: SentinelClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:redis:SentinelCluster", name, {}, opts);
    const { config, model, dockerHosts } = args;
    const { topology } = model;
    this.masterName = config.sentinel.masterName;

    // Replicas first, the initial master last: a change every node shares replaces the master
    // once its replicas are back in sync (and the master hands its role off on SIGTERM).
    const rollingOrder = [...topology.dataNodes].reverse();
    // Every data host's firewall before any container: a host added (or readdressed) is admitted
    // by its peers' rules before its node or sentinel tries to reach them.
    const firewalls = [...dockerHosts.values()].flatMap((dockerHost) => (dockerHost.firewall ? [dockerHost.firewall] : []));
    let previous: pulumi.Resource | undefined;
    const created = new Map<string, RedisNode>();
    for (const node of rollingOrder) {
      const redisNode = new RedisNode(
        node.name,
        {
          dockerHost: dockerHosts.get(node.host.name)!,
          image: config.redis.image,
          settings: dataNodeSettings(config, model, node),
          definition: dataNodeContainer(config, model, node),
          credentials: args.credentials,
          declaredDataHosts: declaredDataHosts(topology),
          memoryLimitMiB: config.redis.memoryLimitMiB,
          labels: dataNodeLabels(config, model.sizing, node.role, node.host.name),
          ssh: args.ssh,
          after: previous,
          firewalls,
          protectData: config.environment === "production",
          ...(args.certificates ? { tls: { files: CONTAINER_TLS_FILES, material: args.certificates.serverMaterial(node.name, OUTGOING_ROLE.dataNode) } } : {}),
        },
        {
          parent: this,
          // Stacks deployed before the standalone node moved under this component kept it at the top level.
          aliases: [{ parent: pulumi.rootStackResource }],
        },
      );
      created.set(node.name, redisNode);
      previous = redisNode.container;
    }
    this.nodes = topology.dataNodes.map((node) => created.get(node.name)!);

    this.sentinels = topology.sentinels
      .slice()
      .reverse()
      .map((sentinel) => {
        const dockerHost = dockerHosts.get(sentinel.host.name)!;
        const definition = sentinelContainer(config, model, sentinel);
        // The runtime config and the live credentials survive a replacement: a sentinel replaced
        // after a rotation comes back with the passwords of the step last applied (the seed keeps them).
        const volumeName = `veza-${sentinel.name}-data`;
        const volume = new docker.Volume(
          `${sentinel.name}-data`,
          {
            name: volumeName,
            labels: [
              { label: "veza.component", value: "sentinel-data" },
              { label: "veza.node", value: sentinel.name },
            ],
          },
          { parent: this, provider: dockerHost.provider },
        );
        const rotation = args.credentials.rotation;
        const markers = [
          acceptsMarker(
            sentinel.name,
            rotation,
            SENTINEL_ROLES.map((role) => SENTINEL_USERS[role].credential),
          ),
          holdsMarker(sentinel.name, rotation, ["sentinel", "sentinelPeer", "sentinelClients", "health"]),
        ];
        const image = dockerHost.image(config.redis.image);
        // As for the data nodes: a fresh volume gets this step's passwords before the container starts.
        const seed = credentialSeed(
          sentinel.name,
          {
            host: dockerHost.host,
            image: config.redis.image,
            volume,
            volumeName,
            definition,
            credentials: args.credentials,
            markers,
            ssh: args.ssh,
            dependsOn: [image],
          },
          { parent: this },
        );
        this.sentinelSeeds.push(seed);
        // Sentinel reads its TLS files only at start (SENTINEL CONFIG SET refuses them): a
        // reissued certificate replaces the files command (its trigger is the certificates'
        // fingerprint), and that replaces the sentinel (replaceWith), in the rolling order below.
        // Not a label: a value unknown in a preview there would hide every label from the policies.
        const tls = args.certificates
          ? tlsFilesCommand(
              sentinel.name,
              {
                host: dockerHost.host,
                image: config.redis.image,
                volume,
                volumeName,
                tls: { files: CONTAINER_TLS_FILES, material: args.certificates.serverMaterial(sentinel.name, OUTGOING_ROLE.sentinel) },
                ssh: args.ssh,
                dependsOn: [image],
              },
              { parent: this },
            )
          : undefined;
        const container = hardenedContainer(
          { kind: "sentinel", host: dockerHost.host, ssh: args.ssh },
          `${sentinel.name}-container`,
          {
            name: `veza-${sentinel.name}`,
            image: image.imageId,
            ...redisFamilyContainerArgs(definition),
            networkMode: "host",
            memory: SENTINEL_MEMORY_LIMIT_MIB,
            memorySwap: SENTINEL_MEMORY_LIMIT_MIB,
            mounts: [{ type: "volume", source: volume.name, target: CONTAINER_DATA_DIR }],
            labels: containerLabels({
              component: "sentinel",
              environment: config.environment,
              host: sentinel.host.name,
              "sentinel-count": String(config.sentinel.count),
              "sentinel-quorum": String(config.sentinel.quorum),
              "host-count": String(config.hosts.length),
            }),
          },
          {
            parent: this,
            provider: dockerHost.provider,
            // After every data node (their first look finds the master up), then one at a time.
            dependsOn: [...dockerHost.ready, ...firewalls, seed, ...(tls ? [tls.command] : []), previous!],
            ...(tls ? { replaceWith: [tls.command] } : {}),
            deleteBeforeReplace: true,
            replaceOnChanges: ["healthcheck"],
          },
          declaredConfig(definition.files),
        );
        const settings = sentinelSettings(config, model, sentinel);
        this.sentinelCredentials.push(
          hostCommand(
            `${sentinel.name}-credentials`,
            dockerHost.host,
            {
              create: dockerExecStdinScript(`veza-${sentinel.name}`),
              stdin: pulumi.secret(
                args.credentials.state.apply((state) =>
                  renderSentinelLiveScript(
                    {
                      name: sentinel.name,
                      local: { host: settings.bindAddress, port: settings.port },
                      credentialsDir: CONTAINER_CREDENTIALS_DIR,
                      ...(settings.tls ? { tls: outgoingClientTls(settings.tls) } : {}),
                    },
                    config.sentinel.masterName,
                    state,
                  ),
                ),
              ),
              // The markers first (read by the policy pack up to the container's name, known in a
              // preview), then the container's id: a replaced sentinel gets the step applied again.
              triggers: [...markers, `veza-${sentinel.name}`, container.id],
            },
            args.ssh,
            { parent: this, dependsOn: [container] },
          ),
        );
        previous = container;
        return container;
      })
      .reverse();

    this.sentinelEndpoints = topology.sentinels.map((s) => ({ host: s.host.address, port: s.port }));
    this.registerOutputs({ masterName: this.masterName, sentinels: this.sentinelEndpoints });
  }
}
