// redis_exporter's settings for one Redis or Sentinel process (pure): its environment holds no
// secret, its password comes from an uploaded file, and it never sends CONFIG.

import { ACL_USERS } from "../redis/acl";
import type { ExporterPlacement } from "../topology/ports";
import { shellQuote } from "../base/shell";
import type { ClientTlsFiles } from "../tls/certificates";

/**
 * Where the exporter's credentials volume is mounted (read-only): its password file is written
 * there by a throwaway container at every rotation step, never uploaded (an upload change would
 * replace the exporter), and re-read on `/-/reload` (redis_exporter v1.50.0+, PR #783).
 */
export const EXPORTER_CREDENTIALS_DIR = "/run/veza-credentials";
export const EXPORTER_PASSWORD_FILE_NAME = "redis-exporter-passwords.json";
/** redis_exporter's --redis.password-file: JSON mapping a Redis URI to its password. */
export const EXPORTER_PASSWORD_FILE = `${EXPORTER_CREDENTIALS_DIR}/${EXPORTER_PASSWORD_FILE_NAME}`;
/** With TLS on: the CA bundle and the exporter role's client pair, beside the password file (re-read at every scrape). */
export const EXPORTER_TLS_FILES: ClientTlsFiles = {
  caCertFile: `${EXPORTER_CREDENTIALS_DIR}/redis-ca.crt`,
  certFile: `${EXPORTER_CREDENTIALS_DIR}/redis-client.crt`,
  keyFile: `${EXPORTER_CREDENTIALS_DIR}/redis-client.key`,
};

/** The exporter re-reads its password file on this path (any method; no basic auth is configured). */
export function exporterReloadUrl(exporter: Pick<ExporterPlacement, "host" | "port">): string {
  return `http://${exporter.host.bindAddress}:${exporter.port}/-/reload`;
}

/**
 * The uid:gid redis_exporter's images run as (`USER 59000:59000` in its Dockerfile, the alpine
 * image too; the container sets no user): the only one its password file is readable by.
 */
export const EXPORTER_IMAGE_USER = { uid: 59000, gid: 59000 } as const;

/** How many times (1 s apart) the reload is tried: a just-(re)started exporter may not listen yet. */
export const EXPORTER_RELOAD_ATTEMPTS = 5;

/**
 * After its password file changed: the running exporter re-reads it, or the command fails. An
 * exporter that is not running (its first create comes after this command; a stopped one) reads
 * the file when it starts, so that is no failure. A running one that never answers the reload
 * keeps the old password: after `retire` it would be refused and go blind, so `pulumi up` stops.
 */
export function renderExporterReloadCommand(exporterName: string, exporter: Pick<ExporterPlacement, "host" | "port">): string {
  const container = shellQuote(`veza-${exporterName}`);
  return [
    `if [ "$(docker inspect -f '{{.State.Running}}' ${container} 2>/dev/null)" = true ]; then`,
    "  attempt=1",
    `  until docker exec ${container} wget -q -O /dev/null ${shellQuote(exporterReloadUrl(exporter))}; do`,
    `    if [ "$attempt" -ge ${EXPORTER_RELOAD_ATTEMPTS} ]; then echo ${shellQuote(`${exporterName}: /-/reload failed ${EXPORTER_RELOAD_ATTEMPTS} times: the running exporter still holds its previous password file`)} >&2; exit 1; fi`,
    "    attempt=$((attempt + 1))",
    "    sleep 1",
    "  done",
    `  echo ${shellQuote(`${exporterName}: reloaded its password file`)}`,
    "else",
    `  echo ${shellQuote(`${exporterName} not running: it reads the file at start`)}`,
    "fi",
  ].join("\n");
}

/** rediss:// with TLS on: the exporter then dials TLS and presents its client certificate. */
export function exporterRedisUri(exporter: Pick<ExporterPlacement, "target">, tls?: ClientTlsFiles): string {
  return `${tls ? "rediss" : "redis"}://${exporter.target.host.address}:${exporter.target.port}`;
}

/**
 * The exporter's environment. REDIS_EXPORTER_CONFIG_COMMAND "-" skips its CONFIG GET * (v1.61.0,
 * PR #915): the exporter user has no CONFIG, whose reply includes masterauth.
 */
/** With TLS on, `tls` is the CA bundle and the exporter's own client certificate (role exporter). */
export function exporterEnv(exporter: ExporterPlacement, tls?: ClientTlsFiles): Record<string, string> {
  return {
    REDIS_ADDR: exporterRedisUri(exporter, tls),
    REDIS_USER: ACL_USERS.exporter,
    REDIS_PASSWORD_FILE: EXPORTER_PASSWORD_FILE,
    REDIS_EXPORTER_CONFIG_COMMAND: "-",
    REDIS_EXPORTER_WEB_LISTEN_ADDRESS: `${exporter.host.bindAddress}:${exporter.port}`,
    // Go starts up to a thread per core; a Go program that cannot make a thread under its pids
    // limit exits. One scrape at a time needs no more (node_exporter defaults to 1 itself).
    GOMAXPROCS: "2",
    // redis_exporter re-reads these files at each scrape: a renewed certificate needs no restart.
    ...(tls ? { REDIS_EXPORTER_TLS_CA_CERT_FILE: tls.caCertFile, REDIS_EXPORTER_TLS_CLIENT_CERT_FILE: tls.certFile, REDIS_EXPORTER_TLS_CLIENT_KEY_FILE: tls.keyFile } : {}),
  };
}

/**
 * The password file. redis_exporter looks the password up by the target's URI: older releases
 * by REDIS_ADDR as given, newer ones with REDIS_USER put in as the URI's user
 * (lookupPasswordInPasswordMap), so both keys are written.
 */
export function renderExporterPasswordFile(exporter: Pick<ExporterPlacement, "target">, password: string, tls?: ClientTlsFiles): string {
  const uri = exporterRedisUri(exporter, tls);
  const withUser = uri.replace("://", `://${ACL_USERS.exporter}@`);
  return `${JSON.stringify({ [uri]: password, [withUser]: password }, null, 2)}\n`;
}
