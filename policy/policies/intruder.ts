// Failure mode intruder (components/failureModes.ts): every credential and container harmless beyond its role.
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { dockerDaemonKey } from "../shared/config/dockerDaemon";
import { ACL_USERS, SENTINEL_HELLO_CHANNEL, SENTINEL_USERS } from "../shared/redis/acl";
import { parseConfDirectives } from "../shared/redis/redisConf";
import { FIREWALL_TABLE, MINIMUM_SOURCE_PREFIX } from "../shared/base/firewall";
import { ALERTMANAGER_GATE_PATHS, renderAlertmanagerGateConfig } from "../shared/monitoring/alertmanagerGate";
import { ALERTMANAGER_WEB, WEB_USERS } from "../shared/monitoring/webUsers";
import { knownBadDebianEntries, knownBadImageEntries, type KnownBadImage } from "../shared/images/redisImage";
import { CONFIG_ROOTS, CONTAINER_HARDENING, HARDENING_EXCEPTIONS, NO_NEW_PRIVILEGES, PIDS_LIMIT_SUFFIX, pidsLimitCommand, uploadsOutsideRoot, type ContainerKind } from "../shared/base/hardening";
import {
  CONTAINER,
  HOST_COMMANDS,
  IMAGE_BUILD,
  REMOTE_IMAGE,
  Upload,
  componentOf,
  envOf,
  filesComponentOf,
  isConfigCarrier,
  isRedisFamily,
  isUnknownValueError,
  labelsOf,
  listOf,
  parseYamlOnce,
  seededAcl,
  uploadedFile,
} from "../resources";

export const authRequired: ResourceValidationPolicy = {
  name: "redis-auth-required",
  description:
    "Runbook: JWT revocation and sessions are security-sensitive. Redis requires ACL users (default user off, SHA-256 hashed passwords), Sentinel requires a password, and no plain-text password sits in the reviewable redis.conf.",
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
      if (!/^user default off\s*$/m.test(secrets))
        report("Sentinel's default user is not off: anyone on the network (or with requirepass, anyone holding the clients' password) could SENTINEL SET or fail over");
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
  const regex = pattern
    .replace(/[.+^${}()|\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
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
const SENTINEL_ADMIN_ONLY = [
  "@admin",
  "@dangerous",
  "sentinel",
  "sentinel|set",
  "sentinel|reset",
  "sentinel|simulate-failure",
  "sentinel|remove",
  "sentinel|monitor",
  "sentinel|config",
  "sentinel|debug",
  "acl",
];

export const leastPrivilege: ResourceValidationPolicy = {
  name: "redis-least-privilege",
  description:
    "Security review: no user but the sentinel's may publish on Sentinel's hello channel (one forged hello moves the master); the exporter has no CONFIG and no CLIENT PAUSE/KILL and no password in its environment; on Sentinel only the administrator may reconfigure, and the API holds the lookup-only client user.",
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
        if (user !== ACL_USERS.sentinel && mayUseChannel(rules, SENTINEL_HELLO_CHANNEL))
          report(`user ${user} may publish on ${SENTINEL_HELLO_CHANNEL}: a forged hello moves the master; only ${ACL_USERS.sentinel} may`);
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
      if (env.get("REDIS_EXPORTER_CONFIG_COMMAND") !== "-") report('the exporter sends CONFIG GET: set REDIS_EXPORTER_CONFIG_COMMAND to "-"');
    } else if (component === "api") {
      const env = envOf(args.props);
      if (env.get("REDIS_MODE") === "sentinel" && env.get("REDIS_SENTINEL_USERNAME") !== SENTINEL_USERS.client.name) {
        report(`the API's Sentinel user is ${env.get("REDIS_SENTINEL_USERNAME") ?? "the default user"}, not the lookup-only ${SENTINEL_USERS.client.name}`);
      }
    }
  },
};

export const notExposed: ResourceValidationPolicy = {
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

/**
 * The data hosts' firewall (components/base/firewall.ts), checked where the containers are: each
 * Redis-family container of a production stack waits for its host's `<host>-firewall` command.
 */
export const hostsFirewalled: StackValidationPolicy = {
  name: "redis-hosts-firewalled",
  description:
    "Security: in production every Redis and Sentinel container waits for its host's firewall (`<host>-firewall`: an nftables table that admits the Redis, Sentinel and exporter ports only from the declared hosts and firewall.clientSources, none wider than /8). Without it a stolen replication password attaches a replica from anywhere on the network, and an unplanned failover may promote it; a stolen Sentinel peer password forges hellos from anywhere.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const family = args.resources.filter((r) => r.type === CONTAINER && isRedisFamily(r.props));
    if (!family.some((r) => labelsOf(r.props).environment === "production")) return;
    const checked = new Set<string>();
    for (const container of family) {
      const host = labelsOf(container.props).host;
      if (host === undefined) {
        report(`${container.name}: no veza.host label: cannot tell which host's firewall guards it`, container.urn);
        continue;
      }
      const firewall = container.dependencies.find((d) => HOST_COMMANDS.includes(d.type) && d.name === `${host}-firewall`);
      if (firewall === undefined) {
        report(
          `${container.name} on host ${host} does not wait for a ${host}-firewall command: set firewall.enabled: true (the default with ssh:// hosts) and list the API's addresses in firewall.clientSources`,
          container.urn,
        );
        continue;
      }
      if (checked.has(firewall.urn)) continue;
      checked.add(firewall.urn);
      // The ruleset is the command's stdin, known under a preview too (its create carries the image's content ID).
      const rules = firewall.props.stdin;
      if (typeof rules !== "string" || !(rules.includes(`table inet ${FIREWALL_TABLE} {`) && rules.includes("jump guarded_port") && rules.includes("ip saddr @members accept"))) {
        report(`${firewall.name} does not apply the stack's ruleset (table inet ${FIREWALL_TABLE} admitting the guarded ports from the members and client sources only)`, firewall.urn);
        continue;
      }
      const sources = /set client_sources \{[^}]*elements = \{([^}]*)\}/.exec(rules)?.[1] ?? "";
      const wide = sources
        .split(",")
        .map((source) => source.trim())
        .filter((source) => /\/(\d+)$/.test(source) && Number(/\/(\d+)$/.exec(source)![1]) < MINIMUM_SOURCE_PREFIX);
      if (wide.length > 0) report(`${firewall.name} admits ${wide.join(", ")}: a client source wider than /${MINIMUM_SOURCE_PREFIX} is no boundary; list the API's networks`, firewall.urn);
    }
  },
};

