// The dependency rules (.dependency-cruiser.cjs) refuse what they exist to refuse: a folder that
// imports a floor above it, drills/ importing scripts/, two files importing each other. Run on a
// small fake repository with the project's own rules and dependency-cruiser.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../lib/stackFiles";
import { cleanedTempDirs } from "../helpers/tempDirs";

const tempDir = cleanedTempDirs();
const depcruise = path.join(PROJECT_ROOT, "node_modules", ".bin", "depcruise");

function cruise(files: Record<string, string>): { status: number | null; output: string } {
  const root = tempDir("veza-floors-");
  fs.copyFileSync(path.join(PROJECT_ROOT, ".dependency-cruiser.cjs"), path.join(root, ".dependency-cruiser.cjs"));
  fs.writeFileSync(path.join(root, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "commonjs", moduleResolution: "node" } }));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
  const run = spawnSync(depcruise, ["--config", ".dependency-cruiser.cjs", "--output-type", "err", ...new Set(Object.keys(files).map((f) => f.split("/")[0]))], { cwd: root, encoding: "utf8" });
  return { status: run.status, output: run.stdout + run.stderr };
}

describe("the dependency floors", () => {
  it("hold on the project itself", () => {
    const run = spawnSync("npm", ["run", "--silent", "deps"], { cwd: PROJECT_ROOT, encoding: "utf8" });
    expect({ status: run.status, output: run.stdout + run.stderr }).toMatchObject({ status: 0, output: expect.stringContaining("no dependency violations found") });
  });

  it("accept an import of a lower floor", () => {
    expect(cruise({ "components/topology/a.ts": 'import { b } from "../redis/b";\nexport const a = b;\n', "components/redis/b.ts": "export const b = 1;\n" }).status).toBe(0);
  });

  it("refuse a folder importing a floor above it, which would let the two import each other", () => {
    const run = cruise({ "components/redis/a.ts": 'import { b } from "../topology/b";\nexport const a = b;\n', "components/topology/b.ts": "export const b = 1;\n" });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("floor:components/redis/");
  });

  it("refuse drills/ importing scripts/, type imports included", () => {
    const run = cruise({ "drills/a.ts": 'import type { B } from "../scripts/b";\nexport const a: B = 1;\n', "scripts/b.ts": "export type B = number;\n" });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("floor:drills/");
  });

  it("refuse two files of one folder importing each other", () => {
    const run = cruise({ "lib/a.ts": 'import { b } from "./b";\nexport const a = () => b();\n', "lib/b.ts": 'import { a } from "./a";\nexport const b = () => a;\n' });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("no-circular");
  });
});
