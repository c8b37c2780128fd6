// One pass over the raw stack config: every problem is collected, each naming the key, the bad
// value and what is allowed. Only a config with no problem at all becomes a StackConfig, so
// nothing is declared on bad input.

import { isIP } from "node:net";
import { computeSizing, CONTAINER_NOFILE_LIMIT, MAX_CLIENTS_LIMIT, MINIMUM_FORK_HEADROOM_PERCENT, MINIMUM_MAXMEMORY_MIB, DEFAULT_FORK_HEADROOM_PERCENT, MiB, REDIS_RESERVED_FDS } from "../redis/sizing";
import { BUILT_REDIS_IMAGE } from "../redis/image";
import { dockerDaemonKey } from "./dockerDaemon";
import { largestShareOnOneHost } from "../topology/placement";
import { API_CREDENTIALS, CREDENTIAL_NAMES } from "../redis/acl";
import { ROTATION_STEPS, steadyRotation, usedGeneration, type RotationConfig } from "../redis/rotation";
import { portAllocations, stackTopology } from "../topology/ports";
import { FORBIDDEN_KEY_ALLOWED, forbiddenKeyPaths, formatProblem, isPlainObject, ProblemList, SectionReader, type ConfigProblem, type RawObject } from "./reader";
import {
  API_MODES,
  ENVIRONMENTS,
  EVICTING_POLICIES,
  HOST_ROLES,
  INCIDENT_PRESETS,
  type ApiConfig,
  type HostConfig,
  type MonitoringConfig,
  type RedisConfig,
  type SentinelConfig,
  type StackConfig,
} from "./types";

/** Secret keys: read by the program as Pulumi secrets, never part of StackConfig. */
export const SECRET_KEYS = ["slackWebhookUrl", "pagerdutyRoutingKey", "heartbeatWebhookUrl", "sshPrivateKey"] as const;

export const TOP_LEVEL_KEYS = [
  "environment",
  "hosts",
  "redis",
  "sentinel",
  "api",
  "monitoring",
  "incident",
  "maintenanceMode",
  "rateLimitFailClosed",
  "credentials",
  ...SECRET_KEYS,
] as const;

/** Built from images/redis (Debian's patched package, what the tests run): components/redis/image.ts. */
export const DEFAULT_REDIS_IMAGE = BUILT_REDIS_IMAGE;

export type ValidationResult = { ok: true; config: StackConfig } | { ok: false; problems: ConfigProblem[]; lenientConfig?: StackConfig };

export class StackConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`Invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was declared:\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`);
    this.name = "StackConfigError";
  }
}

/** Throws StackConfigError listing every problem; returns the typed config otherwise. */
export function requireValidStackConfig(raw: RawObject): StackConfig {
  const result = validateStackConfig(raw);
  if (!result.ok) throw new StackConfigError(result.problems);
  return result.config;
}

const HOST_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const MASTER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const PORT_MAX = 65535;
/** The ports this stack's processes listen on: above the privileged range (they run unprivileged). */
const PORT_MIN = 1024;
const LISTEN_PORT = "unprivileged: a port below 1024 needs root";
/** RFC 1123 host names: what may stand in for an IP in a host:port. */
const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6_UNSUPPORTED = "IPv6 is not supported (every host:port this stack renders, Prometheus targets, --web.listen-address and the scripts' endpoints, would need it in brackets)";

export function validateStackConfig(raw: RawObject, options: { lenient?: boolean } = {}): ValidationResult {
  // A prototype key is refused before anything reads the config, and even a lenient run (the
  // policy CLI) gets no config from it: every later read could see polluted values.
  const forbidden = forbiddenKeyPaths(raw);
  if (forbidden.length > 0) return { ok: false, problems: forbidden.map(({ key, value }) => ({ key, value, allowed: FORBIDDEN_KEY_ALLOWED })) };
  const problems = new ProblemList(options.lenient);
  const top = new SectionReader(problems, "", raw, TOP_LEVEL_KEYS);

  const environment = top.oneOf("environment", ENVIRONMENTS, "dev");
  const hosts = readHosts(problems, raw.hosts);
  const redis = readRedis(problems, section(problems, raw, "redis"));
  const sentinel = readSentinel(problems, section(problems, raw, "sentinel"));
  const defaultHost = hosts[0]?.name ?? "";
  const api = readApi(problems, section(problems, raw, "api"), defaultHost);
  const monitoring = readMonitoring(problems, section(problems, raw, "monitoring"), defaultHost);
  const incident = top.oneOf("incident", INCIDENT_PRESETS, "none");
  const maintenanceMode = top.optionalBoolean("maintenanceMode");
  const rateLimitFailClosed = top.optionalBoolean("rateLimitFailClosed");

  const credentials = readCredentials(problems, section(problems, raw, "credentials"));

  requireExternalGenerations(problems, api, credentials);
  const config: StackConfig = { environment, hosts, redis, sentinel, api, monitoring, incident, maintenanceMode, rateLimitFailClosed, credentials };
  checkSizing(problems, redis);
  checkSentinelRules(problems, config);
  checkHostReferences(problems, config);
  checkPorts(problems, config);
  checkMonitoringPlacement(problems, config);
  checkAlertingSecrets(problems, raw, config);

  if (problems.problems.length === 0) return { ok: true, config };
  return { ok: false, problems: problems.problems, ...(options.lenient ? { lenientConfig: config } : {}) };
}

