// What each provider does with a change to each input of the resource types this program uses:
// replace the resource, or update it in place (and what that update really touches), plus how a
// delete behaves. Mocks cannot tell; this table says it, each entry read in the provider's source
// (DESIGN.md, "Know the engine, not only the mocks"). plan-diff and the drills both use it.
//
// Versions. package.json pins @pulumi/docker 5.2.0, @pulumi/command 1.2.1, @pulumi/random 4.21.2.
// The exact upstream tag each one bridges is NOT confirmed: @pulumi/docker 5.2.0's SDK has inputs
// (platform, memoryReservation, cgroupParent, device*Bps/Iops, deviceRequests, Volume.cluster) that
// none of the kreuzwerker source copies read here have, so it bridges a newer kreuzwerker release
// than the commits cited. Inputs not found in the source read are left out of `fields` and come out
// as "unknown" (plan-diff then says: check `npm run preview`) instead of a guess.

export interface Reference {
  repo: string;
  path: string;
  /** Function or schema entry that holds the fact. */
  symbol: string;
  /** Commit or version read (the search index's copy; not necessarily the bundled one). */
  version: string;
}

export type FieldBehaviour =
  /** The provider replaces the resource (Terraform ForceNew / RequiresReplace, Pulumi replaceOnChanges). */
  | { kind: "replace"; unconfirmed?: string }
  /** The provider updates in place; `effect` says what the update does to the running thing. */
  | { kind: "update"; effect: string; unconfirmed?: string };

/** When the provider itself asks the engine to delete the old resource before creating the new one. */
export type ProviderDeleteBeforeReplace = "always" | "when name is set" | "never";

export interface ProviderSemantics {
  type: string;
  /** Behaviour per top-level input, by its Pulumi name. */
  fields: Record<string, FieldBehaviour>;
  /** For types whose provider replaces on any input change (no update function at all). */
  everyFieldReplaces?: true;
  providerDeleteBeforeReplace: ProviderDeleteBeforeReplace;
  deleteBehaviour: string;
  references: Reference[];
  /** Facts that could not be confirmed in the source. */
  unconfirmed: string[];
}

const KREUZWERKER = "kreuzwerker/terraform-provider-docker";
const BRIDGE = "pulumi/pulumi-terraform-bridge";

const replace: FieldBehaviour = { kind: "replace" };
const dockerUpdate: FieldBehaviour = { kind: "update", effect: "applied to the running container with docker update (ContainerUpdate)" };
const stateOnly = (what: string): FieldBehaviour => ({ kind: "update", effect: `stored in state only: ${what}` });

/** docker_container: ForceNew inputs of the schema, by Pulumi name (env -> envs, upload -> uploads, ...). */
const CONTAINER_FORCE_NEW = [
  "name",
  "image",
  "command",
  "entrypoints",
  "hostname",
  "domainname",
  "user",
  "dns",
  "dnsOpts",
  "dnsSearches",
  "publishAllPorts",
  "workingDir",
  "capabilities",
  "securityOpts",
  "runtime",
  "stopSignal",
  "stopTimeout",
  "mounts",
  "volumes",
  "ports",
  "hosts",
  "ulimits",
  "envs",
  "privileged",
  "devices",
  "labels",
  "shmSize",
  "logDriver",
  "logOpts",
  "networkMode",
  "networksAdvanced",
  "pidMode",
  "usernsMode",
  "uploads",
  "sysctls",
  "ipcMode",
  "groupAdds",
  "tty",
  "stdinOpen",
  "storageOpts",
  "gpus",
  "cpus",
  "cgroupnsMode",
  "readOnly",
];

/** resourceDockerContainerUpdate only calls ContainerUpdate for these; every other non-ForceNew input only changes state. */
const CONTAINER_DOCKER_UPDATE = ["restart", "maxRetryCount", "cpuShares", "memory", "cpuSet", "memorySwap"];

