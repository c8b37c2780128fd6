// Failure mode disk-full (components/failureModes.ts): the AOF bounded, the volume sized.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { minimumDataVolumeBytes } from "../shared/redis/sizing";
import { CONTAINER, componentOf, directive, labelsOf, redisConf, redisContainers, volumesByName } from "../resources";

export const aofRewrite: ResourceValidationPolicy = {
  name: "redis-aof-auto-rewrite",
  description: "Runbook: Disk full (AOF filling /var/lib/redis) and Process crashed (data must survive a restart). AOF is on, fsynced every second, with automatic rewrite.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || componentOf(args.props) !== "redis") return;
    const conf = redisConf(args.props);
    if (!conf) return;
    if (directive(conf, "appendonly") !== "yes") report("appendonly is not yes: a crash or restart loses every write since the last snapshot");
    const percentage = Number(directive(conf, "auto-aof-rewrite-percentage") ?? "100");
    if (!(percentage > 0)) report("auto-aof-rewrite-percentage is 0: the AOF is never rewritten and grows until the disk is full");
    if (directive(conf, "auto-aof-rewrite-min-size") === undefined) report("auto-aof-rewrite-min-size is not set: rewrite cadence is left to the default");
  },
};

export const dataVolumeSized: StackValidationPolicy = {
  name: "redis-data-volume-sized",
  description: "Runbook: Disk full. Every Redis data volume is at least the sizing minimum recomputed from its redis.conf (AOF at the rewrite trigger + the rewrite's new base + an RDB if enabled).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const volumes = volumesByName(args.resources);
    for (const container of redisContainers(args.resources)) {
      const conf = redisConf(container.props);
      if (!conf) continue;
      const mounts = Array.isArray(container.props.mounts) ? (container.props.mounts as Array<{ source?: unknown; target?: unknown }>) : [];
      const dataMount = mounts.find((m) => m?.target === directive(conf, "dir"));
      const volume = typeof dataMount?.source === "string" ? volumes.get(dataMount.source) : undefined;
      if (!volume) {
        report(`${container.name}: ${directive(conf, "dir")} is not a declared data volume: the AOF would live in the container's writable layer`, container.urn);
        continue;
      }
      const declared = labelsOf(container.props)["data-volume-bytes"];
      const size = Number(declared);
      const minimum = minimumDataVolumeBytes(
        Number(directive(conf, "maxmemory")),
        Number(directive(conf, "auto-aof-rewrite-percentage") ?? "100"),
        Number(directive(conf, "auto-aof-rewrite-min-size") ?? String(64 * 1024 * 1024)),
        (directive(conf, "save") ?? "") !== '""',
      );
      if (!(size >= minimum)) report(`${volume.name}: declared size ${String(declared)} B (label veza.data-volume-bytes on ${container.name}) is under the sizing minimum ${minimum} B`, container.urn);
    }
  },
};
