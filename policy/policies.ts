// The CrossGuard policies. They read resource inputs (container labels, uploaded file contents,
// volume labels), the same under `pulumi up --policy-pack policy` and in-process over the synth
// plan (`npm run policy`). Under `pulumi preview` a value a provider has yet to compute is unknown,
// and a policy that reads one is reported as advisory instead (docs/policy-pack.md, "Under a real preview").
// Imports stay inside policy/ (shared/ is generated: npm run policy:sync). index.ts only constructs
// the pack: constructing a PolicyPack starts its gRPC server, so tests import this module instead.

import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import YAML from "yaml";
import { IMAGE_ID, imagePinProblem } from "./shared/config/imageReference";
import { dockerDaemonKey } from "./shared/config/dockerDaemon";
import { ACL_USERS, SENTINEL_HELLO_CHANNEL, SENTINEL_USERS } from "./shared/redis/acl";
import { parseConfDirectives } from "./shared/redis/redisConf";
import { describeStep, parseCredentialMarker, ROTATION_ORDER_PROPERTY, stepAllowed, type RotationOrder } from "./shared/redis/rotation";
import { FORK_PEAK_TARGET, FRAGMENTATION_ALLOWANCE, MiB, minimumDataVolumeBytes, modelledForkPeakBytes, SERVER_BASELINE_MIB } from "./shared/redis/sizing";
import { dataNodeStopGraceSeconds } from "./shared/redis/dataNodeScripts";
import { knownBadDebianEntries, knownBadImageEntries, type KnownBadImage } from "./shared/images/redisImage";
import { CONFIG_CARRIER_KIND, CONFIG_DIGEST_LABEL, CONFIG_FOR_KIND_LABEL, CONFIG_ROOTS, configCarrierFor, CONTAINER_HARDENING, HARDENING_EXCEPTIONS, NO_NEW_PRIVILEGES, PIDS_LIMIT_SUFFIX, pidsLimitCommand, uploadsOutsideRoot, type ContainerKind } from "./shared/base/hardening";
import { CREDENTIAL_SEED_SUFFIX, seededFiles } from "./shared/base/shell";

export const CONTAINER = "docker:index/container:Container";
export const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
export const VOLUME = "docker:index/volume:Volume";
export const DOCKER_PROVIDER = "pulumi:providers:docker";
export const IMAGE_BUILD = "docker:index/image:Image";
export const CREDENTIALS_COMPONENT = "veza:redis:Credentials";
export const HOST_COMMANDS = ["command:local:Command", "command:remote:Command"];

type Props = Record<string, unknown>;
interface Upload {
  file?: unknown;
  content?: unknown;
}

export function labelsOf(props: Props): Record<string, string> {
  const labels: Record<string, string> = {};
  const list = props.labels;
  if (Array.isArray(list)) {
    for (const entry of list as Array<{ label?: unknown; value?: unknown }>) {
      // Not a config volume's digest: unknown in a preview that changes a generated password, and no policy reads it.
      if (typeof entry?.label === "string" && entry.label.startsWith("veza.") && entry.label !== `veza.${CONFIG_DIGEST_LABEL}`) labels[entry.label.slice(5)] = String(entry.value);
    }
  }
  return labels;
}

export function componentOf(props: Props): string | undefined {
  return labelsOf(props).component;
}

/** The uploaded file whose path ends with `suffix`, when its content is known. */
export function uploadedFile(props: Props, suffix: string): string | undefined {
  const uploads = props.uploads;
  if (!Array.isArray(uploads)) return undefined;
  const upload = (uploads as Upload[]).find((u) => typeof u?.file === "string" && u.file.endsWith(suffix));
  return typeof upload?.content === "string" ? upload.content : undefined;
}

/**
 * Config carriers (components/host/hardenedContainer.ts): a container's files are uploaded to a
 * never-started carrier and mounted read-only from its volume. The resources with each container's
 * `uploads` read from its carrier (by the carrier's `veza.config-for` label), so the file checks
 * read a container's files wherever they are uploaded.
 */
export function withContainerFiles(resources: PolicyResource[]): PolicyResource[] {
  const carriers = new Map<string, PolicyResource>();
  for (const resource of resources) {
    const target = resource.type === CONTAINER ? configCarrierFor(resource.props.labels) : undefined;
    if (target !== undefined) carriers.set(target, resource);
  }
  return resources.map((resource) => {
    // A carrier's own name is never read: autonamed, it is unknown in a preview that creates or replaces it.
    const runs = resource.type === CONTAINER && configCarrierFor(resource.props.labels) === undefined;
    const carrier = runs && typeof resource.props.name === "string" ? carriers.get(resource.props.name) : undefined;
    if (carrier === undefined) return resource;
    const props = new Proxy(resource.props, { get: (target, key, receiver) => (key === "uploads" ? carrier.props.uploads : Reflect.get(target, key, receiver)) });
    return { ...resource, props } as PolicyResource;
  });
}

function isConfigCarrier(props: Props): boolean {
  return componentOf(props) === CONFIG_CARRIER_KIND;
}

/** Whose files a resource holds: a carrier's container kind, else the container's own. */
function filesComponentOf(props: Props): string | undefined {
  return isConfigCarrier(props) ? labelsOf(props)[CONFIG_FOR_KIND_LABEL] : componentOf(props);
}

/**
 * A check of one resource that reads a container's files, run over the stack so that it sees the
 * files from the container's carrier. A value unknown in a preview skips only the resource that
 * holds it (as the engine does for a resource policy); the policy then reports it after the others.
 */
function readingContainerFiles(policy: ResourceValidationPolicy): StackValidationPolicy {
  const validate = policy.validateResource as (args: ResourceValidationArgs, report: (message: string) => void) => void;
  return {
    name: policy.name,
    description: policy.description,
    enforcementLevel: policy.enforcementLevel,
    ...(policy.configSchema ? { configSchema: policy.configSchema } : {}),
    validateStack: (args, report) => {
      let unknown: unknown;
      for (const resource of withContainerFiles(args.resources)) {
        try {
          validate({ ...resource, getConfig: args.getConfig, notApplicable: args.notApplicable } as unknown as ResourceValidationArgs, (message) => report(message, resource.urn));
        } catch (error) {
          if (!(error instanceof Error && "unknownTypeSentinel" in error)) throw error;
          unknown ??= error;
        }
      }
      if (unknown !== undefined) throw unknown;
    },
  };
}

/** A stack check that reads containers' files: it gets each container with its carrier's. */
function withFiles(policy: StackValidationPolicy): StackValidationPolicy {
  return { ...policy, validateStack: (args, report) => policy.validateStack({ ...args, resources: withContainerFiles(args.resources) }, report) };
}

/**
 * The ACL files a data node's or sentinel's seed command writes into its volume (no container
 * uploads them: components/topology/credentialScripts.ts), with the component they configure.
 */
function seededAcl(args: { name: string; props: Props }): { component: "redis" | "sentinel"; file: string } | undefined {
  if (!args.name.endsWith(CREDENTIAL_SEED_SUFFIX)) return undefined;
  const files = seededFiles(String(args.props.stdin));
  const redis = files.get("redis-secrets.conf");
  if (redis !== undefined) return { component: "redis", file: redis };
  const sentinel = files.get("sentinel-secrets.conf");
  return sentinel === undefined ? undefined : { component: "sentinel", file: sentinel };
}

