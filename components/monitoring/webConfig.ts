// Who may talk to Prometheus and Alertmanager: their --web.config.file (basic auth with bcrypt
// hashes of generated passwords, HTTPS when monitoring.tls* is set), and the client side of it
// (Prometheus's alerting and self-scrapes, Grafana's datasource, the healthchecks).

import { toYaml } from "./redisRules";

/** One identity per client; basic auth has no roles, so these only tell the clients apart. */
export const WEB_USERS = {
  /** Prometheus itself: alerts to Alertmanager, scrapes of Alertmanager and of itself. */
  prometheus: "prometheus",
  /** Grafana's Prometheus datasource. */
  grafana: "grafana",
  /** People: amtool, the web UIs (`pulumi stack output monitoringOperatorPassword --show-secrets`). */
  operator: "operator",
  /** Docker's healthchecks. */
  health: "health",
} as const;
export type WebUser = keyof typeof WEB_USERS;

export const PROMETHEUS_WEB = {
  config: "/etc/prometheus/web-config.yml",
  /** Prometheus's own password (alerting and the self-scrapes read it: password_file). */
  clientPassword: "/etc/prometheus/secrets/prometheus-password",
  healthAuthorization: "/etc/prometheus/secrets/health-authorization",
} as const;
export const ALERTMANAGER_WEB = {
  config: "/etc/alertmanager/web-config.yml",
  healthAuthorization: "/etc/alertmanager/secrets/health-authorization",
} as const;

/** Where the host's TLS files are mounted (read-only) in Prometheus, Alertmanager and Grafana. */
export const TLS_DIR = "/etc/veza-tls";
export const TLS_FILES = { cert: `${TLS_DIR}/cert.pem`, key: `${TLS_DIR}/key.pem`, ca: `${TLS_DIR}/ca.pem` } as const;

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
 * A healthcheck against an authenticated endpoint (sh and busybox wget, in the built images as in the upstream ones): the
 * header is read from an uploaded secret file at each run, so the password is in no container
 * config (`docker inspect`). busybox wget does not verify certificates: fine for a local probe.
 */
export function authenticatedHealthcheck(url: string, authorizationFile: string): string[] {
  return ["CMD", "sh", "-c", `exec wget -q -O /dev/null --header "Authorization: Basic $(cat ${authorizationFile})" ${url}`];
}
