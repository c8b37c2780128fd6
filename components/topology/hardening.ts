// Container hardening, per kind of container: the one table the components apply, the policy
// pack enforces (policy/policies.ts `containers-hardened`) and the drills' container runner
// replays (the capability bounding set the Redis entry scripts run under).
//
// Every container: all capabilities dropped and only the entrypoint's needs added back,
// no-new-privileges, a memory limit, a healthcheck, and a read-only root unless listed in
// READ_ONLY_ROOT_EXCEPTIONS below.
//
// No pids limit: @pulumi/docker 5.2.0's Container has no such input (kreuzwerker's docker_container
// has no pids_limit), so it cannot be declared per container here. The bound it would give comes
// from the memory limits (each thread costs memory) until the provider has it; see the README.

/** The `veza.component` label of each container kind. */
export type ContainerKind = "redis" | "sentinel" | "redis-exporter" | "node-exporter" | "prometheus" | "alertmanager" | "grafana" | "api";

export interface ContainerHardening {
  /** Added back after dropping ALL, each with the reason. */
  capAdd: Record<string, string>;
  /** tmpfs mounts where the process writes outside its volumes (read-only roots only). */
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

export const CONTAINER_HARDENING: Record<ContainerKind, ContainerHardening> = {
  redis: { capAdd: REDIS_ENTRYPOINT_CAPS },
  sentinel: { capAdd: REDIS_ENTRYPOINT_CAPS },
  // The exporters and the monitoring servers run as non-root users of their images (nobody, 472)
  // and need no capability: they bind ports above 1024 and read what is mounted for them.
  "redis-exporter": { capAdd: {} },
  "node-exporter": { capAdd: {} },
  prometheus: { capAdd: {} },
  alertmanager: { capAdd: {} },
  grafana: { capAdd: {} },
  // A read-only root since its password files moved to a volume; /tmp stays writable for the
  // API's own temporary files.
  api: { capAdd: {}, tmpfs: { "/tmp": "rw,noexec,nosuid,size=64m" } },
};

/**
 * Containers whose root cannot be read-only, and why. The docker provider uploads files by
 * extracting a tar at "/" before the start (kreuzwerker terraform-provider-docker
 * resource_docker_container_funcs.go: `dstPath := "/"`), and the daemon refuses any extraction
 * outside a volume when the root is read-only (moby daemon/archive.go: "container rootfs is marked
 * read-only"). Every container with uploads is in this list; the rest have a read-only root.
 */
export const READ_ONLY_ROOT_EXCEPTIONS: Partial<Record<ContainerKind, string>> = {
  redis: "uploads /etc/veza (configs, scripts, credentials): the provider's upload needs a writable root",
  sentinel: "uploads /etc/veza: the provider's upload needs a writable root",
  prometheus: "uploads prometheus.yml, rules and the web config: the provider's upload needs a writable root",
  alertmanager: "uploads alertmanager.yml, secrets and the web config: the provider's upload needs a writable root",
  grafana: "uploads provisioning, dashboards and the admin password: the provider's upload needs a writable root",
};

/** Other departures from the defaults, each with its reason: what the policy accepts. */
export const HARDENING_EXCEPTIONS = {
  /** node_exporter's documented run: the process collectors read the host's PID namespace. */
  hostPid: ["node-exporter"] as ContainerKind[],
};

export const NO_NEW_PRIVILEGES = "no-new-privileges:true";

/** The docker.Container inputs for a kind: capabilities, security options, root and tmpfs. */
export function hardenedContainerArgs(kind: ContainerKind) {
  const hardening = CONTAINER_HARDENING[kind];
  const readOnly = READ_ONLY_ROOT_EXCEPTIONS[kind] === undefined;
  return {
    capabilities: { drops: ["ALL"], adds: Object.keys(hardening.capAdd) },
    securityOpts: [NO_NEW_PRIVILEGES],
    readOnly,
    ...(hardening.tmpfs ? { tmpfs: hardening.tmpfs } : {}),
  };
}

/** setpriv's --bounding-set argument for a kind: what the drills run the entry script under. */
export function setprivBoundingSet(kind: ContainerKind): string {
  return ["-all", ...Object.keys(CONTAINER_HARDENING[kind].capAdd).map((cap) => `+${cap.toLowerCase()}`)].join(",");
}
