// `npm run up` / `npm run preview` (scripts/pulumi.ts): the user's own pulumi before the npm
// launcher, Docker only for unix:// hosts, Pulumi's flags passed through, and one clear message
// (exit 2), not a stack trace, when a prerequisite is missing. Nothing here runs Docker or Pulumi:
// the end-to-end cases use a fake `pulumi` that records its arguments.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError } from "../../scripts/lib/args";
import { chooseBackend, choosePulumi, insideNodeModules, launcherPath, localDockerHosts, onMissingStack, parseWrapperArgs, pulumiArgs } from "../../scripts/lib/pulumiWrapper";
import { PROJECT_ROOT, readStackConfigFile } from "../../lib/stackFiles";
import { cleanedTempDirs } from "../helpers/tempDirs";

const TSX = path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx");
const tempDir = cleanedTempDirs();

/**
 * A fake `pulumi` in `dir` that appends its arguments to `log`, one call a line, and succeeds,
 * except `whoami` and `stack select` where FAKE_WHOAMI_EXIT / FAKE_SELECT_EXIT say otherwise.
 */
function fakePulumi(dir: string, log: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "pulumi");
  fs.writeFileSync(
    file,
    [
      "#!/bin/sh",
      `printf '%s\\n' "$*" >> '${log}'`,
      'case "$1 $2" in',
      '  "whoami "*) [ "${FAKE_WHOAMI_EXIT:-0}" = 0 ] || echo "error: could not reach the backend" >&2; exit "${FAKE_WHOAMI_EXIT:-0}";;',
      '  "stack select") [ "${FAKE_SELECT_EXIT:-0}" = 0 ] || echo "error: no stack named $3 found" >&2; exit "${FAKE_SELECT_EXIT:-0}";;',
      "esac",
      "exit 0",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return file;
}

/** A fake `docker` whose daemon answers, for the dev stack's unix:// host. */
function fakeDocker(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "docker"), "#!/bin/sh\necho 20.10.24\n", { mode: 0o755 });
}

/** A directory holding only `node`: a PATH with no docker and no pulumi. */
function nodeOnlyDir(): string {
  const dir = tempDir("veza-node-");
  fs.symlinkSync(process.execPath, path.join(dir, "node"));
  return dir;
}

function runWrapper(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(TSX, ["scripts/pulumi.ts", ...args], { cwd: PROJECT_ROOT, env, encoding: "utf8", timeout: 60000 });
}

describe("which pulumi", () => {
  it("takes a pulumi on a PATH entry outside node_modules over node_modules/.bin, which npm run puts first", () => {
    const root = tempDir("veza-wrapper-");
    const npmBin = path.join(root, "project", "node_modules", ".bin");
    fakePulumi(npmBin, "/dev/null");
    const userPulumi = fakePulumi(path.join(root, "home", "bin"), "/dev/null");
    const choice = choosePulumi([npmBin, path.join(root, "empty"), path.dirname(userPulumi)].join(path.delimiter), path.join(root, "project"));
    expect(choice).toMatchObject({ path: userPulumi, launcher: false });
    expect(choice.reason).toBe(`the first pulumi on PATH outside node_modules (${path.dirname(userPulumi)})`);
  });

  it("falls back to the pinned npm launcher when every pulumi on PATH is inside node_modules", () => {
    const root = tempDir("veza-wrapper-");
    const npmBin = path.join(root, "project", "node_modules", ".bin");
    const globalNpm = path.join(root, "usr", "lib", "node_modules", "pulumi", "bin");
    fakePulumi(npmBin, "/dev/null");
    fakePulumi(globalNpm, "/dev/null");
    const choice = choosePulumi([npmBin, globalNpm, "", "relative/bin"].join(path.delimiter), PROJECT_ROOT);
    expect(choice).toMatchObject({ path: launcherPath(PROJECT_ROOT), launcher: true });
    expect(choice.reason).toMatch(/^no pulumi on PATH outside node_modules, so the pinned npm launcher pulumi@\d+\.\d+\.\d+ /);
  });

  it("skips a non-executable pulumi file", () => {
    const dir = tempDir("veza-wrapper-");
    fs.writeFileSync(path.join(dir, "pulumi"), "not a program", { mode: 0o644 });
    expect(choosePulumi(dir, PROJECT_ROOT).launcher).toBe(true);
  });

  it("knows a node_modules directory at any depth", () => {
    expect(insideNodeModules("/p/node_modules/.bin")).toBe(true);
    expect(insideNodeModules("/usr/lib/node_modules/pulumi/bin")).toBe(true);
    expect(insideNodeModules("/home/u/.pulumi/bin")).toBe(false);
    expect(insideNodeModules("/opt/my_node_modules_backup/bin")).toBe(false);
  });
});

