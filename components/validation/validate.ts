// One pass over the raw stack config: the schema (schema.ts) reads every field, then the rules
// that span fields run on what it read. Every problem is collected, each naming the key, the bad
// value and what is allowed. Only a config with no problem at all becomes a StackConfig, so
// nothing is declared on bad input.

import { isIP } from "node:net";
import { computeSizing, FORK_PEAK_TARGET, FRAGMENTATION_ALLOWANCE, minimumForkHeadroomPercent, MINIMUM_MAXMEMORY_MIB, MiB, SERVER_BASELINE_MIB } from "../redis/sizing";
import { dockerDaemonKey } from "../config/dockerDaemon";
import { largestShareOnOneHost } from "../topology/placement";
import { API_CREDENTIALS, CREDENTIAL_NAMES } from "../redis/acl";
import { usedGeneration, type RotationConfig } from "../redis/rotation";
import { portAllocations, stackTopology } from "../topology/ports";
import { FORBIDDEN_KEY_ALLOWED, forbiddenKeyPaths, formatProblem, isPlainObject, ProblemList, type ConfigProblem, type RawObject } from "../config/reader";
import { OMITTED, resolveFieldProblems } from "../config/fields";
import { PORT_MAX, PORT_MIN, SSH_HOST_KEY_ALLOWED, stackConfigSchema, type ParsedStackConfig } from "../config/schema";
import { EVICTING_POLICIES, type ApiConfig, type HostConfig, type MonitoringConfig, type RedisConfig, type StackConfig } from "../config/types";
import { CERTIFICATE_EXPIRY_DAYS } from "../tls/certificates";

export { SECRET_KEYS } from "../config/schema";

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

/** Variables this program owns in the API's environment: extraEnv may not set them. */
const API_OWNED_ENV = /^(REDIS_.*|MAINTENANCE_MODE|RATELIMIT_FAIL_CLOSED)$/;

/**
 * Lenient: a bad value of the right type is kept instead of the fallback, so the policy pack
 * can be shown what the program would declare if this validator were bypassed.
 */
export function validateStackConfig(raw: RawObject, options: { lenient?: boolean } = {}): ValidationResult {
  // A prototype key is refused before anything reads the config, and even a lenient run (the
  // policy CLI) gets no config from it: every later read could see polluted values.
  const forbidden = forbiddenKeyPaths(raw);
  if (forbidden.length > 0) return { ok: false, problems: forbidden.map(({ key, value }) => ({ key, value, allowed: FORBIDDEN_KEY_ALLOWED })) };
  // Never throws: a bad field is a problem in the output (fields.ts), resolved here.
  const parsed = stackConfigSchema.parse(raw);
  const problems = new ProblemList(resolveFieldProblems(parsed, options.lenient === true));

  // Defaults that depend on another key (a zod default cannot see its siblings) are filled here:
  // hosts[].bindAddress, api.host, api.metrics.port, monitoring.host and sentinel.quorum.

  const hosts = checkHosts(problems, parsed.hosts, raw.hosts);
  checkEvictionPolicy(problems, parsed.redis, rawSection(raw.redis));
  const defaultHost = hosts[0]?.name ?? "";
  const api = completeApi(problems, parsed.api, rawSection(raw.api), defaultHost);
  const monitoring = completeMonitoring(problems, parsed.monitoring, defaultHost);
  // The backup job and its repository sit with monitoring by default: off the data hosts in prod.
  const backup = { ...parsed.backup, enabled: parsed.backup.enabled ?? monitoring.enabled, host: parsed.backup.host ?? (monitoring.enabled ? monitoring.host : defaultHost) };
  const credentials = checkCredentials(problems, parsed.credentials, rawSection(raw.credentials));
  requireExternalGenerations(problems, api, credentials);
  const { count } = parsed.sentinel;
  // A strict majority of the sentinels.
  const sentinel = { ...parsed.sentinel, quorum: parsed.sentinel.quorum ?? (Number.isFinite(count) ? Math.floor(count / 2) + 1 : 2) };
  const { environment, redis, incident, maintenanceMode, rateLimitFailClosed } = parsed;
  // Hosts on a shared network (reached over ssh) get the firewall unless it is turned off.
  const firewall = { ...parsed.firewall, enabled: parsed.firewall.enabled ?? hosts.some((host) => host.dockerHost.startsWith("ssh://")) };
  const config: StackConfig = { environment, hosts, redis, sentinel, api, monitoring, backup, incident, maintenanceMode, rateLimitFailClosed, credentials, tls: parsed.tls, firewall };
  checkSizing(problems, redis);
  checkSentinelRules(problems, config);
  checkTls(problems, config.tls);
  checkFirewall(problems, config);
  checkHostReferences(problems, config);
  checkPorts(problems, config);
  checkMonitoringPlacement(problems, config);
  checkAlertingSecrets(problems, raw, config);

  if (problems.problems.length === 0) return { ok: true, config };
  return { ok: false, problems: problems.problems, ...(options.lenient ? { lenientConfig: config } : {}) };
}

