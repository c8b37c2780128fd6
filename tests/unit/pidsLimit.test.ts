// The pids limit's host command (components/base/hardening.ts pidsLimitCommand), run by dash
// with `docker` replaced by a shell function: it sets the limit, reads it back, and fails the `up`
// when Docker kept another one (Docker only warns and exits 0 where the kernel has no pids cgroup).
import { spawnSync } from "node:child_process";
import { CONTAINER_HARDENING, pidsLimitCommand } from "../../components/base/hardening";

/** A fake docker: logs each call on stderr as `docker [arg] [arg] ...` (one bracket per word), answers inspect with $APPLIED, fails update when $UPDATE_FAILS. */
const FAKE_DOCKER = String.raw`docker() {
  { printf 'docker'; printf ' [%s]' "$@"; echo; } >&2
  case "$1" in
    update) [ -z "$UPDATE_FAILS" ] || { echo "Error: No such container: $3" >&2; return 1; } ;;
    inspect) echo "$APPLIED" ;;
  esac
}`;

function run(container: string, env: Record<string, string>) {
  const result = spawnSync("dash", ["-c", `${FAKE_DOCKER}\n${pidsLimitCommand(container, "redis")}`], { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } });
  return {
    status: result.status,
    calls: result.stderr.split("\n").filter((line) => line.startsWith("docker ")),
    errors: result.stderr.split("\n").filter((line) => line && !line.startsWith("docker ")),
  };
}

describe("the pids limit command", () => {
  const limit = CONTAINER_HARDENING.redis.pidsLimit;

  it("sets the kind's limit on the named container and succeeds when Docker reports it back", () => {
    expect(run("veza-redis-0", { APPLIED: String(limit) })).toEqual({
      status: 0,
      calls: [`docker [update] [--pids-limit] [${limit}] [veza-redis-0]`, "docker [inspect] [--format] [{{.HostConfig.PidsLimit}}] [veza-redis-0]"],
      errors: [],
    });
  });

  it("fails naming the container when Docker kept no limit (a kernel without the pids cgroup)", () => {
    const result = run("veza-redis-0", { APPLIED: "0" });
    expect(result.status).toBe(1);
    expect(result.errors).toEqual([`pids-limit: veza-redis-0 has pids limit 0 after docker update, not ${limit} (no pids cgroup on this kernel?)`]);
  });

  it("fails without reading back when docker update fails", () => {
    const result = run("veza-redis-0", { UPDATE_FAILS: "1", APPLIED: String(limit) });
    expect(result.status).toBe(1);
    expect(result.calls).toEqual([`docker [update] [--pids-limit] [${limit}] [veza-redis-0]`]);
  });

  it("passes a container name with shell metacharacters as one word", () => {
    const name = "x'; touch /tmp/veza-pwned-$$; echo '";
    const result = run(name, { APPLIED: String(limit) });
    expect(result.status).toBe(0);
    expect(result.calls).toEqual([`docker [update] [--pids-limit] [${limit}] [${name}]`, `docker [inspect] [--format] [{{.HostConfig.PidsLimit}}] [${name}]`]);
  });
});
