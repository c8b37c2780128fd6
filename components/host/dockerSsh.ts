// The ssh:// Docker provider runs the machine's own `ssh` (docker/cli connhelper, with the
// provider's sshOpts appended), so the stack's key and the host's key reach it only as ssh options.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { HostConfig } from "../config/types";
import { parseSshDockerHost } from "./hostCommand";

/** Relative to the project directory (where `pulumi up` runs the program and the provider): the same path on every machine, so sshOpts never differ between operators. */
export const SSH_KEY_DIR = ".veza-ssh";

export function sshIdentityPath(stack: string): string {
  return path.join(SSH_KEY_DIR, `${stack}.key`);
}

/** known_hosts form of the declared host key: `[host]:port key` off port 22 (ssh(1) HOSTS FILE FORMAT). */
export function knownHostsLine(host: HostConfig): string {
  const target = parseSshDockerHost(host.dockerHost);
  if (!target || !host.sshHostKey) throw new Error(`host ${host.name}: an ssh:// dockerHost and sshHostKey are required`);
  const name = target.port === 22 ? target.host : `[${target.host}]:${target.port}`;
  return `${name} ${host.sshHostKey}`;
}

/**
 * ssh options: strict host-key checking against the declared key only (KnownHostsCommand prints
 * it, so no known_hosts file is needed and the user's own is not consulted), and the stack's key
 * when one is configured, else the SSH agent.
 */
export function dockerSshOptions(host: HostConfig, identityFile?: string): string[] {
  return [
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    `KnownHostsCommand=/bin/echo ${knownHostsLine(host)}`,
    ...(identityFile ? ["-o", "IdentitiesOnly=yes", "-i", identityFile] : []),
  ];
}

/** Writes the key 0600 before the provider can use it; resolves to its path. */
export function writeSshIdentity(stack: string, privateKey: pulumi.Output<string>): pulumi.Output<string> {
  return pulumi.unsecret(
    privateKey.apply((key) => {
      const file = sshIdentityPath(stack);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(file, key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600 });
      fs.chmodSync(file, 0o600);
      return file;
    }),
  );
}
