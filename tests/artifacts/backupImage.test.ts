// What is tested is what runs: the restic and redis-cli that the backup-restore drill and
// `npm run restore` run here are the Debian packages the backup image installs.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { requireValidStackConfig } from "../../components/validation/validate";
import { BACKUP_IMAGE_CONTEXT, BUILT_BACKUP_IMAGE, backupImageBuild, RESTIC_DEBIAN_VERSION } from "../../components/images/backupImage";
import { REDIS_DEBIAN_VERSION } from "../../components/images/redisImage";
import { PROJECT_ROOT, readStackConfigFile } from "../../lib/stackFiles";

const installed = (pkg: string) => spawnSync("dpkg-query", ["-W", "-f", "${Version}", pkg], { encoding: "utf8" }).stdout;

describe("the backup image and the tools the tests run", () => {
  it("setup-tools.sh installs the restic version the image pins, and the tests run it", () => {
    const setupScript = fs.readFileSync(path.join(PROJECT_ROOT, "scripts", "setup-tools.sh"), "utf8");
    expect(/^RESTIC_PACKAGE=(\S+)$/m.exec(setupScript)?.[1]).toBe(`restic=${RESTIC_DEBIAN_VERSION}`);
    expect(`restic ${installed("restic")}`).toBe(`restic ${RESTIC_DEBIAN_VERSION}`);
    expect(`redis-tools ${installed("redis-tools")}`).toBe(`redis-tools ${REDIS_DEBIAN_VERSION}`);
  });

  it("the Dockerfile declares every build arg the program passes, and installs both packages at the pinned versions", () => {
    const dockerfile = fs.readFileSync(path.join(PROJECT_ROOT, BACKUP_IMAGE_CONTEXT, "Dockerfile"), "utf8");
    const declared = [...dockerfile.matchAll(/^ARG (\w+)$/gm)].map((m) => m[1]).sort();
    expect(declared).toEqual(Object.keys(backupImageBuild().args).sort());
    expect(dockerfile).toContain('"restic=${RESTIC_VERSION}"');
    expect(dockerfile).toContain('"redis-tools=${REDIS_VERSION}"');
  });

  it.each(["dev", "prod"])("the %s stack deploys the built backup image", (stack) => {
    expect(requireValidStackConfig(readStackConfigFile(stack).raw).backup.image).toBe(BUILT_BACKUP_IMAGE);
  });
});