/** Generations far beyond any real rotation count; bounded so keepers and plans stay small numbers. */
export const MAX_CREDENTIAL_GENERATION = 1_000_000;

/**
 * `credentials.<user>: { generation, step, external }` per credential name; a user not listed is
 * at generation 0, step retire (never rotated). `add` and `switch` need a previous generation
 * (generation >= 1); `external` (what consumers outside this stack hold) must be the current or
 * the previous generation, and the current one before `retire` removes the previous password.
 */
function readCredentials(problems: ProblemList, raw: RawObject): RotationConfig {
  const rotation = steadyRotation();
  for (const field of Object.keys(raw)) {
    if (!(CREDENTIAL_NAMES as readonly string[]).includes(field)) problems.add(`credentials.${field}`, raw[field], `a credential name (${CREDENTIAL_NAMES.join(", ")})`);
  }
  for (const name of CREDENTIAL_NAMES) {
    if (raw[name] === undefined) continue;
    const entry = section(problems, raw, name, `credentials.${name}`);
    const r = new SectionReader(problems, `credentials.${name}`, entry, ["generation", "step", "external"]);
    const generation = r.integer("generation", 0, MAX_CREDENTIAL_GENERATION, 0, "the password generation; raise it by one to start a rotation");
    const step = r.oneOf("step", ROTATION_STEPS, "retire", " (add: servers accept the new password too; switch: clients use it; retire: the old one is removed)");
    // No default once a rotation started: a raised generation alone would mean add, switch and
    // retire in one `up`, cutting off every client still on the old password (review C1).
    if (Number.isInteger(generation) && generation > 0 && entry.step === undefined) {
      problems.add(`credentials.${name}.step`, undefined, `add, switch or retire, always given with generation ${generation}: the rotation moves one step per \`pulumi up\` (npm run rotate walks them)`);
    }
    const external = r.optionalInteger("external", 0, MAX_CREDENTIAL_GENERATION, "the generation consumers outside this stack hold");
    if (Number.isInteger(generation) && generation === 0 && step !== "retire") {
      problems.add(`credentials.${name}.step`, entry.step, "retire at generation 0 (there is no previous password to rotate from): raise the generation to start a rotation");
    }
    if (external !== undefined && Number.isInteger(generation)) {
      if (external !== generation && external !== generation - 1) {
        problems.add(`credentials.${name}.external`, entry.external, `${generation} or ${Math.max(0, generation - 1)}: only the current and the previous generation exist`);
      } else if (step === "retire" && external !== generation) {
        problems.add(`credentials.${name}.external`, entry.external, `${generation} before step retire: a consumer outside this stack still holds generation ${external}, whose password retire removes`);
      }
    }
    rotation[name] = { generation, step, ...(external !== undefined ? { external } : {}) };
  }
  return rotation;
}

/**
 * An API deployed outside this stack holds whatever its own deploy gave it: only the operator
 * knows, so once its users rotate, `credentials.<user>.external` must say (review H2). Without
 * it the retire guard would assume the API moved at switch and retire would cut it off.
 */
function requireExternalGenerations(problems: ProblemList, api: ApiConfig, rotation: RotationConfig): void {
  if (api.mode !== "external") return;
  for (const name of API_CREDENTIALS) {
    const r = rotation[name];
    if (r.generation > 0 && r.external === undefined) {
      problems.add(`credentials.${name}.external`, undefined, `${usedGeneration(r)} or the generation the external API really holds (api.mode is external, and this stack cannot see what that API was given): required once ${name} rotates`);
    }
  }
}

function section(problems: ProblemList, raw: RawObject, key: string, fullKey = key): RawObject {
  const value = raw[key];
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    problems.add(fullKey, value, "an object of settings");
    return {};
  }
  return value;
}

