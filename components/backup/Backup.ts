import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import type { HostConfig, StackConfig } from "../config/types";
import type { DockerHost } from "../host/DockerHost";
import { dockerRunStdinScript, hostCommand, type HostCommand, type SshAccess } from "../host/hostCommand";
import { hardenedContainer } from "../host/hardenedContainer";
import { containerLabels, LOG_OPTIONS, RESTART_POLICY } from "../host/containerDefaults";
import { hardenedContainerArgs } from "../base/hardening";
import { shellQuote } from "../base/shell";
import { clientTlsVolumeFiles, renderVolumeFilesScript } from "../topology/credentialScripts";
import type { ClientTlsMaterial } from "../tls/certificates";
import { certificateTriggers } from "../tls/StackCertificates";
import type { StackModel } from "../topology/model";
import type { RedisCredentials } from "../redis/RedisCredentials";
import { holdsMarker } from "../redis/rotation";
import { BACKUP_IMAGE_USER } from "../images/backupImage";
import { toEnvList } from "../api/env";
import {
  BACKUP_METRICS_FILE,
  BACKUP_PASSWORD_FILE,
  BACKUP_PATHS,
  backupJobEnv,
  backupTlsFilesIn,
  backupSettings,
  containerJobPaths,
  renderBackupJobScript,
  RESTIC_PASSWORD_FILE,
  type BackupSettings,
} from "./backupJob";

export interface BackupArgs {
  config: StackConfig;
  model: StackModel;
  dockerHosts: Map<string, DockerHost>;
  credentials: RedisCredentials;
  /** The servers' live credential applies: at `switch` the job moves only once they accept. */
  redisResources: pulumi.Resource[];
  ssh: SshAccess;
  /** With TLS on: the CA bundle and the backup role's client pair (StackCertificates). SECRET. */
  tls?: pulumi.Output<ClientTlsMaterial>;
}

/** The container names a drill or an operator looks for. */
export const BACKUP_CONTAINER_NAME = "veza-backup";
export const BACKUP_REPOSITORY_VOLUME = "veza-backup-repository";
export const NODE_EXPORTER_TEXTFILE_VOLUME = "veza-node-exporter-textfile";

/**
 * The backup job on the backup host (the monitoring host in prod): a replica's snapshot every
 * interval into a restic repository on that host's volume, off every data host, with its metrics
 * in a volume the host's node_exporter reads (textfile collector).
 */
export class Backup extends pulumi.ComponentResource {
  readonly settings: BackupSettings;
  readonly container: docker.Container;
  /** The repository's password: without it no snapshot can be read. Kept as a secret output. */
  readonly repositoryPassword: pulumi.Output<string>;
  /** Mounted by the backup host's node_exporter at NODE_EXPORTER_TEXTFILE_DIR. */
  readonly textfileVolume: docker.Volume;
  readonly credentialsWrite: HostCommand;

