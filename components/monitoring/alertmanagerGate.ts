// Alertmanager's gate: nginx in front of Alertmanager, because basic auth has no roles. Every user
// Alertmanager's web config lists may post alerts, create silences and expire them, so a stolen
// Prometheus password could silence every alert for a year. Alertmanager now listens on the
// monitoring host's loopback and lists one user, the gate's; the gate serves the public port,
// checks each client's password (the same bcrypt hashes) and lets each user through only to what
// its job needs (GATE_PERMISSIONS). The healthcheck's path is open and read-only.
//
// nginx's phases give the order: the rewrite phase refuses a user's request outside its
// permissions (403) before the access phase checks the password (auth_basic, 401). The user a
// client names decides the refusal and its password must then match that user's hash, so naming
// the operator gains nothing without the operator's password.

import { WEB_USERS, TLS_FILES } from "./webUsers";

export const ALERTMANAGER_GATE_PATHS = {
  configRoot: "/etc/alertmanager-gate",
  config: "/etc/alertmanager-gate/nginx.conf",
  /** The clients' bcrypt hashes (htpasswd: user:hash per line). */
  htpasswd: "/etc/alertmanager-gate/secrets/htpasswd",
  /** `proxy_set_header Authorization ...` with the gate's own credential: the only one Alertmanager accepts. */
  upstreamAuthorization: "/etc/alertmanager-gate/secrets/upstream-authorization.conf",
  /** nginx writes its pid and temporary files here (a tmpfs: the root is read-only). */
  runtimeDir: "/tmp",
} as const;

/** How the gate's container runs nginx: in the foreground, its errors on stderr from the first line. */
export const ALERTMANAGER_GATE_COMMAND = ["nginx", "-e", "stderr", "-c", ALERTMANAGER_GATE_PATHS.config, "-g", "daemon off;"];

/**
 * What each client may do through the gate: an exact method and request URI (query included, so
 * an encoded or dotted path is refused rather than normalised into a permitted one). Prometheus
 * posts alerts (alerting, api v2) and scrapes Alertmanager's metrics; nothing else, so its stolen
 * password can neither create nor expire a silence. The operator may do everything (amtool, the UI).
 */
export const GATE_PERMISSIONS: Record<"prometheus" | "operator", "everything" | Array<{ method: string; requestUri: string }>> = {
  prometheus: [
    { method: "POST", requestUri: "/api/v2/alerts" },
    { method: "GET", requestUri: "/metrics" },
  ],
  operator: "everything",
};

/** Where a refused request is sent inside nginx: `deny all` answers 403 and logs it (internal: no client reaches it by name). */
const REFUSED_LOCATION = "/veza-gate-refused";

/**
 * Requests per second through the gate from addresses other than the monitoring host's: per
 * address, for all of them together, and the burst allowed (an operator's UI page load).
 */
export const GATE_RATE = { perClientPerSecond: 5, allClientsPerSecond: 10, burst: 30 } as const;

/** Paths anyone may GET without a credential: Docker's healthcheck (it says up or down, nothing more). */
export const GATE_OPEN_PATHS = ["/-/healthy"] as const;

export interface AlertmanagerGateInput {
  /** Where the gate listens: the monitoring host's bind address and Alertmanager's public port. */
  listenAddress: string;
  listenPort: number;
  /** Alertmanager's own port on 127.0.0.1. */
  loopbackPort: number;
  /** Serve HTTPS with the monitoring TLS files (monitoring.tls*). */
  tls: boolean;
  /** The monitoring host's other addresses Prometheus may come from (its `address` when an IP); the listen address always is. */
  hostAddresses?: string[];
}

// Everything spliced into nginx.conf is checked against these: an address or a user name with a
// space, a quote, a brace or a semicolon would add directives of its own.
const SAFE_ADDRESS = /^[A-Za-z0-9.:[\]-]+$/;
const SAFE_USER = /^[A-Za-z0-9_-]+$/;
const SAFE_REQUEST_URI = /^\/[A-Za-z0-9/_.-]*$/;
const SAFE_BCRYPT = /^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$/;

function checked(value: string, grammar: RegExp, what: string): string {
  if (!grammar.test(value)) throw new Error(`alertmanager gate: ${what} ${JSON.stringify(value)} does not match ${grammar}`);
  return value;
}

function checkedPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`alertmanager gate: ${what} ${port} is not a port (1-65535)`);
  return port;
}

/** The map that refuses (1) or lets through to the password check (0) each "user method request-uri". */
function permissionMap(): string[] {
  const entries = Object.entries(GATE_PERMISSIONS).flatMap(([user, allowed]) => {
    const name = checked(WEB_USERS[user as keyof typeof GATE_PERMISSIONS], SAFE_USER, "user");
    if (allowed === "everything") return [`    "~^${name} " 0;`];
    return allowed.map((p) => `    "${name} ${checked(p.method, /^[A-Z]+$/, "method")} ${checked(p.requestUri, SAFE_REQUEST_URI, "request URI")}" 0;`);
  });
  return [
    '  map "$remote_user $request_method $request_uri" $gate_refused {',
    "    default 1;",
    // No user named: on to auth_basic, which answers 401 and asks for one.
    '    "~^ " 0;',
    ...entries,
    "  }",
  ];
}

