// The Redis every artifacts test and drill runs is the one the deployed image installs: the same
// Debian package version (components/images/redisImage.ts), so "tested" means "deployed".
import { spawnSync } from "node:child_process";
import { REDIS_DEBIAN_VERSION } from "../../components/images/redisImage";

describe("the tested Redis is the deployed Redis", () => {
  it("redis-server, redis-sentinel and redis-tools here are Debian's version the image pins", () => {
    const query = spawnSync("dpkg-query", ["-W", "-f", "${Package} ${Version}\\n", "redis-server", "redis-sentinel", "redis-tools"], { encoding: "utf8" });
    expect(query.stdout.trim().split("\n").sort()).toEqual(["redis-sentinel", "redis-server", "redis-tools"].map((p) => `${p} ${REDIS_DEBIAN_VERSION}`));
  });

  it("the redis-server on the PATH is that package's binary (7.0.15)", () => {
    const version = spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout;
    expect(version).toMatch(/v=7\.0\.15 /);
    expect(spawnSync("dpkg", ["-S", spawnSync("sh", ["-c", 'readlink -f "$(command -v redis-server)"'], { encoding: "utf8" }).stdout.trim()], { encoding: "utf8" }).stdout).toMatch(
      /^redis-(server|tools):/m,
    );
  });
});
