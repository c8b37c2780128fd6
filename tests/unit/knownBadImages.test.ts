// The policy pack's table of end-of-life and vulnerable images (components/images/redisImage.ts): each
// entry refuses what its advisory names and lets the first fixed release through.
import * as fs from "node:fs";
import * as path from "node:path";
import {
  BUILT_REDIS_IMAGE,
  DEBIAN_BASE_IMAGE,
  KNOWN_BAD_IMAGES,
  knownBadDebianEntries,
  knownBadImageEntries,
  REDIS_DEBIAN_VERSION,
  REDIS_IMAGE_CONTEXT,
  redisImageBuild,
} from "../../components/images/redisImage";
import { PROJECT_ROOT } from "../../lib/stackFiles";

// Per entry: references it must refuse, and the nearest ones it must not.
const EXAMPLES: Record<string, { refused: string[]; allowed: string[] }> = {
  "redis-before-6.2": { refused: ["redis:6.0.20", "redis:5.0.14-alpine", "redis:6.0"], allowed: ["redis:6.2.20"] },
  "redis-6.2-before-6.2.20": { refused: ["redis:6.2.19", "docker.io/library/redis:6.2.14-bookworm"], allowed: ["redis:6.2.20", "redis:6.2"] },
  "redis-7.0": { refused: ["redis:7.0.15-bookworm", "library/redis:7.0.15", "redis:7.0", `redis:7.0.15@sha256:${"a".repeat(64)}`], allowed: ["redis:7.2.11-bookworm"] },
  "redis-7.2-before-7.2.11": { refused: ["redis:7.2.10", "redis:7.2.4-alpine"], allowed: ["redis:7.2.11", "redis:7.2.12-bookworm"] },
  "redis-7.4-before-7.4.6": { refused: ["redis:7.4.5", "docker.io/redis:7.4.0"], allowed: ["redis:7.4.6"] },
  "redis-8.0-before-8.0.4": { refused: ["redis:8.0.3"], allowed: ["redis:8.0.4"] },
  "redis-8.2-before-8.2.2": { refused: ["redis:8.2.1-alpine"], allowed: ["redis:8.2.2"] },
  "debian-redis-before-deb12u6": { refused: ["5:7.0.15-1~deb12u5", "5:7.0.15-1~deb12u1"], allowed: ["5:7.0.15-1~deb12u6", REDIS_DEBIAN_VERSION] },
};

describe("known end-of-life and vulnerable images", () => {
  it("has examples for every entry, and every entry a reference", () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(KNOWN_BAD_IMAGES.map((e) => e.id).sort());
    for (const entry of KNOWN_BAD_IMAGES) {
      expect(entry.references.length).toBeGreaterThan(0);
      for (const reference of entry.references) expect(reference).toMatch(/^https:\/\/\S+$/);
    }
  });

  it.each(KNOWN_BAD_IMAGES.map((e) => [e.id, e] as const))("%s refuses what its advisory names and lets the fixed release through", (id, entry) => {
    const matches = entry.matchesDebianVersion ? knownBadDebianEntries : knownBadImageEntries;
    for (const refused of EXAMPLES[id].refused) expect([refused, matches(refused).map((e) => e.id)]).toEqual([refused, expect.arrayContaining([id])]);
    for (const allowed of EXAMPLES[id].allowed) expect([allowed, matches(allowed).map((e) => e.id)]).toEqual([allowed, []]);
  });

  it("the deployed image is none of them: our build, Debian's patched package, a base pinned by digest", () => {
    expect(knownBadImageEntries(BUILT_REDIS_IMAGE)).toEqual([]);
    expect(knownBadDebianEntries(REDIS_DEBIAN_VERSION)).toEqual([]);
    expect(DEBIAN_BASE_IMAGE).toMatch(/^debian:bookworm-slim@sha256:[0-9a-f]{64}$/);
    expect(knownBadImageEntries("veza-backend-api:dev")).toEqual([]);
    expect(knownBadImageEntries("veza/api-standin:1-py3.11.2-1-b1")).toEqual([]);
  });

  it("the Dockerfile installs the three redis packages at the version the program passes, on the base it passes", () => {
    const dockerfile = fs.readFileSync(path.join(PROJECT_ROOT, REDIS_IMAGE_CONTEXT, "Dockerfile"), "utf8");
    expect(Object.keys(redisImageBuild().args).sort()).toEqual(["BASE_IMAGE", "REDIS_VERSION"]);
    expect(dockerfile).toMatch(/^ARG BASE_IMAGE\nFROM \$\{BASE_IMAGE\}\nARG REDIS_VERSION$/m);
    for (const pkg of ["redis-server", "redis-sentinel", "redis-tools"]) expect(dockerfile).toContain(`"${pkg}=\${REDIS_VERSION}"`);
  });
});
