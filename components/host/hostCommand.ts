import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { HostConfig } from "../config/types";
import { shellQuote } from "../base/shell";
import { ONE_SHOT_DOCKER_RUN } from "../base/hardening";

export interface SshAccess {
  /** Private key for ssh:// hosts; when absent the SSH agent (SSH_AUTH_SOCK) is used. */
  privateKey?: pulumi.Output<string>;
  /** The stack's name: the key file the Docker provider's ssh reads is per stack. */
  stack: string;
}

export interface HostCommandArgs {
  create: pulumi.Input<string>;
  /** Run when the resource is deleted (pulumi-command runs `delete` on destroy and before a replace). */
  delete?: pulumi.Input<string>;
  /** Secret material goes on stdin: SSH servers usually refuse client environment variables. */
  stdin?: pulumi.Input<string>;
  triggers?: pulumi.Input<unknown[]>;
}

/**
 * `docker run --rm -i [flags] --entrypoint sh '<image>' -s`: the command's stdin, as a script, in
 * a throwaway container of that image. The image comes from config: quoted, so no value can end it.
 */
export function dockerRunStdinScript(image: string, flags: string[] = []): string {
  return [`${ONE_SHOT_DOCKER_RUN} -i`, ...flags, "--entrypoint sh", shellQuote(image), "-s"].join(" ");
}

/** `docker exec -i <container> sh -s`: the command's stdin, as a script, inside a running container. */
export function dockerExecStdinScript(container: string): string {
  return `docker exec -i ${shellQuote(container)} sh -s`;
}

/** ssh://user@host[:port] -> user, host and port for @pulumi/command's remote connection. */
export function parseSshDockerHost(dockerHost: string): { user: string; host: string; port: number } | undefined {
  const match = /^ssh:\/\/([^@]+)@([^:/]+)(?::(\d+))?$/.exec(dockerHost);
  return match ? { user: match[1], host: match[2], port: match[3] ? Number(match[3]) : 22 } : undefined;
}

/**
 * A command run on a host: local.Command for a local Docker socket, remote.Command over SSH for
 * an ssh:// Docker host. Either way the command's `docker` talks to that host's daemon.
 */
/** A command on a docker host: local for a local socket, over SSH otherwise. */
export type HostCommand = command.local.Command | command.remote.Command;

export function hostCommand(name: string, host: HostConfig, args: HostCommandArgs, ssh: SshAccess, opts: pulumi.CustomResourceOptions): HostCommand {
  const sshTarget = parseSshDockerHost(host.dockerHost);
  if (!sshTarget) {
    return new command.local.Command(
      name,
      {
        create: args.create,
        delete: args.delete,
        stdin: args.stdin,
        environment: { DOCKER_HOST: host.dockerHost },
        triggers: args.triggers,
      },
      opts,
    );
  }
  return new command.remote.Command(
    name,
    {
      // No per-shell value here (an agent socket path changes with every login and would re-run
      // every command): without a key the provider reads SSH_AUTH_SOCK itself.
      connection: {
        host: sshTarget.host,
        port: sshTarget.port,
        user: sshTarget.user,
        privateKey: ssh.privateKey,
        // Without it the provider ignores the host key (@pulumi/command ConnectionArgs.hostKey).
        hostKey: host.sshHostKey,
      },
      create: args.create,
      delete: args.delete,
      stdin: args.stdin,
      triggers: args.triggers,
    },
    opts,
  );
}