const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}$/;

function readHosts(problems: ProblemList, value: unknown): HostConfig[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.add("hosts", value, "a non-empty list of { name, dockerHost, address[, bindAddress] }");
    return [];
  }
  const hosts: HostConfig[] = [];
  const seen = new Set<string>();
  // One machine declared twice would hold what the spread over hosts keeps apart.
  const addresses = new Map<string, string>();
  const daemons = new Map<string, string>();
  value.forEach((entry, index) => {
    const prefix = `hosts[${index}]`;
    if (!isPlainObject(entry)) {
      problems.add(prefix, entry, "an object { name, dockerHost, address[, bindAddress] }");
      return;
    }
    const reader = new SectionReader(problems, prefix, entry, ["name", "role", "dockerHost", "address", "bindAddress", "sshHostKey"]);
    const name = reader.string("name", undefined, HOST_NAME, "a lowercase name of letters, digits and dashes, starting with a letter (at most 31 characters)");
    if (name && seen.has(name)) problems.add(`${prefix}.name`, name, "a name no other host uses (host names must be unique)");
    seen.add(name);
    const dockerHost = reader.string("dockerHost", undefined, /^(unix:\/\/\/\S+|ssh:\/\/[^@\s]+@[^:\s/]+(:\d{1,5})?)$/, "a Docker host URI: unix:///var/run/docker.sock or ssh://user@host[:port]");
    let address = reader.string("address", undefined, /^[A-Za-z0-9.:-]+$/, "the IP address or DNS name clients use to reach this host");
    if (address && isIP(address) === 6) {
      problems.add(`${prefix}.address`, address, `an IPv4 address or a DNS name; ${IPV6_UNSUPPORTED}`);
      address = "";
    } else if (address && !isIP(address) && !DNS_NAME.test(address)) {
      problems.add(`${prefix}.address`, address, "an IPv4 address or a DNS name (letters, digits, dashes and dots; no port)");
      address = "";
    }
    if (address) {
      const other = addresses.get(address.toLowerCase());
      if (other) problems.add(`${prefix}.address`, address, `an address no other host uses (${other} has it): two hosts on one address are one machine, and the spread over hosts is not real`);
      addresses.set(address.toLowerCase(), `hosts[${index}] ${JSON.stringify(name)}`);
    }
    if (dockerHost) {
      const daemon = dockerDaemonKey(dockerHost);
      const other = daemons.get(daemon);
      if (other) problems.add(`${prefix}.dockerHost`, dockerHost, `a Docker host no other host uses (${other} reaches the same daemon): two hosts on one daemon are one machine`);
      daemons.set(daemon, `hosts[${index}] ${JSON.stringify(name)}`);
    }
    const rawBind = entry.bindAddress;
    let bindAddress = address;
    if (rawBind !== undefined) {
      bindAddress = reader.string("bindAddress", undefined);
      if (bindAddress && isIP(bindAddress) === 6) problems.add(`${prefix}.bindAddress`, rawBind, `an IPv4 address on this host; ${IPV6_UNSUPPORTED}`);
      else if (bindAddress && !isIP(bindAddress)) problems.add(`${prefix}.bindAddress`, rawBind, "an IP address on this host");
      if (bindAddress === "0.0.0.0" || bindAddress === "::") problems.add(`${prefix}.bindAddress`, rawBind, "a specific interface address, not all interfaces (Redis must not listen on every network)");
    } else if (address && !isIP(address)) {
      problems.add(`${prefix}.bindAddress`, rawBind, `an IP address to bind to; required because address ${JSON.stringify(address)} is a DNS name`);
    } else if (address === "0.0.0.0") {
      problems.add(`${prefix}.address`, address, "a specific address clients can reach, not the all-interfaces wildcard");
    }
    const role = reader.oneOf("role", HOST_ROLES, "redis", " (monitoring: a host that holds no Redis data node or sentinel)");
    // Strict host-key checking for every ssh:// host: the Docker provider's ssh and the remote
    // commands refuse a host that does not present this key (no trust on first use).
    let sshHostKey: string | undefined;
    if (dockerHost?.startsWith("ssh://")) {
      sshHostKey = reader.string("sshHostKey", undefined, SSH_PUBLIC_KEY, "the host's SSH public key as `<type> <base64>`, e.g. the output of `ssh-keyscan -t ed25519 <host>` without the host name (required for ssh:// hosts)");
    } else if (entry.sshHostKey !== undefined) {
      problems.add(`${prefix}.sshHostKey`, entry.sshHostKey, "nothing: only ssh:// Docker hosts take a host key");
    }
    hosts.push({ name, role, dockerHost, address, bindAddress, ...(sshHostKey ? { sshHostKey } : {}) });
  });
  return hosts;
}

