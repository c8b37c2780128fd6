import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { DockerHost } from "../host/DockerHost";
import { dockerExecStdinScript, hostCommand, type SshAccess, type HostCommand } from "../host/hostCommand";
import { CERTIFICATES_TRIGGER_LABEL, outgoingClientTls } from "../tls/certificates";
import { ACL_ROLES } from "../redis/acl";
import { renderDataNodeLiveScript, renderDataNodeTlsReloadScript } from "../topology/credentialScripts";
import { acceptsMarker, holdsMarker } from "../redis/rotation";
import { CONTAINER_CREDENTIALS_DIR } from "../topology/settings";
import { renderDataVolumeCheckCommand } from "../host/hostTuning";
import { containerLabels, credentialSeed, declaredConfig, redisFamilyContainerArgs, tlsFilesCommand, type ProcessTls } from "../host/containerDefaults";
import type { RedisCredentials } from "../redis/RedisCredentials";
import { CONTAINER_DATA_DIR, type RedisNodeSettings } from "../redis/redisConf";
import type { ContainerDefinition } from "../topology/containers";
import { hardenedContainer } from "../host/hardenedContainer";

export interface RedisNodeArgs {
  dockerHost: DockerHost;
  image: string;
  settings: RedisNodeSettings;
  /** Files, entrypoint, healthcheck and timings (components/topology/containers.ts). */
  definition: ContainerDefinition;
  credentials: RedisCredentials;
  /** The data nodes' hosts: the sentinel user's SLAVEOF is pinned to them (acl.ts slaveofRules). */
  declaredDataHosts: readonly string[];
  memoryLimitMiB: number;
  /** Labels policies and operators read: role, environment, declared headroom... */
  labels: Record<string, string>;
  ssh: SshAccess;
  /** The container replaced just before this one (the rolling order); see SentinelCluster. */
  after?: pulumi.Resource;
  /** Every data host's firewall: a new member is admitted by its peers before it starts. */
  firewalls?: pulumi.Resource[];
  /** `protect` on the data volume: production data is never deleted by the engine. */
  protectData: boolean;
  /** With TLS on: the node's files in the container and their PEM contents (StackCertificates). */
  tls?: ProcessTls;
}

/** A hardened Redis data node: one container, its data volume and the volume's disk check. */
export class RedisNode extends pulumi.ComponentResource {
  readonly container: docker.Container;
  readonly volume: docker.Volume;
  /** The volume's live credentials, written before the container is created (only where absent). */
  readonly credentialsSeed: pulumi.Resource;
  /** The rotation step applied to the running node (docker exec): never a restart. */
  readonly credentialsApply: HostCommand;
  /** With TLS on: the certificates reloaded into the running node (CONFIG SET), never a restart. */
  readonly tlsReload?: HostCommand;
  readonly address: string;
  readonly port: number;

