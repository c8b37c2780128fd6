// Turns the validated stack config plus a placement into the renderers' inputs. The program
// and the drills both call these; only the placement (and the file locations) differ.

import type { StackConfig } from "../config/types";
import { CONTAINER_DATA_DIR, REDIS_SECRETS_PATH, type RedisNodeSettings } from "../redis/redisConf";
import { SENTINEL_SECRETS_PATH, sentinelMyId, usesHostnames, type SentinelSettings } from "../sentinel/sentinelConf";
import type { DataNodePlacement, PlacementHost, SentinelPlacement } from "./placement";
import type { StackModel } from "./model";
import type { ProcessLocation } from "../base/endpoints";
import { CREDENTIALS_DIR_NAME } from "../base/shell";
import { tlsFilesIn, type TlsFiles } from "../tls/certificates";

/** The volume's live credentials dir in every Redis-family container (see shell.ts). */
export const CONTAINER_CREDENTIALS_DIR = `${CONTAINER_DATA_DIR}/${CREDENTIALS_DIR_NAME}`;

/** The live copy of an uploaded secret file: what the running config includes. */
export function liveCredentialsPath(seedPath: string): string {
  return `${CONTAINER_CREDENTIALS_DIR}/${seedPath.slice(seedPath.lastIndexOf("/") + 1)}`;
}

/** The data nodes' hosts, as announced: what the sentinel user's SLAVEOF is pinned to (acl.ts slaveofRules). */
export function declaredDataHosts(topology: { dataNodes: ReadonlyArray<{ host: { address: string } }> }): string[] {
  return [...new Set(topology.dataNodes.map((node) => node.host.address))];
}

/**
 * Every Redis-family container's TLS files: beside the live credentials in its volume, written
 * by its `<name>-tls-files` command (never an upload: a renewed certificate must not replace a
 * data node), each 0600 and the redis user's.
 */
export const CONTAINER_TLS_FILES = tlsFilesIn(CONTAINER_CREDENTIALS_DIR);

/** The stack's TLS switch, as the settings read it: absent (a fixture) means off. */
export type TlsSwitch = { tls?: { enabled: boolean } };

/** The container's TLS files when the stack has TLS on. */
export function containerTlsFiles(config: TlsSwitch): TlsFiles | undefined {
  return config.tls?.enabled ? CONTAINER_TLS_FILES : undefined;
}

export interface FileLocations {
  dataDir: string;
  secretsPath: string;
  /** With TLS on, the process's CA bundle and certificate pairs. */
  tls?: TlsFiles;
}

type SettingsConfig = Pick<StackConfig, "redis" | "sentinel"> & TlsSwitch;

/** In the container: the volume's data dir, the live copy of its secrets and, with TLS on, its TLS files. */
function containerLocations(config: TlsSwitch, secretsPath: string): FileLocations {
  const tls = containerTlsFiles(config);
  return { dataDir: CONTAINER_DATA_DIR, secretsPath: liveCredentialsPath(secretsPath), ...(tls ? { tls } : {}) };
}

function location(placed: DataNodePlacement | SentinelPlacement, files: FileLocations): ProcessLocation {
  return {
    bindAddress: placed.host.bindAddress,
    port: placed.port,
    announceAddress: placed.host.address,
    announcePort: placed.port,
    dataDir: files.dataDir,
    secretsPath: files.secretsPath,
    ...(files.tls ? { tls: files.tls } : {}),
  };
}

export function dataNodeSettings(
  config: SettingsConfig,
  { topology, sizing }: StackModel<PlacementHost>,
  node: DataNodePlacement,
  files: FileLocations = containerLocations(config, REDIS_SECRETS_PATH),
): RedisNodeSettings {
  const { redis } = config;
  const replicated = topology.dataNodes.length > 1;
  return {
    ...location(node, files),
    sizing,
    evictionPolicy: redis.evictionPolicy,
    aofRewritePercentage: redis.aofRewritePercentage,
    rdbSnapshots: redis.rdbSnapshots,
    tcpBacklog: redis.tcpBacklog,
    maxClients: redis.maxClients,
    // A standalone node has no replica to wait for.
    minReplicasToWrite: replicated ? redis.minReplicasToWrite : 0,
    minReplicasMaxLagSeconds: redis.minReplicasMaxLagSeconds,
    replicaOf: node.role === "replica" ? { address: topology.master.host.address, port: topology.master.port } : undefined,
    replicaPriority: 100,
  };
}

export function sentinelSettings(
  config: SettingsConfig,
  { topology }: StackModel<PlacementHost>,
  sentinel: SentinelPlacement,
  files: FileLocations = containerLocations(config, SENTINEL_SECRETS_PATH),
): SentinelSettings {
  const s = config.sentinel;
  const addresses = [...topology.dataNodes.map((n) => n.host.address), ...topology.sentinels.map((x) => x.host.address)];
  return {
    ...location(sentinel, files),
    masterName: s.masterName,
    masterAddress: topology.master.host.address,
    masterPort: topology.master.port,
    quorum: s.quorum,
    downAfterMilliseconds: s.downAfterMilliseconds,
    failoverTimeoutMilliseconds: s.failoverTimeoutMilliseconds,
    parallelSyncs: s.parallelSyncs,
    useHostnames: usesHostnames(addresses),
    myId: sentinelMyId(s.masterName, sentinel.name),
  };
}