const CONTAINER: ProviderSemantics = {
  type: "docker:index/container:Container",
  fields: {
    ...Object.fromEntries(CONTAINER_FORCE_NEW.map((f) => [f, replace])),
    ...Object.fromEntries(CONTAINER_DOCKER_UPDATE.map((f) => [f, dockerUpdate])),
    healthcheck: {
      kind: "replace",
      unconfirmed:
        'ForceNew only since kreuzwerker PR #989 (issue #988); before it a state-only update that leaves the running container\'s healthcheck unchanged. Declare replaceOnChanges: ["healthcheck"] to be sure',
    },
    wait: stateOnly("used by the next create (wait for healthy)"),
    waitTimeout: stateOnly("used by the next create"),
    destroyGraceSeconds: stateOnly("used by the next delete; a delete in the same deployment still uses the old value"),
    mustRun: stateOnly("checked on refresh"),
    start: stateOnly("used by the next create"),
    attach: stateOnly("used by the next create and delete"),
    logs: stateOnly("used by the next create"),
    rm: stateOnly("used by the next create and delete"),
    removeVolumes: stateOnly("used by the next delete"),
    containerReadRefreshTimeoutMilliseconds: stateOnly("used by the next read"),
    init: stateOnly("the running container keeps its init setting"),
    tmpfs: stateOnly("the running container keeps its tmpfs mounts"),
    cpuPeriod: stateOnly("not passed to ContainerUpdate"),
    cpuQuota: stateOnly("not passed to ContainerUpdate"),
  },
  // pulumi-docker's ResourceInfo for docker_container sets DeleteBeforeReplace: true, and the bridge's
  // Diff returns it whenever a replacement is needed (tfbridge Provider.Diff).
  providerDeleteBeforeReplace: "always",
  deleteBehaviour:
    "docker stop with a 0 s timeout (SIGTERM then SIGKILL at once) unless destroyGraceSeconds > 0, then docker rm --force; " +
    "the grace is read from the state being deleted, so it must be in state before the deployment that replaces the container. " +
    "A create with wait: true returns only once the healthcheck reports healthy (waitTimeout, default 60 s), so dependents wait for it.",
  references: [
    { repo: KREUZWERKER, path: "internal/provider/resource_docker_container.go", symbol: "resourceDockerContainer() Schema (ForceNew per input)", version: "042f771a818e9d4b8c37fa2993a37b38b3822cab" },
    {
      repo: KREUZWERKER,
      path: "internal/provider/resource_docker_container_funcs.go",
      symbol: "resourceDockerContainerUpdate (ContainerUpdate of restart, max_retry_count, cpu_shares, memory, cpu_set, memory_swap)",
      version: "1f7249d6fcb5395f8d3ad2f30976761a54f79d50",
    },
    {
      repo: "guru-terraform/terraform-provider-docker",
      path: "internal/provider/resource_docker_container_funcs.go",
      symbol: "resourceDockerContainerDelete (ContainerStop timeout 0 unless destroy_grace_seconds), resourceDockerContainerCreate (wait, wait_timeout)",
      version: "7156b89ba129ed55cf55e4e3c87c7f5a6609f209 (a fork tracking kreuzwerker v3.x)",
    },
    { repo: KREUZWERKER, path: "issues/988, pull/989", symbol: "healthcheck edits silently ignored; fix: changing healthcheck should recreate container", version: "PR #989 merged 2026-08-22" },
    {
      repo: "pulumi/pulumi-docker",
      path: "provider/resources.go",
      symbol: 'Provider(): docker_container DeleteBeforeReplace: true; SetAutonaming(255, "-")',
      version: "37a4904d053ea0b6e79b0777efc7bc6f36c69542 (provider/v4)",
    },
    {
      repo: BRIDGE,
      path: "pkg/tfbridge/provider.go",
      symbol: "Provider.Diff: deleteBeforeReplace = replaces && (res.Schema.DeleteBeforeReplace || nameRequiresDeleteBeforeReplace)",
      version: "index copy (bridge v3)",
    },
  ],
  unconfirmed: [
    "the kreuzwerker release @pulumi/docker 5.2.0 bridges (hence whether healthcheck is ForceNew in it)",
    "the 0 s stop on delete is read in a fork tracking kreuzwerker v3.x; the kreuzwerker copies in the index are older (no stop, docker rm --force: SIGKILL). Either way there is no grace without destroyGraceSeconds",
    "cgroupParent, deviceCgroupRules, deviceReadBps/Iops, deviceWriteBps/Iops, deviceRequests, memoryReservation, platform: not in the source read",
  ],
};

