// Failure mode planned-change (components/failureModes.ts): replacements that hand off, pinned images.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { IMAGE_ID, imagePinProblem } from "../shared/config/imageReference";
import { dataNodeStopGraceSeconds } from "../shared/redis/dataNodeScripts";
import { CONTAINER, REMOTE_IMAGE, componentOf, isRedisFamily, labelsOf, uploadedFile, volumesByName } from "../resources";

export const safeReplacement: StackValidationPolicy = {
  name: "redis-safe-replacement",
  description:
    "Day 2: every `pulumi up` after the first. Each Redis/Sentinel container starts from the discovering entry script, is created health-gated (wait) and stopped with room to hand off (destroyGraceSeconds, stopTimeout); production data volumes are protected.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const volumes = volumesByName(args.resources);
    for (const container of args.resources.filter((r) => r.type === CONTAINER && isRedisFamily(r.props))) {
      const props = container.props;
      const entry = uploadedFile(props, "/entrypoint.sh");
      const entrypoints = Array.isArray(props.entrypoints) ? (props.entrypoints as unknown[]).join(" ") : "";
      if (entry === undefined || !entrypoints.endsWith("/entrypoint.sh"))
        report(`${container.name}: does not start from the uploaded entry script: a replaced node takes the declared topology, not the running cluster's`, container.urn);
      if (props.wait !== true) report(`${container.name}: wait is not true: a crash-looping node gives a green up, and the next one in the rolling order does not wait for it`, container.urn);
      const grace = Number(props.destroyGraceSeconds ?? 0);
      if (!(grace > 0)) report(`${container.name}: no destroyGraceSeconds: the provider's delete SIGKILLs it at once (no handoff, AOF not flushed)`, container.urn);
      if (Number(props.stopTimeout ?? 0) < grace)
        report(`${container.name}: stopTimeout ${String(props.stopTimeout)} s is under destroyGraceSeconds ${grace} s: docker stop and a host reboot kill it before it hands off`, container.urn);
      // The budget from the script's own settings: its promotion wait and its sentinels.
      const promotionWait = entry !== undefined ? /^VEZA_PROMOTION_WAIT_MS='(\d+)'$/m.exec(entry)?.[1] : undefined;
      const sentinels = entry !== undefined ? (/^VEZA_SENTINELS='([^']*)'$/m.exec(entry)?.[1] ?? "").split(" ").filter(Boolean).length : 0;
      const budget = promotionWait !== undefined ? dataNodeStopGraceSeconds(Number(promotionWait), sentinels) : undefined;
      if (componentOf(props) === "redis" && budget !== undefined && grace < budget) {
        report(`${container.name}: destroyGraceSeconds ${grace} s is under the handoff budget ${budget} s`, container.urn);
      }
      if (componentOf(props) === "redis" && labelsOf(props).environment === "production") {
        // The volumes it writes: its read-only config volume is remade from the plan at will.
        const mounts = Array.isArray(props.mounts) ? (props.mounts as Array<{ source?: unknown; readOnly?: unknown }>).filter((m) => m?.readOnly !== true) : [];
        for (const mount of mounts) {
          const volume = typeof mount?.source === "string" ? volumes.get(mount.source) : undefined;
          if (volume && !volume.opts.protect) report(`${volume.name}: production data volume without protect: a destroy or a rename deletes the data`, volume.urn);
        }
      }
    }
  },
};

export const imagesPinned: ResourceValidationPolicy = {
  name: "images-pinned",
  description:
    "Runbook: any failure made worse by an unplanned upgrade. Every image is a Docker reference (the full grammar, anchored: nothing a shell would read) pinned to a version tag or digest, never latest or untagged.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type === REMOTE_IMAGE && typeof args.props.name === "string") {
      const problem = imagePinProblem(args.props.name);
      if (problem) report(`image ${args.props.name}: ${problem}`);
    }
    // A container's image is the pulled image's ID (sha256:<64 hex>), else a reference.
    if (args.type === CONTAINER && typeof args.props.image === "string" && !IMAGE_ID.test(args.props.image)) {
      const problem = imagePinProblem(args.props.image);
      if (problem) report(`image ${args.props.image}: ${problem}`);
    }
  },
};
