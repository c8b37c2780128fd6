import type * as pulumi from "@pulumi/pulumi";
import type * as docker from "@pulumi/docker";
import type { HostConfig } from "../config/types";
import { CONTAINER_HARDENING, PIDS_LIMIT_SUFFIX, pidsLimitCommand, type ContainerKind } from "../topology/hardening";
import { hostCommand, type HostCommand, type SshAccess } from "./hostCommand";

/**
 * `<container resource>-pids-limit`: `docker update --pids-limit` on the container right after it
 * is created (the provider has no input for it; components/topology/hardening.ts). Triggers: the
 * container's name and the limit (known in a preview: the policy pack reads them), then its id,
 * so a replaced container gets its limit again. The container runs without one for the moment
 * between its start and this command; for Redis and Sentinel that is after they are healthy.
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