/**
 * A value that may be unknown under a preview (a secret upload whose password is new): undefined
 * then, so that the checks that do not need it still decide (reading an unknown value throws the
 * engine's UnknownValueError, which would make the whole policy advisory).
 */
function whenKnown<T>(read: () => T): T | typeof UNKNOWN {
  try {
    return read();
  } catch (error) {
    if (isUnknownValueError(error)) return UNKNOWN;
    throw error;
  }
}
const UNKNOWN = Symbol("unknown under preview");

/** YAML text's value, or undefined when the text is not YAML. */
function yamlOf<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return parseYamlOnce<T>(text);
  } catch {
    return undefined;
  }
}

export const alertmanagerGated: StackValidationPolicy = {
  name: "alertmanager-behind-gate",
  description:
    "Security: Alertmanager listens on 127.0.0.1 only, with a web config that lists its gate alone, and its gate (nginx, components/monitoring/alertmanagerGate.ts) on the same host serves its port with the stack's permissions, on a host address and with HTTPS exactly when Prometheus alerts over HTTPS: Prometheus's password may post alerts and scrape metrics, nothing else. Basic auth has no roles: an Alertmanager that lists Prometheus's user lets a stolen Prometheus password silence every alert for a year.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const containers = args.resources.filter((r) => r.type === CONTAINER && !isConfigCarrier(r.props));
    // How Prometheus reaches Alertmanager: over HTTPS when its alerting block says so (monitoring.tls*).
    const alertingSchemes = containers
      .filter((r) => componentOf(r.props) === "prometheus")
      .map((r) => yamlOf<{ alerting?: { alertmanagers?: Array<{ scheme?: string }> } }>(uploadedFile(r.props, "/prometheus.yml"))?.alerting?.alertmanagers?.[0]?.scheme ?? "http");
    for (const alertmanager of containers.filter((r) => componentOf(r.props) === "alertmanager")) {
      const arguments_ = [...(listOf(alertmanager.props, "entrypoints") ?? []), ...(listOf(alertmanager.props, "command") ?? [])].join(" ");
      // The flags repeat (every listen address is served, the last config file wins), with = or a space.
      const flag = (name: string) => [...arguments_.matchAll(new RegExp(`--${name.replaceAll(".", "\\.")}(?:=|\\s+)(\\S*)`, "g"))].map((m) => m[1]);
      const listens = flag("web.listen-address");
      const outside = listens.filter((listen) => !/^127\.0\.0\.1:\d+$/.test(listen));
      if (listens.length === 0 || outside.length > 0 || arguments_.includes("--web.systemd-socket")) {
        report(
          `${alertmanager.name} listens on ${[...outside, ...(arguments_.includes("--web.systemd-socket") ? ["a systemd socket"] : [])].join(", ") || "its default, every interface"}: Alertmanager must listen on 127.0.0.1 only, behind its gate`,
          alertmanager.urn,
        );
        continue;
      }
      const configFiles = flag("web.config.file");
      if (configFiles.length === 0 || configFiles.some((file) => file !== ALERTMANAGER_WEB.config)) {
        report(`${alertmanager.name} runs without --web.config.file=${ALERTMANAGER_WEB.config} alone: every process on its host would reach it without a password`, alertmanager.urn);
        continue;
      }
      // Unknown under a preview when a password is new: checked at `up`. Known, it must list the gate alone.
      const webConfig = whenKnown(() => uploadedFile(alertmanager.props, ALERTMANAGER_WEB.config));
      if (webConfig !== UNKNOWN) {
        const users = yamlOf<{ basic_auth_users?: Record<string, string> | null } | null>(webConfig)?.basic_auth_users ?? {};
        if (JSON.stringify(Object.keys(users)) !== JSON.stringify([WEB_USERS.alertmanagerGate]))
          report(
            `${alertmanager.name}'s web config lists ${Object.keys(users).join(", ") || "no user"}: only ${WEB_USERS.alertmanagerGate} may reach Alertmanager (basic auth has no roles; with none, any process on the host may)`,
            alertmanager.urn,
          );
      }
      const loopbackPort = Number(/:(\d+)$/.exec(listens[0])![1]);
      const host = labelsOf(alertmanager.props).host;
      const gate = containers.find((r) => componentOf(r.props) === "alertmanager-gate" && labelsOf(r.props).host === host);
      if (gate === undefined) {
        report(`${alertmanager.name} on host ${host ?? "(no veza.host label)"} has no alertmanager-gate container beside it: nothing serves its port with per-client permissions`, alertmanager.urn);
        continue;
      }
      const config = uploadedFile(gate.props, ALERTMANAGER_GATE_PATHS.config);
      const served = config === undefined ? null : /^\s*listen (\S+):(\d+)( ssl)?;$/m.exec(config);
      const https = alertingSchemes.includes("https");
      // The rate limit's exemptions (the monitoring host's addresses) are read back: they weaken no permission.
      const hostAddresses = config === undefined ? [] : [...config.matchAll(/^\s*"([^"]+)" "";$/gm)].map((m) => m[1]);
      const expected = served ? renderAlertmanagerGateConfig({ listenAddress: served[1], listenPort: Number(served[2]), loopbackPort, tls: https, hostAddresses }) : undefined;
      if (config === undefined || config !== expected)
        report(
          `${gate.name}: its ${ALERTMANAGER_GATE_PATHS.config} is not the gate rendered for Alertmanager's port ${loopbackPort}${https ? " with HTTPS (Prometheus alerts over HTTPS)" : " over HTTP"}: its permissions, its upstream or its TLS differ from components/monitoring/alertmanagerGate.ts`,
          gate.urn,
        );
      else if (["0.0.0.0", "[::]", "::"].includes(served![1])) report(`${gate.name} listens on every interface (${served![1]}): bind it to the monitoring host's address`, gate.urn);
    }
  },
};

