// What each Redis-family container is, as plain data: its uploaded files, entrypoint, healthcheck
// and stop/health timings. The components turn this into docker.Container inputs; the day-2
// drills run the very same files at the same paths as processes. One source for both.

import type { StackConfig } from "../config/types";
import type { CredentialState } from "../redis/rotation";
import { dataNodeHealthyWithinSeconds, dataNodeScriptCredentials, dataNodeStopGraceSeconds, renderDataNodeEntrypoint, renderDataNodeHealthcheck, type DataNodeScriptSettings } from "../redis/dataNodeScripts";
import { REDIS_CONF_PATH, REDIS_SECRETS_PATH, renderRedisConf, renderRedisSecretsConf } from "../redis/redisConf";
import { computeSizing } from "../redis/sizing";
import { renderSentinelConf, renderSentinelSecretsConf, SENTINEL_CONF_PATH, SENTINEL_SECRETS_PATH } from "../sentinel/sentinelConf";
import { renderSentinelEntrypoint, renderSentinelHealthcheck, SENTINEL_HEALTHY_WITHIN_SECONDS, SENTINEL_STOP_GRACE_SECONDS, sentinelScriptCredentials, type SentinelScriptSettings } from "../sentinel/sentinelScripts";
import type { DataNodePlacement, RedisEndpoint, SentinelPlacement, Topology } from "./placement";
import { CONTAINER_CREDENTIALS_DIR, dataNodeSettings, sentinelSettings } from "./settings";
import { CREDENTIALS_FILE, ENTRYPOINT_FILE, HEALTHCHECK_FILE, renderCredentialsFile } from "./shell";

/**
 * A file uploaded into the container: plain text, or rendered from the passwords (a secret). A
 * secret file only seeds the volume's live copy at its first boot (shell.ts): its upload must not
 * follow the rotation (an upload change replaces the container), see `secretUploadIgnoreChanges`.
 */
export type DeclaredFile = { path: string; content: string } | { path: string; secret: (state: CredentialState) => string };

export interface ContainerDefinition {
  /** Which hardening applies (components/topology/hardening.ts): the capabilities the scripts run with. */
  kind: "redis" | "sentinel";
  files: DeclaredFile[];
  entrypoint: string[];
  healthcheck: string[];
  /** destroyGraceSeconds and stopTimeout: SIGTERM, then this long before SIGKILL. */
  stopGraceSeconds: number;
  /** waitTimeout: how long `wait: true` gives the container to become healthy. */
  healthyWithinSeconds: number;
}

const endpoint = (placed: { host: { address: string }; port: number }): RedisEndpoint => ({ host: placed.host.address, port: placed.port });

type DefinitionConfig = Pick<StackConfig, "redis" | "sentinel">;

export function dataNodeScriptSettings(config: DefinitionConfig, topology: Topology, node: DataNodePlacement): DataNodeScriptSettings {
  const settings = dataNodeSettings(config, topology, node);
  return {
    name: node.name,
    self: endpoint(node),
    local: { host: node.host.bindAddress, port: node.port },
    dataDir: settings.dataDir,
    declaredConfPath: REDIS_CONF_PATH,
    credentialsPath: CREDENTIALS_FILE,
    credentialsDir: CONTAINER_CREDENTIALS_DIR,
    seedFiles: [REDIS_SECRETS_PATH, CREDENTIALS_FILE],
    masterName: config.sentinel.masterName,
    sentinels: topology.sentinels.map(endpoint),
    peers: topology.dataNodes.filter((n) => n !== node).map(endpoint),
    declaredMaster: settings.replicaOf ? { host: settings.replicaOf.address, port: settings.replicaOf.port } : undefined,
    promotionWaitMs: config.sentinel.failoverTimeoutMilliseconds,
  };
}

export function dataNodeContainer(config: DefinitionConfig, topology: Topology, node: DataNodePlacement): ContainerDefinition {
  const scripts = dataNodeScriptSettings(config, topology, node);
  return {
    kind: "redis",
    files: [
      { path: REDIS_CONF_PATH, content: renderRedisConf(dataNodeSettings(config, topology, node)) },
      { path: REDIS_SECRETS_PATH, secret: renderRedisSecretsConf },
      { path: ENTRYPOINT_FILE, content: renderDataNodeEntrypoint(scripts) },
      { path: HEALTHCHECK_FILE, content: renderDataNodeHealthcheck(scripts) },
      { path: CREDENTIALS_FILE, secret: (c) => renderCredentialsFile(dataNodeScriptCredentials(c.used)) },
    ],
    entrypoint: ["sh", ENTRYPOINT_FILE],
    healthcheck: ["CMD", "sh", HEALTHCHECK_FILE],
    stopGraceSeconds: dataNodeStopGraceSeconds(config.sentinel.failoverTimeoutMilliseconds, topology.sentinels.length),
    healthyWithinSeconds: dataNodeHealthyWithinSeconds(computeSizing(config.redis)),
  };
}

export function sentinelScriptSettings(config: DefinitionConfig, topology: Topology, sentinel: SentinelPlacement): SentinelScriptSettings {
  const settings = sentinelSettings(config, topology, sentinel);
  return {
    name: sentinel.name,
    local: { host: sentinel.host.bindAddress, port: sentinel.port },
    dataDir: settings.dataDir,
    declaredConfPath: SENTINEL_CONF_PATH,
    credentialsPath: CREDENTIALS_FILE,
    credentialsDir: CONTAINER_CREDENTIALS_DIR,
    seedFiles: [SENTINEL_SECRETS_PATH, CREDENTIALS_FILE],
    masterName: config.sentinel.masterName,
    peers: topology.sentinels.filter((s) => s !== sentinel).map(endpoint),
    dataNodes: topology.dataNodes.map(endpoint),
    declaredMaster: endpoint(topology.master),
  };
}

export function sentinelContainer(config: DefinitionConfig, topology: Topology, sentinel: SentinelPlacement): ContainerDefinition {
  const scripts = sentinelScriptSettings(config, topology, sentinel);
  const settings = sentinelSettings(config, topology, sentinel);
  return {
    kind: "sentinel",
    files: [
      { path: SENTINEL_CONF_PATH, content: renderSentinelConf(settings) },
      { path: SENTINEL_SECRETS_PATH, secret: (c) => renderSentinelSecretsConf(config.sentinel.masterName, c) },
      { path: ENTRYPOINT_FILE, content: renderSentinelEntrypoint(scripts) },
      { path: HEALTHCHECK_FILE, content: renderSentinelHealthcheck(scripts) },
      { path: CREDENTIALS_FILE, secret: (c) => renderCredentialsFile(sentinelScriptCredentials(c.used)) },
    ],
    entrypoint: ["sh", ENTRYPOINT_FILE],
    healthcheck: ["CMD", "sh", HEALTHCHECK_FILE],
    stopGraceSeconds: SENTINEL_STOP_GRACE_SECONDS,
    healthyWithinSeconds: SENTINEL_HEALTHY_WITHIN_SECONDS,
  };
}

/**
 * `ignoreChanges` paths for the secret uploads: the engine keeps their recorded content, so a
 * rotation step (new passwords in them) never replaces the container. They seed only a volume's
 * first boot; each step's live apply writes the volume's copy (components/redis/credentialScripts.ts).
 */
export function secretUploadIgnoreChanges(definition: ContainerDefinition): string[] {
  return definition.files.flatMap((file, index) => ("secret" in file ? [`uploads[${index}].content`] : []));
}
