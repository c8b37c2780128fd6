// What each Redis-family container is, as plain data: its uploaded files, the seed of its volume's
// live credentials, entrypoint, healthcheck and stop/health timings. The components turn this into
// docker.Container inputs and the seed command; the day-2 drills run the very same files at the
// same paths as processes, and the same seed against the volume before each create. One source.

import type { StackConfig } from "../config/types";
import type { CredentialState } from "../redis/rotation";
import { DATA_NODE_LIVE_FILE_NAMES, dataNodeSeedScript, SENTINEL_LIVE_FILE_NAMES, sentinelSeedScript } from "./credentialScripts";
import { dataNodeHealthyWithinSeconds, dataNodeStopGraceSeconds, renderDataNodeEntrypoint, renderDataNodeHealthcheck, type DataNodeScriptSettings } from "../redis/dataNodeScripts";
import { REDIS_CONF_PATH, renderRedisConf } from "../redis/redisConf";
import { renderSentinelConf, SENTINEL_CONF_PATH } from "../sentinel/sentinelConf";
import { renderSentinelEntrypoint, renderSentinelHealthcheck, SENTINEL_HEALTHY_WITHIN_SECONDS, SENTINEL_STOP_GRACE_SECONDS, type SentinelScriptSettings } from "../sentinel/sentinelScripts";
import type { DataNodePlacement, PlacementHost, SentinelPlacement } from "./placement";
import type { StackModel } from "./model";
import type { RedisEndpoint } from "../base/endpoints";
import { CONTAINER_CREDENTIALS_DIR, containerTlsFiles, dataNodeSettings, declaredDataHosts, sentinelSettings, type TlsSwitch } from "./settings";
import { ENTRYPOINT_FILE, HEALTHCHECK_FILE, type LiveCredentials } from "../base/shell";
import { outgoingClientTls, TLS_FILE_NAMES } from "../tls/certificates";

/**
 * A file uploaded into the container: plain text, never a password. An upload is ForceNew and,
 * were it ignored, frozen at its first value by the engine even across replacements; the
 * passwords go to the volume instead (`seed`, and each rotation step's live apply).
 */
export interface DeclaredFile {
  path: string;
  content: string;
}

export interface ContainerDefinition {
  /** Which hardening applies (components/base/hardening.ts): the capabilities the scripts run with. */
  kind: "redis" | "sentinel";
  files: DeclaredFile[];
  /**
   * The seed of the volume's live credentials at a step: a script (renderCredentialSeedScript) run
   * with the volume at /data before the container is created, writing the files it lacks. The
   * program runs it as `<name>-credentials-seed`, the drills before each create. SECRET.
   */
  seed: (state: CredentialState) => string;
  entrypoint: string[];
  healthcheck: string[];
  /** destroyGraceSeconds and stopTimeout: SIGTERM, then this long before SIGKILL. */
  stopGraceSeconds: number;
  /** waitTimeout: how long `wait: true` gives the container to become healthy. */
  healthyWithinSeconds: number;
}

const endpoint = (placed: { host: { address: string }; port: number }): RedisEndpoint => ({ host: placed.host.address, port: placed.port });

type DefinitionConfig = Pick<StackConfig, "redis" | "sentinel"> & TlsSwitch;

/**
 * The volume's live files a container's scripts require, and with TLS on its TLS files too: the
 * scripts' redis-cli presents the container's client pair (the one its server's own links use).
 */
function liveCredentials(config: TlsSwitch, names: readonly string[]): LiveCredentials {
  const tls = containerTlsFiles(config);
  if (!tls) return { dir: CONTAINER_CREDENTIALS_DIR, files: [...names] };
  return { dir: CONTAINER_CREDENTIALS_DIR, files: [...names, ...Object.values(TLS_FILE_NAMES)], tls: outgoingClientTls(tls) };
}