const VOLUME: ProviderSemantics = {
  type: "docker:index/volume:Volume",
  // The schema has no UpdateContext: name, labels, driver and driver_opts are all ForceNew.
  fields: { name: replace, labels: replace, driver: replace, driverOpts: replace },
  everyFieldReplaces: true,
  // The name is autonamed by pulumi-docker; an explicit name makes the bridge delete first.
  providerDeleteBeforeReplace: "when name is set",
  deleteBehaviour: 'docker volume rm --force, retried while Docker says "volume is in use" for up to 30 s: the data is gone unless retainOnDelete is set.',
  references: [
    {
      repo: KREUZWERKER,
      path: "internal/provider/resource_docker_volume.go",
      symbol: "resourceDockerVolume() Schema (all ForceNew, no Update); resourceDockerVolumeDelete / resourceDockerVolumeRemoveRefreshFunc",
      version: "013b65e4158178aeaaaed5bf3c4c414ab690a08a",
    },
    { repo: BRIDGE, path: "pkg/tfbridge/schema.go", symbol: "nameRequiresDeleteBeforeReplace (an autonameable property set by the user)", version: "index copy (bridge v3)" },
  ],
  unconfirmed: ["cluster (in the 5.2.0 SDK, not in the source read)", "delete-before-replace for an explicit name depends on the bridge's __defaults bookkeeping"],
};

const REMOTE_IMAGE: ProviderSemantics = {
  type: "docker:index/remoteImage:RemoteImage",
  fields: {
    name: replace,
    pullTriggers: replace,
    triggers: replace,
    build: replace,
    keepLocally: stateOnly("used by the next delete"),
    forceRemove: stateOnly("used by the next delete"),
  },
  providerDeleteBeforeReplace: "never",
  deleteBehaviour: "with keepLocally: true nothing is removed from the host (the resource only leaves the state); otherwise docker image rm.",
  references: [
    {
      repo: KREUZWERKER,
      path: "internal/provider/resource_docker_image.go",
      symbol: "resourceDockerImage() Schema (name, pull_triggers, triggers, build ForceNew)",
      version: "051297abc1e0fd1f4b9a2a716082ffbefd24b73a",
    },
    { repo: KREUZWERKER, path: "internal/provider/resource_docker_image_funcs.go", symbol: "removeImage (returns at once when keep_locally)", version: "index copy" },
    { repo: "pulumi/pulumi-docker", path: "provider/resources.go", symbol: "docker_image -> docker:index/remoteImage:RemoteImage", version: "37a4904d053ea0b6e79b0777efc7bc6f36c69542" },
  ],
  unconfirmed: ["platform (ForceNew or not in the bundled version)"],
};

const DOCKER_PROVIDER: ProviderSemantics = {
  type: "pulumi:providers:docker",
  // The bridge's DiffConfig replaces a provider only for config marked ForcesProviderReplace, and
  // pulumi-docker marks none: a changed host updates the provider, its resources are not replaced
  // (from then on they are looked up on the new daemon).
  fields: Object.fromEntries(
    ["host", "sshOpts", "registryAuth", "caMaterial", "certMaterial", "keyMaterial", "certPath", "context", "disableDockerDaemonCheck"].map((f) => [
      f,
      { kind: "update", effect: "provider reconfigured; its resources are kept, not replaced", unconfirmed: "checked in pulumi-docker v4's resources.go, not 5.2.0's" } as FieldBehaviour,
    ]),
  ),
  providerDeleteBeforeReplace: "never",
  deleteBehaviour: "nothing on the host.",
  references: [
    { repo: BRIDGE, path: "pkg/tfbridge/provider.go", symbol: "Provider.DiffConfig / configDiffer.forcesProviderReplace", version: "index copy (bridge v3)" },
    { repo: "pulumi/pulumi-docker", path: "provider/resources.go", symbol: "Config (host, registry_auth: no ForcesProviderReplace)", version: "37a4904d053ea0b6e79b0777efc7bc6f36c69542" },
  ],
  unconfirmed: ["ForcesProviderReplace settings of the 5.2.0 provider"],
};

const commandUpdate: FieldBehaviour = { kind: "update", effect: "runs `update`, or `create` again when `update` is unset" };

