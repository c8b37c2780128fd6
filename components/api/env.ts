// The API's Redis connection and the runbook's mitigation toggles, as pure functions.

import type { IncidentPreset, StackConfig } from "../config/types";
import { ACL_USERS, SENTINEL_USERS } from "../redis/acl";
import type { RedisEndpoint } from "../base/endpoints";
import { redisCliTlsWords, shellQuote } from "../base/shell";
import type { ClientTlsFiles, ClientTlsMaterial } from "../tls/certificates";

export type RedisConnection = { mode: "sentinel"; masterName: string; sentinels: RedisEndpoint[] } | { mode: "standalone"; master: RedisEndpoint };

export type ToggleSource = "explicit" | `incident preset ${IncidentPreset}` | "default";

export interface Toggle {
  value: boolean;
  source: ToggleSource;
}

export interface EffectiveToggles {
  maintenanceMode: Toggle;
  rateLimitFailClosed: Toggle;
}

/**
 * The runbook's mitigations, per preset: "flip MAINTENANCE_MODE=true" (drain new logins behind a
 * banner) and "RATELIMIT_FAIL_CLOSED=true so abuse can't ride the outage".
 */
export const INCIDENT_PRESET_TOGGLES: Record<IncidentPreset, { maintenanceMode: boolean; rateLimitFailClosed: boolean }> = {
  none: { maintenanceMode: false, rateLimitFailClosed: false },
  "redis-down": { maintenanceMode: true, rateLimitFailClosed: true },
};

/** Explicit toggles win over the preset; the source says why each value is live. */
export function effectiveToggles(config: Pick<StackConfig, "incident" | "maintenanceMode" | "rateLimitFailClosed">): EffectiveToggles {
  const preset = INCIDENT_PRESET_TOGGLES[config.incident];
  const pick = (explicit: boolean | undefined, fromPreset: boolean): Toggle =>
    explicit !== undefined ? { value: explicit, source: "explicit" } : { value: fromPreset, source: config.incident === "none" ? "default" : `incident preset ${config.incident}` };
  return {
    maintenanceMode: pick(config.maintenanceMode, preset.maintenanceMode),
    rateLimitFailClosed: pick(config.rateLimitFailClosed, preset.rateLimitFailClosed),
  };
}

export const API_SECRET_FILES = {
  redisPassword: "/run/secrets/redis-password",
  sentinelPassword: "/run/secrets/redis-sentinel-password",
} as const;

/** The API's TLS files, beside its password files: the CA bundle and the app role's client pair. */
export const API_TLS_FILES: ClientTlsFiles = {
  caCertFile: "/run/secrets/redis-ca.crt",
  certFile: "/run/secrets/redis-client.crt",
  keyFile: "/run/secrets/redis-client.key",
};

/**
 * The API's environment. No secret is in it: passwords are delivered as files (the *_FILE
 * convention of Docker secrets), so env stays reviewable in a diff and out of `docker inspect`.
 */
export function renderApiEnv(connection: RedisConnection, toggles: EffectiveToggles, extraEnv: Record<string, string>, tls = false): Record<string, string> {
  const scheme = tls ? "rediss" : "redis";
  const redis: Record<string, string> =
    connection.mode === "sentinel"
      ? {
          REDIS_MODE: "sentinel",
          REDIS_SENTINEL_ADDRS: connection.sentinels.map((s) => `${s.host}:${s.port}`).join(","),
          REDIS_MASTER_NAME: connection.masterName,
          // Sentinel's lookup-only user: master address, sentinel lists, +switch-master.
          REDIS_SENTINEL_USERNAME: SENTINEL_USERS.client.name,
          REDIS_SENTINEL_PASSWORD_FILE: API_SECRET_FILES.sentinelPassword,
        }
      : { REDIS_MODE: "standalone", REDIS_URL: `${scheme}://${ACL_USERS.app}@${connection.master.host}:${connection.master.port}/0` };
  // With TLS on, every connection (to the sentinels and the master) is TLS with the app's
  // certificate (ioredis: tls and sentinelTLS, clientSettings.ts; go-redis: TLSConfig).
  const tlsEnv: Record<string, string> = tls ? { REDIS_TLS_CA_FILE: API_TLS_FILES.caCertFile, REDIS_TLS_CERT_FILE: API_TLS_FILES.certFile, REDIS_TLS_KEY_FILE: API_TLS_FILES.keyFile } : {};
  return {
    ...extraEnv,
    ...redis,
    REDIS_USERNAME: ACL_USERS.app,
    REDIS_PASSWORD_FILE: API_SECRET_FILES.redisPassword,
    ...tlsEnv,
    MAINTENANCE_MODE: String(toggles.maintenanceMode.value),
    RATELIMIT_FAIL_CLOSED: String(toggles.rateLimitFailClosed.value),
  };
}

/**
 * The toggles file an API deployed elsewhere reads at start (`api.mode: external`): the runbook's
 * two variables, each with where its value comes from, so on-call reading the host sees why.
 */
