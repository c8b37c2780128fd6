// Container settings every Redis-family container shares (data nodes and sentinels).
import * as pulumi from "@pulumi/pulumi";
import type * as docker from "@pulumi/docker";
import type { HostConfig } from "../config/types";
import { dockerRunStdinScript, hostCommand, type HostCommand, type SshAccess } from "./hostCommand";
import type { ContainerDefinition, DeclaredFile } from "../topology/containers";
import { CREDENTIAL_SEED_SUFFIX, shellQuote } from "../base/shell";
import { CREDENTIAL_SEED_CAPABILITIES, CREDENTIAL_SEED_MOUNT, renderTlsFilesScript } from "../topology/credentialScripts";
import { CONTAINER_CREDENTIALS_DIR } from "../topology/settings";
import { certificatesFingerprint, type TlsFiles, type TlsMaterial } from "../tls/certificates";
import { hardenedContainerArgs } from "../base/hardening";
import type { RedisCredentials } from "../redis/RedisCredentials";
import { CONTAINER_NOFILE_LIMIT } from "../redis/sizing";

/** The container's files, every one under its kind's config root (CONFIG_ROOTS). */
export type ContainerConfigFiles = Array<{ file: string; content: pulumi.Input<string> }>;

export const LABEL_PREFIX = "veza.";

export function containerLabels(labels: Record<string, pulumi.Input<string>>): docker.types.input.ContainerLabel[] {
  return Object.entries(labels).map(([label, value]) => ({ label: `${LABEL_PREFIX}${label}`, value }));
}

/** Bounded json-file logs: a chatty Redis must not fill the disk it persists to. */
export const LOG_OPTIONS = { "max-size": "10m", "max-file": "5" };

/** maxclients 10000 needs about 10032 descriptors; Docker's default soft limit is often 1024. */
export const NOFILE_ULIMIT: docker.types.input.ContainerUlimit = { name: "nofile", soft: CONTAINER_NOFILE_LIMIT, hard: CONTAINER_NOFILE_LIMIT };

/** Restarted after a crash or a host reboot, but not after an operator's `docker stop`. */
export const RESTART_POLICY = "unless-stopped";

/**
 * Healthcheck cadence. Every 2 s, so `wait: true` moves the rolling order on soon after a node is
 * ready; unhealthy after ~10 s of failures. The timeout covers the script's two bounded redis-cli
 * calls (2 s each).
 */
export const HEALTHCHECK_TIMING = { interval: "2s", timeout: "5s", retries: 5, startPeriod: "10s" };

/** The inputs a data node and a sentinel container share, from their definition. */
export function redisFamilyContainerArgs(definition: ContainerDefinition) {
  return {
    // Capabilities and no-new-privileges (components/base/hardening.ts).
    ...hardenedContainerArgs(definition.kind),
    entrypoints: definition.entrypoint,
    healthcheck: { tests: definition.healthcheck, ...HEALTHCHECK_TIMING },
    // Create returns only once healthy (and fails `pulumi up` if never): a crash-looping Redis
    // cannot give a green `up`, and the next node in the rolling order waits for this one.
    wait: true,
    waitTimeout: definition.healthyWithinSeconds,
    // The provider's delete stops with a 0 s timeout unless this is set: SIGKILL before the AOF
    // is flushed and before a master could hand off. stopTimeout covers `docker stop` and reboots.
    destroyGraceSeconds: definition.stopGraceSeconds,
    stopTimeout: definition.stopGraceSeconds,
    restart: RESTART_POLICY,
    ulimits: [NOFILE_ULIMIT],
    logDriver: "json-file",
    logOpts: LOG_OPTIONS,
  };
}

/**
 * The declared files, read-only at /etc/veza from the node's config carrier (host/hardenedContainer.ts):
 * plain text only. The passwords are never uploaded (an upload is ForceNew, and an ignored one stays
 * at its first value); `credentialSeed` writes them into the volume.
 */
export function declaredConfig(files: DeclaredFile[]): ContainerConfigFiles {
  return files.map((file) => ({ file: file.path, content: file.content }));
}

