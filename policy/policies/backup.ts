// Failure mode data-lost (components/failureModes.ts): the data gone from every copy at once. AOF
// and replicas replay whatever the master did: a FLUSHALL or a corrupted dataset reaches every
// replica, and losing every volume loses every copy. Only a backup outside the replication stream
// survives; it is the job components/backup/Backup.ts declares (config backup.*).
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { CONTAINER, componentOf, envOf, labelsOf, redisContainers, volumesByName } from "../resources";

/** The backup job's container kind (label veza.component). */
export const BACKUP_COMPONENT = "backup";

const WHY_BACKUP = "AOF and replicas do not protect against a FLUSHALL, a corrupted dataset replicated to every node, or losing every volume, and lost JWT revocations make revoked tokens valid again";
const HOW_TO_FIX = "set backup.enabled: true (the default; it needs monitoring.enabled)";

function backupContainers(resources: PolicyResource[]): PolicyResource[] {
  return resources.filter((r) => r.type === CONTAINER && componentOf(r.props) === BACKUP_COMPONENT);
}

/** The stack's environment from its containers' labels: any container in production makes it production. */
function environmentOf(resources: PolicyResource[]): string | undefined {
  const environments = new Set(resources.filter((r) => r.type === CONTAINER).map((r) => labelsOf(r.props).environment));
  return environments.has("production") ? "production" : [...environments].find((e) => e !== undefined);
}

/** A stack with Redis data and no backup job, in production (`inProduction`) or elsewhere. */
function missingBackup(inProduction: boolean): StackValidationPolicy["validateStack"] {
  return (args, report) => {
    if (redisContainers(args.resources).length === 0) return;
    const environment = environmentOf(args.resources);
    if ((environment === "production") !== inProduction) return;
    if (backupContainers(args.resources).length > 0) return;
    report(`${environment ?? "this"} stack has no backup job (no container labelled veza.component=${BACKUP_COMPONENT}): ${WHY_BACKUP}; ${HOW_TO_FIX}`);
  };
}

export const backupRequired: StackValidationPolicy = {
  name: "backup-required",
  description: `Data lost: a production stack declares the backup job (a container labelled veza.component=${BACKUP_COMPONENT}). ${WHY_BACKUP}.`,
  enforcementLevel: "mandatory",
  validateStack: missingBackup(true),
};

// A policy has one enforcement level: outside production the same check is its own, advisory policy.
export const backupRecommended: StackValidationPolicy = {
  name: "backup-recommended",
  description: `Data lost, advisory: a dev or staging stack declares the backup job too, so that the restore is rehearsed before production needs it. ${WHY_BACKUP}.`,
  enforcementLevel: "advisory",
  validateStack: missingBackup(false),
};

export const backupOffDataHosts: StackValidationPolicy = {
  name: "backup-off-data-hosts",
  description: "Data lost with its host: in production the backup job runs on a host with no Redis data node (label veza.host), so that losing one host never loses both the data and its backups.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    if (environmentOf(args.resources) !== "production") return;
    const dataNodes = redisContainers(args.resources);
    for (const backup of backupContainers(args.resources)) {
      const host = labelsOf(backup.props).host;
      if (host === undefined) {
        report(`${backup.name}: no veza.host label: cannot tell whether it shares a host with a data node`, backup.urn);
        continue;
      }
      const sharing = dataNodes.filter((n) => labelsOf(n.props).host === host).map((n) => n.name);
      if (sharing.length > 0)
        report(
          `${backup.name} runs on host ${host} with data node ${sharing.join(", ")}: losing ${host} loses the data and its backups at once; set backup.host to a host without a data node (the monitoring host)`,
          backup.urn,
        );
    }
  },
};

export const backupRepositoryRetained: StackValidationPolicy = {
  name: "backup-repository-retained",
  description:
    "Data lost with the stack: the backup job's restic repository (RESTIC_REPOSITORY) is a declared volume mounted writable, not the container's own layer, and in production that volume is protected, so a destroy or a rename cannot delete every snapshot. retainOnDelete cannot be checked here: the engine passes a policy protect, not retainOnDelete.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const volumes = volumesByName(args.resources);
    const production = environmentOf(args.resources) === "production";
    for (const backup of backupContainers(args.resources)) {
      const repository = envOf(backup.props).get("RESTIC_REPOSITORY");
      if (repository === undefined || !repository.startsWith("/")) {
        report(`${backup.name}: RESTIC_REPOSITORY is ${repository ?? "not set"}, not a path in a declared volume`, backup.urn);
        continue;
      }
      // Writable mounts only: the read-only config volume's name is unknown in a preview that creates it.
      const mounts = Array.isArray(backup.props.mounts) ? (backup.props.mounts as Array<{ source?: unknown; target?: unknown; readOnly?: unknown }>).filter((m) => m?.readOnly !== true) : [];
      const mount = mounts.find((m) => m?.target === repository);
      const volume = typeof mount?.source === "string" ? volumes.get(mount.source) : undefined;
      if (volume === undefined) {
        report(`${backup.name}: its repository ${repository} is not a declared volume mounted writable: the snapshots would live in the container and go with it`, backup.urn);
        continue;
      }
      if (production && !volume.opts.protect)
        report(`${volume.name}: production backup repository ${String(volume.props.name)} without protect: a destroy or a rename deletes every snapshot`, volume.urn);
    }
  },
};
