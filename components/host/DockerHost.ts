import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { HostConfig } from "../config/types";
import { hostCommand, type SshAccess } from "./hostCommand";
import { renderHostTuningCommand } from "./hostTuning";
import { dockerSshOptions, writeSshIdentity } from "./dockerSsh";

export interface DockerHostArgs {
  host: HostConfig;
  /** Image that runs the tuning script (the Redis image: already needed on every data host). */
  tuningImage: string;
  tcpBacklog: number;
  ssh: SshAccess;
}

/**
 * One declared host: its Docker provider, its kernel tuning, and the images pulled onto it.
 * Everything placed on the host is created through this provider and after the tuning.
 */
export class DockerHost extends pulumi.ComponentResource {
  readonly host: HostConfig;
  readonly provider: docker.Provider;
  readonly tuning: pulumi.Resource;
  private readonly images = new Map<string, docker.RemoteImage>();

  constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:host:DockerHost", name, {}, opts);
    this.host = args.host;
    const ssh = args.host.dockerHost.startsWith("ssh://");
    this.provider = new docker.Provider(`${name}-docker`, {
      host: args.host.dockerHost,
      sshOpts: ssh ? (args.ssh.privateKey ? writeSshIdentity(args.ssh.stack, args.ssh.privateKey).apply((file) => dockerSshOptions(args.host, file)) : dockerSshOptions(args.host)) : undefined,
    }, { parent: this });
    const tuningImage = this.image(args.tuningImage);
    this.tuning = hostCommand(`${name}-kernel-tuning`, args.host, {
      // Any change to the script re-runs it: a changed `create` is an update that runs it again
      // (pulumi-command commandController.go Update).
      create: renderHostTuningCommand(args.tuningImage, { tcpBacklog: args.tcpBacklog }),
    }, args.ssh, { parent: this, dependsOn: [tuningImage] });
    this.registerOutputs({ dockerHost: args.host.dockerHost });
  }

  /** The image pulled onto this host once, however many containers use it. */
  image(reference: string): docker.RemoteImage {
    let image = this.images.get(reference);
    if (!image) {
      const safe = reference.replace(/[^a-zA-Z0-9]+/g, "-").replace(/-+$/, "");
      image = new docker.RemoteImage(`${this.host.name}-image-${safe}`, { name: reference, keepLocally: true }, { parent: this, provider: this.provider });
      this.images.set(reference, image);
    }
    return image;
  }
}
