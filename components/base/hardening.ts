// Container hardening, per kind of container: the one table the components apply, the policy
// pack enforces (policy/policies.ts `containers-hardened`) and the drills' container runner
// replays (the capability bounding set the Redis entry scripts run under).
//
// Every container: all capabilities dropped and only the entrypoint's needs added back,
// no-new-privileges, a memory limit, a healthcheck, a pids limit, and a read-only root (config
// files come read-only from a config carrier's volume, below).
//
// The pids limit is set by `docker update --pids-limit` right after each create (pidsLimitCommand):
// @pulumi/docker 5.2.0's Container has no such input (kreuzwerker's docker_container has no
// pids_limit). Docker keeps an updated limit in the container's HostConfig, so it holds across
// restarts; a replaced container gets it again because the command's triggers hold its id.

import { createHash } from "node:crypto";
import { CONTAINER_CONFIG_DIR, shellQuote } from "./shell";

/** The `veza.component` label of each container kind. */
export type ContainerKind = "redis" | "sentinel" | "redis-exporter" | "blackbox-exporter" | "node-exporter" | "prometheus" | "alertmanager" | "alertmanager-gate" | "grafana" | "api" | "backup";

export interface ContainerHardening {
  /** Added back after dropping ALL, each with the reason. */
  capAdd: Record<string, string>;
  /**
   * Most tasks (processes and threads: the pids cgroup counts both) the container may hold,
   * `docker exec` sessions and healthchecks included: a fork bomb or a thread leak stops there
   * instead of exhausting the host's pid space (kernel.pid_max), which every container shares.
   */
  pidsLimit: number;
  /** tmpfs mounts where the process writes outside its volumes (every root is read-only). */
  tmpfs?: Record<string, string>;
}

/**
 * The Redis entry scripts start as root and drop to the redis user with setpriv: what the root part
 * does needs each of these, found by running the scripts under `setpriv --bounding-set` (the drills'
 * container runner applies this set).
 */
const REDIS_ENTRYPOINT_CAPS: Record<string, string> = {
  CHOWN: "hands a restored or older /data to the redis user (find ... -exec chown)",
  DAC_OVERRIDE: "root writes the runtime config into the redis-owned /data",
  KILL: "PID 1 (root) signals and watches (kill -0) redis-server, which runs as the redis user",
  SETGID: "setpriv --regid=redis --init-groups",
  SETUID: "setpriv --reuid=redis",
};

// pidsLimit: measured (threads in /proc/<pid>/task, Debian's builds on 2 cores) and multiplied
// for larger hosts, where Go runtimes start a thread per core (GOMAXPROCS). Redis 7.0: 5 or 6
// threads (main, 3 bio, jemalloc's background thread) and the AOF rewrite's child while one
// runs, the entry script and its sleep/redis-cli, healthchecks and rotation `docker exec`s:
// under 30; the drills' container runner runs every entry script, handoff and rotation step
// under this same limit.
const REDIS_FAMILY_PIDS = 64;