function readRedis(problems: ProblemList, raw: RawObject): RedisConfig {
  const r = new SectionReader(problems, "redis", raw, [
    "image", "memoryLimitMiB", "forkHeadroomPercent", "maxmemoryMiB", "evictionPolicy", "allowedEvictionPolicies",
    "aofRewritePercentage", "aofRewriteMinSizeMiB", "dataVolumeMiB", "volumeHeadroomFactor", "rdbSnapshots", "port",
    "tcpBacklog", "maxClients", "minReplicasToWrite", "minReplicasMaxLagSeconds",
  ]);
  const allowedEvictionPolicies = r.listOf("allowedEvictionPolicies", EVICTING_POLICIES, ["allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu"]);
  const evictionPolicy = r.oneOf("evictionPolicy", EVICTING_POLICIES, "allkeys-lru",
    " (an evicting policy: with noeviction a full Redis refuses writes, the runbook's OOM failure)");
  if ((EVICTING_POLICIES as readonly unknown[]).includes(raw.evictionPolicy) && !allowedEvictionPolicies.includes(evictionPolicy)) {
    problems.add("redis.evictionPolicy", raw.evictionPolicy, `one of redis.allowedEvictionPolicies (${allowedEvictionPolicies.join(", ")})`);
  }
  return {
    image: r.pinnedImage("image", DEFAULT_REDIS_IMAGE),
    memoryLimitMiB: r.integer("memoryLimitMiB", 64, 1024 * 1024, 512, "MiB, the container memory limit"),
    forkHeadroomPercent: r.integer("forkHeadroomPercent", MINIMUM_FORK_HEADROOM_PERCENT, 90, DEFAULT_FORK_HEADROOM_PERCENT,
      `percent of the memory limit kept free of dataset; at least ${MINIMUM_FORK_HEADROOM_PERCENT} because a fork under heavy writes can copy every page (the memory drill's measurement, components/redis/sizing.ts)`),
    maxmemoryMiB: r.optionalInteger("maxmemoryMiB", MINIMUM_MAXMEMORY_MIB, 1024 * 1024, "MiB"),
    evictionPolicy,
    allowedEvictionPolicies,
    aofRewritePercentage: r.integer("aofRewritePercentage", 10, 1000, 100, "percent growth over the last rewrite that triggers the next"),
    aofRewriteMinSizeMiB: r.integer("aofRewriteMinSizeMiB", 1, 1024 * 1024, 64, "MiB"),
    dataVolumeMiB: r.optionalInteger("dataVolumeMiB", 64, 1024 * 1024 * 16, "MiB"),
    volumeHeadroomFactor: r.decimal("volumeHeadroomFactor", 1, 10, 1.5, "multiple of the sizing minimum"),
    rdbSnapshots: r.boolean("rdbSnapshots", false),
    port: r.integer("port", PORT_MIN, PORT_MAX, 6379, LISTEN_PORT),
    tcpBacklog: r.integer("tcpBacklog", 128, 65535, 511),
    maxClients: r.integer("maxClients", 100, MAX_CLIENTS_LIMIT, 10000,
      `the container's nofile limit ${CONTAINER_NOFILE_LIMIT} minus the ${REDIS_RESERVED_FDS} descriptors Redis keeps; above it Redis lowers maxclients at start`),
    minReplicasToWrite: r.integer("minReplicasToWrite", 0, 10, 1),
    minReplicasMaxLagSeconds: r.integer("minReplicasMaxLagSeconds", 1, 60, 5, "seconds"),
  };
}

function readSentinel(problems: ProblemList, raw: RawObject): SentinelConfig {
  const s = new SectionReader(problems, "sentinel", raw, [
    "enabled", "masterName", "replicas", "count", "quorum", "downAfterMilliseconds", "failoverTimeoutMilliseconds", "parallelSyncs", "port",
  ]);
  const count = s.integer("count", 1, 99, 3);
  const countIsValid = Number.isFinite(count);
  return {
    enabled: s.boolean("enabled", true),
    masterName: s.string("masterName", "veza-redis", MASTER_NAME, "letters, digits, dot, dash and underscore (1-64)"),
    replicas: s.integer("replicas", 0, 10, 2),
    count,
    quorum: s.integer("quorum", 1, 99, countIsValid ? Math.floor(count / 2) + 1 : 2),
    downAfterMilliseconds: s.integer("downAfterMilliseconds", 1, 600000, 2000, "ms"),
    failoverTimeoutMilliseconds: s.integer("failoverTimeoutMilliseconds", 1, 3600000, 10000, "ms"),
    parallelSyncs: s.integer("parallelSyncs", 1, 10, 1),
    port: s.integer("port", PORT_MIN, PORT_MAX, 26379, LISTEN_PORT),
  };
}

