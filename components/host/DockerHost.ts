import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { HostConfig } from "../config/types";
import { hostCommand, type SshAccess } from "./hostCommand";
import { renderHostTuningCommand } from "./hostTuning";
import { dockerSshOptions, writeSshIdentity } from "./dockerSsh";
import { BUILT_REDIS_IMAGE, redisImageBuild } from "../images/redisImage";
import { apiStandinBuild, BUILT_API_STANDIN_IMAGE } from "../images/standinImage";
import { MONITORING_IMAGES, monitoringImageBuild } from "../images/monitoringImages";
import { backupImageBuild, BUILT_BACKUP_IMAGE } from "../images/backupImage";
import { BUILT_FIREWALL_IMAGE, firewallImageBuild } from "../images/firewallImage";
import { alertmanagerGateImageBuild, BUILT_ALERTMANAGER_GATE_IMAGE } from "../images/alertmanagerGateImage";
import { firewallOwnerToken, renderFirewallCommand, renderFirewallRemoveCommand, renderFirewallRuleset, type HostFirewall } from "../base/firewall";

/** The images the stack builds on each host from images/ instead of pulling: tag -> build. */
const BUILT_IMAGES: Record<string, () => { context: string; args: Record<string, string> }> = {
  [BUILT_REDIS_IMAGE]: redisImageBuild,
  [BUILT_API_STANDIN_IMAGE]: apiStandinBuild,
  [BUILT_BACKUP_IMAGE]: backupImageBuild,
  [BUILT_FIREWALL_IMAGE]: firewallImageBuild,
  [BUILT_ALERTMANAGER_GATE_IMAGE]: alertmanagerGateImageBuild,
  ...Object.fromEntries(Object.values(MONITORING_IMAGES).map((image) => [image.tag, () => monitoringImageBuild(image)])),
};

export interface DockerHostArgs {
  host: HostConfig;
  /** Image that runs the tuning script (the Redis image: already needed on every data host). */
  tuningImage: string;
  tcpBacklog: number;
  /** This host's firewall (firewall.ts), when `firewall.enabled` and the host holds Redis-family ports. */
  firewall?: HostFirewall;
  ssh: SshAccess;
}

/**
 * One declared host: its Docker provider, its kernel tuning, and the images pulled onto it.
 * Everything placed on the host is created through this provider and after the tuning.
 */
export class DockerHost extends pulumi.ComponentResource {
  readonly host: HostConfig;
  readonly provider: docker.Provider;
  /** What every Redis-family container on the host waits for: the kernel tuning, and the firewall when declared. */
  readonly ready: pulumi.Resource[];
  /** The firewall command (firewall.ts), when declared: every Redis-family container of the stack waits for all of them. */
  readonly firewall?: pulumi.Resource;
  private readonly images = new Map<string, docker.RemoteImage>();

  constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:host:DockerHost", name, {}, opts);
    this.host = args.host;
    const ssh = args.host.dockerHost.startsWith("ssh://");
    this.provider = new docker.Provider(
      `${name}-docker`,
      {
        host: args.host.dockerHost,
        sshOpts: ssh ? (args.ssh.privateKey ? writeSshIdentity(args.ssh.stack, args.ssh.privateKey).apply((file) => dockerSshOptions(args.host, file)) : dockerSshOptions(args.host)) : undefined,
      },
      { parent: this },
    );
    const tuningImage = this.image(args.tuningImage);
    const tuning = hostCommand(
      `${name}-kernel-tuning`,
      args.host,
      {
        // Any change to the script re-runs it: a changed `create` is an update that runs it again
        // (pulumi-command commandController.go Update).
        // The image's content ID, not its tag: what runs privileged is exactly what was pulled or built.
        create: tuningImage.imageId.apply((imageId) => renderHostTuningCommand(imageId, { tcpBacklog: args.tcpBacklog })),
      },
      args.ssh,
      { parent: this, dependsOn: [tuningImage] },
    );
    this.ready = [tuning];
    if (args.firewall) {
      const firewallImage = this.image(BUILT_FIREWALL_IMAGE);
      const commandName = `${name}-firewall`;
      const owner = firewallOwnerToken(commandName, args.host.dockerHost, args.host.sshHostKey);
      // A changed ruleset (a host, a port, a client source) changes `stdin`: an update that runs
      // the command again, and nft swaps the table in one transaction. A replacement (a new SSH
      // key or host key) deletes first: the old command's delete removes the table its token
      // owns, then the new one applies it again (a few seconds without the table). Skipped when
      // the host itself goes (deletedWith its provider): an unreachable host would block `up`.
      this.firewall = hostCommand(
        commandName,
        args.host,
        {
          create: firewallImage.imageId.apply((firewallImageId) => renderFirewallCommand(firewallImageId, args.host.name, owner)),
          stdin: renderFirewallRuleset(args.firewall),
          delete: firewallImage.imageId.apply((firewallImageId) => renderFirewallRemoveCommand(firewallImageId, owner)),
        },
        args.ssh,
        { parent: this, dependsOn: [firewallImage], deleteBeforeReplace: true, deletedWith: this.provider },
      );
      this.ready.push(this.firewall);
    }
    this.registerOutputs({ dockerHost: args.host.dockerHost });
  }

  /**
   * The image pulled onto this host once, however many containers use it. BUILT_IMAGES are
   * built here instead (images/redis: Debian's patched redis; images/api-standin: the dev API;
   * images/monitoring: Prometheus, Alertmanager, redis_exporter at the versions the tests run): docker.Image builds on
   * this host's daemon through its provider (the context travels over ssh), with no registry
   * (skipPush). A RemoteImage of the built tag then gives containers and commands the image's
   * content ID like any pulled image; it finds the tag locally and never pulls, and the build's
   * repoDigest as its pull trigger re-reads it after each rebuild.
   */
  image(reference: string): docker.RemoteImage {
    let image = this.images.get(reference);
    if (!image) {
      const safe = reference.replace(/[^a-zA-Z0-9]+/g, "-").replace(/-+$/, "");
      const buildArgs = Object.hasOwn(BUILT_IMAGES, reference) ? BUILT_IMAGES[reference]() : undefined;
      const build = buildArgs ? new docker.Image(`${this.host.name}-build-${safe}`, { imageName: reference, build: buildArgs, skipPush: true }, { parent: this, provider: this.provider }) : undefined;
      image = new docker.RemoteImage(
        `${this.host.name}-image-${safe}`,
        {
          name: reference,
          keepLocally: true,
          ...(build ? { pullTriggers: [build.repoDigest] } : {}),
        },
        { parent: this, provider: this.provider, ...(build ? { dependsOn: [build] } : {}) },
      );
      this.images.set(reference, image);
    }
    return image;
  }
}