  constructor(name: string, args: RedisNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:redis:RedisNode", name, {}, opts);
    const { dockerHost, settings, definition } = args;
    const image = dockerHost.image(args.image);
    this.address = settings.announceAddress;
    this.port = settings.port;

    const volumeName = `veza-${name}-data`;
    this.volume = new docker.Volume(
      `${name}-data`,
      {
        name: volumeName,
        // Every volume input forces a replacement (terraform-provider-docker: all ForceNew), and a
        // volume in use cannot be replaced under the same name: only labels that never change.
        labels: [
          { label: "veza.component", value: "redis-data" },
          { label: "veza.node", value: name },
        ],
      },
      {
        parent: this,
        provider: dockerHost.provider,
        // The data outlives the declaration: `pulumi destroy`, a rename or a replacement of this
        // resource leaves the volume (and its AOF) on the host.
        retainOnDelete: true,
        protect: args.protectData,
        // Stacks deployed before had sizing labels: a label diff would replace the volume in use
        // (and its old state has no retainOnDelete, so the old copy would be deleted).
        ignoreChanges: ["labels"],
      },
    );

    const volumeCheck = hostCommand(
      `${name}-data-volume-check`,
      dockerHost.host,
      {
        create: this.volume.name.apply((volumeName) => renderDataVolumeCheckCommand(args.image, volumeName, settings.sizing.dataVolumeBytes)),
      },
      args.ssh,
      { parent: this, dependsOn: [image, this.volume] },
    );

    // Read by the policy pack: what this node's ACL accepts and what it holds (masterauth, its scripts' users).
    const rotation = args.credentials.rotation;
    const markers = [acceptsMarker(name, rotation, ACL_ROLES), holdsMarker(name, rotation, ["replication", "handoff", "health", "sentinelFailover"])];

    // Before the container: a fresh volume gets this step's passwords, a populated one keeps its own.
    this.credentialsSeed = credentialSeed(
      name,
      {
        host: dockerHost.host,
        image: args.image,
        volume: this.volume,
        volumeName,
        definition,
        credentials: args.credentials,
        markers,
        ssh: args.ssh,
        dependsOn: [image],
      },
      { parent: this },
    );

    const tlsFiles = args.tls
      ? tlsFilesCommand(name, { host: dockerHost.host, image: args.image, volume: this.volume, volumeName, tls: args.tls, ssh: args.ssh, dependsOn: [image] }, { parent: this })
      : undefined;

    this.container = hardenedContainer(
      { kind: "redis", host: dockerHost.host, ssh: args.ssh },
      `${name}-container`,
      {
        name: `veza-${name}`,
        image: image.imageId,
        ...redisFamilyContainerArgs(definition),
        // Host networking: Sentinel and replicas see real addresses (Redis docs, "Sentinel, Docker,
        // NAT"); bind in redis.conf keeps Redis on the one declared interface.
        networkMode: "host",
        memory: args.memoryLimitMiB,
        // Equal to memory: no swap. A swapping Redis stalls for seconds instead of evicting.
        memorySwap: args.memoryLimitMiB,
        // The declared files come read-only at /etc/veza from the node's config carrier (no password among them).
        mounts: [{ type: "volume", source: this.volume.name, target: CONTAINER_DATA_DIR }],
        labels: containerLabels(args.labels),
      },
      {
        parent: this,
        provider: dockerHost.provider,
        // The rolling order: this node is replaced only once the one before it is back and healthy.
        dependsOn: [...dockerHost.ready, ...(args.firewalls ?? []), volumeCheck, this.credentialsSeed, ...(tlsFiles ? [tlsFiles.command] : []), ...(args.after ? [args.after] : [])],
        // Fixed container name and host port: the old container must go before the new one starts.
        deleteBeforeReplace: true,
        // The provider records healthcheck edits without applying them (kreuzwerker/terraform-provider-docker#988).
        replaceOnChanges: ["healthcheck"],
      },
      declaredConfig(definition.files),
    );

    const liveSettings = {
      name,
      local: { host: settings.bindAddress, port: settings.port },
      credentialsDir: CONTAINER_CREDENTIALS_DIR,
      ...(args.tls ? { tls: outgoingClientTls(args.tls.files) } : {}),
    };
    // Each rotation step, live: the volume's credentials, the ACL users and masterauth (credentialScripts.ts).
    this.credentialsApply = hostCommand(
      `${name}-credentials`,
      dockerHost.host,
      {
        create: dockerExecStdinScript(`veza-${name}`),
        stdin: pulumi.secret(args.credentials.state.apply((state) => renderDataNodeLiveScript(liveSettings, state, args.declaredDataHosts))),
        // The markers first (the policy pack reads the leading ones, up to the container's name: a
        // value known in a preview), then the container's id: a replaced container gets the step
        // applied again (a stale live copy moves forward).
        triggers: [...markers, `veza-${name}`, this.container.id],
      },
      args.ssh,
      { parent: this, dependsOn: [this.container] },
    );

    if (args.tls && tlsFiles) {
      const files = args.tls.files;
      // Whenever the files were rewritten (a renewal, a CA step) or the container replaced.
      this.tlsReload = hostCommand(
        `${name}-tls-reload`,
        dockerHost.host,
        {
          create: dockerExecStdinScript(`veza-${name}`),
          stdin: pulumi.secret(args.credentials.state.apply((state) => renderDataNodeTlsReloadScript(liveSettings, files, state))),
          // A known label first: the policy pack reads every command's leading triggers.
          triggers: [CERTIFICATES_TRIGGER_LABEL, tlsFiles.fingerprint, this.container.id],
        },
        args.ssh,
        // After the credentials' apply: the admin password it logs in with is the step's.
        { parent: this, dependsOn: [this.container, tlsFiles.command, this.credentialsApply] },
      );
    }

    this.registerOutputs({ address: this.address, port: this.port });
  }
}