export const CONTAINER_HARDENING: Record<ContainerKind, ContainerHardening> = {
  redis: { capAdd: REDIS_ENTRYPOINT_CAPS, pidsLimit: REDIS_FAMILY_PIDS },
  sentinel: { capAdd: REDIS_ENTRYPOINT_CAPS, pidsLimit: REDIS_FAMILY_PIDS },
  // The exporters and the monitoring servers run as non-root users of their images (nobody, 472)
  // and need no capability: they bind ports above 1024 and read what is mounted for them.
  // Go programs: Prometheus and Alertmanager idle at 7 threads here, and Go adds up to a thread
  // per core plus those blocked in system calls; a Go program that cannot make a thread exits.
  // The exporters run with GOMAXPROCS 2 and 1 (redis_exporter's env, node_exporter's default
  // --runtime.gomaxprocs); the servers' limits hold on hosts up to about 256 cores.
  "redis-exporter": { capAdd: {}, pidsLimit: 128 },
  "blackbox-exporter": { capAdd: {}, pidsLimit: 128 },
  "node-exporter": { capAdd: {}, pidsLimit: 128 },
  prometheus: { capAdd: {}, pidsLimit: 512 },
  alertmanager: { capAdd: {}, pidsLimit: 512 },
  // nginx: its master and two workers (worker_processes 2), the healthcheck's wget; /tmp for its
  // pid and temporary files (alertmanagerGate.ts).
  "alertmanager-gate": { capAdd: {}, tmpfs: { "/tmp": "rw,noexec,nosuid,size=16m" }, pidsLimit: 32 },
  // Grafana may start plugin processes, each with its own threads; /tmp for its temporary files.
  grafana: { capAdd: {}, tmpfs: { "/tmp": "rw,noexec,nosuid,size=64m" }, pidsLimit: 512 },
  // A read-only root since its password files moved to a volume; /tmp stays writable for the
  // API's own temporary files. The API's runtime is not known here: a generous bound.
  api: { capAdd: {}, tmpfs: { "/tmp": "rw,noexec,nosuid,size=64m" }, pidsLimit: 1024 },
  // The backup job runs as its image's user and writes only its volumes. Its shell, one
  // redis-cli or restic at a time (Go: a thread per core plus those in system calls).
  backup: { capAdd: {}, pidsLimit: 256 },
};

/**
 * Every container's root is read-only, including those with config files. The docker provider
 * uploads by extracting a tar at "/" before the start (kreuzwerker terraform-provider-docker
 * resource_docker_container_funcs.go: `dstPath := "/"`), which the daemon refuses on a read-only
 * root (moby daemon/archive.go: "container rootfs is marked read-only"). So a container's files go
 * to its config carrier: a container of the same image, created and never started (start: false),
 * whose uploads land in a config volume mounted at the container's config root; the container
 * mounts that volume read-only. Checked on docker.io 20.10.24: a created container's uploads land
 * in its mounted volume, the image's files at that path are copied in first, and the read-only
 * mount refuses writes ("Read-only file system").
 */
export const CONFIG_CARRIER_KIND = "config-carrier";
/** The carrier's label naming the container its files are for (its Docker name). */
export const CONFIG_FOR_LABEL = "config-for";
/** The carrier's label giving that container's kind: the resource policies that read files run on the carrier. */
export const CONFIG_FOR_KIND_LABEL = "config-for-kind";

/** Where each kind reads its files: the config volume's mount point (the image's files there are kept). */
export const CONFIG_ROOTS: Partial<Record<ContainerKind, string>> = {
  redis: CONTAINER_CONFIG_DIR,
  sentinel: CONTAINER_CONFIG_DIR,
  prometheus: "/etc/prometheus",
  alertmanager: "/etc/alertmanager",
  "alertmanager-gate": "/etc/alertmanager-gate",
  grafana: "/etc/grafana",
  backup: CONTAINER_CONFIG_DIR,
  "blackbox-exporter": "/etc/blackbox",
};

/** The label on a config volume with the digest of what it holds. */
export const CONFIG_DIGEST_LABEL = "config-digest";

/** What a config carrier and its volume are made of: a change gives them a new digest. */
export interface ConfigCarrierContent {
  image: string;
  configRoot: string;
  uploads: Array<{ file: string; content: string }>;
}

/**
 * The digest of everything a config volume holds: the image (its files at the mount point are
 * copied into a new volume), the mount point and every file. It is a label of the volume, so a
 * change replaces the volume (every volume input forces a replacement), and with it the carrier
 * and the container that mount it. Secret files are covered too: 64 bits of a SHA-256 say nothing
 * about a generated password, and whoever can list the volumes can read them anyway.
 */
export function configDigest(content: ConfigCarrierContent): string {
  return createHash("sha256")
    .update(JSON.stringify([content.image, content.configRoot, content.uploads.map((u) => [u.file, u.content])]))
    .digest("hex")
    .slice(0, 16);
}

