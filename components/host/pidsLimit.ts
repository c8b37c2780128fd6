import type * as pulumi from "@pulumi/pulumi";
import type * as docker from "@pulumi/docker";
import type { HostConfig } from "../config/types";
import { CONTAINER_HARDENING, PIDS_LIMIT_SUFFIX, pidsLimitCommand, type ContainerKind } from "../topology/hardening";
import { hostCommand, type HostCommand, type SshAccess } from "./hostCommand";

/**
 * `<container resource>-pids-limit`: `docker update --pids-limit` on the container right after it
 * is created (the provider has no input for it; components/topology/hardening.ts). Triggers: the
 * container's name and the limit, then its id, so a replaced container gets its limit again (the
 * policy pack checks the command's create string, that it waits for the container and holds its
 * id, and that it runs on the container's daemon). The container runs without a limit from its
 * start until this command; for Redis and Sentinel that is once they are healthy (`wait: true`).
 */
export function declarePidsLimit(container: docker.Container, args: {
  resourceName: string;
  containerName: string;
  kind: ContainerKind;
  host: HostConfig;
  ssh: SshAccess;
}, opts: pulumi.CustomResourceOptions): HostCommand {
  return hostCommand(`${args.resourceName}${PIDS_LIMIT_SUFFIX}`, args.host, {
    create: pidsLimitCommand(args.containerName, args.kind),
    triggers: [args.containerName, CONTAINER_HARDENING[args.kind].pidsLimit, container.id],
  }, args.ssh, { ...opts, dependsOn: [container] });
}