/** A section as given (for "was this set at all?"); the schema has reported a non-object. */
function rawSection(value: unknown): RawObject {
  return isPlainObject(value) ? value : {};
}

/**
 * What spans one host's fields or several hosts: one machine declared twice would hold what the
 * spread over hosts keeps apart; the bind address defaults to an IP address; ssh:// hosts need
 * their key. Keys use the raw index, so a dropped entry does not shift the names.
 */
function checkHosts(problems: ProblemList, parsed: ParsedStackConfig["hosts"], raw: unknown): HostConfig[] {
  const rawHosts = Array.isArray(raw) ? raw : [];
  const hosts: HostConfig[] = [];
  const seen = new Set<string>();
  const addresses = new Map<string, string>();
  const daemons = new Map<string, string>();
  parsed.forEach((entry, index) => {
    if ((entry as unknown) === OMITTED) return;
    const prefix = `hosts[${index}]`;
    const rawEntry = rawSection(rawHosts[index]);
    const { name, role, dockerHost } = entry;
    let address = entry.address;
    if (name && seen.has(name)) problems.add(`${prefix}.name`, name, "a name no other host uses (host names must be unique)");
    seen.add(name);
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
    let bindAddress = entry.bindAddress ?? address;
    if (rawEntry.bindAddress === undefined && address && !isIP(address)) {
      problems.add(`${prefix}.bindAddress`, undefined, `an IP address to bind to; required because address ${JSON.stringify(address)} is a DNS name`);
    } else if (rawEntry.bindAddress === undefined && address === "0.0.0.0") {
      problems.add(`${prefix}.address`, address, "a specific address clients can reach, not the all-interfaces wildcard");
    }
    // Strict host-key checking for every ssh:// host: the Docker provider's ssh and the remote
    // commands refuse a host that does not present this key (no trust on first use).
    const sshHostKey = dockerHost.startsWith("ssh://") ? entry.sshHostKey : undefined;
    if (dockerHost.startsWith("ssh://") && rawEntry.sshHostKey === undefined) {
      problems.add(`${prefix}.sshHostKey`, undefined, SSH_HOST_KEY_ALLOWED);
    } else if (!dockerHost.startsWith("ssh://") && rawEntry.sshHostKey !== undefined) {
      // Whatever the key says, the problem is that this host takes none.
      problems.remove(`${prefix}.sshHostKey`);
      problems.add(`${prefix}.sshHostKey`, rawEntry.sshHostKey, "nothing: only ssh:// Docker hosts take a host key");
    }
    hosts.push({ name, role, dockerHost, address, bindAddress, ...(sshHostKey ? { sshHostKey } : {}) });
  });
  return hosts;
}

function checkEvictionPolicy(problems: ProblemList, redis: RedisConfig, raw: RawObject): void {
  if ((EVICTING_POLICIES as readonly unknown[]).includes(raw.evictionPolicy) && !redis.allowedEvictionPolicies.includes(redis.evictionPolicy)) {
    problems.add("redis.evictionPolicy", raw.evictionPolicy, `one of redis.allowedEvictionPolicies (${redis.allowedEvictionPolicies.join(", ")})`);
  }
}

