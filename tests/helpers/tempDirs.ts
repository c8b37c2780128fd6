// Temporary directories a test file makes, removed after its last test. Call at module level:
// it registers the afterAll hook (jest refuses hooks registered from inside a test).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export function cleanedTempDirs(): (prefix: string) => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  return (prefix) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}