/** The fewest sentinels that survive one loss with a majority; a team may require more (minimumSentinels). */

const describeBad = (entry: KnownBadImage) => `${entry.reason} [${entry.id}; ${entry.references.join(", ")}]`;

export const imagesNotKnownBad: ResourceValidationPolicy = {
  name: "images-not-known-vulnerable",
  description:
    "Security: no image known to be end-of-life or to miss the Lua fixes (CVE-2025-49844, CVE-2025-46817, CVE-2024-31449, CVE-2024-46981): the table in components/images/redisImage.ts, a reference per entry. The image built here installs a Debian redis version that has them, on a base pinned by digest.",
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
    if (typeof buildArgs.BASE_IMAGE === "string" && !/@sha256:[0-9a-f]{64}$/.test(buildArgs.BASE_IMAGE))
      report(`base image ${buildArgs.BASE_IMAGE} is not pinned by digest: a rebuild could start from anything the tag points to`);
  },
};

/** The array input `key` of a container, when known. */

export const containersHardened: ResourceValidationPolicy = {
  name: "containers-hardened",
  description:
    "Security: every container drops ALL capabilities and adds back only its kind's (components/base/hardening.ts), sets no-new-privileges, a memory limit and a healthcheck, is not privileged, and has a read-only root; its files come from a config carrier that is never started and has no network.",
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
      if (entrypoints.length !== 1 || entrypoints[0] !== "true")
        report(`a config carrier whose entrypoint is ${JSON.stringify(entrypoints)}, not ["true"]: started by hand, it would run the image's program as root with its config writable`);
      const extra = ["volumes", "devices", "ports", "hosts"].filter((key) => (listOf(props, key) ?? []).length > 0);
      if ((listOf(props, "mounts") ?? []).length !== 1 || extra.length > 0 || props.pidMode !== undefined)
        report(`a config carrier with more than its one config volume (${[...extra, ...(props.pidMode !== undefined ? ["pidMode"] : [])].join(", ") || "mounts"})`);
      return;
    }
    // Redis and Sentinel containers: memory and healthcheck are the redis-* policies' (with swap and restart).
    if (!isRedisFamily(props)) {
      if (!(Number(props.memory) > 0)) report("no memory limit: one leak can starve every process on the host");
      const tests = (props.healthcheck as { tests?: unknown } | undefined)?.tests;
      if (!Array.isArray(tests) || tests.length === 0 || tests[0] === "NONE") report("no healthcheck: Docker cannot tell a hung process from a healthy one");
    }
    if (props.readOnly !== true) report("root filesystem is writable: an exploited process can change the image's binaries and config (files come read-only from a config carrier)");
    if ((listOf(props, "uploads") ?? []).length > 0)
      report("uploads into a running container: the daemon refuses them on a read-only root; upload to a config carrier (components/host/hardenedContainer.ts)");
    if (props.pidMode === "host" && (kind === undefined || !HARDENING_EXCEPTIONS.hostPid.includes(kind))) report("shares the host PID namespace (pidMode host) without an exception");
  },
};