function completeApi(problems: ProblemList, parsed: ParsedStackConfig["api"], raw: RawObject, defaultHost: string): ApiConfig {
  for (const name of Object.keys(rawSection(raw.extraEnv)).filter((n) => API_OWNED_ENV.test(n))) {
    problems.add(
      `api.extraEnv.${name}`,
      rawSection(raw.extraEnv)[name],
      "a variable this program does not own: set the toggles with maintenanceMode / rateLimitFailClosed / incident, the connection comes from the Redis topology",
    );
  }
  const { mode, port } = parsed;
  const rawMetrics = rawSection(raw.metrics);
  const { enabled, path, address } = parsed.metrics;
  // The SLO alerts read the API's own metrics: on by default. In container mode Prometheus scrapes
  // the API host at `port` (default api.port); in external mode the API's address must be given,
  // or the scrape explicitly turned off (SLOBlind then says the SLOs are blind).
  if (rawMetrics.address !== undefined && mode === "container") {
    problems.add("api.metrics.address", rawMetrics.address, "nothing in container mode (Prometheus scrapes the API host at api.metrics.port); an address only with api.mode external");
  } else if (rawMetrics.address === undefined && mode === "external" && enabled) {
    problems.add(
      "api.metrics.address",
      undefined,
      "host:port where Prometheus scrapes the external API (required in external mode: without it the SLO alerts can never fire), or api.metrics.enabled false",
    );
  }
  if (rawMetrics.port !== undefined && mode === "external") problems.add("api.metrics.port", rawMetrics.port, "nothing in external mode (give the port in api.metrics.address)");
  if (raw.user !== undefined && mode === "external") problems.add("api.user", raw.user, "nothing in external mode (this stack runs no API container)");
  const metricsPort = parsed.metrics.port ?? (Number.isFinite(port) ? port : 8080);
  return { ...parsed, host: parsed.host ?? defaultHost, metrics: { enabled, path, port: metricsPort, ...(address ? { address } : {}) } };
}

/** TLS for Prometheus and Alertmanager: the three host paths together, or none (plain HTTP with basic auth). */
function completeMonitoring(problems: ProblemList, parsed: ParsedStackConfig["monitoring"], defaultHost: string): MonitoringConfig {
  const { tlsCertFile, tlsKeyFile, tlsCaFile, host, ...monitoring } = parsed;
  const files = { certFile: tlsCertFile, keyFile: tlsKeyFile, caFile: tlsCaFile };
  const set = Object.values(files).filter(Boolean).length;
  if (set > 0 && set < 3) problems.add("monitoring.tlsCertFile", files.certFile, "tlsCertFile, tlsKeyFile and tlsCaFile together (the CA lets Prometheus and Grafana verify the certificate)");
  return { ...monitoring, host: host ?? defaultHost, ...(set > 0 ? { tls: files } : {}) };
}

/**
 * `credentials.<user>: { generation, step, external }` per credential name; a user not listed is
 * at generation 0, step retire (never rotated). `add` and `switch` need a previous generation
 * (generation >= 1); `external` (what consumers outside this stack hold) must be the current or
 * the previous generation, and the current one before `retire` removes the previous password.
 */
function checkCredentials(problems: ProblemList, rotation: RotationConfig, raw: RawObject): RotationConfig {
  for (const name of CREDENTIAL_NAMES) {
    const { generation, step, external } = rotation[name];
    const given = rawSection(raw[name]);
    // No default once a rotation started: a raised generation alone would mean add, switch and
    // retire in one `up`, cutting off every client still on the old password (review C1).
    if (Number.isInteger(generation) && generation > 0 && given.step === undefined) {
      problems.add(
        `credentials.${name}.step`,
        undefined,
        `add, switch or retire, always given with generation ${generation}: the rotation moves one step per \`pulumi up\` (npm run rotate walks them)`,
      );
    }
    if (Number.isInteger(generation) && generation === 0 && step !== "retire") {
      problems.add(`credentials.${name}.step`, given.step, "retire at generation 0 (there is no previous password to rotate from): raise the generation to start a rotation");
    }
    if (external !== undefined && Number.isInteger(generation)) {
      if (external !== generation && external !== generation - 1) {
        problems.add(`credentials.${name}.external`, given.external, `${generation} or ${Math.max(0, generation - 1)}: only the current and the previous generation exist`);
      } else if (step === "retire" && external !== generation) {
        problems.add(
          `credentials.${name}.external`,
          given.external,
          `${generation} before step retire: a consumer outside this stack still holds generation ${external}, whose password retire removes`,
        );
      }
    }
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
      problems.add(
        `credentials.${name}.external`,
        undefined,
        `${usedGeneration(r)} or the generation the external API really holds (api.mode is external, and this stack cannot see what that API was given): required once ${name} rotates`,
      );
    }
  }
}