export function dataNodeScriptSettings(config: DefinitionConfig, model: StackModel<PlacementHost>, node: DataNodePlacement): DataNodeScriptSettings {
  const settings = dataNodeSettings(config, model, node);
  return {
    name: node.name,
    self: endpoint(node),
    local: { host: node.host.bindAddress, port: node.port },
    dataDir: settings.dataDir,
    declaredConfPath: REDIS_CONF_PATH,
    credentials: liveCredentials(config, DATA_NODE_LIVE_FILE_NAMES),
    masterName: config.sentinel.masterName,
    sentinels: model.topology.sentinels.map(endpoint),
    peers: model.topology.dataNodes.filter((n) => n !== node).map(endpoint),
    declaredMaster: settings.replicaOf ? { host: settings.replicaOf.address, port: settings.replicaOf.port } : undefined,
    promotionWaitMs: config.sentinel.failoverTimeoutMilliseconds,
  };
}

export function dataNodeContainer(config: DefinitionConfig, model: StackModel<PlacementHost>, node: DataNodePlacement): ContainerDefinition {
  const scripts = dataNodeScriptSettings(config, model, node);
  return {
    kind: "redis",
    files: [
      { path: REDIS_CONF_PATH, content: renderRedisConf(dataNodeSettings(config, model, node)) },
      { path: ENTRYPOINT_FILE, content: renderDataNodeEntrypoint(scripts) },
      { path: HEALTHCHECK_FILE, content: renderDataNodeHealthcheck(scripts) },
    ],
    seed: (state) => dataNodeSeedScript(node.name, CONTAINER_CREDENTIALS_DIR, state, declaredDataHosts(model.topology)),
    entrypoint: ["sh", ENTRYPOINT_FILE],
    healthcheck: ["CMD", "sh", HEALTHCHECK_FILE],
    stopGraceSeconds: dataNodeStopGraceSeconds(config.sentinel.failoverTimeoutMilliseconds, model.topology.sentinels.length),
    healthyWithinSeconds: dataNodeHealthyWithinSeconds(model.sizing),
  };
}

export function sentinelScriptSettings(config: DefinitionConfig, model: StackModel<PlacementHost>, sentinel: SentinelPlacement): SentinelScriptSettings {
  const settings = sentinelSettings(config, model, sentinel);
  return {
    name: sentinel.name,
    local: { host: sentinel.host.bindAddress, port: sentinel.port },
    dataDir: settings.dataDir,
    declaredConfPath: SENTINEL_CONF_PATH,
    credentials: liveCredentials(config, SENTINEL_LIVE_FILE_NAMES),
    masterName: config.sentinel.masterName,
    peers: model.topology.sentinels.filter((s) => s !== sentinel).map(endpoint),
    dataNodes: model.topology.dataNodes.map(endpoint),
    declaredMaster: endpoint(model.topology.master),
  };
}

export function sentinelContainer(config: DefinitionConfig, model: StackModel<PlacementHost>, sentinel: SentinelPlacement): ContainerDefinition {
  const scripts = sentinelScriptSettings(config, model, sentinel);
  const settings = sentinelSettings(config, model, sentinel);
  return {
    kind: "sentinel",
    files: [
      { path: SENTINEL_CONF_PATH, content: renderSentinelConf(settings) },
      { path: ENTRYPOINT_FILE, content: renderSentinelEntrypoint(scripts) },
      { path: HEALTHCHECK_FILE, content: renderSentinelHealthcheck(scripts) },
    ],
    seed: (state) => sentinelSeedScript(sentinel.name, CONTAINER_CREDENTIALS_DIR, config.sentinel.masterName, state),
    entrypoint: ["sh", ENTRYPOINT_FILE],
    healthcheck: ["CMD", "sh", HEALTHCHECK_FILE],
    stopGraceSeconds: SENTINEL_STOP_GRACE_SECONDS,
    healthyWithinSeconds: SENTINEL_HEALTHY_WITHIN_SECONDS,
  };
}
