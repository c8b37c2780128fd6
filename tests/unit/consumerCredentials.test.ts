// The consumers' password files (the exporter's, the API's) as their throwaway container writes
// them, and the exporter's reload after a change: run with dash against a temp dir and a fake docker.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderVolumeFilesScript } from "../../components/topology/credentialScripts";
import { renderExporterReloadCommand } from "../../components/monitoring/redisExporter";
import { runDash } from "../helpers/dash";

const isRoot = process.getuid?.() === 0;

let work: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "veza-consumer-files-test-"));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

describe("the consumers' password files", () => {
  it("without a known reader uid: 0644 (the API, whose image's uid this stack does not know)", () => {
    expect(runDash(renderVolumeFilesScript(work, { "redis-password": "secret" })).status).toBe(0);
    expect(fs.statSync(path.join(work, "redis-password")).mode & 0o777).toBe(0o644);
    expect(fs.readFileSync(path.join(work, "redis-password"), "utf8")).toBe("secret");
  });

  (isRoot ? it : it.skip)("with the reader's uid (the exporter's 59000): 0600 and owned by it, replacing a leftover it owns", () => {
    fs.writeFileSync(path.join(work, "p.json.tmp"), "old", { mode: 0o600 });
    fs.chownSync(path.join(work, "p.json.tmp"), 59000, 59000);
    expect(runDash(renderVolumeFilesScript(work, { "p.json": "{}" }, { uid: 59000, gid: 59000 })).status).toBe(0);
    const stat = fs.statSync(path.join(work, "p.json"));
    expect([stat.mode & 0o777, stat.uid, stat.gid]).toEqual([0o600, 59000, 59000]);
    expect(fs.readdirSync(work)).toEqual(["p.json"]);
  });
});

describe("the exporter's reload after its password file changed", () => {
  /** A fake `docker` (and an instant `sleep`) on PATH: `inspect` says running or not, `exec` fails or succeeds. */
  function fakeDocker(running: boolean, execStatus: number): Record<string, string> {
    const bin = path.join(work, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh\ncase "$1" in inspect) echo ${running} ;; exec) echo "exec $*" >> ${work}/calls; exit ${execStatus} ;; esac\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "sleep"), "#!/bin/sh\n:\n", { mode: 0o755 });
    return { PATH: `${bin}:${process.env.PATH}` };
  }
  const exporter = { host: { bindAddress: "10.20.0.11" }, port: 9121 } as unknown as Parameters<typeof renderExporterReloadCommand>[1];

  it("fails the command, in a clear line, when the running exporter never answers /-/reload", () => {
    const result = runDash(renderExporterReloadCommand("redis-exporter-0", exporter), fakeDocker(true, 1));
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe("redis-exporter-0: /-/reload failed 5 times: the running exporter still holds its previous password file");
    expect(fs.readFileSync(path.join(work, "calls"), "utf8").trim().split("\n")).toHaveLength(5);
  });

  it("succeeds once the running exporter reloads, and when it is not running (it reads the file at start)", () => {
    const reloaded = runDash(renderExporterReloadCommand("redis-exporter-0", exporter), fakeDocker(true, 0));
    expect([reloaded.status, reloaded.stdout.trim()]).toEqual([0, "redis-exporter-0: reloaded its password file"]);
    fs.rmSync(path.join(work, "bin"), { recursive: true });
    const absent = runDash(renderExporterReloadCommand("redis-exporter-0", exporter), fakeDocker(false, 1));
    expect([absent.status, absent.stdout.trim()]).toEqual([0, "redis-exporter-0 not running: it reads the file at start"]);
  });
});
