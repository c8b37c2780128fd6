// The stack config as one zod schema: the keys, their types, ranges, defaults and the messages
// that say what is allowed. validate.ts parses with it and adds the rules that span fields;
// the JSON Schema (docs/stack-config.schema.json) and the table of docs/config.md are checked against it.
// Fields never fail the parse (fields.ts): every problem is reported at once.
import { isIP } from "node:net";
import { z } from "zod";
import { CONTAINER_NOFILE_LIMIT, DEFAULT_FORK_HEADROOM_PERCENT, MAX_CLIENTS_LIMIT, MINIMUM_FORK_HEADROOM_PERCENT, MINIMUM_MAXMEMORY_MIB, REDIS_RESERVED_FDS } from "../redis/sizing";
import { BUILT_REDIS_IMAGE } from "../images/redisImage";
import { BUILT_API_STANDIN_IMAGE } from "../images/standinImage";
import { MONITORING_IMAGES } from "../images/monitoringImages";
import { BUILT_BACKUP_IMAGE } from "../images/backupImage";
import { MINIMUM_SOURCE_PREFIX } from "../base/firewall";
import { CREDENTIAL_NAMES } from "../redis/acl";
import { ROTATION_STEPS } from "../redis/rotation";
import { boolean, checkedText, decimal, field, integer, knownKeysObject, listOf, oneOf, OMITTED, optionalBoolean, section, text } from "./fields";
import { imagePinProblem } from "./imageReference";
import { API_MODES, ENVIRONMENTS, EVICTING_POLICIES, HOST_ROLES, INCIDENT_PRESETS } from "./types";

/** Secret keys: read by the program as Pulumi secrets, never part of StackConfig. */
export const SECRET_KEYS = ["slackWebhookUrl", "pagerdutyRoutingKey", "heartbeatWebhookUrl", "sshPrivateKey"] as const;

/** Generations far beyond any real rotation count; bounded so keepers and plans stay small numbers. */
const MAX_CREDENTIAL_GENERATION = 1_000_000;
const DEFAULT_RUNBOOK_BASE_URL = "https://git.veza.fr/veza/infra-redis/src/branch/main/docs/runbooks";

/** The ports this stack's processes listen on: above the privileged range (they run unprivileged). */
export const PORT_MIN = 1024;
export const PORT_MAX = 65535;
const listenPort = () => integer(PORT_MIN, PORT_MAX, "unprivileged: a port below 1024 needs root");

const HOST_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const MASTER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
/** RFC 1123 host names: what may stand in for an IP in a host:port. */
const DNS_LABELS = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*";
const DNS_NAME = new RegExp(`^(?=.{1,253}$)${DNS_LABELS}$`);
const IPV6_UNSUPPORTED = "IPv6 is not supported (every host:port this stack renders, Prometheus targets, --web.listen-address and the scripts' endpoints, would need it in brackets)";
const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}$/;
/** host:port of an endpoint outside this stack (any port); an IPv6 host in brackets. */
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
/**
 * URL characters that are inert in the rules file: no quote, backslash, space, newline, brace
 * (`{{` is a template in an annotation) or angle bracket. RFC 3986 otherwise.
 */