/** nginx.conf for the gate: no secret in it (the hashes and the upstream credential are included files). */
export function renderAlertmanagerGateConfig(input: AlertmanagerGateInput): string {
  const listen = `${checked(input.listenAddress, SAFE_ADDRESS, "listen address")}:${checkedPort(input.listenPort, "listen port")}`;
  const upstream = `http://127.0.0.1:${checkedPort(input.loopbackPort, "loopback port")}`;
  const runtime = ALERTMANAGER_GATE_PATHS.runtimeDir;
  const exemptAddresses = [...new Set([input.listenAddress, ...(input.hostAddresses ?? []).map((address) => checked(address, SAFE_ADDRESS, "host address"))])];
  const proxied = [`      include ${ALERTMANAGER_GATE_PATHS.upstreamAuthorization};`, `      proxy_pass ${upstream};`];
  return [
    "# Alertmanager's gate (components/monitoring/alertmanagerGate.ts): each client's password and",
    "# permissions are checked here; Alertmanager, on 127.0.0.1, accepts only the gate's credential.",
    // Two workers: each password check (bcrypt) holds its worker for tens of milliseconds.
    "worker_processes 2;",
    `pid ${runtime}/nginx.pid;`,
    "error_log stderr warn;",
    "events { worker_connections 256; }",
    "http {",
    "  server_tokens off;",
    // The root is read-only: every temporary path nginx creates at start goes to the tmpfs.
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `  ${kind}_temp_path ${runtime}/${kind};`),
    // Only refusals are logged, on the error log (stderr, never reopened: a non-root process may
    // not reopen Docker's stdio): a refused permission as "access forbidden by rule", a wrong
    // password by auth_basic (a missing one is logged at info: not kept). No line per alert batch.
    "  access_log off;",
    ...permissionMap(),
    // Each password check is a bcrypt hash: GATE_RATE per client address and for all of them
    // together, refused with 429 before the check, refusals counted too. The monitoring host's own
    // addresses (Prometheus, the healthcheck) are exempt: an empty key is not counted. Rejections
    // are not logged (info, below the error log's level): the log keeps what was let through.
    "  map $remote_addr $gate_client {",
    "    default $binary_remote_addr;",
    ...exemptAddresses.map((address) => `    "${address}" "";`),
    "  }",
    '  map $gate_client $gate_all_clients { "" ""; default all; }',
    `  limit_req_zone $gate_client zone=gate_per_client:1m rate=${GATE_RATE.perClientPerSecond}r/s;`,
    `  limit_req_zone $gate_all_clients zone=gate_all_clients:64k rate=${GATE_RATE.allClientsPerSecond}r/s;`,
    "  limit_req_status 429;",
    "  limit_req_log_level info;",
    "  server {",
    `    listen ${listen}${input.tls ? " ssl" : ""};`,
    `    limit_req zone=gate_per_client burst=${GATE_RATE.burst} nodelay;`,
    `    limit_req zone=gate_all_clients burst=${GATE_RATE.burst} nodelay;`,
    ...(input.tls ? [`    ssl_certificate ${TLS_FILES.cert};`, `    ssl_certificate_key ${TLS_FILES.key};`, "    ssl_protocols TLSv1.2 TLSv1.3;"] : []),
    // The open path answers its exact request URI only: nginx matches the normalised path, and
    // would pass on an encoded one (/api/v2/status%2F..%2F-%2Fhealthy) as it came.
    ...GATE_OPEN_PATHS.flatMap((path) => [`    location = ${path} {`, "      limit_except GET { deny all; }", `      if ($request_uri != "${path}") { return 403; }`, ...proxied, "    }"]),
    "    location / {",
    // Refused in the rewrite phase, before the password check: on to the location that denies.
    `      if ($gate_refused) { rewrite ^ ${REFUSED_LOCATION} last; }`,
    '      auth_basic "Alertmanager";',
    `      auth_basic_user_file ${ALERTMANAGER_GATE_PATHS.htpasswd};`,
    ...proxied,
    "    }",
    `    location = ${REFUSED_LOCATION} { internal; deny all; }`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** The clients' htpasswd: user:bcrypt-hash per line (nginx checks them with the system's crypt, which takes bcrypt). */
export function renderGateHtpasswd(hashes: Partial<Record<keyof typeof GATE_PERMISSIONS, string>>): string {
  return Object.entries(hashes)
    .map(([user, hash]) => `${checked(WEB_USERS[user as keyof typeof GATE_PERMISSIONS], SAFE_USER, "user")}:${checked(hash!, SAFE_BCRYPT, `${user}'s bcrypt hash`)}\n`)
    .join("");
}

/** The included directive that presents the gate's own credential to Alertmanager. */
export function renderGateUpstreamAuthorization(user: string, password: string): string {
  const credential = Buffer.from(`${checked(user, SAFE_USER, "gate user")}:${password}`).toString("base64");
  return `proxy_set_header Authorization "Basic ${credential}";\n`;
}

/** What a client may do through the gate, in words (the threat model's table reads it). */
export function describeGatePermissions(user: keyof typeof GATE_PERMISSIONS): string {
  const allowed = GATE_PERMISSIONS[user];
  return allowed === "everything" ? "everything" : allowed.map((p) => `\`${p.method} ${p.requestUri}\``).join(" and ");
}
