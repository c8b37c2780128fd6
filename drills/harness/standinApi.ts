// The stand-in API (images/api-standin) as its container runs it: the image's entrypoint, and
// with env -i only what the container gets (PATH as the image sets it, Debian's python3 on it).
import * as path from "node:path";
import { API_STANDIN_CONTEXT } from "../../components/images/standinImage";
import { PROJECT_ROOT } from "../../lib/stackFiles";
import { waitFor, type ProcessGroup, type TrackedProcess } from "./processes";

const context = path.join(PROJECT_ROOT, API_STANDIN_CONTEXT);

/** Starts it on 127.0.0.1:`port` with the container's `env`; its output goes to `logFile`. */
export function startStandinApi(processes: ProcessGroup, name: string, port: number, env: Record<string, string>, logFile: string): TrackedProcess {
  const variables = { ...env, API_BIND: "127.0.0.1", API_PORT: String(port), VEZA_STANDIN: path.join(context, "standin.py") };
  return processes.start(name, "env", ["-i", "PATH=/usr/bin:/bin", ...Object.entries(variables).map(([k, v]) => `${k}=${v}`), "/bin/sh", path.join(context, "entrypoint.sh")], logFile);
}

/** Waits until the stand-in on 127.0.0.1:`port` answers /health, at most `timeoutMs`: it is listening. */
export function untilStandinAnswers(port: number, timeoutMs = 15000): Promise<boolean> {
  const answers = () =>
    fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.ok,
      () => false,
    );
  return waitFor("the stand-in API to answer", answers, timeoutMs, 50);
}