/**
 * A throwaway container that writes files into a volume: root with one capability (CHOWN to hand
 * the files to their reader's uid, DAC_OVERRIDE to write into a directory another uid owns), no
 * network, no new privileges, the volume at `mount`.
 */
export function volumeWriterRunFlags(capability: "CHOWN" | "DAC_OVERRIDE", volumeName: string, mount: string): string[] {
  return ["--user 0:0", "--network none", "--cap-drop ALL", `--cap-add ${capability}`, "--security-opt no-new-privileges", `-v ${shellQuote(`${volumeName}:${mount}`)}`];
}

/** What the seed's throwaway container is given: root with CREDENTIAL_SEED_CAPABILITIES only, no network, the volume at /data. */
export function credentialSeedRunFlags(volumeName: string): string[] {
  return [
    "--user 0:0",
    "--network none",
    "--cap-drop ALL",
    ...Object.keys(CREDENTIAL_SEED_CAPABILITIES).map((cap) => `--cap-add ${cap}`),
    "--security-opt no-new-privileges",
    `-v ${shellQuote(`${volumeName}:${CREDENTIAL_SEED_MOUNT}`)}`,
  ];
}

/**
 * `<name>-credentials-seed`: the definition's seed script, run against the volume after it exists
 * and before the container is created (the container depends on it), with this step's passwords.
 * Triggers: the volume's name, then the step's markers, so it runs again at every step (a no-op on
 * a populated volume). The name comes first, as a plain string: the policy pack reads only leading
 * markers (a seed accepts nothing live; the live apply's markers are the ones that count), and a
 * value it reads must be known in a preview (the volume's output is not while it is created).
 * Replaced with the volume, so a recreated volume is seeded again.
 */
export function credentialSeed(
  name: string,
  args: {
    host: HostConfig;
    image: string;
    volume: docker.Volume;
    /** The volume's declared name (`veza-<name>-data`), known before the volume exists. */
    volumeName: string;
    definition: ContainerDefinition;
    credentials: RedisCredentials;
    markers: string[];
    ssh: SshAccess;
    dependsOn: pulumi.Input<pulumi.Resource>[];
  },
  opts: pulumi.CustomResourceOptions,
): pulumi.Resource {
  return hostCommand(
    `${name}${CREDENTIAL_SEED_SUFFIX}`,
    args.host,
    {
      create: args.volume.name.apply((volumeName) => dockerRunStdinScript(args.image, credentialSeedRunFlags(volumeName))),
      stdin: pulumi.secret(args.credentials.state.apply(args.definition.seed)),
      triggers: [args.volumeName, ...args.markers],
    },
    args.ssh,
    { ...opts, dependsOn: [...args.dependsOn, args.volume], replaceWith: [args.volume] },
  );
}

/** A process's TLS files, where its conf and scripts read them, and what to write there. */
export interface ProcessTls {
  files: TlsFiles;
  /** SECRET: holds the private keys. */
  material: pulumi.Output<TlsMaterial>;
}

/**
 * `<name>-tls-files`: the TLS files written into the volume by a throwaway container, before the
 * container is created and again whenever a certificate is reissued (the fingerprint of the
 * certificates, never of the keys, is its trigger). Replaced with the volume.
 */
export function tlsFilesCommand(
  name: string,
  args: { host: HostConfig; image: string; volume: docker.Volume; volumeName: string; tls: ProcessTls; ssh: SshAccess; dependsOn: pulumi.Input<pulumi.Resource>[] },
  opts: pulumi.CustomResourceOptions,
): { command: HostCommand; fingerprint: pulumi.Output<string> } {
  const fingerprint = pulumi.unsecret(args.tls.material.apply(certificatesFingerprint));
  const command = hostCommand(
    `${name}-tls-files`,
    args.host,
    {
      create: args.volume.name.apply((volumeName) => dockerRunStdinScript(args.image, credentialSeedRunFlags(volumeName))),
      stdin: pulumi.secret(args.tls.material.apply((material) => renderTlsFilesScript(name, CONTAINER_CREDENTIALS_DIR, material))),
      triggers: [args.volumeName, fingerprint],
    },
    args.ssh,
    { ...opts, dependsOn: [...args.dependsOn, args.volume], replaceWith: [args.volume] },
  );
  return { command, fingerprint };
}
