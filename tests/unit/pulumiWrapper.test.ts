// `npm run up` must fail in one clear message, not a stack trace, when a prerequisite is missing.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../scripts/lib/stackFiles";

describe("npm run up / preview wrapper", () => {
  it("names Docker and how to install it when the docker CLI is missing", () => {
    // A PATH with node and nothing else: no docker, no pulumi.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "veza-nodocker-"));
    fs.symlinkSync(process.execPath, path.join(bin, "node"));
    const result = spawnSync(path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx"), ["scripts/pulumi.ts", "up"], {
      cwd: PROJECT_ROOT,
      env: { PATH: bin, HOME: bin },
      encoding: "utf8",
      timeout: 60000,
    });
    fs.rmSync(bin, { recursive: true });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Docker is not installed");
    expect(result.stderr).toMatch(/docs\.docker\.com\/engine\/install/);
  });

  it("refuses an unknown stack, naming the stacks there are", () => {
    const result = spawnSync(path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx"), ["scripts/pulumi.ts", "preview", "--stack", "nope"], { cwd: PROJECT_ROOT, encoding: "utf8", timeout: 60000 });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("No stack file Pulumi.nope.yaml; stacks here: dev, prod");
  });
});