const URL_SAFE = /^https?:\/\/[A-Za-z0-9._~!$&()*+,;=:@%\/?#-]+$/;

function isHostPort(value: string): boolean {
  const match = HOST_PORT.exec(value);
  if (!match || Number(match[1]) < 1 || Number(match[1]) > PORT_MAX) return false;
  const host = value.slice(0, value.lastIndexOf(":"));
  return host.startsWith("[") ? isIP(host.slice(1, -1)) === 6 : isIP(host) === 4 || DNS_NAME.test(host);
}

/** A container image reference pinned to a tag other than `latest`, or to a digest. */
function pinnedImage(fallback: string) {
  const allowed = (problem: string) => `an image pinned to a version tag or digest (${problem})`;
  const check = (value: string) => {
    const problem = imagePinProblem(value);
    return problem === undefined ? [] : [allowed(problem)];
  };
  const image = checkedText(check, allowed("not a string"), (value) => ({ fallback, kept: typeof value === "string" ? value : undefined })).default(fallback);
  // An empty YAML value (null) means the default image, as absence does.
  return z.preprocess((value) => value ?? undefined, image);
}

const DOCKER_HOST_ALLOWED =
  "a Docker host URI: unix:///<socket path> (letters, digits, . _ - /) or ssh://user@host[:port] (user of letters, digits, . _ -; host an IPv4 address or a DNS name; port 1-65535)";

const TCP_PORT = "(?:[1-9]\\d{0,3}|[1-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])";
const DOCKER_HOST = new RegExp(`^(?:unix:///[A-Za-z0-9._/-]+|ssh://[A-Za-z0-9_][A-Za-z0-9._-]{0,31}@${DNS_LABELS}(?::${TCP_PORT})?)$`);

const HOST_SHAPE_TEXT = "{ name, dockerHost, address[, bindAddress] }";
const hostAddressAllowed = "the IP address or DNS name clients use to reach this host";

export const SSH_HOST_KEY_ALLOWED = "the host's SSH public key as `<type> <base64>`, e.g. the output of `ssh-keyscan -t ed25519 <host>` without the host name (required for ssh:// hosts)";

const hostSchema = field(
  knownKeysObject(
    {
      name: text(HOST_NAME, "a lowercase name of letters, digits and dashes, starting with a letter (at most 31 characters)"),
      /** Absent (the drills' hosts) counts as redis. */
      role: oneOf(HOST_ROLES, "redis", " (monitoring: a host that holds no Redis data node or sentinel)"),
      // The URI reaches `docker -H` and ssh's command line: only the characters a socket path, a
      // user, a host and a port need (no shell metacharacters), and a port that exists.
      dockerHost: text(DOCKER_HOST, DOCKER_HOST_ALLOWED),
      address: checkedText(
        (address) => {
          if (address.trim() === "" || !/^[A-Za-z0-9.:-]+$/.test(address)) return [hostAddressAllowed];
          if (isIP(address) === 6) return [`an IPv4 address or a DNS name; ${IPV6_UNSUPPORTED}`];
          if (!isIP(address) && !DNS_NAME.test(address)) return ["an IPv4 address or a DNS name (letters, digits, dashes and dots; no port)"];
          return [];
        },
        hostAddressAllowed,
        () => ({ fallback: "" }),
      ),
      /** Defaults to `address` when that is an IP (validate.ts: it depends on address). */
      bindAddress: checkedText(
        (bind) => {
          if (bind.trim() === "") return ["a non-empty string"];
          const allowed = isIP(bind) === 6 ? [`an IPv4 address on this host; ${IPV6_UNSUPPORTED}`] : !isIP(bind) ? ["an IP address on this host"] : [];
          if (bind === "0.0.0.0" || bind === "::") allowed.push("a specific interface address, not all interfaces (Redis must not listen on every network)");
          return allowed;
        },
        "a non-empty string",
        // A bad bind address is still the one given: the host's own checks read it.
        (value) => ({ fallback: typeof value === "string" ? value : "" }),
      ).optional(),
      /** Required for ssh:// hosts and refused for others (validate.ts: it depends on dockerHost). */
      sshHostKey: text(SSH_PUBLIC_KEY, SSH_HOST_KEY_ALLOWED).optional(),
    },
    `an object ${HOST_SHAPE_TEXT}`,
  ),
  () => ({ fallback: OMITTED }),
);

const hostsAllowed = `a non-empty list of ${HOST_SHAPE_TEXT}`;

const redisSchema = section({
  /** Built from images/redis (Debian's patched package, what the tests run): components/images/redisImage.ts. */
  image: pinnedImage(BUILT_REDIS_IMAGE),
  memoryLimitMiB: integer(64, 1024 * 1024, "MiB, the container memory limit").default(512),
  forkHeadroomPercent: integer(
    MINIMUM_FORK_HEADROOM_PERCENT,
    90,
    `percent of the memory limit kept free of dataset; at least ${MINIMUM_FORK_HEADROOM_PERCENT} (more below 1 GiB) because a fork under writes can copy every page of a fragmented dataset (the sizing model, components/redis/sizing.ts)`,
  ).default(DEFAULT_FORK_HEADROOM_PERCENT),
  /** Explicit maxmemory; when absent it is computed from the limit and the headroom. */
  maxmemoryMiB: integer(MINIMUM_MAXMEMORY_MIB, 1024 * 1024, "MiB").optional(),
  evictionPolicy: oneOf(EVICTING_POLICIES, "allkeys-lru", " (an evicting policy: with noeviction a full Redis refuses writes, the runbook's OOM failure)", true),
  allowedEvictionPolicies: listOf(EVICTING_POLICIES, ["allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu"]),
  aofRewritePercentage: integer(10, 1000, "percent growth over the last rewrite that triggers the next").default(100),
  aofRewriteMinSizeMiB: integer(1, 1024 * 1024, "MiB").default(64),
  /** Explicit data volume size; when absent, the sizing minimum times volumeHeadroomFactor. */
  dataVolumeMiB: integer(64, 1024 * 1024 * 16, "MiB").optional(),
  volumeHeadroomFactor: decimal(1, 10, "multiple of the sizing minimum").default(1.5),
  rdbSnapshots: boolean(false),
  port: listenPort().default(6379),
  tcpBacklog: integer(128, 65535).default(511),
  maxClients: integer(
    100,
    MAX_CLIENTS_LIMIT,
    `the container's nofile limit ${CONTAINER_NOFILE_LIMIT} minus the ${REDIS_RESERVED_FDS} descriptors Redis keeps; above it Redis lowers maxclients at start`,
  ).default(10000),
  minReplicasToWrite: integer(0, 10).default(1),
  minReplicasMaxLagSeconds: integer(1, 60, "seconds").default(5),
});

const sentinelSchema = section({
  enabled: boolean(true),
  masterName: text(MASTER_NAME, "letters, digits, dot, dash and underscore (1-64)").default("veza-redis"),
  replicas: integer(0, 10).default(2),
  count: integer(1, 99).default(3),
  /** Default: a strict majority of count (validate.ts). */
  quorum: integer(1, 99).optional(),
  downAfterMilliseconds: integer(1, 600000, "ms").default(2000),
  failoverTimeoutMilliseconds: integer(1, 3600000, "ms").default(10000),
  parallelSyncs: integer(1, 10).default(1),
  port: listenPort().default(26379),
});

const extraEnvEntry = "a string value under a key that is an upper-case environment variable name";
/** Variables passed through to the API container; a bad entry is dropped, the others kept. */
const extraEnvSchema = field(
  z.record(z.string().regex(ENV_NAME), z.union([z.string(), z.number(), z.boolean()], { error: extraEnvEntry }).transform(String), {
    error: (issue) => (issue.code === "invalid_type" && issue.path === undefined ? "a map of an upper-case environment variable name to strings" : extraEnvEntry),
  }),
  (value) => ({
    fallback:
      typeof value === "object" && value !== null && !Array.isArray(value)
        ? Object.fromEntries(
            Object.entries(value)
              .filter(([name, entry]) => ENV_NAME.test(name) && ["string", "number", "boolean"].includes(typeof entry))
              .map(([name, entry]) => [name, String(entry)]),
          )
        : {},
  }),
  { perEntry: true },
).default({});

const apiMetricsSchema = section({
  enabled: boolean(true),
  path: text(/^\/[A-Za-z0-9._~\/-]*$/, "an absolute URL path such as /metrics").default("/metrics"),
  /** Container mode: the port on the API host; default api.port (validate.ts). */
  port: listenPort().optional(),
  /** External mode: host:port of the API's metrics endpoint. */
  address: checkedText(
    (address) =>
      address.trim() === ""
        ? ["host:port of the API's metrics endpoint"]
        : isHostPort(address)
          ? []
          : ["host:port of the API's metrics endpoint: an IPv4 address or DNS name (an IPv6 address in brackets) and a port from 1 to 65535"],
    "host:port of the API's metrics endpoint",
    () => ({ fallback: undefined }),
  ).optional(),
});

/** A path on a host: absolute, of plain characters only (it lands in shell commands, quoted). */
const hostFilePath = /^(\/[A-Za-z0-9_][A-Za-z0-9._-]*){2,}$/;

const apiSchema = section({
  mode: oneOf(API_MODES, "container"),
  /** Default: the first host (validate.ts). */
  host: text().optional(),
  /** Default: the stand-in built from images/api-standin; the real backend's image is one value away. */
  image: pinnedImage(BUILT_API_STANDIN_IMAGE),
  port: listenPort().default(8080),
  /**
   * Container mode: the numeric uid:gid the API runs as. Its password files are then 0600 and
   * owned by it; without it the image's user runs the API and the files stay 0644 (the stack
   * cannot know which uid must read them).
   */
  user: text(/^[1-9][0-9]{0,8}:[1-9][0-9]{0,8}$/, "a numeric uid:gid such as 10001:10001, neither 0 (the API need not run as root or in root's group)").optional(),
  extraEnv: extraEnvSchema,
  metrics: apiMetricsSchema,
  /**
   * SIGTERM, then this long before SIGKILL, when the runbook's toggles restart the API: in-flight
   * requests finish instead of being cut (container mode: the container's stop grace; external
   * mode: the default restart command's --time).
   */
  stopGraceSeconds: integer(1, 600, "seconds the API gets to finish in-flight requests when it is restarted").default(30),
  /** External mode: the file on the API host that holds the toggles; the API's container reads it at start. */
  togglesFile: text(
    hostFilePath,
    "an absolute path below a directory (not in /), of letters, digits and . _ / -, no component starting with a dot (it lands in a shell command and its directory is mounted)",
  ).default("/etc/veza/backend-api-toggles.env"),
  /** External mode: one shell line, run on the API host after the toggles file changes; default `docker restart --time <stopGraceSeconds> veza-backend-api`. */
  restartCommand: text(/^[^\n\r\0]{1,500}$/, "one line of shell, at most 500 characters, run on the API host after the toggles file changes").optional(),
});

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const hostPath = /^\/[A-Za-z0-9._/-]+$/;

const sloSchema = section(
  {
    requestsTotal: text(metricName, "a Prometheus metric name").default("http_requests_total"),
    durationBucket: text(metricName, "a Prometheus metric name").default("http_request_duration_seconds_bucket"),
    methodLabel: text(labelName, "a Prometheus label name").default("method"),
    statusLabel: text(labelName, "a Prometheus label name").default("status"),
    routeLabel: text(labelName, "a Prometheus label name").default("route"),
    paymentRoute: text(/^\/[^"\\\s]*$/, "a route path starting with /").default("/api/v1/orders"),
    latencyThresholdSeconds: decimal(0.005, 60, "seconds; must match a histogram bucket boundary").default(0.5),
  },
  { notAnObject: "an object of SLO metric settings" },
);

const runbookBaseUrlAllowed =
  "an absolute http(s) URL with a host and no trailing slash, of letters, digits and -._~!$&()*+,;=:@%/?# only (no quotes, spaces, newlines, braces or backslashes: it lands in the rules file)";

function isRunbookBaseUrl(value: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return false;
  }
  return URL_SAFE.test(value) && ["http:", "https:"].includes(parsed.protocol) && parsed.hostname !== "" && !value.endsWith("/");
}

/** A path on the monitoring host; absent ("") means none: TLS is all three or none. */
const tlsFile = () => text(hostPath, "an absolute path on the monitoring host").default("");

const monitoringSchema = section({
  enabled: boolean(true),
  /** Default: the first host (validate.ts). */
  host: text().optional(),
  // Built on the hosts from Debian's packages at the versions the tests run (monitoring/images.ts).
  prometheusImage: pinnedImage(MONITORING_IMAGES.prometheus.tag),
  alertmanagerImage: pinnedImage(MONITORING_IMAGES.alertmanager.tag),
  redisExporterImage: pinnedImage(MONITORING_IMAGES.redisExporter.tag),
  /** Probes the TLS endpoints' certificates when tls.enabled. */
  blackboxExporterImage: pinnedImage(MONITORING_IMAGES.blackboxExporter.tag),
  nodeExporterImage: pinnedImage("prom/node-exporter:v1.8.2"),
  grafanaImage: pinnedImage("grafana/grafana:12.2.0"),
  prometheusPort: listenPort().default(9090),
  alertmanagerPort: listenPort().default(9093),
  /** Alertmanager's own port on the monitoring host's 127.0.0.1: only its gate (nginx, on alertmanagerPort) reaches it. */
  alertmanagerLoopbackPort: listenPort().default(9193),
  nodeExporterPort: listenPort().default(9100),
  redisExporterPort: listenPort().default(9121),
  blackboxExporterPort: listenPort().default(9115),
  grafanaPort: listenPort().default(3000),
  runbookBaseUrl: checkedText(
    (url) => (isRunbookBaseUrl(url) ? [] : [runbookBaseUrlAllowed]),
    runbookBaseUrlAllowed,
    (value) => ({
      fallback: DEFAULT_RUNBOOK_BASE_URL,
      kept: typeof value === "string" ? value : undefined,
    }),
  ).default(DEFAULT_RUNBOOK_BASE_URL),
  cluster: text(/^[A-Za-z0-9._-]+$/, "a label value of letters, digits, dot, dash and underscore").default("veza"),
  /** node_exporter mountpoint of the filesystem that holds Docker's volumes (the Redis data). */
  // Spliced into the rules' label matchers and annotations: no quotes, braces or template text.
  dataMountpoint: text(/^\/[A-Za-z0-9._/-]*$/, "an absolute mountpoint as node_exporter reports it (letters, digits, . _ - and /)").default("/"),
  slackPageChannel: text(/^[#@][\w.-]+$/, "a Slack channel (#name) or user (@name)").default("#veza-oncall"),
  slackTicketChannel: text(/^[#@][\w.-]+$/, "a Slack channel (#name) or user (@name)").default("#veza-tickets"),
  slo: sloSchema,
  tlsCertFile: tlsFile(),
  tlsKeyFile: tlsFile(),
  tlsCaFile: tlsFile(),
});

const backupSchema = section({
  /** Default: monitoring.enabled (validate.ts): a backup nobody watches fails unnoticed. */
  enabled: optionalBoolean(),
  /** Default: the monitoring host, else the first host (validate.ts). */
  host: text().optional(),
  image: pinnedImage(BUILT_BACKUP_IMAGE),
  intervalMinutes: integer(5, 1440, "minutes between snapshots (the recovery point objective)").default(60),
  keepHourly: integer(0, 8760, "hourly snapshots kept").default(48),
  keepDaily: integer(0, 3650, "daily snapshots kept").default(14),
});

/**
 * One credential's rotation (components/redis/rotation.ts). `step` has no default once a
 * rotation started, and `external` must fit the generation: validate.ts.
 */
const credentialSchema = section({
  generation: integer(0, MAX_CREDENTIAL_GENERATION, "the password generation; raise it by one to start a rotation").default(0),
  step: oneOf(ROTATION_STEPS, "retire", " (add: servers accept the new password too; switch: clients use it; retire: the old one is removed)"),
  external: integer(0, MAX_CREDENTIAL_GENERATION, "the generation consumers outside this stack hold").optional(),
});

const credentialsSchema = section(Object.fromEntries(CREDENTIAL_NAMES.map((name) => [name, credentialSchema])) as { [name in (typeof CREDENTIAL_NAMES)[number]]: typeof credentialSchema }, {
  unknownKeyAllowed: `a credential name (${CREDENTIAL_NAMES.join(", ")})`,
});

/**
 * TLS on every Redis and Sentinel link, with a client certificate per role (components/tls). The
 * CA rotates in the credentials' three steps (certificates.ts authoritiesAt); cross-field rules
 * (renewal before the expiry ticket, add/switch need a previous CA): validate.ts.
 */
const tlsSchema = section({
  enabled: boolean(false),
  /** Acknowledges a switch of tls.enabled on a stack that ran the other way: its cluster is stopped (certificates.ts tlsSwitchProblems). */
  coldSwitch: boolean(false),
  caValidityDays: integer(365, 36500, "days the stack CA is valid").default(3650),
  leafValidityDays: integer(30, 825, "days a server or client certificate is valid (825: the CA/Browser limit)").default(90),
  renewBeforeDays: integer(1, 824, "days before a certificate's end that `pulumi up` reissues it").default(30),
  caGeneration: integer(0, MAX_CREDENTIAL_GENERATION, "the stack CA's generation; raise it by one to start a CA rotation").default(0),
  caStep: oneOf(ROTATION_STEPS, "retire", " (add: every bundle trusts the new CA too; switch: the new CA signs every certificate; retire: the old CA is dropped)"),
  /** A CA the team brings instead of the generated one: its certificate and key, read where `pulumi up` runs. */
  caCertFile: text(hostPath, "an absolute path, where `pulumi up` runs, of the CA certificate (PEM) that signs the stack's certificates").default(""),
  caKeyFile: text(hostPath, "an absolute path, where `pulumi up` runs, of that CA's unencrypted private key (PEM)").default(""),
  /** More CA certificates every bundle trusts: the overlap while the brought CA is rotated. */
  trustedCaFiles: field(z.array(z.string().regex(hostPath), { error: "a list of absolute paths of CA certificates (PEM)" }), () => ({ fallback: [] })).default([]),
});

/** An IPv4 address, or an IPv4 network in CIDR notation (a.b.c.d/n, n from 8 to 32, no host bits set). */
function isIpv4Source(value: string): boolean {
  const [address, prefix, ...rest] = value.split("/");
  if (rest.length > 0 || !isIP(address) || isIP(address) !== 4) return false;
  if (prefix === undefined) return true;
  // A /7 or wider admits a large part of the Internet: no boundary at all.
  if (!/^\d{1,2}$/.test(prefix) || Number(prefix) < MINIMUM_SOURCE_PREFIX || Number(prefix) > 32) return false;
  const bits = address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
  return bits % 2 ** (32 - Number(prefix)) === 0;
}
const CLIENT_SOURCES_ALLOWED = `a list of IPv4 addresses or IPv4 networks in CIDR notation, /${MINIMUM_SOURCE_PREFIX} to /32, without host bits (e.g. 10.20.1.0/24)`;

/**
 * The data hosts' nftables firewall (components/base/firewall.ts). Its default and the rules that
 * depend on the hosts and the API's mode: validate.ts.
 */
const firewallSchema = section({
  /** Default: on when a host is reached over ssh (hosts on a shared network); off for a local Docker, whose Redis binds 127.0.0.1. */
  enabled: optionalBoolean(),
  /** Sources outside the declared hosts allowed to reach Redis and Sentinel: the API's hosts, a bastion. */
  clientSources: field(z.array(z.string().refine(isIpv4Source, { error: CLIENT_SOURCES_ALLOWED }), { error: CLIENT_SOURCES_ALLOWED }), () => ({ fallback: [] })).default([]),
});

const topLevelShape = {
  environment: oneOf(ENVIRONMENTS, "dev"),
  hosts: field(z.array(hostSchema, { error: hostsAllowed }).min(1, { error: hostsAllowed }), () => ({ fallback: [] })),
  redis: redisSchema,
  sentinel: sentinelSchema,
  api: apiSchema,
  monitoring: monitoringSchema,
  backup: backupSchema,
  incident: oneOf(INCIDENT_PRESETS, "none"),
  /** Explicit toggles; absent means "follow the incident preset". */
  maintenanceMode: optionalBoolean(),
  rateLimitFailClosed: optionalBoolean(),
  credentials: credentialsSchema,
  tls: tlsSchema,
  firewall: firewallSchema,
  // Read by the program as secrets; here so that they are known keys (required outside dev: validate.ts).
  ...(Object.fromEntries(SECRET_KEYS.map((key) => [key, z.unknown().optional().meta({ description: "a secret: pulumi config set --secret" })])) as {
    [key in (typeof SECRET_KEYS)[number]]: z.ZodOptional<z.ZodUnknown>;
  }),
};

export const stackConfigSchema = knownKeysObject(topLevelShape, "an object of settings");

export type ParsedStackConfig = z.output<typeof stackConfigSchema>;