function directive(conf: Map<string, string[]>, key: string): string | undefined {
  return conf.get(key)?.[conf.get(key)!.length - 1];
}

function redisConf(props: Props): Map<string, string[]> | undefined {
  const text = uploadedFile(props, "/redis.conf");
  return text === undefined ? undefined : parseConfDirectives(text);
}

function isRedisFamily(props: Props): boolean {
  const component = componentOf(props);
  return component === "redis" || component === "sentinel";
}

function envOf(props: Props): Map<string, string> {
  const env = new Map<string, string>();
  if (Array.isArray(props.envs)) {
    for (const entry of props.envs) {
      if (typeof entry !== "string") continue;
      const eq = entry.indexOf("=");
      if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  }
  return env;
}

const REDIS_HOLDS_SENSITIVE = ["sessions", "refresh-tokens", "jwt-revocation"];

const redisMemory: ResourceValidationPolicy = {
  name: "redis-memory-limit-and-fork-headroom",
  description: "Runbook: OOM-killed by RDB snapshot (maxmemory reached, fork doubled the RSS). Every Redis/Sentinel container has a memory limit, no swap, and redis.conf's maxmemory fits the sizing model (a fork's full copy of a fragmented dataset within 90% of the limit) and leaves the declared fork headroom.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || !isRedisFamily(args.props)) return;
    const memory = args.props.memory;
    if (typeof memory !== "number" || memory <= 0) {
      report("no memory limit: a Redis without one grows until the host OOM-killer picks a victim");
      return;
    }
    if (args.props.memorySwap !== memory) report(`memorySwap ${String(args.props.memorySwap)} != memory ${memory}: swap lets Redis stall for seconds instead of evicting`);
    if (componentOf(args.props) !== "redis") return;
    const conf = redisConf(args.props);
    if (!conf) return;
    const maxmemory = Number(directive(conf, "maxmemory"));
    const headroomPercent = Number(labelsOf(args.props)["fork-headroom-percent"]);
    const limitBytes = memory * 1024 * 1024;
    if (!Number.isFinite(maxmemory) || maxmemory <= 0) {
      report("redis.conf sets no maxmemory: the dataset can grow to the container limit and the next fork is OOM-killed");
    } else if (modelledForkPeakBytes(maxmemory) > FORK_PEAK_TARGET * limitBytes) {
      const largest = Math.floor((FORK_PEAK_TARGET * limitBytes - SERVER_BASELINE_MIB * MiB) / (2 * FRAGMENTATION_ALLOWANCE));
      report(`maxmemory ${maxmemory} B is too large for the ${memory} MiB limit: a fork's full copy of it at ${FRAGMENTATION_ALLOWANCE}x fragmentation, plus ${SERVER_BASELINE_MIB} MiB of baseline, reaches ${Math.ceil(modelledForkPeakBytes(maxmemory) / MiB)} MiB, over ${FORK_PEAK_TARGET * 100}% of the limit (at most ${largest} B)`);
    } else if (!Number.isFinite(headroomPercent)) {
      report(`no fork-headroom-percent label (${String(labelsOf(args.props)["fork-headroom-percent"])}): the declared headroom cannot be checked`);
    } else if (maxmemory > limitBytes - Math.floor((limitBytes * headroomPercent) / 100)) {
      report(`maxmemory ${maxmemory} B leaves less than the declared ${headroomPercent}% fork headroom of the ${memory} MiB limit`);
    }
  },
};

const evictingPolicy: ResourceValidationPolicy = {
  name: "redis-evicting-maxmemory-policy",
  description: "Runbook: OOM-killed by RDB snapshot ('no eviction policy'). maxmemory-policy is an evicting policy allowed by the stack config, never noeviction.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "redis") return;
    const conf = redisConf(args.props);
    if (!conf) return;
    const policy = directive(conf, "maxmemory-policy") ?? "noeviction";
    const allowed = (labelsOf(args.props)["allowed-eviction-policies"] ?? "").split(",").filter(Boolean);
    if (policy === "noeviction") report("maxmemory-policy noeviction: a full Redis refuses writes and its fork can be OOM-killed (the runbook's failure)");
    else if (allowed.length > 0 && !allowed.includes(policy)) report(`maxmemory-policy ${policy} is not one of the allowed policies (${allowed.join(", ")})`);
  },
};

const aofRewrite: ResourceValidationPolicy = {
  name: "redis-aof-auto-rewrite",
  description: "Runbook: Disk full (AOF filling /var/lib/redis) and Process crashed (data must survive a restart). AOF is on, fsynced every second, with automatic rewrite.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "redis") return;
    const conf = redisConf(args.props);
    if (!conf) return;
    if (directive(conf, "appendonly") !== "yes") report("appendonly is not yes: a crash or restart loses every write since the last snapshot");
    const percentage = Number(directive(conf, "auto-aof-rewrite-percentage") ?? "100");
    if (!(percentage > 0)) report("auto-aof-rewrite-percentage is 0: the AOF is never rewritten and grows until the disk is full");
    if (directive(conf, "auto-aof-rewrite-min-size") === undefined) report("auto-aof-rewrite-min-size is not set: rewrite cadence is left to the default");
  },
};

const dataVolumeSized: StackValidationPolicy = {
  name: "redis-data-volume-sized",
  description: "Runbook: Disk full. Every Redis data volume is at least the sizing minimum recomputed from its redis.conf (AOF at the rewrite trigger + the rewrite's new base + an RDB if enabled).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const volumes = volumesByName(args.resources);
    for (const container of redisContainers(args.resources)) {
      const conf = redisConf(container.props);
      if (!conf) continue;
      const mounts = Array.isArray(container.props.mounts) ? (container.props.mounts as Array<{ source?: unknown; target?: unknown }>) : [];
      const dataMount = mounts.find((m) => m?.target === directive(conf, "dir"));
      const volume = typeof dataMount?.source === "string" ? volumes.get(dataMount.source) : undefined;
      if (!volume) {
        report(`${container.name}: ${directive(conf, "dir")} is not a declared data volume: the AOF would live in the container's writable layer`, container.urn);
        continue;
      }
      const declared = labelsOf(container.props)["data-volume-bytes"];
      const size = Number(declared);
      const minimum = minimumDataVolumeBytes(
        Number(directive(conf, "maxmemory")),
        Number(directive(conf, "auto-aof-rewrite-percentage") ?? "100"),
        Number(directive(conf, "auto-aof-rewrite-min-size") ?? String(64 * 1024 * 1024)),
        (directive(conf, "save") ?? "") !== '""',
      );
      if (!(size >= minimum)) report(`${volume.name}: declared size ${String(declared)} B (label veza.data-volume-bytes on ${container.name}) is under the sizing minimum ${minimum} B`, container.urn);
    }
  },
};

