import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { ApiConfig } from "../config/types";
import type { DockerHost } from "../host/DockerHost";
import { dockerRunStdinScript, hostCommand, type SshAccess, type HostCommand } from "../host/hostCommand";
import { clientTlsVolumeFiles, renderVolumeFilesScript, type FileOwner } from "../topology/credentialScripts";
import { holdsMarker, passwordOf, usedGeneration } from "../redis/rotation";
import { API_CREDENTIALS, type CredentialName } from "../redis/acl";
import { shellQuote } from "../base/shell";
import { containerLabels, LOG_OPTIONS, RESTART_POLICY } from "../host/containerDefaults";
import { hardenedContainerArgs } from "../base/hardening";
import type { RedisCredentials } from "../redis/RedisCredentials";
import {
  API_SECRET_FILES,
  defaultApiRestartCommand,
  renderApiEnv,
  renderConnectivityCheckScript,
  renderTogglesFile,
  renderTogglesWriteScript,
  toEnvList,
  TOGGLES_WRITER_MOUNT,
  type EffectiveToggles,
  type RedisConnection,
  API_TLS_FILES,
} from "./env";
import type { ClientTlsMaterial } from "../tls/certificates";
import { certificateTriggers } from "../tls/StackCertificates";
import { hardenedContainer } from "../host/hardenedContainer";
import { BUILT_API_STANDIN_IMAGE } from "../images/standinImage";

/** The API container's name: the runbook's commands use it (docker exec veza-backend-api ...). */
export const API_CONTAINER_NAME = "veza-backend-api";
/** The API's memory limit: it had none, so one leak could starve Redis on a shared host. */
export const API_MEMORY_LIMIT_MIB = 1024;

/** `api.user` ("uid:gid") as the owner of the API's password files. */
export function apiFileOwner(user: string | undefined): FileOwner | undefined {
  if (user === undefined) return undefined;
  const [uid, gid] = user.split(":").map(Number);
  return { uid, gid };
}

/**
 * Docker's healthcheck for the API: its metrics endpoint (or its port's root) on the address
 * Prometheus scrapes. Needs `wget` in the API image (busybox or Debian's wget).
 */
export function apiHealthcheck(api: ApiConfig, address: string): string[] {
  const port = api.metrics.enabled ? api.metrics.port : api.port;
  const path = api.metrics.enabled ? api.metrics.path : "/";
  const url = `http://${address}:${port}${path}`;
  // The stand-in's image has python3 and no wget.
  if (api.image === BUILT_API_STANDIN_IMAGE) return ["CMD", "python3", "-c", "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4)", url];
  return ["CMD", "wget", "-q", "-O", "/dev/null", url];
}

/** Where the stand-in listens: the API's port on the host's bind address (the real backend has its own settings). */
export function standinEnv(api: ApiConfig, bindAddress: string): Record<string, string> {
  return api.image === BUILT_API_STANDIN_IMAGE ? { API_BIND: bindAddress, API_PORT: String(api.port) } : {};
}

export interface ApiServiceArgs {
  api: ApiConfig;
  environment: string;
  dockerHost: DockerHost;
  connection: RedisConnection;
  toggles: EffectiveToggles;
  credentials: RedisCredentials;
  /** Image with redis-cli for the connectivity check (the Redis image). */
  redisImage: string;
  /** Resources the check and the password files wait for (the Redis nodes and sentinels, and their live credential applies). */
  redisResources: pulumi.Resource[];
  ssh: SshAccess;
  /** With TLS on: the CA bundle and the app role's client pair (StackCertificates). SECRET. */
  tls?: pulumi.Output<ClientTlsMaterial>;
}

/**
 * The Veza backend API's environment, owned here: the Redis/Sentinel connection and the
 * runbook's toggles. In `container` mode it also runs the container; in `external` mode it only
 * exports the env for another deployer. Either way, a check on the API's host PINGs the current
 * master through Sentinel with the API's credentials, so `pulumi up` fails when the API could
 * not reach Redis.
 */
