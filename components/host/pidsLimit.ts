import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { HostConfig } from "../config/types";
import { CONTAINER_HARDENING, PIDS_LIMIT_SUFFIX, pidsLimitCommand, type ContainerKind } from "../topology/hardening";
import { hostCommand, type SshAccess } from "./hostCommand";

export interface PidsLimitTarget {
  kind: ContainerKind;
  /** The container's Docker host: the command runs against its daemon. */
  host: HostConfig;
  ssh: SshAccess;
}

/**
 * A container and its `<resource name>-pids-limit` command: `docker update --pids-limit` right
 * after the create (the provider has no input for it; components/topology/hardening.ts).
 * Triggers: the container's name and the limit, then its id, so a replaced container gets its
 * limit again (the policy pack checks the command's create string, that it waits for the
 * container and holds its id, and that it runs on the container's daemon). The container runs
 * without a limit from its start until this command; for Redis and Sentinel that is once they
 * are healthy (`wait: true`). One call declares both, so the names cannot drift apart.
 */
export function pidsLimitedContainer(target: PidsLimitTarget, resourceName: string, args: docker.ContainerArgs & { name: string }, opts: pulumi.CustomResourceOptions): docker.Container {
  const container = new docker.Container(resourceName, args, opts);
  hostCommand(`${resourceName}${PIDS_LIMIT_SUFFIX}`, target.host, {
    create: pidsLimitCommand(args.name, target.kind),
    triggers: [args.name, CONTAINER_HARDENING[target.kind].pidsLimit, container.id],
  }, target.ssh, { parent: opts.parent, dependsOn: [container] });
  return container;
}
