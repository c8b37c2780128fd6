import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { HostConfig } from "../config/types";
import {
  CONFIG_CARRIER_KIND,
  CONFIG_FOR_KIND_LABEL,
  CONFIG_FOR_LABEL,
  CONFIG_ROOTS,
  CONTAINER_HARDENING,
  NO_NEW_PRIVILEGES,
  PIDS_LIMIT_SUFFIX,
  configDigest,
  CONFIG_DIGEST_LABEL,
  pidsLimitCommand,
  uploadsOutsideRoot,
  type ContainerKind,
} from "../base/hardening";
import { containerLabels, type ContainerConfigFiles } from "./containerDefaults";
import { hostCommand, type SshAccess } from "./hostCommand";

export interface HardenedContainerTarget {
  kind: ContainerKind;
  /** The container's Docker host: the pids command runs against its daemon. */
  host: HostConfig;
  ssh: SshAccess;
}

export type HardenedContainerArgs = Omit<docker.ContainerArgs, "uploads" | "mounts"> & { name: string; mounts?: docker.types.input.ContainerMount[] };

function dependenciesOf(dependsOn: pulumi.CustomResourceOptions["dependsOn"]): pulumi.Input<pulumi.Resource>[] {
  if (dependsOn === undefined) return [];
  if (Array.isArray(dependsOn)) return dependsOn;
  if (pulumi.Resource.isInstance(dependsOn)) return [dependsOn];
  throw new Error("hardenedContainer: dependsOn must be a resource or an array of them");
}

/**
 * A container, its `<resource name>-pids-limit` command and, with `config`, its config carrier:
 * one call declares them all, so the names cannot drift apart.
 *
 * The pids limit: `docker update --pids-limit` right after the create (the provider has no input
 * for it; components/base/hardening.ts). Triggers: the container's name and the limit, then
 * its id, so a replaced container gets its limit again (the policy pack checks the command's create
 * string, that it waits for the container and holds its id, and that it runs on the container's
 * daemon). The container runs without a limit from its start until this command; for Redis and
 * Sentinel that is once they are healthy (`wait: true`).
 *
 * The config files (hardening.ts, CONFIG_CARRIER_KIND): a volume labelled with a digest of the
 * files and a never-started carrier that receives the uploads into it; the container mounts the
 * volume read-only at the config root and waits for the carrier, so its root stays read-only.
 */
export function hardenedContainer(
  target: HardenedContainerTarget,
  resourceName: string,
  args: HardenedContainerArgs,
  opts: pulumi.CustomResourceOptions,
  config?: ContainerConfigFiles,
): docker.Container {
  let containerArgs: docker.ContainerArgs = args;
  let dependsOn = dependenciesOf(opts.dependsOn);
  if (config) {
    const root = CONFIG_ROOTS[target.kind];
    const outside =
      root === undefined
        ? config.map((f) => f.file)
        : uploadsOutsideRoot(
            root,
            config.map((f) => f.file),
          );
    if (root === undefined || outside.length > 0) throw new Error(`${resourceName}: ${outside.join(", ")} outside the config root of a ${target.kind} container (${root ?? "none"})`);
    const carrier = configCarrier(`${resourceName}-config`, { name: args.name, kind: target.kind }, args.image, { root, files: config }, opts);
    containerArgs = { ...args, mounts: [{ type: "volume", source: carrier.volumeName, target: root, readOnly: true }, ...(args.mounts ?? [])] };
    // The uploads are in the volume once the carrier exists.
    dependsOn = [...dependsOn, carrier.container];
  }
  const containerOpts = { ...opts, dependsOn };
  const container = new docker.Container(resourceName, containerArgs, containerOpts);
  hostCommand(
    `${resourceName}${PIDS_LIMIT_SUFFIX}`,
    target.host,
    {
      create: pidsLimitCommand(args.name, target.kind),
      triggers: [args.name, CONTAINER_HARDENING[target.kind].pidsLimit, container.id],
    },
    target.ssh,
    { parent: opts.parent, dependsOn: [container] },
  );
  return container;
}

/**
 * `<resource>-config-volume` and `<resource>-config`: the volume, then a created, never-started
 * container of the same image with the volume at the config root and the files as uploads (the
 * daemon copies the image's files at that path into the new volume, then extracts the uploads
 * there). Hardened like any container in case someone starts it: no network, no capability,
 * entrypoint `true`.
 *
 * Both are autonamed (pulumi-docker: `<resource>-<7 hex>`, a new suffix at each replacement) and
 * created before the old copies are deleted, so no name can clash: not on a changed file, not on
 * any other input, not when reverting after a failed `up` left the old copies pending deletion.
 * The digest label replaces the volume when a file changes; the carrier and the container follow
 * (their mounts name it). The old copies go at the end of the `up`, once their container was replaced.
 */
function configCarrier(
  resourceName: string,
  owner: { name: string; kind: ContainerKind },
  image: pulumi.Input<string>,
  config: { root: string; files: ContainerConfigFiles },
  opts: pulumi.CustomResourceOptions,
) {
  const digest = pulumi.unsecret(pulumi.all([image, config.files]).apply(([image, uploads]) => configDigest({ image, configRoot: config.root, uploads })));
  // Create before delete, against the provider's answer (pulumi-docker deletes a container before
  // its replacement): the volumes are not in the rolling order, and a delete-first volume would
  // make the engine delete its container at the volume's step, every node's at once
  // (step_generator.go, calculateDependentReplacements).
  const resourceOpts = { parent: opts.parent, provider: opts.provider, deleteBeforeReplace: false };
  const labels = containerLabels({ component: CONFIG_CARRIER_KIND, [CONFIG_FOR_LABEL]: owner.name, [CONFIG_FOR_KIND_LABEL]: owner.kind });
  // The digest on the volume only (the carrier follows it through its mount): in a preview that
  // changes a generated password it is unknown, and the carrier's labels stay known for the policies.
  const volume = new docker.Volume(`${resourceName}-volume`, { labels: [...labels, ...containerLabels({ [CONFIG_DIGEST_LABEL]: digest })] }, resourceOpts);
  const container = new docker.Container(
    resourceName,
    {
      image,
      start: false,
      mustRun: false,
      entrypoints: ["true"],
      networkMode: "none",
      capabilities: { drops: ["ALL"] },
      securityOpts: [NO_NEW_PRIVILEGES],
      memory: 16,
      memorySwap: 16,
      logDriver: "none",
      mounts: [{ type: "volume", source: volume.name, target: config.root }],
      uploads: config.files,
      labels,
    },
    { ...resourceOpts, dependsOn: [volume] },
  );
  return { container, volumeName: volume.name };
}