/** Variables this program owns in the API's environment: extraEnv may not set them. */
const API_OWNED_ENV = /^(REDIS_.*|MAINTENANCE_MODE|RATELIMIT_FAIL_CLOSED)$/;

/** host:port of an endpoint outside this stack (any port); an IPv6 host in brackets. */
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function isHostPort(value: string): boolean {
  const match = HOST_PORT.exec(value);
  if (!match || Number(match[1]) < 1 || Number(match[1]) > PORT_MAX) return false;
  const host = value.slice(0, value.lastIndexOf(":"));
  return host.startsWith("[") ? isIP(host.slice(1, -1)) === 6 : isIP(host) === 4 || DNS_NAME.test(host);
}

function readApi(problems: ProblemList, raw: RawObject, defaultHost: string): ApiConfig {
  const a = new SectionReader(problems, "api", raw, ["mode", "host", "image", "port", "extraEnv", "metrics"]);
  if (isPlainObject(raw.extraEnv)) {
    for (const name of Object.keys(raw.extraEnv).filter((n) => API_OWNED_ENV.test(n))) {
      problems.add(`api.extraEnv.${name}`, raw.extraEnv[name], "a variable this program does not own: set the toggles with maintenanceMode / rateLimitFailClosed / incident, the connection comes from the Redis topology");
    }
  }
  const mode = a.oneOf("mode", API_MODES, "container");
  const port = a.integer("port", PORT_MIN, PORT_MAX, 8080, LISTEN_PORT);
  return {
    mode,
    host: a.string("host", defaultHost),
    image: a.pinnedImage("image", "veza-backend-api:dev"),
    port,
    extraEnv: a.stringMap("extraEnv", ENV_NAME, "an upper-case environment variable name"),
    metrics: readApiMetrics(problems, section(problems, raw, "metrics", "api.metrics"), mode, port),
  };
}

/**
 * The SLO alerts read the API's own metrics: on by default. In container mode Prometheus scrapes
 * the API host at `port` (default api.port); in external mode the API's address must be given,
 * or the scrape explicitly turned off (SLOBlind then says the SLOs are blind).
 */
function readApiMetrics(problems: ProblemList, raw: RawObject, mode: ApiConfig["mode"], apiPort: number): ApiConfig["metrics"] {
  const m = new SectionReader(problems, "api.metrics", raw, ["enabled", "path", "port", "address"]);
  const enabled = m.boolean("enabled", true);
  const path = m.string("path", "/metrics", /^\/[A-Za-z0-9._~\/-]*$/, "an absolute URL path such as /metrics");
  const port = m.integer("port", PORT_MIN, PORT_MAX, Number.isFinite(apiPort) ? apiPort : 8080, LISTEN_PORT);
  let address: string | undefined;
  if (raw.address !== undefined) {
    address = m.string("address", undefined, undefined, "host:port of the API's metrics endpoint");
    if (address && !isHostPort(address)) {
      problems.add("api.metrics.address", raw.address, "host:port of the API's metrics endpoint: an IPv4 address or DNS name (an IPv6 address in brackets) and a port from 1 to 65535");
      address = undefined;
    }
    if (mode === "container") problems.add("api.metrics.address", raw.address, "nothing in container mode (Prometheus scrapes the API host at api.metrics.port); an address only with api.mode external");
  } else if (mode === "external" && enabled) {
    problems.add("api.metrics.address", undefined, "host:port where Prometheus scrapes the external API (required in external mode: without it the SLO alerts can never fire), or api.metrics.enabled false");
  }
  if (raw.port !== undefined && mode === "external") problems.add("api.metrics.port", raw.port, "nothing in external mode (give the port in api.metrics.address)");
  return { enabled, path, port, ...(address ? { address } : {}) };
}

