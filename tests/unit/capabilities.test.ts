// The capabilities declared for the Redis entry scripts (components/base/hardening.ts) are the
// ones their root part needs: the confinement the drills apply yields exactly that set, each
// capability is needed by a step the scripts take, and the steps work under the full set.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CONTAINER_HARDENING, setprivBoundingSet } from "../../components/base/hardening";

const isRoot = process.getuid?.() === 0;
const haveTools = ["setpriv", "capsh"].every((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0) && spawnSync("id", ["redis"]).status === 0;

/** Runs a shell snippet as root with only `caps` (and no-new-privileges), as the containers do. */
const confined = (caps: string[], script: string) =>
  spawnSync("setpriv", ["--no-new-privs", "--bounding-set", ["-all", ...caps.map((c) => `+${c.toLowerCase()}`)].join(","), "sh", "-c", script], { encoding: "utf8", timeout: 10000 });

(isRoot && haveTools ? describe : describe.skip)("the Redis entry scripts' capabilities", () => {
  const declared = Object.keys(CONTAINER_HARDENING.redis.capAdd);
  let dataDir: string;
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-caps-"));
    fs.chmodSync(dataDir, 0o755);
    spawnSync("chown", ["redis:redis", dataDir]);
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  // The steps of RUN_AS_REDIS / superviseChild / write_runtime_conf, as root.
  const steps: Record<string, string> = {
    DAC_OVERRIDE: `echo x > "$D/redis.conf.$$"`,
    CHOWN: `touch "$D/f" 2>/dev/null; chown redis:redis "$D/f"`,
    SETUID: "setpriv --reuid=redis --regid=redis --init-groups true",
    SETGID: "setpriv --reuid=redis --regid=redis --init-groups true",
    KILL: `setpriv --reuid=redis --regid=redis --init-groups sleep 2 > /dev/null 2>&1 & child=$!; sleep 0.2; kill -0 "$child" && kill -TERM "$child"`,
  };

  it("the drills' confinement yields exactly the declared set, with no-new-privileges", () => {
    const status = spawnSync("setpriv", ["--no-new-privs", "--bounding-set", setprivBoundingSet("redis"), "cat", "/proc/self/status"], { encoding: "utf8" }).stdout;
    const effective = /^CapEff:\s+([0-9a-f]+)$/m.exec(status)![1];
    const names = spawnSync("capsh", [`--decode=${effective}`], { encoding: "utf8" })
      .stdout.trim()
      .split("=")[1]
      .split(",");
    expect(names.map((n) => n.replace(/^cap_/, "").toUpperCase()).sort()).toEqual([...declared].sort());
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
  });

  it.each(Object.keys(steps))("%s: the step that needs it works with the declared set and fails without it", (cap) => {
    const env = { ...process.env, D: dataDir };
    const run = (caps: string[]) =>
      spawnSync("setpriv", ["--no-new-privs", "--bounding-set", ["-all", ...caps.map((c) => `+${c.toLowerCase()}`)].join(","), "sh", "-c", steps[cap]], { encoding: "utf8", timeout: 10000, env });
    expect(run(declared).status).toBe(0);
    expect(run(declared.filter((c) => c !== cap)).status).not.toBe(0);
  });

  it("no-new-privileges does not stop setpriv from dropping to the redis user", () => {
    expect(confined(declared, "setpriv --reuid=redis --regid=redis --init-groups id -un").stdout.trim()).toBe("redis");
  });
});