/** The Docker name of the container a config carrier holds the files of; undefined for any other container. */
export function configCarrierFor(labels: unknown): string | undefined {
  if (!Array.isArray(labels)) return undefined;
  const entries = labels as Array<{ label?: unknown; value?: unknown }>;
  const carrier = entries.some((entry) => entry?.label === "veza.component" && entry.value === CONFIG_CARRIER_KIND);
  const target = entries.find((entry) => entry?.label === `veza.${CONFIG_FOR_LABEL}`)?.value;
  return carrier && typeof target === "string" ? target : undefined;
}

/** Every upload must sit under the config root: anything else would land in the carrier's own root, never seen. */
export function uploadsOutsideRoot(configRoot: string, files: string[]): string[] {
  return files.filter((file) => !file.startsWith(`${configRoot}/`));
}

/** Other departures from the defaults, each with its reason: what the policy accepts. */
export const HARDENING_EXCEPTIONS = {
  /** node_exporter's documented run: the process collectors read the host's PID namespace. */
  hostPid: ["node-exporter"] as ContainerKind[],
};

export const NO_NEW_PRIVILEGES = "no-new-privileges:true";

/** The docker.Container inputs for a kind: capabilities, security options, root and tmpfs. */
export function hardenedContainerArgs(kind: ContainerKind) {
  const hardening = CONTAINER_HARDENING[kind];
  return {
    capabilities: { drops: ["ALL"], adds: Object.keys(hardening.capAdd) },
    securityOpts: [NO_NEW_PRIVILEGES],
    readOnly: true,
    ...(hardening.tmpfs ? { tmpfs: hardening.tmpfs } : {}),
  };
}

/** setpriv's --bounding-set argument that keeps only `capabilities` (Docker's names, no CAP_ prefix). */
export function boundingSetOf(capabilities: string[]): string {
  return ["-all", ...capabilities.map((cap) => `+${cap.toLowerCase()}`)].join(",");
}

/** setpriv's --bounding-set argument for a kind: what the drills run the entry script under. */
export function setprivBoundingSet(kind: ContainerKind): string {
  return boundingSetOf(Object.keys(CONTAINER_HARDENING[kind].capAdd));
}

/**
 * The throwaway `docker run --rm` containers of the host commands (credential seeds, password
 * files, the promtool and data volume checks): root for a moment, some with a capability or two,
 * bounded like every container. promtool is a Go program: room for a thread per core.
 */
export const ONE_SHOT_PIDS_LIMIT = 128;

/** How every throwaway container of the host commands starts: removed after, under its pids limit. */
export const ONE_SHOT_DOCKER_RUN = `docker run --rm --pids-limit ${ONE_SHOT_PIDS_LIMIT}`;

/** `<container resource>-pids-limit`: the host command that sets a container's pids limit. */
export const PIDS_LIMIT_SUFFIX = "-pids-limit";

/**
 * The pids limit's command, run against the container's Docker host right after the create: sets
 * the limit, then reads it back, because Docker only warns ("PIDs limit discarded") and exits 0
 * where the kernel has no pids cgroup. The container name is quoted: no value can end it.
 */
export function pidsLimitCommand(containerName: string, kind: ContainerKind): string {
  const name = shellQuote(containerName);
  const limit = CONTAINER_HARDENING[kind].pidsLimit;
  return [
    `docker update --pids-limit ${limit} ${name} >/dev/null`,
    `&& applied="$(docker inspect --format '{{.HostConfig.PidsLimit}}' ${name})"`,
    `&& { [ "$applied" = ${limit} ] || { echo "${PIDS_LIMIT_SUFFIX.slice(1)}: "${name}" has pids limit $applied after docker update, not ${limit} (no pids cgroup on this kernel?)" >&2; exit 1; }; }`,
  ].join(" ");
}
