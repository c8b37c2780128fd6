// redis_exporter's settings for one Redis or Sentinel process (pure): its environment holds no
// secret, its password comes from an uploaded file, and it never sends CONFIG.

import { ACL_USERS } from "../redis/acl";
import type { ExporterPlacement } from "../topology/ports";

/**
 * Where the exporter's credentials volume is mounted (read-only): its password file is written
 * there by a throwaway container at every rotation step, never uploaded (an upload change would
 * replace the exporter), and re-read on `/-/reload` (redis_exporter v1.50.0+, PR #783).
 */
export const EXPORTER_CREDENTIALS_DIR = "/run/veza-credentials";
export const EXPORTER_PASSWORD_FILE_NAME = "redis-exporter-passwords.json";
/** redis_exporter's --redis.password-file: JSON mapping a Redis URI to its password. */
export const EXPORTER_PASSWORD_FILE = `${EXPORTER_CREDENTIALS_DIR}/${EXPORTER_PASSWORD_FILE_NAME}`;

/** The exporter re-reads its password file on this path (any method; no basic auth is configured). */
export function exporterReloadUrl(exporter: Pick<ExporterPlacement, "host" | "port">): string {
  return `http://${exporter.host.bindAddress}:${exporter.port}/-/reload`;
}

export function exporterRedisUri(exporter: Pick<ExporterPlacement, "target">): string {
  return `redis://${exporter.target.host.address}:${exporter.target.port}`;
}

/**
 * The exporter's environment. REDIS_EXPORTER_CONFIG_COMMAND "-" skips its CONFIG GET * (v1.61.0,
 * PR #915): the exporter user has no CONFIG, whose reply includes masterauth.
 */
export function exporterEnv(exporter: ExporterPlacement): Record<string, string> {
  return {
    REDIS_ADDR: exporterRedisUri(exporter),
    REDIS_USER: ACL_USERS.exporter,
    REDIS_PASSWORD_FILE: EXPORTER_PASSWORD_FILE,
    REDIS_EXPORTER_CONFIG_COMMAND: "-",
    REDIS_EXPORTER_WEB_LISTEN_ADDRESS: `${exporter.host.bindAddress}:${exporter.port}`,
  };
}

/**
 * The password file. redis_exporter looks the password up by the target's URI: older releases
 * by REDIS_ADDR as given, newer ones with REDIS_USER put in as the URI's user
 * (lookupPasswordInPasswordMap), so both keys are written.
 */
export function renderExporterPasswordFile(exporter: Pick<ExporterPlacement, "target">, password: string): string {
  const uri = exporterRedisUri(exporter);
  const withUser = uri.replace("redis://", `redis://${ACL_USERS.exporter}@`);
  return `${JSON.stringify({ [uri]: password, [withUser]: password }, null, 2)}\n`;
}
