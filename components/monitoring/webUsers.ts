// The monitoring endpoints' users and TLS paths, apart from the web config's renderer so that the
// policy pack can read them (through alertmanagerGate.ts) without the rule renderers.

/**
 * One identity per client. Basic auth has no roles: every user a server lists can do all its API
 * allows (on Alertmanager: post alerts, create and expire silences). So a server lists only the
 * clients that need it, the healthchecks hold no credential at all (healthcheckWithoutCredential),
 * and Alertmanager lists only its gate, which gives each client its own permissions (alertmanagerGate.ts).
 */
export const WEB_USERS = {
  /** Prometheus itself: alerts to Alertmanager and scrapes of it (through the gate: nothing else), scrapes of itself. */
  prometheus: "prometheus",
  /** Grafana's Prometheus datasource (Prometheus only: Alertmanager does not list it). */
  grafana: "grafana",
  /** People: amtool, the web UIs (`pulumi stack output monitoringOperatorPassword --show-secrets`). */
  operator: "operator",
  /** Alertmanager's gate (nginx), the one user Alertmanager lists: only the gate's container holds it. */
  alertmanagerGate: "alertmanager-gate",
} as const;
export type WebUser = keyof typeof WEB_USERS;

/** Where the host's TLS files are mounted (read-only) in Prometheus, Alertmanager and Grafana. */
export const TLS_DIR = "/etc/veza-tls";
export const TLS_FILES = { cert: `${TLS_DIR}/cert.pem`, key: `${TLS_DIR}/key.pem`, ca: `${TLS_DIR}/ca.pem` } as const;

/** Alertmanager's web config: the one user it lists, the gate's (alertmanagerGate.ts). */
export const ALERTMANAGER_WEB = {
  config: "/etc/alertmanager/web-config.yml",
} as const;