/**
 * Config read-only: each kind with files mounts a volume read-only at its config root, and each
 * config carrier received its files in a volume at the root of the kind it is for. Only mount
 * targets and flags are read, never the volumes' names (autonamed, unknown in a preview that
 * creates or replaces them), so this holds in every preview and at `up` before each create.
 */

export const configReadOnly: ResourceValidationPolicy = {
  name: "containers-config-read-only",
  description:
    "Security: a container's files come read-only from its config carrier's volume, mounted at its kind's config root (components/base/hardening.ts CONFIG_ROOTS): the process cannot rewrite its own config, and the carrier's files are the ones it reads.",
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
      const outside = uploadsOutsideRoot(
        root,
        ((listOf(args.props, "uploads") ?? []) as Upload[]).map((u) => String(u?.file)),
      );
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

export const pidsLimited: StackValidationPolicy = {
  name: "containers-pids-limited",
  description:
    "Security: every container gets its kind's pids limit (components/base/hardening.ts) from a command on its own Docker daemon that waits for it and re-runs when it is replaced (docker update --pids-limit, read back): a fork bomb or a thread leak in one container stops there instead of exhausting the host's pid space, which every container shares.",
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
        report(
          `${container.name}: no ${container.name}${PIDS_LIMIT_SUFFIX} command sets its pids limit to ${CONTAINER_HARDENING[kind].pidsLimit} (docker update --pids-limit ${CONTAINER_HARDENING[kind].pidsLimit} ${name}): one fork bomb can exhaust the host's pids`,
          container.urn,
        );
        continue;
      }
      // After the container, and again for a replaced one: it waits for it and holds its id.
      const waits = command.dependencies.some((d) => d.urn === container.urn);
      const rerunsOnReplace = (command.propertyDependencies.triggers ?? []).some((d) => d.urn === container.urn);
      if (!waits || !rerunsOnReplace)
        report(
          `${command.name}: ${!waits ? `does not wait for ${container.name}` : `its triggers do not hold ${container.name}'s id`}: a replaced container would run without its pids limit`,
          command.urn,
        );
      // On the container's own daemon: node exporters share one container name on every host.
      const daemon = container.provider?.props.host;
      const target = commandDaemon(command);
      if (typeof daemon === "string" && (target === undefined || dockerDaemonKey(target) !== dockerDaemonKey(daemon))) {
        report(`${command.name}: runs against ${target ?? "an unknown daemon"}, not ${container.name}'s ${daemon}: the limit would land on another host's container`, command.urn);
      }
    }
  },
};

export const apiUser: ResourceValidationPolicy = {
  name: "api-runs-as-declared-user",
  description:
    "Security, advisory: the API container runs as a declared non-root uid:gid (api.user), which then owns its password files (0600). Without it the API runs as its image's user and the files are world-readable (0644) in their volume: this stack cannot know which uid must read them.",
  enforcementLevel: "advisory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "api") return;
    const user = typeof args.props.user === "string" ? args.props.user : "";
    if (user === "")
      report("no api.user: the API runs as its image's user, and its Redis and Sentinel password files are world-readable (0644) in their volume; set api.user to the image's numeric uid:gid");
    else if (/^(0|root)(:|$)|:(0|root)$/.test(user)) report(`user ${user}: the API runs as root or in root's group`);
  },
};
