// The host tuning script, run for real by sh against a fake /proc and /sys (ROOT prefix).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderDataVolumeCheckScript, renderHostTuningCommand, renderHostTuningScript } from "../../components/host/hostTuning";

function fakeHost(values: { overcommit: string; thp: string; somaxconn: string }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "veza-fake-host-"));
  const write = (file: string, content: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), `${content}\n`);
  };
  write("proc/sys/vm/overcommit_memory", values.overcommit);
  write("sys/kernel/mm/transparent_hugepage/enabled", values.thp);
  write("sys/kernel/mm/transparent_hugepage/defrag", values.thp);
  write("proc/sys/net/core/somaxconn", values.somaxconn);
  fs.mkdirSync(path.join(root, "host/etc/sysctl.d"), { recursive: true });
  fs.mkdirSync(path.join(root, "host/etc/tmpfiles.d"), { recursive: true });
  return root;
}

const run = (root: string) => spawnSync("sh", ["-s"], { input: renderHostTuningScript({ tcpBacklog: 511 }), env: { ...process.env, ROOT: root }, encoding: "utf8" });
const read = (root: string, file: string) => fs.readFileSync(path.join(root, file), "utf8").trim();

describe("host kernel tuning script", () => {
  it("sets overcommit, disables THP, raises somaxconn, persists them, and says what it changed", () => {
    const root = fakeHost({ overcommit: "0", thp: "always [madvise] never", somaxconn: "128" });
    const result = run(root);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("vm.overcommit_memory: 0 -> 1 (changed)");
    expect(result.stdout).toContain("transparent_hugepage/enabled: madvise -> never (changed)");
    expect(result.stdout).toContain("net.core.somaxconn: 128 -> 511 (changed)");
    expect(read(root, "proc/sys/vm/overcommit_memory")).toBe("1");
    expect(read(root, "sys/kernel/mm/transparent_hugepage/enabled")).toBe("never");
    expect(read(root, "proc/sys/net/core/somaxconn")).toBe("511");
    expect(read(root, "host/etc/sysctl.d/60-veza-redis.conf")).toBe("vm.overcommit_memory = 1\nnet.core.somaxconn = 511");
    fs.rmSync(root, { recursive: true });
  });

  it("is idempotent: a second run changes nothing and says so", () => {
    const root = fakeHost({ overcommit: "1", thp: "always madvise [never]", somaxconn: "4096" });
    const result = run(root);
    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain("(changed)");
    expect(result.stdout).toContain("net.core.somaxconn: 4096 (unchanged, >= 511)");
    expect(read(root, "host/etc/sysctl.d/60-veza-redis.conf")).toContain("net.core.somaxconn = 4096");
    fs.rmSync(root, { recursive: true });
  });

  it("runs in a privileged container on the Docker host, without the host PID namespace, read-only, with the script on a quoted heredoc", () => {
    const command = renderHostTuningCommand(`sha256:${"ab".repeat(32)}`, { tcpBacklog: 511 });
    expect(command).toMatch(/^docker run --rm -i --privileged --network host --read-only --security-opt no-new-privileges:true --pids-limit \d+ --memory \d+m /);
    expect(command).not.toMatch(/--pid[ =]/);
    // Only the two directories the persisted settings go to; the image by content ID.
    expect(command.match(/-v \S+/g)).toEqual(["-v /etc/sysctl.d:/host/etc/sysctl.d", "-v /etc/tmpfiles.d:/host/etc/tmpfiles.d"]);
    expect(command).toContain(`--entrypoint sh 'sha256:${"ab".repeat(32)}' -s`);
    expect(command).toContain("<<'VEZA_HOST_TUNING'\n");
    expect(spawnSync("sh", ["-n", "-c", command]).status).toBe(0);
  });

  it("fails the data volume check when the filesystem lacks the sizing minimum", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-volume-"));
    expect(spawnSync("sh", ["-c", renderDataVolumeCheckScript(dir, 1024)], { encoding: "utf8" }).status).toBe(0);
    const tooMuch = spawnSync("sh", ["-c", renderDataVolumeCheckScript(dir, Number.MAX_SAFE_INTEGER)], { encoding: "utf8" });
    expect(tooMuch.status).toBe(1);
    expect(tooMuch.stderr).toContain("data volume too small");
    fs.rmSync(dir, { recursive: true });
  });
});
