import { spawnSync } from "node:child_process";

/** A rendered script on dash's stdin (`sh -s`, as the commands run it in a container), bounded in time. */
export function runDash(script: string, env: Record<string, string> = {}) {
  return spawnSync("dash", ["-s"], { input: script, encoding: "utf8", env: { ...process.env, ...env }, timeout: 20000 });
}