function checkSizing(problems: ProblemList, redis: RedisConfig): void {
  if (problems.has("redis")) return;
  const sizing = computeSizing(redis);
  const headroomNeeded = minimumForkHeadroomPercent(redis.memoryLimitMiB);
  if (redis.forkHeadroomPercent < headroomNeeded) {
    problems.add(
      "redis.forkHeadroomPercent",
      redis.forkHeadroomPercent,
      `at least ${headroomNeeded} for a ${redis.memoryLimitMiB} MiB limit: a fork can copy the whole dataset at ${FRAGMENTATION_ALLOWANCE}x fragmentation, plus ${SERVER_BASELINE_MIB} MiB of baseline, and the two must stay within ${FORK_PEAK_TARGET * 100}% of the limit (components/redis/sizing.ts)`,
    );
  }
  if (redis.maxmemoryMiB !== undefined && sizing.maxmemoryBytes > sizing.memoryLimitBytes - sizing.forkHeadroomBytes) {
    const largest = Math.floor((sizing.memoryLimitBytes - sizing.forkHeadroomBytes) / MiB);
    problems.add(
      "redis.maxmemoryMiB",
      redis.maxmemoryMiB,
      `at most ${largest} MiB: a ${redis.memoryLimitMiB} MiB limit with ${redis.forkHeadroomPercent}% fork headroom leaves ${largest} MiB for the dataset (a fork can double it)`,
    );
  }
  if (sizing.maxmemoryBytes < MINIMUM_MAXMEMORY_MIB * MiB) {
    problems.add("redis.memoryLimitMiB", redis.memoryLimitMiB, `a limit that leaves at least ${MINIMUM_MAXMEMORY_MIB} MiB of maxmemory after the ${redis.forkHeadroomPercent}% fork headroom`);
  }
  if (redis.dataVolumeMiB !== undefined) {
    if (redis.aofRewriteMinSizeMiB > redis.dataVolumeMiB) {
      problems.add(
        "redis.aofRewriteMinSizeMiB",
        redis.aofRewriteMinSizeMiB,
        `at most the data volume (redis.dataVolumeMiB = ${redis.dataVolumeMiB}): the AOF grows to this size before its first rewrite`,
      );
    }
    const minimumMiB = Math.ceil(sizing.minimumDataVolumeBytes / MiB);
    if (redis.dataVolumeMiB < minimumMiB) {
      problems.add(
        "redis.dataVolumeMiB",
        redis.dataVolumeMiB,
        `at least ${minimumMiB} MiB: AOF at its rewrite trigger, plus the rewrite's new base${redis.rdbSnapshots ? ", plus an RDB snapshot" : ""}, for ${Math.floor(sizing.maxmemoryBytes / MiB)} MiB of maxmemory`,
      );
    }
  }
}

/** The certificates' lifetimes fit one another, and a CA rotation step has a CA to rotate from. */
/** An external API must be let in: it runs on no declared host. */
function checkFirewall(problems: ProblemList, config: StackConfig): void {
  if (config.firewall.enabled && config.api.mode === "external" && config.firewall.clientSources.length === 0)
    problems.add(
      "firewall.clientSources",
      [],
      "at least one address or network while api.mode is external and firewall.enabled: the API runs outside the declared hosts, and every data host would refuse it",
    );
}

function checkTls(problems: ProblemList, tls: StackConfig["tls"]): void {
  if (problems.has("tls")) return;
  const { ticket } = CERTIFICATE_EXPIRY_DAYS;
  if (tls.renewBeforeDays <= ticket || tls.renewBeforeDays >= tls.leafValidityDays)
    problems.add(
      "tls.renewBeforeDays",
      tls.renewBeforeDays,
      `more than ${ticket} (the expiry ticket's days: renewal comes before any alert) and less than tls.leafValidityDays (${tls.leafValidityDays}), else every \`up\` reissues every certificate`,
    );
  if (tls.leafValidityDays > tls.caValidityDays)
    problems.add("tls.leafValidityDays", tls.leafValidityDays, `at most tls.caValidityDays (${tls.caValidityDays}): a certificate outliving its CA fails verification at the CA's end`);
  if ((tls.caCertFile === "") !== (tls.caKeyFile === ""))
    problems.add(tls.caCertFile === "" ? "tls.caCertFile" : "tls.caKeyFile", "", "tls.caCertFile and tls.caKeyFile together (a brought CA needs its key to sign), or neither (the generated CA)");
  if (tls.caCertFile !== "" && (tls.caGeneration !== 0 || tls.caStep !== "retire"))
    problems.add(
      "tls.caGeneration",
      tls.caGeneration,
      "0, with tls.caStep retire, when the CA is brought (tls.caCertFile): its rotation is yours, in the same three steps: list the new CA in tls.trustedCaFiles, then swap tls.caCertFile and tls.caKeyFile to it (the old one in tls.trustedCaFiles), then drop the old one",
    );
  if (tls.trustedCaFiles.length > 0 && tls.caCertFile === "")
    problems.add("tls.trustedCaFiles", tls.trustedCaFiles, "empty unless the CA is brought (tls.caCertFile): the generated CA rotates by tls.caGeneration and tls.caStep");
  if (tls.caStep !== "retire" && tls.caGeneration === 0)
    problems.add(
      "tls.caStep",
      tls.caStep,
      "retire while tls.caGeneration is 0: add and switch rotate from the previous CA, and generation 0 has none (raise tls.caGeneration by one to start a CA rotation)",
    );
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
      problems.add(
        "hosts",
        redisHosts.map((h) => h.name),
        `at least ${sentinel.replicas + 1} hosts of role redis for 1 master + ${sentinel.replicas} replicas on different hosts (or a single host for dev)`,
      );
    }
    const largestShare = largestShareOnOneHost(topology.sentinels);
    if (sentinel.count >= 3 && largestShare >= majority) {
      problems.add(
        "hosts",
        config.hosts.map((h) => h.name),
        `enough hosts that none holds a majority of the ${sentinel.count} sentinels (one host would hold ${largestShare})`,
      );
    }
  }
}

