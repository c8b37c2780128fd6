// Who may talk to Prometheus and Alertmanager: their --web.config.file (basic auth with bcrypt
// hashes of generated passwords, HTTPS when monitoring.tls* is set), and the client side of it
// (Prometheus's alerting and self-scrapes, Grafana's datasource, the healthchecks).

import { toYaml } from "./redisRules";

export { ALERTMANAGER_WEB, WEB_USERS, TLS_DIR, TLS_FILES, type WebUser } from "./webUsers";
import { WEB_USERS, TLS_FILES, type WebUser } from "./webUsers";

export const PROMETHEUS_WEB = {
  config: "/etc/prometheus/web-config.yml",
  /** Prometheus's own password (alerting and the self-scrapes read it: password_file). */
  clientPassword: "/etc/prometheus/secrets/prometheus-password",
} as const;

/** The web config file: users with bcrypt hashes, and the TLS files when served over HTTPS. */
export function renderWebConfig(users: Partial<Record<WebUser, string>>, tls: boolean): string {
  const basicAuthUsers = Object.fromEntries(Object.entries(users).map(([user, hash]) => [WEB_USERS[user as WebUser], hash]));
  return toYaml({
    ...(tls ? { tls_server_config: { cert_file: TLS_FILES.cert, key_file: TLS_FILES.key, min_version: "TLS12" } } : {}),
    basic_auth_users: basicAuthUsers,
  });
}

/** The value of an `Authorization: Basic ...` header. */
export function basicAuthorization(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`).toString("base64");
}

/**
 * Docker's healthcheck of a server behind basic auth, holding no credential: healthy when its
 * HTTP server answers /-/healthy, with 200, or with 401 (authentication required: the listener
 * and the handlers are up; /-/healthy says no more than that when authorized). A password here
 * would be one more that can silence every alert (busybox and GNU wget print the status line).
 */
export function healthcheckWithoutCredential(url: string): string[] {
  return ["CMD", "sh", "-c", `wget -S -O /dev/null ${url} 2>&1 | grep -q -E 'HTTP/[0-9.]+ (200|401) '`];
}
