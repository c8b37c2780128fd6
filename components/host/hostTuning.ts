// Kernel settings Redis needs on every host (Redis docs, "Redis administration"), as a
// shell script: idempotent, and it prints what it found and what it changed.
// - vm.overcommit_memory=1: with 0, fork() for BGSAVE/BGREWRITEAOF can fail on a busy host.
// - transparent huge pages never: with THP, copy-on-write after fork copies 2 MiB pages, not
//   4 KiB ones, multiplying fork memory and latency.
// - net.core.somaxconn >= tcp-backlog: otherwise the kernel silently truncates Redis's backlog.
// ROOT prefixes every path so tests can run the script against a fake /proc and /sys.
// Config strings in the command lines (image, volume name) go through shellQuote; the numbers are
// TypeScript numbers, whose text has no shell metacharacter.
import { shellQuote } from "../base/shell";
import { ONE_SHOT_DOCKER_RUN } from "../base/hardening";

export interface HostTuningInput {
  tcpBacklog: number;
}

export function renderHostTuningScript(input: HostTuningInput): string {
  return `set -eu
ROOT="\${ROOT:-}"
status=0
set_value() { # name file wanted
  current=$(cat "$2")
  if [ "$current" = "$3" ]; then echo "$1: $current (unchanged)"; else echo "$3" > "$2"; echo "$1: $current -> $3 (changed)"; fi
}
set_value vm.overcommit_memory "$ROOT/proc/sys/vm/overcommit_memory" 1
for knob in enabled defrag; do
  file="$ROOT/sys/kernel/mm/transparent_hugepage/$knob"
  if [ -e "$file" ]; then
    current=$(sed -n 's/.*\\[\\(.*\\)\\].*/\\1/p' "$file")
    if [ "$current" = never ]; then echo "transparent_hugepage/$knob: never (unchanged)"; else echo never > "$file"; echo "transparent_hugepage/$knob: $current -> never (changed)"; fi
  else
    echo "transparent_hugepage/$knob: not present on this kernel"
  fi
done
somaxconn=$(cat "$ROOT/proc/sys/net/core/somaxconn")
if [ "$somaxconn" -ge ${input.tcpBacklog} ]; then echo "net.core.somaxconn: $somaxconn (unchanged, >= ${input.tcpBacklog})"; else set_value net.core.somaxconn "$ROOT/proc/sys/net/core/somaxconn" ${input.tcpBacklog}; somaxconn=${input.tcpBacklog}; fi
# Persist across reboots where the host keeps sysctl.d and tmpfiles.d.
if [ -d "$ROOT/host/etc/sysctl.d" ]; then
  printf 'vm.overcommit_memory = 1\\nnet.core.somaxconn = %s\\n' "$somaxconn" > "$ROOT/host/etc/sysctl.d/60-veza-redis.conf"
  echo "persisted: /etc/sysctl.d/60-veza-redis.conf"
fi
if [ -d "$ROOT/host/etc/tmpfiles.d" ]; then
  printf 'w /sys/kernel/mm/transparent_hugepage/enabled - - - - never\\nw /sys/kernel/mm/transparent_hugepage/defrag - - - - never\\n' > "$ROOT/host/etc/tmpfiles.d/60-veza-redis-thp.conf"
  echo "persisted: /etc/tmpfiles.d/60-veza-redis-thp.conf"
fi
exit $status
`;
}

/**
 * Runs the script in a short-lived privileged container on the Docker host itself: the same
 * command works on a Linux host, over ssh, and on Docker Desktop's VM, without sudo on the
 * workstation. --network host so somaxconn is set in the host's network namespace, where the
 * Redis containers (host networking) listen.
 * Privileged because Docker mounts /proc/sys and /sys read-only in any other container and its
 * AppArmor profile refuses writes there (capabilities alone do not help; `--cap-drop` is ignored
 * when privileged, so none is claimed). What is narrowed: no host PID namespace (the script reads
 * and writes /proc/sys and /sys only), a read-only root, no new privileges, bounded pids and memory,
 * the image by content ID (`image` is the pulled or built image's sha256 ID), and only the two
 * host directories the persisted settings go to. Those stay read-write: the script creates
 * 60-veza-redis*.conf there, and a file bind mount needs the file to exist beforehand.
 */
export function renderHostTuningCommand(image: string, input: HostTuningInput): string {
  return [
    `docker run --rm -i --privileged --network host --read-only --security-opt no-new-privileges:true --pids-limit 32 --memory 64m`,
    `-v /etc/sysctl.d:/host/etc/sysctl.d -v /etc/tmpfiles.d:/host/etc/tmpfiles.d`,
    `--entrypoint sh ${shellQuote(image)} -s <<'VEZA_HOST_TUNING'\n${renderHostTuningScript(input)}VEZA_HOST_TUNING`,
  ].join(" ");
}

/**
 * Checks, before Redis starts, that the filesystem behind the data volume can hold the sizing
 * minimum: Docker's local volumes have no size of their own, so the room must exist on disk.
 */
export function renderDataVolumeCheckCommand(image: string, volumeName: string, requiredBytes: number): string {
  return `${ONE_SHOT_DOCKER_RUN} -v ${shellQuote(`${volumeName}:/data`)} --entrypoint sh ${shellQuote(image)} -c ${shellQuote(renderDataVolumeCheckScript("/data", requiredBytes))}`;
}

export function renderDataVolumeCheckScript(dir: string, requiredBytes: number): string {
  return [
    `used=$(du -sb ${dir} | cut -f1)`,
    `avail=$(df -P -B1 ${dir} | awk "NR==2 {print \\$4}")`,
    `room=$((used + avail))`,
    `echo "data volume: $room bytes of room (used $used + free $avail), required ${requiredBytes}"`,
    `if [ "$room" -lt ${requiredBytes} ]; then echo "data volume too small: the AOF and its rewrite can fill the disk (runbook: Disk full)" >&2; exit 1; fi`,
  ].join("; ");
}