function readMonitoring(problems: ProblemList, raw: RawObject, defaultHost: string): MonitoringConfig {
  const m = new SectionReader(problems, "monitoring", raw, [
    "enabled", "host", "prometheusImage", "alertmanagerImage", "redisExporterImage", "nodeExporterImage", "grafanaImage", "prometheusPort",
    "alertmanagerPort", "nodeExporterPort", "redisExporterPort", "grafanaPort", "runbookBaseUrl", "cluster", "dataMountpoint",
    "slackPageChannel", "slackTicketChannel", "slo", "tlsCertFile", "tlsKeyFile", "tlsCaFile",
  ]);
  const sloRaw = isPlainObject(raw.slo) ? raw.slo : raw.slo === undefined ? {} : (problems.add("monitoring.slo", raw.slo, "an object of SLO metric settings"), {});
  const slo = new SectionReader(problems, "monitoring.slo", sloRaw, [
    "requestsTotal", "durationBucket", "methodLabel", "statusLabel", "routeLabel", "paymentRoute", "latencyThresholdSeconds",
  ]);
  const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
  return {
    enabled: m.boolean("enabled", true),
    host: m.string("host", defaultHost),
    prometheusImage: m.pinnedImage("prometheusImage", "prom/prometheus:v2.53.2"),
    alertmanagerImage: m.pinnedImage("alertmanagerImage", "prom/alertmanager:v0.27.0"),
    redisExporterImage: m.pinnedImage("redisExporterImage", "oliver006/redis_exporter:v1.62.0-alpine"),
    nodeExporterImage: m.pinnedImage("nodeExporterImage", "prom/node-exporter:v1.8.2"),
    grafanaImage: m.pinnedImage("grafanaImage", "grafana/grafana:12.2.0"),
    prometheusPort: m.integer("prometheusPort", PORT_MIN, PORT_MAX, 9090, LISTEN_PORT),
    grafanaPort: m.integer("grafanaPort", PORT_MIN, PORT_MAX, 3000, LISTEN_PORT),
    alertmanagerPort: m.integer("alertmanagerPort", PORT_MIN, PORT_MAX, 9093, LISTEN_PORT),
    nodeExporterPort: m.integer("nodeExporterPort", PORT_MIN, PORT_MAX, 9100, LISTEN_PORT),
    redisExporterPort: m.integer("redisExporterPort", PORT_MIN, PORT_MAX, 9121, LISTEN_PORT),
    runbookBaseUrl: runbookBaseUrl(problems, raw.runbookBaseUrl),
    cluster: m.string("cluster", "veza", /^[A-Za-z0-9._-]+$/, "a label value of letters, digits, dot, dash and underscore"),
    dataMountpoint: m.string("dataMountpoint", "/", /^\/[^"\s]*$/, "an absolute mountpoint as node_exporter reports it"),
    slackPageChannel: m.string("slackPageChannel", "#veza-oncall", /^[#@][\w.-]+$/, "a Slack channel (#name) or user (@name)"),
    slackTicketChannel: m.string("slackTicketChannel", "#veza-tickets", /^[#@][\w.-]+$/, "a Slack channel (#name) or user (@name)"),
    ...readMonitoringTls(problems, m),
    slo: {
      requestsTotal: slo.string("requestsTotal", "http_requests_total", metricName, "a Prometheus metric name"),
      durationBucket: slo.string("durationBucket", "http_request_duration_seconds_bucket", metricName, "a Prometheus metric name"),
      methodLabel: slo.string("methodLabel", "method", labelName, "a Prometheus label name"),
      statusLabel: slo.string("statusLabel", "status", labelName, "a Prometheus label name"),
      routeLabel: slo.string("routeLabel", "route", labelName, "a Prometheus label name"),
      paymentRoute: slo.string("paymentRoute", "/api/v1/orders", /^\/[^"\\\s]*$/, "a route path starting with /"),
      latencyThresholdSeconds: slo.decimal("latencyThresholdSeconds", 0.005, 60, 0.5, "seconds; must match a histogram bucket boundary"),
    },
  };
}

const DEFAULT_RUNBOOK_BASE_URL = "https://git.veza.fr/veza/infra-redis/src/branch/main/docs/runbooks";
/**
 * URL characters that are inert in the rules file: no quote, backslash, space, newline, brace
 * (`{{` is a template in an annotation) or angle bracket. RFC 3986 otherwise.
 */
const URL_SAFE = /^https?:\/\/[A-Za-z0-9._~!$&()*+,;=:@%\/?#-]+$/;

/** The runbook links' base: an absolute http(s) URL that cannot break the YAML or the templates it lands in. */
function runbookBaseUrl(problems: ProblemList, value: unknown): string {
  if (value === undefined) return DEFAULT_RUNBOOK_BASE_URL;
  let parsed: URL | undefined;
  try {
    parsed = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    parsed = undefined;
  }
  if (typeof value !== "string" || !URL_SAFE.test(value) || !parsed || !["http:", "https:"].includes(parsed.protocol) || parsed.hostname === "" || value.endsWith("/")) {
    problems.add("monitoring.runbookBaseUrl", value, "an absolute http(s) URL with a host and no trailing slash, of letters, digits and -._~!$&()*+,;=:@%/?# only (no quotes, spaces, newlines, braces or backslashes: it lands in the rules file)");
    return problems.lenient && typeof value === "string" ? value : DEFAULT_RUNBOOK_BASE_URL;
  }
  return value;
}

/** TLS for Prometheus and Alertmanager: the three host paths together, or none (plain HTTP with basic auth). */
function readMonitoringTls(problems: ProblemList, m: SectionReader): Pick<MonitoringConfig, "tls"> {
  const path = /^(\/[A-Za-z0-9._/-]+)?$/;
  const files = {
    certFile: m.string("tlsCertFile", "", path, "an absolute path on the monitoring host"),
    keyFile: m.string("tlsKeyFile", "", path, "an absolute path on the monitoring host"),
    caFile: m.string("tlsCaFile", "", path, "an absolute path on the monitoring host"),
  };
  const set = Object.values(files).filter(Boolean).length;
  if (set === 0) return {};
  if (set < 3) problems.add("monitoring.tlsCertFile", files.certFile, "tlsCertFile, tlsKeyFile and tlsCaFile together (the CA lets Prometheus and Grafana verify the certificate)");
  return { tls: files };
}

function checkSizing(problems: ProblemList, redis: RedisConfig): void {
  if (problems.has("redis")) return;
  const sizing = computeSizing(redis);
  if (redis.maxmemoryMiB !== undefined && sizing.maxmemoryBytes > sizing.memoryLimitBytes - sizing.forkHeadroomBytes) {
    const largest = Math.floor((sizing.memoryLimitBytes - sizing.forkHeadroomBytes) / MiB);
    problems.add("redis.maxmemoryMiB", redis.maxmemoryMiB,
      `at most ${largest} MiB: a ${redis.memoryLimitMiB} MiB limit with ${redis.forkHeadroomPercent}% fork headroom leaves ${largest} MiB for the dataset (a fork can double it)`);
  }
  if (sizing.maxmemoryBytes < MINIMUM_MAXMEMORY_MIB * MiB) {
    problems.add("redis.memoryLimitMiB", redis.memoryLimitMiB, `a limit that leaves at least ${MINIMUM_MAXMEMORY_MIB} MiB of maxmemory after the ${redis.forkHeadroomPercent}% fork headroom`);
  }
  if (redis.dataVolumeMiB !== undefined) {
    if (redis.aofRewriteMinSizeMiB > redis.dataVolumeMiB) {
      problems.add("redis.aofRewriteMinSizeMiB", redis.aofRewriteMinSizeMiB, `at most the data volume (redis.dataVolumeMiB = ${redis.dataVolumeMiB}): the AOF grows to this size before its first rewrite`);
    }
    const minimumMiB = Math.ceil(sizing.minimumDataVolumeBytes / MiB);
    if (redis.dataVolumeMiB < minimumMiB) {
      problems.add("redis.dataVolumeMiB", redis.dataVolumeMiB, `at least ${minimumMiB} MiB: AOF at its rewrite trigger, plus the rewrite's new base${redis.rdbSnapshots ? ", plus an RDB snapshot" : ""}, for ${Math.floor(sizing.maxmemoryBytes / MiB)} MiB of maxmemory`);
    }
  }
}

function checkSentinelRules(problems: ProblemList, config: StackConfig): void {
  const { sentinel, redis } = config;
  if (!sentinel.enabled || problems.has("sentinel")) return;
  if (sentinel.count < 3 || sentinel.count % 2 === 0) {
    problems.add("sentinel.count", sentinel.count, "an odd number of at least 3: with 2 sentinels, losing one leaves no majority to authorize a failover");
  }
  const majority = Math.floor(sentinel.count / 2) + 1;
  if (sentinel.quorum < majority || sentinel.quorum > sentinel.count) {
    problems.add("sentinel.quorum", sentinel.quorum, `a strict majority of sentinel.count (${majority} to ${sentinel.count})`);
  }
  if (sentinel.replicas < 1) problems.add("sentinel.replicas", sentinel.replicas, "at least 1: Sentinel needs a replica to promote");
  if (sentinel.downAfterMilliseconds < 1000) {
    problems.add("sentinel.downAfterMilliseconds", sentinel.downAfterMilliseconds, "at least 1000 ms: shorter windows fail over on a normal fork pause or a network blip");
  }
  if (sentinel.failoverTimeoutMilliseconds <= sentinel.downAfterMilliseconds) {
    problems.add("sentinel.failoverTimeoutMilliseconds", sentinel.failoverTimeoutMilliseconds, `more than sentinel.downAfterMilliseconds (${sentinel.downAfterMilliseconds})`);
  }
  if (!problems.has("redis") && redis.minReplicasToWrite > sentinel.replicas) {
    problems.add("redis.minReplicasToWrite", redis.minReplicasToWrite, `at most sentinel.replicas (${sentinel.replicas}), or the master can never accept a write`);
  }
  const redisHosts = config.hosts.filter((h) => h.role !== "monitoring");
  if (redisHosts.length > 1 && !problems.has("hosts")) {
    const topology = stackTopology(config);
    if (redisHosts.length < sentinel.replicas + 1) {
      problems.add("hosts", redisHosts.map((h) => h.name), `at least ${sentinel.replicas + 1} hosts of role redis for 1 master + ${sentinel.replicas} replicas on different hosts (or a single host for dev)`);
    }
    const largestShare = largestShareOnOneHost(topology.sentinels);
    if (sentinel.count >= 3 && largestShare >= majority) {
      problems.add("hosts", config.hosts.map((h) => h.name), `enough hosts that none holds a majority of the ${sentinel.count} sentinels (one host would hold ${largestShare})`);
    }
  }
}

function checkHostReferences(problems: ProblemList, config: StackConfig): void {
  if (problems.has("hosts")) return;
  if (!config.hosts.some((h) => h.role !== "monitoring")) problems.add("hosts", config.hosts.map((h) => `${h.name}:${h.role}`), "at least one host of role redis (the data nodes and sentinels need a home)");
  const names = config.hosts.map((h) => h.name);
  if (config.api.host && !names.includes(config.api.host)) problems.add("api.host", config.api.host, `a declared host name (${names.join(", ")})`);
  if (config.monitoring.enabled && config.monitoring.host && !names.includes(config.monitoring.host)) {
    problems.add("monitoring.host", config.monitoring.host, `a declared host name (${names.join(", ")})`);
  }
}

function checkPorts(problems: ProblemList, config: StackConfig): void {
  if (problems.has("hosts") || problems.has("redis") || problems.has("sentinel") || problems.has("monitoring") || problems.has("api")) return;
  const seen = new Map<string, string>();
  for (const allocation of portAllocations(config)) {
    if (allocation.port > PORT_MAX) {
      problems.add(`ports.${allocation.owner}`, allocation.port, `a port from ${PORT_MIN} to ${PORT_MAX} (base port plus the process's index on host ${allocation.host})`);
      continue;
    }
    const key = `${allocation.host}:${allocation.port}`;
    const other = seen.get(key);
    if (other) {
      problems.add(`ports.${allocation.owner}`, allocation.port, `a port not already used on host ${allocation.host} (${other} listens on ${allocation.port})`);
    }
    seen.set(key, allocation.owner);
  }
}

/**
 * Outside dev, losing a data host must not also silence the alerts about it: Prometheus,
 * Alertmanager and Grafana go on a host that holds no data node and no sentinel.
 */
function checkMonitoringPlacement(problems: ProblemList, config: StackConfig): void {
  if (!config.monitoring.enabled || config.environment === "dev" || problems.has("hosts") || problems.has("monitoring") || problems.has("sentinel")) return;
  const topology = stackTopology(config);
  const held = [...topology.dataNodes, ...topology.sentinels].filter((p) => p.host.name === config.monitoring.host).map((p) => p.name);
  if (held.length > 0) {
    problems.add("monitoring.host", config.monitoring.host, `a host that holds no Redis data node or sentinel (this one holds ${held.join(", ")}): declare one with role monitoring, so that losing a data host does not also silence its alerts`);
  }
}

/** Outside dev, pages must reach someone, and an outside service must page when alerting itself dies. */
function checkAlertingSecrets(problems: ProblemList, raw: RawObject, config: StackConfig): void {
  if (!config.monitoring.enabled || config.environment === "dev") return;
  for (const key of ["slackWebhookUrl", "pagerdutyRoutingKey", "heartbeatWebhookUrl"] as const) {
    if (typeof raw[key] !== "string" || raw[key] === "") {
      problems.add(key, undefined, `a secret (pulumi config set --secret ${key} ...): required outside dev so that pages reach on-call`);
    }
  }
}