export class ApiService extends pulumi.ComponentResource {
  readonly env: Record<string, string>;
  readonly container?: docker.Container;
  /** External mode: writes the toggles file on the API host and restarts the API. */
  readonly togglesApply?: HostCommand;
  readonly connectivityCheck: HostCommand;

  constructor(name: string, args: ApiServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:api:ApiService", name, {}, opts);
    this.env = renderApiEnv(args.connection, args.toggles, { ...standinEnv(args.api, args.dockerHost.host.bindAddress), ...args.api.extraEnv }, args.tls !== undefined);
    // Nothing (plaintext) or the app's files: written beside the passwords, whenever a certificate is reissued.
    const tlsMaterial: pulumi.Output<ClientTlsMaterial | undefined> = args.tls ?? pulumi.output(undefined);
    const passwords = args.credentials.passwords;
    const rotation = args.credentials.rotation;
    const apiUsers = API_CREDENTIALS;
    let secretFiles: pulumi.Resource | undefined;

    if (args.api.mode === "container") {
      const image = args.dockerHost.image(args.api.image);
      // The password files live in a volume the API reads (read-only), written before it first
      // starts and again at each rotation step's switch: no upload, so a new password never
      // replaces (restarts) the API. The API must read the files when it (re)connects.
      const secretsVolume = new docker.Volume(
        `${name}-secrets`,
        {
          name: "veza-backend-api-secrets",
          labels: [{ label: "veza.component", value: "api-secrets" }],
        },
        { parent: this, provider: args.dockerHost.provider },
      );
      const secretsDir = API_SECRET_FILES.redisPassword.slice(0, API_SECRET_FILES.redisPassword.lastIndexOf("/"));
      const fileName = (path: string) => path.slice(path.lastIndexOf("/") + 1);
      // With api.user: 0600, owned by the uid the API runs as (root only to chown: CHOWN alone).
      // Without it 0644, world-readable on purpose: the API image is built elsewhere and runs as
      // its own user, which this stack does not know, and a file it cannot read would take the
      // API down. The volume is mounted (read-only) into the API container alone; on the host,
      // Docker's dirs (/var/lib/docker 0711, volumes/ 0701) hide the names but let a local user
      // who knows the path read the files. The policy api-runs-as-declared-user says so.
      const owner = apiFileOwner(args.api.user);
      const ownerFlags = owner ? ["--user 0:0", "--cap-add CHOWN", "--security-opt no-new-privileges"] : [];
      secretFiles = hostCommand(
        `${name}-secret-files`,
        args.dockerHost.host,
        {
          create: secretsVolume.name.apply((volume) => dockerRunStdinScript(args.redisImage, ["--network none", "--cap-drop ALL", ...ownerFlags, `-v ${shellQuote(`${volume}:/c`)}`])),
          stdin: pulumi.secret(
            pulumi.all([passwords.app, passwords.sentinelClients, tlsMaterial]).apply(([app, sentinelClients, tls]) =>
              renderVolumeFilesScript(
                "/c",
                {
                  [fileName(API_SECRET_FILES.redisPassword)]: app,
                  [fileName(API_SECRET_FILES.sentinelPassword)]: sentinelClients,
                  ...(tls ? clientTlsVolumeFiles(API_TLS_FILES, tls) : {}),
                },
                owner,
              ),
            ),
          ),
          // The marker first (the rotation record reads the leading ones), then the certificates' label and fingerprint.
          triggers: [holdsMarker("api", rotation, apiUsers), ...certificateTriggers(args.tls)],
          // After every server's live apply (redisResources holds them): at `switch` the API's files
          // move to the new passwords only once every node and sentinel accepts them.
        },
        args.ssh,
        { parent: this, dependsOn: [args.dockerHost.image(args.redisImage), secretsVolume, ...args.redisResources] },
      );
      this.container = hardenedContainer(
        { kind: "api", host: args.dockerHost.host, ssh: args.ssh },
        `${name}-container`,
        {
          name: API_CONTAINER_NAME,
          image: image.imageId,
          ...(args.api.user ? { user: args.api.user } : {}),
          networkMode: "host",
          envs: toEnvList(this.env),
          mounts: [{ type: "volume", source: secretsVolume.name, target: secretsDir, readOnly: true }],
          ...hardenedContainerArgs("api"),
          memory: API_MEMORY_LIMIT_MIB,
          memorySwap: API_MEMORY_LIMIT_MIB,
          // The incident preset replaces the container (its env changes): SIGTERM, then this long
          // for in-flight requests before SIGKILL (the provider's default is 0 s), at delete and at docker stop.
          destroyGraceSeconds: args.api.stopGraceSeconds,
          stopTimeout: args.api.stopGraceSeconds,
          healthcheck: { tests: apiHealthcheck(args.api, args.dockerHost.host.address), interval: "15s", timeout: "5s", retries: 3, startPeriod: "30s" },
          restart: RESTART_POLICY,
          logDriver: "json-file",
          logOpts: LOG_OPTIONS,
          labels: containerLabels({ component: "api", environment: args.environment }),
        },
        { parent: this, provider: args.dockerHost.provider, dependsOn: [...args.redisResources, secretFiles], deleteBeforeReplace: true },
      );
    }

    if (args.api.mode === "external") {
      // The API is deployed elsewhere, but the runbook's toggles are this stack's: a file on the
      // API host, then a restart. Entering and leaving an incident both change the triggers, so
      // `pulumi up` (and plan-diff) replaces this command, which writes and restarts again. It
      // waits for nothing of Redis: it is applied while Redis is down.
      const file = args.api.togglesFile;
      // The validator keeps the file below a directory (never in /): that directory is what is mounted.
      const directory = file.slice(0, file.lastIndexOf("/"));
      const restart = args.api.restartCommand ?? defaultApiRestartCommand(API_CONTAINER_NAME, args.api.stopGraceSeconds);
      const content = renderTogglesFile(args.toggles);
      this.togglesApply = hostCommand(
        `${name}-incident-toggles`,
        args.dockerHost.host,
        {
          create: `${dockerRunStdinScript(args.redisImage, ["--network none", "--cap-drop ALL", `-v ${shellQuote(`${directory}:${TOGGLES_WRITER_MOUNT}`)}`])} && ${restart}`,
          stdin: renderTogglesWriteScript(file.slice(file.lastIndexOf("/") + 1), content),
          triggers: [content, file, restart],
        },
        args.ssh,
        { parent: this, dependsOn: [args.dockerHost.image(args.redisImage)] },
      );
    }

    // The check authenticates as the API does: with what the API holds at this step. An API
    // deployed elsewhere holds what `credentials.<user>.external` says (its own redeploy moves it).
    const held = (user: CredentialName) => (args.api.mode === "external" ? rotation[user].external : undefined) ?? usedGeneration(rotation[user]);
    const slots = args.credentials.slots;
    const script = pulumi.secret(
      pulumi.all([slots.app, slots.sentinelClients, tlsMaterial]).apply(([app, sentinelClients, tls]) =>
        renderConnectivityCheckScript(
          args.connection,
          {
            app: passwordOf(app, held("app")),
            sentinelClients: passwordOf(sentinelClients, held("sentinelClients")),
          },
          tls,
        ),
      ),
    );
    this.connectivityCheck = hostCommand(
      `${name}-redis-connectivity-check`,
      args.dockerHost.host,
      {
        create: dockerRunStdinScript(args.redisImage, ["--network host"]),
        stdin: script,
        // Re-check when what the API connects to changes: addresses, master name, credentials. Not
        // on the API container: the incident preset replaces it while Redis is down, and the check
        // must never fail the `pulumi up` that applies the runbook's mitigation.
        // The marker first (what the API holds, for the policy pack's retire guard, which reads the
        // leading markers only): the script after it is unknown in a preview that makes a password.
        triggers: [holdsMarker("api-connectivity-check", rotation, apiUsers, held), JSON.stringify(args.connection), script],
      },
      args.ssh,
      { parent: this, dependsOn: [args.dockerHost.image(args.redisImage), ...args.redisResources, ...(this.container ? [this.container] : []), ...(secretFiles ? [secretFiles] : [])] },
    );

    this.registerOutputs({ env: this.env });
  }
}
