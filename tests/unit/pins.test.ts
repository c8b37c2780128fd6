// @pulumi/* pinned exactly: synth drives the SDK's mock monitor internals
// (scripts/lib/synth.ts), which a minor release may change; a caret would let `npm install`
// pick one silently. The lock files must resolve the same versions, so `npm ci` stays valid.
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../lib/stackFiles";

const EXACT = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

function pulumiDeps(dir: string): Array<{ name: string; range: string; section: string }> {
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, dir, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
  return ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"].flatMap((section) =>
    Object.entries(pkg[section] ?? {})
      .filter(([name]) => name.startsWith("@pulumi/") || name === "pulumi")
      .map(([name, range]) => ({ name, range, section })),
  );
}

// policy/ locks with npm-shrinkwrap.json: `npm pack` (what `pulumi policy publish` runs) leaves a
// package-lock.json out of the tarball, a shrinkwrap goes in and pins the published pack's install.
describe.each([
  [".", "package-lock.json"],
  ["policy", "npm-shrinkwrap.json"],
])("%s/package.json", (dir, lockFile) => {
  const deps = pulumiDeps(dir);
  const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, dir, lockFile), "utf8")) as {
    packages: Record<string, { version?: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> }>;
  };

  it("has @pulumi dependencies to check", () => {
    expect(deps.map((d) => d.name)).toContain("@pulumi/pulumi");
  });

  it("pins every @pulumi/* (and the pulumi CLI package) to an exact version, the one the lock file resolves", () => {
    const loose = deps.filter((d) => !EXACT.test(d.range)).map((d) => `${d.section}.${d.name}: ${JSON.stringify(d.range)} (allowed: an exact x.y.z, no ^ or ~)`);
    expect(loose).toEqual([]);
    const drift = deps
      .filter((d) => d.section !== "peerDependencies")
      .filter((d) => lock.packages[`node_modules/${d.name}`]?.version !== d.range || lock.packages[""][d.section as "dependencies"]?.[d.name] !== d.range)
      .map((d) => `${d.name}: package.json ${d.range}, ${lockFile} ${lock.packages[`node_modules/${d.name}`]?.version} (root entry ${lock.packages[""][d.section as "dependencies"]?.[d.name]})`);
    expect(drift).toEqual([]);
  });
});