const authRequired: ResourceValidationPolicy = {
  name: "redis-auth-required",
  description: "Runbook: JWT revocation and sessions are security-sensitive. Redis requires ACL users (default user off, SHA-256 hashed passwords), Sentinel requires a password, and no plain-text password sits in the reviewable redis.conf.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const seeded = seededAcl(args);
    if (args.type !== CONTAINER && !seeded) return;
    // redis.conf is checked where it is uploaded: on the node's config carrier.
    const component = seeded?.component ?? filesComponentOf(args.props);
    if (component === "redis") {
      const main = uploadedFile(args.props, "/redis.conf");
      const secrets = seeded?.file ?? uploadedFile(args.props, "/redis-secrets.conf");
      if (main !== undefined && /^\s*(requirepass|masterauth)\s|^\s*user\s+\S+\s+.*>/m.test(main)) report("redis.conf holds a plain-text password: keep credentials in the secret include");
      if (secrets === undefined) {
        // The ACL users come from the volume (the seed command's file): redis.conf must include it.
        if (main !== undefined && !/^\s*include\s+\S*\/redis-secrets\.conf\s*$/m.test(main)) report("no ACL users file uploaded or included: Redis would accept unauthenticated clients");
        return;
      }
      if (!/^user default off\s*$/m.test(secrets) && !/^requirepass\s+\S+/m.test(secrets)) report("the default user is neither off nor password-protected");
      if (!/^user \S+ on #[0-9a-f]{64} /m.test(secrets)) report("no ACL user with a SHA-256 hashed password");
    } else if (component === "sentinel") {
      const secrets = seeded?.file ?? uploadedFile(args.props, "/sentinel-secrets.conf");
      if (secrets === undefined) return;
      if (!/^user default off\s*$/m.test(secrets)) report("Sentinel's default user is not off: anyone on the network (or with requirepass, anyone holding the clients' password) could SENTINEL SET or fail over");
      if (/^\s*requirepass\s/m.test(secrets)) report("Sentinel has a requirepass: it gives the default user +@all; use ACL users");
      if (!/^sentinel sentinel-user \S+/m.test(secrets)) report("no sentinel sentinel-user: sentinels would authenticate to each other as default");
    }
  },
};

/** `user <name> <rules...>` lines of the users that can log in (on): their rule tokens, passwords and hashes dropped. */
export function aclUserRules(text: string): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const match of text.matchAll(/^user\s+(\S+)\s+(.*)$/gm)) {
    const rules = match[2].split(/\s+/).filter((t) => t && !/^[<>#!]/.test(t) && t !== "nopass" && t !== "resetpass");
    if (rules.filter((t) => t === "on" || t === "off").pop() === "on") users.set(match[1], rules);
  }
  return users;
}

function globMatches(pattern: string, text: string): boolean {
  const regex = pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${regex}$`).test(text);
}

/** Whether rules let a user publish or subscribe to `channel` (no resetchannels: Redis 6's allchannels default). */
export function mayUseChannel(rules: string[], channel: string): boolean {
  let all = !rules.includes("resetchannels") && !rules.includes("reset");
  let patterns: string[] = [];
  for (const token of rules) {
    if (token === "allchannels" || token === "&*") all = true;
    else if (token === "resetchannels" || token === "reset") [all, patterns] = [false, []];
    else if (token.startsWith("&")) patterns.push(token.slice(1));
  }
  return all || patterns.some((p) => globMatches(p, channel));
}

/** The tokens among `rules` that grant one of `commands` (or everything). */
function grantsAny(rules: string[], commands: string[]): string[] {
  return rules.filter((t) => t === "allcommands" || t === "+@all" || commands.some((c) => t === `+${c}`));
}

/** What redis_exporter must never hold: CONFIG GET returns masterauth; CLIENT PAUSE/KILL stop the cluster. */
const EXPORTER_FORBIDDEN = ["@admin", "@dangerous", "@connection", "config", "config|get", "client", "client|pause", "client|kill"];
/** What only Sentinel's administrator may run: reconfigure, reset, simulate failures, edit users. */
const SENTINEL_ADMIN_ONLY = ["@admin", "@dangerous", "sentinel", "sentinel|set", "sentinel|reset", "sentinel|simulate-failure", "sentinel|remove", "sentinel|monitor", "sentinel|config", "sentinel|debug", "acl"];

const leastPrivilege: ResourceValidationPolicy = {
  name: "redis-least-privilege",
  description: "Security review: no user but the sentinel's may publish on Sentinel's hello channel (one forged hello moves the master); the exporter has no CONFIG and no CLIENT PAUSE/KILL and no password in its environment; on Sentinel only the administrator may reconfigure, and the API holds the lookup-only client user.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const seeded = seededAcl(args);
    if (args.type !== CONTAINER && !seeded) return;
    // An ACL file uploaded (to a config carrier) is checked too, not only the seeded ones.
    const component = seeded?.component ?? filesComponentOf(args.props);
    if (component === "redis") {
      const secrets = seeded?.file ?? uploadedFile(args.props, "/redis-secrets.conf");
      if (secrets === undefined) return;
      for (const [user, rules] of aclUserRules(secrets)) {
        if (user !== ACL_USERS.sentinel && mayUseChannel(rules, SENTINEL_HELLO_CHANNEL)) report(`user ${user} may publish on ${SENTINEL_HELLO_CHANNEL}: a forged hello moves the master; only ${ACL_USERS.sentinel} may`);
      }
      const exporter = grantsAny(aclUserRules(secrets).get(ACL_USERS.exporter) ?? [], EXPORTER_FORBIDDEN);
      if (exporter.length > 0) report(`user ${ACL_USERS.exporter} is granted ${exporter.join(" ")}: CONFIG GET returns masterauth, CLIENT PAUSE/KILL stop the cluster`);
    } else if (component === "sentinel") {
      const secrets = seeded?.file ?? uploadedFile(args.props, "/sentinel-secrets.conf");
      if (secrets === undefined) return;
      for (const [user, rules] of aclUserRules(secrets)) {
        if (user === SENTINEL_USERS.admin.name) continue;
        const granted = grantsAny(rules, SENTINEL_ADMIN_ONLY);
        if (granted.length > 0) report(`Sentinel user ${user} is granted ${granted.join(" ")}: only ${SENTINEL_USERS.admin.name} may reconfigure Sentinel`);
        if (user !== SENTINEL_USERS.peer.name && mayUseChannel(rules, SENTINEL_HELLO_CHANNEL)) report(`Sentinel user ${user} may publish hellos: only ${SENTINEL_USERS.peer.name} may`);
      }
    } else if (component === "redis-exporter") {
      const env = envOf(args.props);
      if (env.has("REDIS_PASSWORD")) report("REDIS_PASSWORD in the exporter's environment (docker inspect shows it): use REDIS_PASSWORD_FILE");
      if (env.get("REDIS_EXPORTER_CONFIG_COMMAND") !== "-") report("the exporter sends CONFIG GET: set REDIS_EXPORTER_CONFIG_COMMAND to \"-\"");
    } else if (component === "api") {
      const env = envOf(args.props);
      if (env.get("REDIS_MODE") === "sentinel" && env.get("REDIS_SENTINEL_USERNAME") !== SENTINEL_USERS.client.name) {
        report(`the API's Sentinel user is ${env.get("REDIS_SENTINEL_USERNAME") ?? "the default user"}, not the lookup-only ${SENTINEL_USERS.client.name}`);
      }
    }
  },
};

