// Comments and docs give the reason, never a ticket number: the number tells a newcomer nothing
// the code does not, and outlives the tracker it points to.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../lib/stackFiles";

it("no tracked source or document names an issue by its number", () => {
  const files = [
    ...new Set(
      spawnSync("git", ["ls-files", "--", "*.ts", "*.js", "*.sh", "*.md", "*.py", "*.yaml", "*.yml", "Dockerfile", ".ci/*"], { cwd: PROJECT_ROOT, encoding: "utf8" })
        .stdout.split("\n")
        .filter(Boolean),
    ),
  ];
  expect(files.length).toBeGreaterThan(100);
  const found = files.flatMap((file) =>
    fs
      .readFileSync(path.join(PROJECT_ROOT, file), "utf8")
      .split("\n")
      .flatMap((line, i) => (/\bissues? \d+/i.test(line) ? [`${file}:${i + 1}: ${line.trim().slice(0, 100)}`] : [])),
  );
  expect(found).toEqual([]);
});