describe("Docker only for local-socket hosts", () => {
  it("prod (all ssh://) needs no local Docker; dev (unix://) does", () => {
    expect(localDockerHosts(readStackConfigFile("prod").raw.hosts)).toEqual([]);
    expect(localDockerHosts(readStackConfigFile("dev").raw.hosts)).toEqual(["unix:///var/run/docker.sock"]);
  });

  it("a mixed stack needs each distinct local socket once", () => {
    const hosts = [{ dockerHost: "ssh://a@h" }, { dockerHost: "unix:///var/run/docker.sock" }, { dockerHost: "unix:///var/run/docker.sock" }, { dockerHost: "unix:///run/user/1000/docker.sock" }];
    expect(localDockerHosts(hosts)).toEqual(["unix:///var/run/docker.sock", "unix:///run/user/1000/docker.sock"]);
    expect(localDockerHosts(undefined)).toEqual([]);
  });
});

describe("the wrapper's arguments", () => {
  it("takes --stack (either form, or -s) and passes every other argument to pulumi in order", () => {
    const urn = "urn:pulumi:prod::veza-redis::docker:index/container:Container::redis-1";
    const parsed = parseWrapperArgs(["up", "--stack", "prod", "--yes", "--target", urn, "-m", "bump", "--parallel=2", "--skip-preview", "--config", "incident=redis-down"]);
    expect(parsed).toEqual({ help: false, verb: "up", stack: "prod", passThrough: ["--yes", "--target", urn, "-m", "bump", "--parallel=2", "--skip-preview", "--config", "incident=redis-down"] });
    expect(pulumiArgs(parsed.verb, parsed.stack, parsed.passThrough)).toEqual(["up", "--stack", "prod", "--policy-pack", "policy", ...parsed.passThrough]);
    expect(parseWrapperArgs(["preview", "--refresh", "--stack=prod"])).toMatchObject({ stack: "prod", passThrough: ["--refresh"] });
    expect(parseWrapperArgs(["preview", "-s", "prod", "-j"])).toMatchObject({ stack: "prod", passThrough: ["-j"] });
    expect(pulumiArgs("preview", "dev", ["--refresh"])).toEqual(["preview", "--diff", "--stack", "dev", "--policy-pack", "policy", "--refresh"]);
    expect(parseWrapperArgs(["up"])).toEqual({ help: false, verb: "up", stack: "dev", passThrough: [] });
  });

  it("loads the repo's policy pack at up and preview unless the user names a pack (either form)", () => {
    expect(pulumiArgs("up", "prod", ["--yes"])).toEqual(["up", "--stack", "prod", "--policy-pack", "policy", "--yes"]);
    expect(pulumiArgs("up", "prod", ["--policy-pack", "/packs/org"])).toEqual(["up", "--stack", "prod", "--policy-pack", "/packs/org"]);
    expect(pulumiArgs("preview", "prod", ["--policy-pack=/packs/org"])).toEqual(["preview", "--diff", "--stack", "prod", "--policy-pack=/packs/org"]);
  });

  it.each([
    [["deploy"], /^the first argument is up or preview/],
    [["up", "--stack", "nope"], /^unknown stack "nope": no Pulumi\.nope\.yaml; stacks here: dev, prod$/],
    [["up", "--stack"], /^--stack needs a value/],
    [["up", "-ys", "prod"], /^give -s on its own/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseWrapperArgs(argv)).toThrow(UsageError);
    expect(() => parseWrapperArgs(argv)).toThrow(message);
  });
});

describe("up never creates a stack by accident", () => {
  const down = { ok: false, output: "error: could not reach https://api.pulumi.com" };
  it("falls back to the project's file backend for dev only: any other stack stops when the login fails", () => {
    expect(chooseBackend("dev", down, {})).toEqual({ kind: "project-file" });
    expect(() => chooseBackend("prod", down, {})).toThrow(
      new UsageError(
        "stack prod: not logged in to a backend (pulumi whoami: error: could not reach https://api.pulumi.com); log in to the stack's backend (pulumi login <url>) and retry, or create the stack with npm run init-stack -- --stack prod. Only dev falls back to the local file backend; nothing was run",
      ),
    );
    expect(() => chooseBackend("dev", down, { PULUMI_BACKEND_URL: "s3://veza-state" })).toThrow(/^stack dev: the backend PULUMI_BACKEND_URL=s3:\/\/veza-state cannot be reached or logged into/);
    expect(chooseBackend("prod", { ok: true, output: "ops" }, {})).toEqual({ kind: "current" });
  });

  it("creates a missing stack only for dev on the project's file backend; elsewhere it names npm run init-stack", () => {
    expect(onMissingStack("dev", { kind: "project-file" }, "")).toBe("create");
    expect(() => onMissingStack("dev", { kind: "current" }, "error: no stack named 'dev' found")).toThrow(
      new UsageError(
        "stack dev cannot be selected on the current backend (pulumi stack select: error: no stack named 'dev' found); create it with npm run init-stack -- --stack dev, then retry; nothing was created",
      ),
    );
    expect(() => onMissingStack("prod", { kind: "current" }, "")).toThrow(/npm run init-stack -- --stack prod/);
  });
});

