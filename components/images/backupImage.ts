// The backup job's image (images/backup): Debian's restic and redis-tools at the versions the
// backup-restore drill and `npm run restore` run here, so the job that runs in prod is the one
// proven by the drill. scripts/setup-tools.sh installs the same restic.

import { DEBIAN_BASE_IMAGE, REDIS_DEBIAN_VERSION } from "./redisImage";

/** Debian bookworm's restic (scripts/setup-tools.sh pins the same; a unit test compares them). */
export const RESTIC_DEBIAN_VERSION = "0.14.0-1+b5";
/** The tag the build gives the image on each host (Docker tags cannot hold `+` or `~`). */
export const BUILT_BACKUP_IMAGE = "veza/backup:restic-0.14.0-1-b5-redis-7.0.15-1-deb12u10";
export const BACKUP_IMAGE_CONTEXT = "images/backup";
/** The job's user: owns the repository, state and metrics volumes (created by the image). */
export const BACKUP_IMAGE_USER = "64000:64000";

export function backupImageBuild(): { context: string; args: { BASE_IMAGE: string; RESTIC_VERSION: string; REDIS_VERSION: string; RUN_AS: string } } {
  return { context: BACKUP_IMAGE_CONTEXT, args: { BASE_IMAGE: DEBIAN_BASE_IMAGE, RESTIC_VERSION: RESTIC_DEBIAN_VERSION, REDIS_VERSION: REDIS_DEBIAN_VERSION, RUN_AS: BACKUP_IMAGE_USER } };
}