const notExposed: ResourceValidationPolicy = {
  name: "redis-not-exposed",
  description: "Runbook: Backend can't reach Redis / security. Redis and Sentinel bind one declared interface, never 0.0.0.0, and publish no port to all interfaces outside a stack marked dev.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || !isRedisFamily(args.props)) return;
    const text = uploadedFile(args.props, "/redis.conf") ?? uploadedFile(args.props, "/sentinel.conf");
    if (text !== undefined) {
      const binds = (parseConfDirectives(text).get("bind") ?? []).join(" ").split(/\s+/);
      if (binds.length === 0 || binds.some((b) => b === "0.0.0.0" || b === "*" || b === "::" || b === "-::*" || b === "")) {
        report(`bind "${binds.join(" ")}" listens on all interfaces`);
      }
      if (/^\s*protected-mode\s+no/m.test(text) && componentOf(args.props) === "redis") report("protected-mode no");
    }
    if (labelsOf(args.props).environment === "dev") return;
    const ports = Array.isArray(args.props.ports) ? (args.props.ports as Array<{ ip?: unknown; external?: unknown }>) : [];
    for (const port of ports) {
      if (port?.ip === undefined || port.ip === "0.0.0.0" || port.ip === "::") report(`port ${String(port?.external ?? "")} is published on every interface`);
    }
  },
};

/** The fewest sentinels that survive one loss with a majority; a team may require more (minimumSentinels). */
export const MINIMUM_SENTINELS = 3;

const sentinelQuorum: StackValidationPolicy = {
  name: "sentinel-quorum-and-spread",
  description: "Runbook: Instance down (W3 Sentinel HA). An odd number of at least 3 sentinels (the minimumSentinels setting), a majority quorum, no host with a majority of sentinels or a replica on the master's host when several hosts exist, hosts that are really different machines (no shared address or Docker daemon), and min-replicas-to-write on every data node.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      minimumSentinels: {
        type: "integer",
        minimum: MINIMUM_SENTINELS,
        default: MINIMUM_SENTINELS,
        description: "The fewest sentinels a stack may declare (an odd number is still required): 5 survives two losses.",
      },
    },
  },
  validateStack: (args, report) => {
    const sentinels = args.resources.filter((r) => r.type === CONTAINER && componentOf(r.props) === "sentinel");
    const dataNodes = redisContainers(args.resources);
    if (sentinels.length === 0) return;
    const minimum = args.getConfig<{ minimumSentinels?: number }>().minimumSentinels ?? MINIMUM_SENTINELS;
    if (sentinels.length < minimum || sentinels.length % 2 === 0) report(`${sentinels.length} sentinels: need an odd number of at least ${minimum}${minimum > MINIMUM_SENTINELS ? " (the pack's minimumSentinels setting)" : ""} so that losing one still leaves a majority`);
    const majority = Math.floor(sentinels.length / 2) + 1;
    for (const sentinel of sentinels) {
      const conf = uploadedFile(sentinel.props, "/sentinel.conf");
      if (conf === undefined) continue;
      const monitor = /^sentinel monitor \S+ \S+ \d+ (\d+)$/m.exec(conf);
      const quorum = monitor ? Number(monitor[1]) : NaN;
      if (!(quorum >= majority && quorum <= sentinels.length)) report(`${sentinel.name}: quorum ${monitor ? quorum : "missing"} is not a majority of ${sentinels.length} sentinels (${majority}..${sentinels.length})`, sentinel.urn);
    }
    // Two declared hosts on one machine make the spread below a fiction: one address announced by
    // two hosts, or two Docker providers that reach the same daemon.
    const daemons = new Map<string, string>();
    for (const provider of args.resources.filter((r) => r.type === DOCKER_PROVIDER && typeof r.props.host === "string")) {
      const daemon = dockerDaemonKey(provider.props.host as string);
      const other = daemons.get(daemon);
      if (other) report(`${provider.name} and ${other} reach the same Docker daemon (${String(provider.props.host)}): two hosts on one machine`, provider.urn);
      daemons.set(daemon, provider.name);
    }
    const announcedBy = new Map<string, Set<string>>();
    for (const node of [...dataNodes, ...sentinels]) {
      const text = uploadedFile(node.props, "/redis.conf") ?? uploadedFile(node.props, "/sentinel.conf");
      const address = text !== undefined ? /^(?:replica-announce-ip|sentinel announce-ip) (\S+)$/m.exec(text)?.[1] : undefined;
      const host = labelsOf(node.props).host;
      if (address && host) announcedBy.set(address, (announcedBy.get(address) ?? new Set()).add(host));
    }
    for (const [address, hosts] of announcedBy) {
      if (hosts.size > 1) report(`hosts ${[...hosts].sort().join(", ")} all announce ${address}: they are one machine, so the spread over hosts is not real`);
    }
    const hostCount = Number(labelsOf(sentinels[0].props)["host-count"] ?? "1");
    if (hostCount > 1) {
      const perHost = countBy(sentinels, (s) => labelsOf(s.props).host);
      for (const [host, count] of perHost) if (count >= majority) report(`host ${host} holds ${count} of ${sentinels.length} sentinels: losing it loses the quorum`);
      const masterHost = dataNodes.find((n) => labelsOf(n.props).role === "master");
      for (const replica of dataNodes.filter((n) => labelsOf(n.props).role === "replica")) {
        if (masterHost && labelsOf(replica.props).host === labelsOf(masterHost.props).host) report(`${replica.name} shares host ${labelsOf(replica.props).host} with the master`, replica.urn);
      }
    }
    for (const node of dataNodes) {
      const conf = redisConf(node.props);
      if (conf && !(Number(directive(conf, "min-replicas-to-write") ?? "0") >= 1)) {
        report(`${node.name}: min-replicas-to-write is 0: an isolated master keeps accepting writes that are lost when it is demoted`, node.urn);
      }
    }
  },
};

const restartAndHealth: ResourceValidationPolicy = {
  name: "redis-restart-and-healthcheck",
  description: "Runbook: Process crashed ('systemctl restart redis'). Every Redis/Sentinel container restarts by itself and has a healthcheck.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || !isRedisFamily(args.props)) return;
    if (!["always", "unless-stopped", "on-failure"].includes(String(args.props.restart))) report(`restart policy ${String(args.props.restart ?? "none")}: a crashed Redis stays down`);
    const healthcheck = args.props.healthcheck as { tests?: unknown } | undefined;
    if (!Array.isArray(healthcheck?.tests) || healthcheck!.tests.length === 0) report("no healthcheck: a hung Redis looks healthy to Docker");
  },
};

