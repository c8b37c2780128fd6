// A probe of a read-only root: `touch` on each path, one line per path, "<path> written" or
// "<path> refused", run inside a container's mount namespace (the drills' runner, nsenter).
import * as fs from "node:fs";

/** Where a probe tries to write on the root: removed afterwards, should a broken read-only root let it. */
export const PLANTED = { bin: `/usr/local/bin/veza-planted-${process.pid}`, tmp: `/tmp/veza-planted-${process.pid}` };

export function removePlanted(): void {
  for (const file of Object.values(PLANTED)) fs.rmSync(file, { force: true });
}

export function writeProbeScript(paths: string[]): string {
  return paths.map((p) => `if touch ${p} 2>/dev/null; then echo "${p} written"; else echo "${p} refused"; fi`).join("\n");
}
