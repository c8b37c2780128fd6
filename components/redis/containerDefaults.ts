// Container settings every Redis-family container shares (data nodes and sentinels).
import type * as docker from "@pulumi/docker";

export const LABEL_PREFIX = "veza.";

export function containerLabels(labels: Record<string, string>): docker.types.input.ContainerLabel[] {
  return Object.entries(labels).map(([label, value]) => ({ label: `${LABEL_PREFIX}${label}`, value }));
}

/** Bounded json-file logs: a chatty Redis must not fill the disk it persists to. */
export const LOG_OPTIONS = { "max-size": "10m", "max-file": "5" };

/** maxclients 10000 needs about 10032 descriptors; Docker's default soft limit is often 1024. */
export const NOFILE_ULIMIT: docker.types.input.ContainerUlimit = { name: "nofile", soft: 65536, hard: 65536 };

/** Restarted after a crash or a host reboot, but not after an operator's `docker stop`. */
export const RESTART_POLICY = "unless-stopped";

/** Healthcheck cadence: unhealthy after ~15 s of failed PINGs. */
export const HEALTHCHECK_TIMING = { interval: "5s", timeout: "3s", retries: 3, startPeriod: "10s" };