describe("npm run up / preview, end to end with a fake pulumi", () => {
  /** The wrapper with a fake pulumi and docker on a PATH as under `npm run`; returns the run and pulumi's calls. */
  function upWith(args: string[], env: NodeJS.ProcessEnv) {
    const home = tempDir("veza-home-");
    const log = path.join(home, "calls.log");
    const bin = path.join(home, "bin");
    fakePulumi(bin, log);
    fakeDocker(bin);
    const PATH = [path.join(PROJECT_ROOT, "node_modules", ".bin"), bin, nodeOnlyDir()].join(path.delimiter);
    const result = runWrapper(args, { PATH, HOME: home, ...env });
    return { result, calls: fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [] };
  }

  it("prod with the login failing: exit 2 naming init-stack, and pulumi is asked nothing past whoami", () => {
    const { result, calls } = upWith(["up", "--stack", "prod"], { FAKE_WHOAMI_EXIT: "255" });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^pulumi: stack prod: not logged in to a backend \(pulumi whoami: error: could not reach the backend\); .*npm run init-stack -- --stack prod/m);
    expect(calls).toEqual(["version", "whoami"]);
  });

  it("prod logged in but missing on that backend: exit 2, no stack init, no up", () => {
    const { result, calls } = upWith(["preview", "--stack", "prod"], { FAKE_SELECT_EXIT: "255" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      "pulumi: stack prod cannot be selected on the current backend (pulumi stack select: error: no stack named prod found); create it with npm run init-stack -- --stack prod, then retry; nothing was created\n",
    );
    expect(calls).toEqual(["version", "whoami", "stack select prod"]);
  });

  it("dev on a fresh machine (no login, no stack): the project's file backend, the stack created, then up", () => {
    const { result, calls } = upWith(["up"], { FAKE_WHOAMI_EXIT: "255", FAKE_SELECT_EXIT: "255" });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`Using the local file backend at file://${path.join(PROJECT_ROOT, ".pulumi-state")}\n`);
    expect(calls).toEqual(["version", "whoami", "stack select dev", "stack init dev --secrets-provider passphrase", "up --stack dev --policy-pack policy"]);
  });

  it("prod: uses the pulumi found outside node_modules, needs no Docker, passes pulumi's flags through", () => {
    const home = tempDir("veza-home-");
    const log = path.join(home, "calls.log");
    const userPulumi = fakePulumi(path.join(home, "bin"), log);
    // As under `npm run`: node_modules/.bin (holding the npm launcher) first. No docker anywhere.
    const PATH = [path.join(PROJECT_ROOT, "node_modules", ".bin"), path.dirname(userPulumi), nodeOnlyDir()].join(path.delimiter);
    const urn = "urn:pulumi:prod::veza-redis::docker:index/container:Container::redis-2";
    const result = runWrapper(["up", "--stack", "prod", "--yes", "--target", urn, "--target-dependents"], { PATH, HOME: home });
    expect(result.stderr).toContain(`pulumi: using ${userPulumi}: the first pulumi on PATH outside node_modules (${path.dirname(userPulumi)})\n`);
    expect(result.status).toBe(0);
    const calls = fs.readFileSync(log, "utf8").trim().split("\n");
    expect(calls[0]).toBe("version");
    expect(calls.at(-1)).toBe(`up --stack prod --policy-pack policy --yes --target ${urn} --target-dependents`);
  });

  it("--help: exit 0, the wrapper's options and what goes to pulumi", () => {
    const result = runWrapper(["preview", "--help"], { ...process.env });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run up\|preview -- \[--stack <name>\] \[pulumi flags \.\.\.\]$/m);
    expect(result.stdout).toMatch(/^  -s, --stack <name> /m);
    expect(result.stdout).toMatch(/^  -h, --help /m);
    expect(result.stdout).toContain("every other argument goes to pulumi");
  });

  it("names Docker and how to install it when the stack has a unix:// host and the docker CLI is missing", () => {
    const bin = nodeOnlyDir();
    const result = runWrapper(["up"], { PATH: bin, HOME: bin });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Docker is not installed: stack dev runs containers on the local Docker daemon (unix:///var/run/docker.sock)");
    expect(result.stderr).toMatch(/docs\.docker\.com\/engine\/install/);
  });

  it("refuses an unknown stack in one line, naming the stacks there are", () => {
    const result = runWrapper(["preview", "--stack", "nope"], { ...process.env });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('pulumi: unknown stack "nope": no Pulumi.nope.yaml; stacks here: dev, prod\n');
  });
});