function checkHostReferences(problems: ProblemList, config: StackConfig): void {
  if (problems.has("hosts")) return;
  if (!config.hosts.some((h) => h.role !== "monitoring"))
    problems.add(
      "hosts",
      config.hosts.map((h) => `${h.name}:${h.role}`),
      "at least one host of role redis (the data nodes and sentinels need a home)",
    );
  const names = config.hosts.map((h) => h.name);
  if (config.api.host && !names.includes(config.api.host)) problems.add("api.host", config.api.host, `a declared host name (${names.join(", ")})`);
  if (config.monitoring.enabled && config.monitoring.host && !names.includes(config.monitoring.host)) {
    problems.add("monitoring.host", config.monitoring.host, `a declared host name (${names.join(", ")})`);
  }
  if (config.backup.enabled && config.backup.host && !names.includes(config.backup.host)) problems.add("backup.host", config.backup.host, `a declared host name (${names.join(", ")})`);
  // The job's metrics reach Prometheus through that host's node_exporter (its textfile collector).
  // restic forget with no keep policy removes nothing: the repository would grow without bound.
  if (config.backup.enabled && config.backup.keepHourly + config.backup.keepDaily === 0)
    problems.add("backup.keepDaily", config.backup.keepDaily, "at least 1 when keepHourly is 0: with neither, retention keeps every snapshot and the repository grows without bound");
  if (config.backup.enabled && !config.monitoring.enabled)
    problems.add("backup.enabled", true, "false (or unset) while monitoring.enabled is false: its metrics reach Prometheus through node_exporter, and a backup nobody watches fails unnoticed");
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
    problems.add(
      "monitoring.host",
      config.monitoring.host,
      `a host that holds no Redis data node or sentinel (this one holds ${held.join(", ")}): declare one with role monitoring, so that losing a data host does not also silence its alerts`,
    );
  }
}

/** A webhook URL as Alertmanager's config takes it: no whitespace or control character (a newline would write YAML of its own). */
const WEBHOOK_URL = /^https?:\/\/[^\s\x00-\x1f\x7f]+$/;

/** Outside dev, pages must reach someone, and an outside service must page when alerting itself dies. */
function checkAlertingSecrets(problems: ProblemList, raw: RawObject, config: StackConfig): void {
  // The value is a secret: the problem names the key and what is allowed, never the value.
  for (const key of ["slackWebhookUrl", "heartbeatWebhookUrl"] as const) {
    if (typeof raw[key] === "string" && raw[key] !== "" && !WEBHOOK_URL.test(raw[key] as string)) {
      problems.add(key, undefined, "an http(s) URL without whitespace or control characters (it is written into alertmanager.yml, where a newline would add YAML of its own)");
    }
  }
  if (!config.monitoring.enabled || config.environment === "dev") return;
  for (const key of ["slackWebhookUrl", "pagerdutyRoutingKey", "heartbeatWebhookUrl"] as const) {
    if (typeof raw[key] !== "string" || raw[key] === "") {
      problems.add(key, undefined, `a secret (pulumi config set --secret ${key} ...): required outside dev so that pages reach on-call`);
    }
  }
}