const safeReplacement: StackValidationPolicy = {
  name: "redis-safe-replacement",
  description: "Day 2: every `pulumi up` after the first. Each Redis/Sentinel container starts from the discovering entry script, is created health-gated (wait) and stopped with room to hand off (destroyGraceSeconds, stopTimeout); production data volumes are protected.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const volumes = volumesByName(args.resources);
    for (const container of args.resources.filter((r) => r.type === CONTAINER && isRedisFamily(r.props))) {
      const props = container.props;
      const entry = uploadedFile(props, "/entrypoint.sh");
      const entrypoints = Array.isArray(props.entrypoints) ? (props.entrypoints as unknown[]).join(" ") : "";
      if (entry === undefined || !entrypoints.endsWith("/entrypoint.sh")) report(`${container.name}: does not start from the uploaded entry script: a replaced node takes the declared topology, not the running cluster's`, container.urn);
      if (props.wait !== true) report(`${container.name}: wait is not true: a crash-looping node gives a green up, and the next one in the rolling order does not wait for it`, container.urn);
      const grace = Number(props.destroyGraceSeconds ?? 0);
      if (!(grace > 0)) report(`${container.name}: no destroyGraceSeconds: the provider's delete SIGKILLs it at once (no handoff, AOF not flushed)`, container.urn);
      if (Number(props.stopTimeout ?? 0) < grace) report(`${container.name}: stopTimeout ${String(props.stopTimeout)} s is under destroyGraceSeconds ${grace} s: docker stop and a host reboot kill it before it hands off`, container.urn);
      // The budget from the script's own settings: its promotion wait and its sentinels.
      const promotionWait = entry !== undefined ? /^VEZA_PROMOTION_WAIT_MS='(\d+)'$/m.exec(entry)?.[1] : undefined;
      const sentinels = entry !== undefined ? (/^VEZA_SENTINELS='([^']*)'$/m.exec(entry)?.[1] ?? "").split(" ").filter(Boolean).length : 0;
      const budget = promotionWait !== undefined ? dataNodeStopGraceSeconds(Number(promotionWait), sentinels) : undefined;
      if (componentOf(props) === "redis" && budget !== undefined && grace < budget) {
        report(`${container.name}: destroyGraceSeconds ${grace} s is under the handoff budget ${budget} s`, container.urn);
      }
      if (componentOf(props) === "redis" && labelsOf(props).environment === "production") {
        // The volumes it writes: its read-only config volume is remade from the plan at will.
        const mounts = Array.isArray(props.mounts) ? (props.mounts as Array<{ source?: unknown; readOnly?: unknown }>).filter((m) => m?.readOnly !== true) : [];
        for (const mount of mounts) {
          const volume = typeof mount?.source === "string" ? volumes.get(mount.source) : undefined;
          if (volume && !volume.opts.protect) report(`${volume.name}: production data volume without protect: a destroy or a rename deletes the data`, volume.urn);
        }
      }
    }
  },
};

const imagesPinned: ResourceValidationPolicy = {
  name: "images-pinned",
  description: "Runbook: any failure made worse by an unplanned upgrade. Every image is a Docker reference (the full grammar, anchored: nothing a shell would read) pinned to a version tag or digest, never latest or untagged.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type === REMOTE_IMAGE && typeof args.props.name === "string") {
      const problem = imagePinProblem(args.props.name);
      if (problem) report(`image ${args.props.name}: ${problem}`);
    }
    // A container's image is the pulled image's ID (sha256:<64 hex>), else a reference.
    if (args.type === CONTAINER && typeof args.props.image === "string" && !IMAGE_ID.test(args.props.image)) {
      const problem = imagePinProblem(args.props.image);
      if (problem) report(`image ${args.props.image}: ${problem}`);
    }
  },
};

const describeBad = (entry: KnownBadImage) => `${entry.reason} [${entry.id}; ${entry.references.join(", ")}]`;

const imagesNotKnownBad: ResourceValidationPolicy = {
  name: "images-not-known-vulnerable",
  description: "Security: no image known to be end-of-life or to miss the Lua fixes (CVE-2025-49844, CVE-2025-46817, CVE-2024-31449, CVE-2024-46981): the table in components/images/redisImage.ts, a reference per entry. The image built here installs a Debian redis version that has them, on a base pinned by digest.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const references = [
      ...(args.type === REMOTE_IMAGE && typeof args.props.name === "string" ? [args.props.name] : []),
      ...(args.type === CONTAINER && typeof args.props.image === "string" && !args.props.image.startsWith("sha256:") ? [args.props.image] : []),
    ];
    for (const reference of references) for (const entry of knownBadImageEntries(reference)) report(`image ${reference}: ${describeBad(entry)}`);
    if (args.type !== IMAGE_BUILD) return;
    const buildArgs = ((args.props.build as { args?: Record<string, unknown> } | undefined)?.args ?? {}) as Record<string, unknown>;
    if (typeof buildArgs.REDIS_VERSION === "string") for (const entry of knownBadDebianEntries(buildArgs.REDIS_VERSION)) report(`redis ${buildArgs.REDIS_VERSION}: ${describeBad(entry)}`);
    if (typeof buildArgs.BASE_IMAGE === "string" && !/@sha256:[0-9a-f]{64}$/.test(buildArgs.BASE_IMAGE)) report(`base image ${buildArgs.BASE_IMAGE} is not pinned by digest: a rebuild could start from anything the tag points to`);
  },
};

/** The array input `key` of a container, when known. */
function listOf(props: Props, key: string): unknown[] | undefined {
  return Array.isArray(props[key]) ? (props[key] as unknown[]) : undefined;
}