  constructor(name: string, args: BackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:backup:Backup", name, {}, opts);
    const { config } = args;
    const settings = backupSettings(config, args.model);
    this.settings = settings;
    const host: HostConfig = settings.host;
    const dockerHost = args.dockerHosts.get(host.name)!;
    const image = dockerHost.image(config.backup.image);
    const production = config.environment === "production";
    const onHost = { parent: this, provider: dockerHost.provider };

    // Regenerating it would make every stored snapshot unreadable: nothing may replace it.
    const password = new random.RandomPassword(`${name}-restic-password`, { length: 40, special: false }, { parent: this, protect: production });
    this.repositoryPassword = password.result;

    const repository = new docker.Volume(
      `${name}-repository`,
      { name: BACKUP_REPOSITORY_VOLUME, labels: [{ label: "veza.component", value: "backup-repository" }] },
      // The snapshots outlive the declaration, as the data volumes do.
      { ...onHost, retainOnDelete: true, protect: production },
    );
    const state = new docker.Volume(`${name}-state`, { name: "veza-backup-state" }, onHost);
    const credentialsVolume = new docker.Volume(`${name}-credentials-volume`, { name: "veza-backup-credentials", labels: [{ label: "veza.component", value: "backup-credentials" }] }, onHost);
    this.textfileVolume = new docker.Volume(`${name}-textfile`, { name: NODE_EXPORTER_TEXTFILE_VOLUME }, onHost);

    const [uid, gid] = BACKUP_IMAGE_USER.split(":");
    const tlsMaterial: pulumi.Output<ClientTlsMaterial | undefined> = args.tls ?? pulumi.output(undefined);
    // The password files are written into a volume before the job starts and again at each
    // rotation step of the backup user: the job reads them at every call, so nothing restarts.
    this.credentialsWrite = hostCommand(
      `${name}-credentials`,
      host,
      {
        create: credentialsVolume.name.apply((volume) =>
          dockerRunStdinScript(config.backup.image, ["--user 0:0", "--network none", "--cap-drop ALL", "--cap-add CHOWN", "--security-opt no-new-privileges", `-v ${shellQuote(`${volume}:/c`)}`]),
        ),
        stdin: pulumi.secret(
          pulumi
            .all([args.credentials.passwords.backup, password.result, tlsMaterial])
            .apply(([backupPassword, resticPassword, tls]) =>
              renderVolumeFilesScript(
                "/c",
                { [BACKUP_PASSWORD_FILE]: backupPassword, [RESTIC_PASSWORD_FILE]: resticPassword, ...(tls ? clientTlsVolumeFiles(backupTlsFilesIn("."), tls) : {}) },
                { uid: Number(uid), gid: Number(gid) },
              ),
            ),
        ),
        // The marker first (the rotation record reads the leading ones), then the certificates' label and fingerprint.
        triggers: [holdsMarker(BACKUP_CONTAINER_NAME, args.credentials.rotation, ["backup"]), ...certificateTriggers(args.tls)],
      },
      args.ssh,
      { parent: this, dependsOn: [image, credentialsVolume, ...args.redisResources] },
    );

    const paths = containerJobPaths();
    const metricsFile = `${BACKUP_PATHS.textfile}/${BACKUP_METRICS_FILE}`;
    this.container = hardenedContainer(
      { kind: "backup", host, ssh: args.ssh },
      `${name}-container`,
      {
        name: BACKUP_CONTAINER_NAME,
        // restic's locks name the host: a fixed one lets `restic unlock` tell a lock of a replaced
        // container (its process gone) from a live one.
        hostname: BACKUP_CONTAINER_NAME,
        image: image.imageId,
        ...hardenedContainerArgs("backup"),
        envs: toEnvList(backupJobEnv(settings, paths, args.tls ? backupTlsFilesIn(BACKUP_PATHS.credentials) : undefined)),
        // Host networking: the replica sees the backup host's own address (the declared reader).
        networkMode: "host",
        mounts: [
          { type: "volume", source: repository.name, target: BACKUP_PATHS.repository },
          { type: "volume", source: state.name, target: BACKUP_PATHS.state },
          { type: "volume", source: this.textfileVolume.name, target: BACKUP_PATHS.textfile },
          { type: "volume", source: credentialsVolume.name, target: BACKUP_PATHS.credentials, readOnly: true },
        ],
        // Healthy while a run ended within twice the interval (or the job started that recently).
        healthcheck: {
          tests: ["CMD", "sh", "-c", `last=$(stat -c %Y ${metricsFile} 2>/dev/null || cat ${BACKUP_PATHS.state}/first-start) && [ $(( $(date +%s) - last )) -lt ${2 * settings.intervalSeconds} ]`],
          interval: "60s",
          timeout: "5s",
          retries: 3,
          startPeriod: "60s",
        },
        restart: RESTART_POLICY,
        // restic holds its index in memory; 512 MiB covers repositories of many GiB.
        memory: 512,
        memorySwap: 512,
        // The job passes SIGTERM to its restic, which drops its lock; a lock left anyway (SIGKILL)
        // is stale, and the next run's `restic unlock` removes it.
        stopTimeout: 30,
        destroyGraceSeconds: 30,
        logDriver: "json-file",
        logOpts: LOG_OPTIONS,
        labels: containerLabels({ component: "backup", environment: config.environment, host: host.name }),
      },
      { parent: this, provider: dockerHost.provider, dependsOn: [this.credentialsWrite, repository, state], deleteBeforeReplace: true },
      [{ file: BACKUP_PATHS.script, content: renderBackupJobScript() }],
    );
    this.registerOutputs({ host: host.name });
  }
}