export function renderTogglesFile(toggles: EffectiveToggles): string {
  return [
    "# The runbook's toggles, written by pulumi up (components/api/env.ts); the API reads them at start.",
    `# MAINTENANCE_MODE: ${toggles.maintenanceMode.source}; RATELIMIT_FAIL_CLOSED: ${toggles.rateLimitFailClosed.source}`,
    `MAINTENANCE_MODE=${toggles.maintenanceMode.value}`,
    `RATELIMIT_FAIL_CLOSED=${toggles.rateLimitFailClosed.value}`,
    "",
  ].join("\n");
}

/** Where the one-shot writer mounts the toggles file's directory: the image's /data (it exists there, and on the drills' hosts). */
export const TOGGLES_WRITER_MOUNT = "/data";

/** The default restart: SIGTERM, the grace for in-flight requests, then start with the new file. */
export function defaultApiRestartCommand(containerName: string, stopGraceSeconds: number): string {
  return `docker restart --time ${stopGraceSeconds} ${shellQuote(containerName)}`;
}

/**
 * A script that replaces `<dir>/<name>` atomically with `content` (a rename in the same
 * directory): an API restarting at that moment reads the old file or the new one, never half.
 * It runs with the file's directory mounted at TOGGLES_WRITER_MOUNT.
 */
export function renderTogglesWriteScript(fileName: string, content: string): string {
  const target = `${TOGGLES_WRITER_MOUNT}/${fileName}`;
  return [
    "set -eu",
    "umask 022",
    `tmp=${shellQuote(`${TOGGLES_WRITER_MOUNT}/.${fileName}.new`)}`,
    `cat > "$tmp" <<'VEZA_TOGGLES'`,
    content.trimEnd(),
    "VEZA_TOGGLES",
    `mv -f "$tmp" ${shellQuote(target)}`,
    "",
  ].join("\n");
}

/** Docker's `envs` form, sorted so the order never shows up as a diff. */
export function toEnvList(env: Record<string, string>): string[] {
  return Object.keys(env)
    .sort()
    .map((key) => `${key}=${env[key]}`);
}

/**
 * The runbook's "verify connectivity from each backend instance", as a script: ask the sentinels
 * for the current master (as the API's Sentinel user), then PING it as the API's user and check it really is the master.
 * Passwords arrive in the script text, which is given on stdin (a secret), never on a command line.
 * Every value in it is shell-quoted: none can end its quoting.
 */
export function renderConnectivityCheckScript(connection: RedisConnection, passwords: { app: string; sentinelClients: string }, tls?: ClientTlsMaterial): string {
  // With TLS: the app's files in a private temporary dir of the throwaway container, as the API holds them.
  const tlsDir = "/tmp/veza-api-tls";
  const files: ClientTlsFiles | undefined = tls ? { caCertFile: `${tlsDir}/ca.crt`, certFile: `${tlsDir}/client.crt`, keyFile: `${tlsDir}/client.key` } : undefined;
  const cli = `redis-cli${redisCliTlsWords(files)}`;
  const writeFiles =
    tls && files ? ["umask 077", `mkdir -p ${tlsDir}`, ...(Object.keys(files) as Array<keyof ClientTlsFiles>).map((key) => `printf '%s' ${shellQuote(tls[key])} > ${shellQuote(files[key])}`)] : [];
  const lookup =
    connection.mode === "sentinel"
      ? [
          `export REDISCLI_AUTH=${shellQuote(passwords.sentinelClients)}`,
          "master=''",
          ...connection.sentinels.map(
            (s) =>
              `[ -n "$master" ] || master=$(${cli} -h ${shellQuote(s.host)} -p ${shellQuote(s.port)} --user ${SENTINEL_USERS.client.name} --no-auth-warning sentinel get-master-addr-by-name ${shellQuote(connection.masterName)} 2>/dev/null | paste -sd: -) || true`,
          ),
          `case "$master" in *:*) ;; *) echo "no sentinel named a master for "${shellQuote(connection.masterName)} >&2; exit 1;; esac`,
        ]
      : [`master=${shellQuote(`${connection.master.host}:${connection.master.port}`)}`];
  return [
    "set -eu",
    ...writeFiles,
    ...lookup,
    "host=${master%:*}; port=${master##*:}",
    `export REDISCLI_AUTH=${shellQuote(passwords.app)}`,
    `reply=$(${cli} -h "$host" -p "$port" --user ${ACL_USERS.app} --no-auth-warning ping)`,
    `[ "$reply" = PONG ] || { echo "master $master answered: $reply" >&2; exit 1; }`,
    `role=$(${cli} -h "$host" -p "$port" --user ${ACL_USERS.app} --no-auth-warning role | head -n 1)`,
    `[ "$role" = master ] || { echo "$master is a $role, not the master" >&2; exit 1; }`,
    `echo "API user reached the Redis master $master: PONG"`,
    "",
  ].join("\n");
}
