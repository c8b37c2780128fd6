// The Redis/Sentinel image: what is deployed, and which images the policy pack refuses.
//
// Deployed: images/redis/Dockerfile, built on each Docker host from Debian bookworm's redis
// package at REDIS_DEBIAN_VERSION: the binaries `npm test` and the drills run (Debian's security
// team backported the 2025 Lua fixes to 7.0.15). The artifacts tests check that the machine
// running them has exactly this version, so "tested" and "deployed" cannot drift apart silently.

/** debian:bookworm-slim, pinned by digest (the base of the image we build). */
export const DEBIAN_BASE_IMAGE = "debian:bookworm-slim@sha256:b55e2651b71408015f8068dd74e1d04404a8fa607dd2cfe284b4824c11f4d9bd";
/** Debian's redis-server / redis-sentinel / redis-tools version (epoch included, as apt wants it). */
export const REDIS_DEBIAN_VERSION = "5:7.0.15-1~deb12u10";
/** The tag the build gives the image on each host (Docker tags cannot hold `~`). */
export const BUILT_REDIS_IMAGE = "veza/redis:7.0.15-1-deb12u10";
/** Build context, relative to the project root (the engine runs the program there). */
export const REDIS_IMAGE_CONTEXT = "images/redis";

export interface RedisImageBuild {
  context: string;
  args: { BASE_IMAGE: string; REDIS_VERSION: string };
}

/** The docker.Image build of BUILT_REDIS_IMAGE. */
export function redisImageBuild(): RedisImageBuild {
  return { context: REDIS_IMAGE_CONTEXT, args: { BASE_IMAGE: DEBIAN_BASE_IMAGE, REDIS_VERSION: REDIS_DEBIAN_VERSION } };
}

export interface KnownBadImage {
  id: string;
  /** What is wrong, in one line (the policy's message). */
  reason: string;
  references: string[];
  /** An upstream image reference this entry refuses (repository and tag version). */
  matchesReference?: (repository: string, version: Version) => boolean;
  /** A Debian package version (the build arg of our own image) this entry refuses. */
  matchesDebianVersion?: (version: string) => boolean;
}

export interface Version {
  major: number;
  minor: number;
  /** Undefined for a tag such as `7.2` that follows the newest patch release. */
  patch?: number;
}

const LUA_CVES = "CVE-2025-49844 (Lua use-after-free, remote code execution), CVE-2025-46817 (Lua unpack overflow), CVE-2024-31449 (Lua bit library overflow), CVE-2024-46981 (Lua GC use-after-free)";
const ADVISORIES = [
  "https://github.com/redis/redis/security/advisories/GHSA-4789-qfc9-5f9q",
  "https://nvd.nist.gov/vuln/detail/CVE-2025-49844",
  "https://nvd.nist.gov/vuln/detail/CVE-2025-46817",
  "https://nvd.nist.gov/vuln/detail/CVE-2024-31449",
  "https://nvd.nist.gov/vuln/detail/CVE-2024-46981",
];
const below = (patch: number) => (v: Version) => v.patch !== undefined && v.patch < patch;

/**
 * Images known to be end-of-life or to miss the Lua fixes (the app user may run EVAL and FUNCTION
 * LOAD, so these are reachable with the API's password). One entry per line of the advisories.
 */
export const KNOWN_BAD_IMAGES: KnownBadImage[] = [
  {
    id: "redis-before-6.2",
    reason: `upstream Redis before 6.2 is end-of-life: no fix for ${LUA_CVES}`,
    references: ["https://redis.io/about/releases/", ...ADVISORIES],
    matchesReference: (repo, v) => repo === "redis" && (v.major < 6 || (v.major === 6 && v.minor < 2)),
  },
  {
    id: "redis-6.2-before-6.2.20",
    reason: `upstream Redis 6.2 before 6.2.20 misses the fixes for ${LUA_CVES}`,
    references: ADVISORIES,
    matchesReference: (repo, v) => repo === "redis" && v.major === 6 && v.minor === 2 && below(20)(v),
  },
  {
    id: "redis-7.0",
    reason: `the official redis:7.0.x images are end-of-life upstream builds without the fixes for ${LUA_CVES} (use the Debian-built image or 7.2.11+, 7.4.6+, 8.x)`,
    references: ["https://redis.io/about/releases/", ...ADVISORIES],
    matchesReference: (repo, v) => repo === "redis" && v.major === 7 && v.minor === 0,
  },
  {
    id: "redis-7.2-before-7.2.11",
    reason: `upstream Redis 7.2 before 7.2.11 misses the fixes for ${LUA_CVES}`,
    references: ADVISORIES,
    matchesReference: (repo, v) => repo === "redis" && v.major === 7 && v.minor === 2 && below(11)(v),
  },
  {
    id: "redis-7.4-before-7.4.6",
    reason: `upstream Redis 7.4 before 7.4.6 misses the fixes for ${LUA_CVES}`,
    references: ADVISORIES,
    matchesReference: (repo, v) => repo === "redis" && v.major === 7 && v.minor === 4 && below(6)(v),
  },
  {
    id: "redis-8.0-before-8.0.4",
    reason: "upstream Redis 8.0 before 8.0.4 misses the fixes for CVE-2025-49844 and CVE-2025-46817",
    references: ADVISORIES.slice(0, 3),
    matchesReference: (repo, v) => repo === "redis" && v.major === 8 && v.minor === 0 && below(4)(v),
  },
  {
    id: "redis-8.2-before-8.2.2",
    reason: "upstream Redis 8.2 before 8.2.2 misses the fixes for CVE-2025-49844 and CVE-2025-46817",
    references: ADVISORIES.slice(0, 3),
    matchesReference: (repo, v) => repo === "redis" && v.major === 8 && v.minor === 2 && below(2)(v),
  },
  {
    id: "debian-redis-before-deb12u6",
    reason: "Debian's redis before 5:7.0.15-1~deb12u6 lacks the backported fixes for CVE-2025-49844, CVE-2025-46817, CVE-2025-46818 and CVE-2025-46819",
    references: ["https://security-tracker.debian.org/tracker/CVE-2025-49844", "https://security-tracker.debian.org/tracker/source-package/redis"],
    matchesDebianVersion: (version) => {
      const m = /^(?:5:)?7\.0\.15-1~deb12u(\d+)$/.exec(version);
      // Any other version string is not what this table knows: the test of the image build says so.
      return m !== null && Number(m[1]) < 6;
    },
  },
];

/** `redis` for the official image however it is spelled (redis, library/redis, docker.io/library/redis). */
function officialRepository(repository: string): string {
  return repository.replace(/^(index\.)?docker\.io\//, "").replace(/^library\//, "");
}

/** The entries an image reference matches (none for a digest-only or non-version tag). */
export function knownBadImageEntries(reference: string): KnownBadImage[] {
  const withoutDigest = reference.split("@")[0];
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  if (colon <= slash) return [];
  const repository = officialRepository(withoutDigest.slice(0, colon));
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(?:[-_.].*)?$/.exec(withoutDigest.slice(colon + 1));
  if (!m) return [];
  const version: Version = { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? undefined : Number(m[3]) };
  return KNOWN_BAD_IMAGES.filter((entry) => entry.matchesReference?.(repository, version));
}

/** The entries a Debian redis package version matches. */
export function knownBadDebianEntries(version: string): KnownBadImage[] {
  return KNOWN_BAD_IMAGES.filter((entry) => entry.matchesDebianVersion?.(version));
}