const containersHardened: ResourceValidationPolicy = {
  name: "containers-hardened",
  description: "Security: every container drops ALL capabilities and adds back only its kind's (components/base/hardening.ts), sets no-new-privileges, a memory limit and a healthcheck, is not privileged, and has a read-only root; its files come from a config carrier that is never started and has no network.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER) return;
    const props = args.props;
    const carrier = isConfigCarrier(props);
    const kind = componentOf(props) as ContainerKind | undefined;
    const hardening = kind !== undefined && !carrier ? CONTAINER_HARDENING[kind] : undefined;
    const capabilities = (props.capabilities ?? {}) as { drops?: unknown; adds?: unknown };
    const drops = Array.isArray(capabilities.drops) ? capabilities.drops : [];
    const adds = Array.isArray(capabilities.adds) ? (capabilities.adds as unknown[]).map(String) : [];
    if (!drops.includes("ALL")) report("does not drop ALL capabilities: Docker's default set (CHOWN, DAC_OVERRIDE, NET_RAW, SETUID, ...) stays available to an exploited process");
    const allowed = new Set(Object.keys(hardening?.capAdd ?? {}));
    const extra = adds.filter((cap) => !allowed.has(cap.replace(/^CAP_/, "")));
    if (extra.length > 0) report(`adds capabilities ${extra.join(", ")} beyond what a ${kind ?? "unlabelled"} container needs (${[...allowed].join(", ") || "none"})`);
    if (!(listOf(props, "securityOpts") ?? []).includes(NO_NEW_PRIVILEGES)) report(`no ${NO_NEW_PRIVILEGES}: a setuid binary in the image could regain privileges`);
    if (props.privileged === true) report("privileged: every capability and every device of the host");
    if (carrier) {
      // Holds files only: its root takes the uploads, so it must never run.
      if (props.start !== false) report("a config carrier that is started: it exists to hold uploads, with a writable root (start: false)");
      if (props.networkMode !== "none") report(`a config carrier on network ${String(props.networkMode ?? "bridge")}: it needs none`);
      // Should it be started by hand all the same: it runs `true`, with nothing but its config volume.
      const entrypoints = listOf(props, "entrypoints") ?? [];
      if (entrypoints.length !== 1 || entrypoints[0] !== "true") report(`a config carrier whose entrypoint is ${JSON.stringify(entrypoints)}, not ["true"]: started by hand, it would run the image's program as root with its config writable`);
      const extra = ["volumes", "devices", "ports", "hosts"].filter((key) => (listOf(props, key) ?? []).length > 0);
      if ((listOf(props, "mounts") ?? []).length !== 1 || extra.length > 0 || props.pidMode !== undefined) report(`a config carrier with more than its one config volume (${[...extra, ...(props.pidMode !== undefined ? ["pidMode"] : [])].join(", ") || "mounts"})`);
      return;
    }
    // Redis and Sentinel containers: memory and healthcheck are the redis-* policies' (with swap and restart).
    if (!isRedisFamily(props)) {
      if (!(Number(props.memory) > 0)) report("no memory limit: one leak can starve every process on the host");
      const tests = (props.healthcheck as { tests?: unknown } | undefined)?.tests;
      if (!Array.isArray(tests) || tests.length === 0 || tests[0] === "NONE") report("no healthcheck: Docker cannot tell a hung process from a healthy one");
    }
    if (props.readOnly !== true) report("root filesystem is writable: an exploited process can change the image's binaries and config (files come read-only from a config carrier)");
    if ((listOf(props, "uploads") ?? []).length > 0) report("uploads into a running container: the daemon refuses them on a read-only root; upload to a config carrier (components/host/hardenedContainer.ts)");
    if (props.pidMode === "host" && (kind === undefined || !HARDENING_EXCEPTIONS.hostPid.includes(kind))) report("shares the host PID namespace (pidMode host) without an exception");
  },
};

/**
 * Config read-only: each kind with files mounts a volume read-only at its config root, and each
 * config carrier received its files in a volume at the root of the kind it is for. Only mount
 * targets and flags are read, never the volumes' names (autonamed, unknown in a preview that
 * creates or replaces them), so this holds in every preview and at `up` before each create.
 */
const configReadOnly: ResourceValidationPolicy = {
  name: "containers-config-read-only",
  description: "Security: a container's files come read-only from its config carrier's volume, mounted at its kind's config root (components/base/hardening.ts CONFIG_ROOTS): the process cannot rewrite its own config, and the carrier's files are the ones it reads.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER) return;
    const carrier = isConfigCarrier(args.props);
    const kind = filesComponentOf(args.props) as ContainerKind | undefined;
    const root = kind !== undefined ? CONFIG_ROOTS[kind] : undefined;
    if (root === undefined) {
      if (carrier) report(`a config carrier for a ${kind ?? "unlabelled"} container, a kind with no config root (${Object.keys(CONFIG_ROOTS).join(", ")})`);
      return;
    }
    const mounts = (listOf(args.props, "mounts") ?? []) as Array<{ type?: unknown; target?: unknown; readOnly?: unknown }>;
    const atRoot = mounts.filter((m) => m?.target === root);
    if (atRoot.length !== 1 || atRoot[0].type !== "volume") {
      report(`no config volume at ${root}: ${carrier ? "its uploads would land in its own root, never seen" : "it would run on the image's files, not the reviewed ones"}`);
    } else if (!carrier && atRoot[0].readOnly !== true) {
      report(`mounts its config volume at ${root} writable: an exploited process could rewrite its own config`);
    }
    // Nothing mounted over part of the files: the reviewed ones would be hidden.
    const tmpfs = Object.keys((args.props.tmpfs ?? {}) as Record<string, unknown>);
    const under = [...mounts.map((m) => String(m?.target)), ...tmpfs].filter((target) => target.startsWith(`${root}/`));
    if (under.length > 0) report(`mounts ${under.join(", ")} over its config at ${root}: the reviewed files there would be hidden`);
    if (carrier) {
      const outside = uploadsOutsideRoot(root, ((listOf(args.props, "uploads") ?? []) as Upload[]).map((u) => String(u?.file)));
      if (outside.length > 0) report(`uploads ${outside.join(", ")} outside ${root}: they land in the carrier's own root, and the file checks would read them instead of what the container reads`);
    }
  },
};

/** The Docker daemon a host command's `docker` talks to: DOCKER_HOST locally, the SSH target remotely. */
function commandDaemon(command: PolicyResource): string | undefined {
  if (command.type === "command:local:Command") {
    const host = (command.props.environment as Record<string, unknown> | undefined)?.DOCKER_HOST;
    return typeof host === "string" ? host : undefined;
  }
  const connection = command.props.connection as { user?: unknown; host?: unknown; port?: unknown } | undefined;
  return typeof connection?.host === "string" ? `ssh://${String(connection.user ?? "root")}@${connection.host}:${String(connection.port ?? 22)}` : undefined;
}

/**
 * The pids limit has no provider input: a `<container resource>-pids-limit` command sets it with
 * `docker update` after each create (components/host/hardenedContainer.ts). Its create string
 * names the container and the limit, both known in a preview.
 */
const pidsLimited: StackValidationPolicy = {
  name: "containers-pids-limited",
  description: "Security: every container gets its kind's pids limit (components/base/hardening.ts) from a command on its own Docker daemon that waits for it and re-runs when it is replaced (docker update --pids-limit, read back): a fork bomb or a thread leak in one container stops there instead of exhausting the host's pid space, which every container shares.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    // Only the pids commands' create is read: another command's may be unknown in a preview.
    const commands = new Map(args.resources.filter((r) => HOST_COMMANDS.includes(r.type) && r.name.endsWith(PIDS_LIMIT_SUFFIX)).map((r) => [r.name, r]));
    // A config carrier never runs: nothing to limit.
    for (const container of args.resources.filter((r) => r.type === CONTAINER && !isConfigCarrier(r.props))) {
      const kind = componentOf(container.props) as ContainerKind | undefined;
      const name = container.props.name;
      if (kind === undefined || CONTAINER_HARDENING[kind] === undefined || typeof name !== "string") {
        report(`${container.name}: no container name or no veza.component label of a known kind (${Object.keys(CONTAINER_HARDENING).join(", ")}), so its pids limit is unknown`, container.urn);
        continue;
      }
      const command = commands.get(`${container.name}${PIDS_LIMIT_SUFFIX}`);
      if (command?.props.create !== pidsLimitCommand(name, kind)) {
        report(`${container.name}: no ${container.name}${PIDS_LIMIT_SUFFIX} command sets its pids limit to ${CONTAINER_HARDENING[kind].pidsLimit} (docker update --pids-limit ${CONTAINER_HARDENING[kind].pidsLimit} ${name}): one fork bomb can exhaust the host's pids`, container.urn);
        continue;
      }
      // After the container, and again for a replaced one: it waits for it and holds its id.
      const waits = command.dependencies.some((d) => d.urn === container.urn);
      const rerunsOnReplace = (command.propertyDependencies.triggers ?? []).some((d) => d.urn === container.urn);
      if (!waits || !rerunsOnReplace) report(`${command.name}: ${!waits ? `does not wait for ${container.name}` : `its triggers do not hold ${container.name}'s id`}: a replaced container would run without its pids limit`, command.urn);
      // On the container's own daemon: node exporters share one container name on every host.
      const daemon = container.provider?.props.host;
      const target = commandDaemon(command);
      if (typeof daemon === "string" && (target === undefined || dockerDaemonKey(target) !== dockerDaemonKey(daemon))) {
        report(`${command.name}: runs against ${target ?? "an unknown daemon"}, not ${container.name}'s ${daemon}: the limit would land on another host's container`, command.urn);
      }
    }
  },
};