function command(type: string, extra: string[], controller: Reference): ProviderSemantics {
  return {
    type,
    fields: {
      // provider:"replaceOnChanges" in common.ResourceInputs; the SDK also sends replaceOnChanges: ["triggers[*]"].
      triggers: replace,
      ...Object.fromEntries(["create", "update", "stdin", "environment", "addPreviousOutputInEnv", "logging", ...extra].map((f) => [f, commandUpdate])),
      delete: stateOnly("runs at the next delete"),
    },
    providerDeleteBeforeReplace: "never",
    deleteBehaviour: "runs `delete` if set, otherwise nothing: what `create` did on the host stays.",
    references: [
      {
        repo: "pulumi/pulumi-command",
        path: "provider/pkg/provider/common/inputs.go",
        symbol: 'ResourceInputs.Triggers `provider:"replaceOnChanges"` (the only replacing input)',
        version: "01a81799dca78b7a6f08639409e7c43fefba7ae2",
      },
      controller,
      { repo: "@pulumi/command 1.2.1 (npm)", path: "local/command.js, remote/command.js", symbol: 'constructor merges replaceOnChanges: ["triggers[*]"]', version: "1.2.1 (node_modules)" },
    ],
    unconfirmed: [],
  };
}

const LOCAL_COMMAND = command("command:local:Command", ["interpreter", "dir", "assetPaths", "archivePaths"], {
  repo: "pulumi/pulumi-command",
  path: "provider/pkg/provider/local/commandController.go",
  symbol: "Command.Update (update, else create), Command.Delete",
  version: "1461ded7751fe479bb34137aa24b843430849150",
});

const REMOTE_COMMAND = command("command:remote:Command", ["connection"], {
  repo: "pulumi/pulumi-command",
  path: "provider/pkg/provider/remote/commandController.go",
  symbol: "Command.Update (update, else create), Command.Delete",
  version: "c625126f645f9c15921c3e42fb54b27dfdc48f78",
});

const RANDOM_PASSWORD: ProviderSemantics = {
  type: "random:index/randomPassword:RandomPassword",
  // Every input has a RequiresReplace plan modifier: a new input is a new password.
  fields: Object.fromEntries(["keepers", "length", "special", "upper", "lower", "number", "numeric", "minNumeric", "minUpper", "minLower", "minSpecial", "overrideSpecial"].map((f) => [f, replace])),
  everyFieldReplaces: true,
  providerDeleteBeforeReplace: "never",
  deleteBehaviour: "nothing outside the state. A replacement is a new password: every input that uses it changes, so containers that upload it are replaced too.",
  references: [
    {
      repo: "hashicorp/terraform-provider-random",
      path: "internal/provider/resource_password.go",
      symbol: 'passwordSchemaV3 (RequiresReplace on every input; keepers RequiresReplaceIfValuesNotNull; override_special unless "" -> null)',
      version: "c054b4769837f07ce6dcff3eeaea47f16f1000b6",
    },
  ],
  unconfirmed: ["the terraform-provider-random release @pulumi/random 4.21.2 bridges"],
};

export const PROVIDER_SEMANTICS: Record<string, ProviderSemantics> = Object.fromEntries(
  [CONTAINER, VOLUME, REMOTE_IMAGE, DOCKER_PROVIDER, LOCAL_COMMAND, REMOTE_COMMAND, RANDOM_PASSWORD].map((s) => [s.type, s]),
);

/** What the provider does with a change to `field` (a top-level input); undefined when not known. */
export function fieldBehaviour(type: string, field: string): FieldBehaviour | undefined {
  const semantics = PROVIDER_SEMANTICS[type];
  if (!semantics) return undefined;
  return semantics.fields[field] ?? (semantics.everyFieldReplaces ? replace : undefined);
}

/**
 * Whether the engine deletes before it replaces: the deleteBeforeReplace option when it is set
 * (it overrides the provider), otherwise the provider's own answer (step_generator.go).
 */
export function deletesBeforeReplace(type: string, inputs: Record<string, unknown>, option: boolean | null): boolean {
  if (option !== null) return option;
  const provider = PROVIDER_SEMANTICS[type]?.providerDeleteBeforeReplace ?? "never";
  return provider === "always" || (provider === "when name is set" && typeof inputs.name === "string");
}

/** Seconds between SIGTERM and SIGKILL when the provider deletes a container (0: killed at once). */
export function deleteGraceSeconds(type: string, inputs: Record<string, unknown>): number | undefined {
  if (type !== CONTAINER.type) return undefined;
  const grace = inputs.destroyGraceSeconds;
  return typeof grace === "number" && grace > 0 ? grace : 0;
}

/** Whether the provider's create returns only once the container is healthy. */
export function createWaitsForHealthy(type: string, inputs: Record<string, unknown>): boolean {
  return type === CONTAINER.type && inputs.wait === true;
}