const apiUser: ResourceValidationPolicy = {
  name: "api-runs-as-declared-user",
  description: "Security, advisory: the API container runs as a declared non-root uid:gid (api.user), which then owns its password files (0600). Without it the API runs as its image's user and the files are world-readable (0644) in their volume: this stack cannot know which uid must read them.",
  enforcementLevel: "advisory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "api") return;
    const user = typeof args.props.user === "string" ? args.props.user : "";
    if (user === "") report("no api.user: the API runs as its image's user, and its Redis and Sentinel password files are world-readable (0644) in their volume; set api.user to the image's numeric uid:gid");
    else if (/^(0|root)(:|$)|:(0|root)$/.test(user)) report(`user ${user}: the API runs as root or in root's group`);
  },
};

const apiToggles: ResourceValidationPolicy = {
  name: "api-declares-redis-toggles",
  description: "Runbook: Mitigation while Redis is down. The API container declares MAINTENANCE_MODE and RATELIMIT_FAIL_CLOSED (true/false), so the mitigations are a reviewed config change.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "api") return;
    const env = envOf(args.props);
    for (const name of ["MAINTENANCE_MODE", "RATELIMIT_FAIL_CLOSED"]) {
      const value = env.get(name);
      if (value !== "true" && value !== "false") report(`${name} is ${value === undefined ? "not declared" : `"${value}"`}: it must be true or false`);
    }
  },
};

interface RuleYaml {
  groups?: Array<{ rules?: Array<{ alert?: string; record?: string; expr?: string; labels?: Record<string, string>; annotations?: Record<string, string> }> }>;
}

function ruleFiles(props: Props): Array<{ file: string; rules: NonNullable<NonNullable<RuleYaml["groups"]>[number]["rules"]> }> {
  const uploads = Array.isArray(props.uploads) ? (props.uploads as Upload[]) : [];
  return uploads
    // The promtool test files beside the rules (*.test.yml) are not rule files.
    .filter((u) => typeof u?.file === "string" && u.file.includes("/rules/") && !/\.test\.ya?ml$/.test(u.file) && typeof u.content === "string")
    .map((u) => ({ file: u.file as string, rules: (parseYamlOnce<RuleYaml>(u.content as string)?.groups ?? []).flatMap((g) => g.rules ?? []) }));
}

/** Several policies read the same rule files: parse each content once (the plan is immutable). */
const parsedYaml = new Map<string, unknown>();
function parseYamlOnce<T>(text: string): T {
  if (!parsedYaml.has(text)) parsedYaml.set(text, YAML.parse(text));
  return parsedYaml.get(text) as T;
}

const alertsLinked: ResourceValidationPolicy = {
  name: "alerts-have-severity-and-runbook",
  description: "Runbook: time-to-detect. Every Prometheus alert has a severity of page or ticket (heartbeat only for the always-firing Watchdog) and a runbook_url (under runbookUrlPrefix, when set), so it reaches the right person with a first move.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      runbookUrlPrefix: {
        type: "string",
        pattern: "^https?://\\S+$",
        description: "Where the team's runbooks live: every runbook_url must start with it (a link to a fork or a personal copy fails).",
      },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "prometheus") return;
    const { runbookUrlPrefix } = args.getConfig<{ runbookUrlPrefix?: string }>();
    for (const { file, rules } of ruleFiles(args.props)) {
      for (const rule of rules.filter((r) => r.alert)) {
        const severity = rule.labels?.severity ?? "";
        const heartbeat = severity === "heartbeat" && rule.alert === "Watchdog" && rule.expr === "vector(1)";
        if (!["page", "ticket"].includes(severity) && !heartbeat) report(`${file}: alert ${rule.alert} has severity ${rule.labels?.severity ?? "none"} (page or ticket; heartbeat only for Watchdog, vector(1))`);
        const runbook = rule.annotations?.runbook_url ?? "";
        if (!/^https?:\/\/\S+$/.test(runbook)) report(`${file}: alert ${rule.alert} has no runbook_url`);
        else if (runbookUrlPrefix && !runbook.startsWith(runbookUrlPrefix)) report(`${file}: alert ${rule.alert} links ${runbook}, outside the team's runbooks (${runbookUrlPrefix})`);
      }
    }
  },
};

const sloComplete: ResourceValidationPolicy = {
  name: "slo-rules-complete",
  description: "Seed commit: three SLOs with multi-window burn-rate alerts. The SLO rule file has its 21 recording rules and 12 alerts: per SLO, the fast burn (14.4x over 1h) pages, and the slow (6x over 6h), daily (3x over 1d) and three-day (1x over 3d) burns ticket, so no burn that empties the budget within the month stays silent.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "prometheus") return;
    const slo = ruleFiles(args.props).find((f) => f.file.endsWith("/slo.yml"));
    if (!slo) {
      report("no SLO rule file (rules/slo.yml)");
      return;
    }
    const records = slo.rules.filter((r) => r.record).length;
    const alerts = slo.rules.filter((r) => r.alert);
    if (records !== 21) report(`${records} SLO recording rules, expected 21 (3 SLOs x 5m/30m/1h/2h/6h/1d/3d)`);
    const tiers = [["FastBurn", "page"], ["SlowBurn", "ticket"], ["DailyBurn", "ticket"], ["ThreeDayBurn", "ticket"]] as const;
    const counts = tiers.map(([tier, severity]) => alerts.filter((a) => a.alert!.endsWith(`SLO${tier}`) && a.labels?.severity === severity).length);
    if (alerts.length !== 12 || counts.some((count) => count !== 3)) {
      report(`${alerts.length} SLO alerts (${tiers.map(([tier, severity], i) => `${counts[i]} ${tier} ${severity}s`).join(", ")}), expected 12: 3 of each`);
    }
  },
};

const deadMansSwitch: StackValidationPolicy = {
  name: "alerting-has-dead-mans-switch",
  description: "Runbook: time-to-detect when the alerting itself is down. Prometheus has the always-firing Watchdog, and Alertmanager routes severity=heartbeat first, every minute, to a webhook receiver (the outside dead man's switch).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const prometheus = args.resources.filter((r) => r.type === CONTAINER && componentOf(r.props) === "prometheus");
    const alertmanager = args.resources.filter((r) => r.type === CONTAINER && componentOf(r.props) === "alertmanager");
    for (const p of prometheus) {
      const watchdog = ruleFiles(p.props).flatMap((f) => f.rules).find((r) => r.alert === "Watchdog");
      if (!watchdog || watchdog.expr !== "vector(1)" || watchdog.labels?.severity !== "heartbeat") report(`${p.name}: no always-firing Watchdog (expr vector(1), severity heartbeat): nothing tells anyone when alerting stops`, p.urn);
    }
    for (const a of alertmanager) {
      const text = uploadedFile(a.props, "/alertmanager.yml");
      if (text === undefined) continue;
      const config = parseYamlOnce(text) as { route?: { routes?: Array<{ matchers?: string[]; receiver?: string; repeat_interval?: string }> }; receivers?: Array<{ name?: string; webhook_configs?: unknown[] }> };
      const first = config.route?.routes?.[0];
      const receiver = config.receivers?.find((r) => r.name === first?.receiver);
      if (!first?.matchers?.includes('severity="heartbeat"') || !Array.isArray(receiver?.webhook_configs) || receiver!.webhook_configs.length === 0) {
        report(`${a.name}: the first route does not send severity="heartbeat" to a webhook receiver: the dead man's switch never hears from Alertmanager`, a.urn);
      }
    }
  },
};

const sensitiveKeysEvictable: ResourceValidationPolicy = {
  name: "sessions-and-revocations-evictable",
  description: "Runbook: JWT revocation ('revoked tokens accepted again', a silent security failure). Advisory: a Redis holding sessions or JWT revocations under an allkeys-* policy can evict them under memory pressure; use a separate instance, or volatile-lru with TTLs on cache keys only.",
  enforcementLevel: "advisory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "redis" || labelsOf(args.props).role !== "master") return;
    const conf = redisConf(args.props);
    const policy = conf ? directive(conf, "maxmemory-policy") : undefined;
    const holds = (labelsOf(args.props).holds ?? "").split(",");
    const sensitive = holds.filter((h) => REDIS_HOLDS_SENSITIVE.includes(h));
    if (policy?.startsWith("allkeys-") && sensitive.length > 0) {
      report(`${policy} may evict ${sensitive.join(", ")} under memory pressure (users logged out, revoked JWTs accepted again): keep them on a separate instance, or use volatile-lru with TTLs on cache keys only`);
    }
  },
};

/** Docker volumes by their name, as container mounts refer to them. */
function volumesByName(resources: PolicyResource[]): Map<string, PolicyResource> {
  // Not the config volumes: autonamed, their names are unknown in a preview that creates or replaces them.
  return new Map(resources.filter((r) => r.type === VOLUME && !isConfigCarrier(r.props) && typeof r.props.name === "string").map((r) => [r.props.name as string, r]));
}

function redisContainers(resources: PolicyResource[]): PolicyResource[] {
  return resources.filter((r) => r.type === CONTAINER && componentOf(r.props) === "redis");
}

function countBy<T>(items: T[], key: (item: T) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item) ?? "unknown";
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/**
 * Credential rotation (components/redis/rotation.ts): the credentials commands carry a marker in
 * their triggers, `accepts` on each server's live apply (a user's generation and step) and `holds`
 * on each consumer (the generation it authenticates with; for a consumer outside the stack, what
 * `credentials.<user>.external` declares). Retiring removes the previous generation's password
 * from every ACL: a consumer still holding it would be refused at its next connection.
 */
const credentialsRetire: StackValidationPolicy = {
  name: "credentials-retire-after-consumers",
  description: "Credential rotation in order: each server's step follows what the stack last applied (one step per up: add, switch, retire), so no retire before the switch that moved every declared consumer has completed; and no retire while a consumer outside the stack (credentials.<user>.external) still holds the generation retire removes.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const markers = args.resources.flatMap((r) => leadingMarkers(r.props.triggers).map((marker) => ({ marker, urn: r.urn })));
    const retiring = new Map<string, { generation: number; by: string }>();
    // Each user's step against what the stack last applied (its own outputs, read back by the
    // program: rotation.ts RotationOrder on the Credentials component). Absent on a new stack,
    // which is seeded at the current step. Consumers moved at a switch only once that `up` completed.
    for (const resource of args.resources.filter((r) => r.type === CREDENTIALS_COMPONENT)) {
      const order = resource.props[ROTATION_ORDER_PROPERTY] as RotationOrder | undefined;
      for (const [user, { step, applied }] of Object.entries(order ?? {})) {
        if (applied && !stepAllowed(applied, step)) {
          report(`${user} at ${describeStep(step)} cannot follow ${describeStep(applied)}, what this stack last applied: one step per up (add, switch, retire), so the switch that moves every consumer must complete before retire`, resource.urn);
        }
      }
    }
    // And the consumers' own markers: what an external API holds is config's word (credentials.<user>.external).
    for (const { marker } of markers) {
      if (marker.kind !== "accepts") continue;
      for (const [user, at] of Object.entries(marker.users)) {
        if (at?.step === "retire" && at.generation > 0) retiring.set(user, { generation: at.generation, by: marker.holder });
      }
    }
    for (const { marker, urn } of markers) {
      if (marker.kind !== "holds") continue;
      for (const [user, held] of Object.entries(marker.users)) {
        const retire = retiring.get(user);
        if (retire && held && held.generation < retire.generation) {
          report(`${marker.holder} still holds generation ${held.generation} of ${user}, whose password step retire removes (${retire.by} at generation ${retire.generation}): switch it first`, urn);
        }
      }
    }
  },
};

/**
 * The credential markers that lead a command's triggers, read in order up to the first other
 * value: a value after them that is unknown in a preview (a script holding a new password) is
 * never read, so it cannot turn this mandatory guard into an advisory "can't run".
 */
function leadingMarkers(triggers: unknown): Array<NonNullable<ReturnType<typeof parseCredentialMarker>>> {
  if (!Array.isArray(triggers)) return [];
  const found: Array<NonNullable<ReturnType<typeof parseCredentialMarker>>> = [];
  for (let index = 0; index < triggers.length; index++) {
    const marker = parseCredentialMarker(triggers[index]);
    if (!marker) break;
    found.push(marker);
  }
  return found;
}

// The checks that read a container's files get them from its config carrier.
export const policies: Array<ResourceValidationPolicy | StackValidationPolicy> = [
  credentialsRetire,
  readingContainerFiles(redisMemory),
  readingContainerFiles(evictingPolicy),
  readingContainerFiles(aofRewrite),
  withFiles(dataVolumeSized),
  // Resource policies: at `up` they check each new ACL file before its container takes it (docs/policy-pack.md).
  authRequired,
  leastPrivilege,
  readingContainerFiles(notExposed),
  withFiles(sentinelQuorum),
  restartAndHealth,
  withFiles(safeReplacement),
  imagesPinned,
  imagesNotKnownBad,
  containersHardened,
  configReadOnly,
  pidsLimited,
  apiUser,
  apiToggles,
  readingContainerFiles(alertsLinked),
  readingContainerFiles(sloComplete),
  withFiles(deadMansSwitch),
  readingContainerFiles(sensitiveKeysEvictable),
];
