// The monitoring images the stack builds (images/monitoring): each one Debian package at the
// exact version the tests run, so that what passes promtool, amtool and the drills' exporter here
// is what runs in prod. scripts/setup-tools.sh installs the same pins (a unit test compares them)
// and tests/artifacts/monitoringImages.test.ts fails when the installed versions differ.

import { DEBIAN_BASE_IMAGE } from "./redisImage";

/**
 * Debian 13's packages, on the bookworm base: bookworm's redis_exporter (1.45) lacks /-/reload
 * (1.50) and REDIS_EXPORTER_CONFIG_COMMAND (1.61), which keep the exporter without CONFIG and
 * its password out of a replacement. Only the named package comes from this suite.
 */
export const MONITORING_DEBIAN_SUITE = "trixie";
export const MONITORING_IMAGE_CONTEXT = "images/monitoring";

export interface MonitoringImage {
  /** The tag the build gives the image on each host (Docker tags cannot hold `+` or `~`). */
  tag: string;
  debianPackage: string;
  debianVersion: string;
  /** The package's binary: the image's entrypoint. */
  binary: string;
  /** Where the upstream image keeps it (the containers call this path): linked to `binary`. */
  upstreamPath: string;
  /** The upstream image's user: volumes and password files are owned by it. */
  runAs: string;
  /** A data dir the user owns, for a new named volume to take its owner from ("" for none). */
  dataDir: string;
}

const tagged = (name: string, version: string) => `veza/${name}:${version.replace(/[+~]/g, "-")}`;

export const MONITORING_IMAGES = {
  prometheus: {
    tag: tagged("prometheus", "2.53.3+ds1-2"),
    debianPackage: "prometheus",
    debianVersion: "2.53.3+ds1-2",
    binary: "/usr/bin/prometheus",
    upstreamPath: "/bin/prometheus",
    runAs: "65534:65534",
    dataDir: "/prometheus",
  },
  alertmanager: {
    tag: tagged("alertmanager", "0.28.1+ds-1"),
    debianPackage: "prometheus-alertmanager",
    debianVersion: "0.28.1+ds-1",
    binary: "/usr/bin/prometheus-alertmanager",
    upstreamPath: "/bin/alertmanager",
    runAs: "65534:65534",
    dataDir: "/alertmanager",
  },
  redisExporter: {
    tag: tagged("redis-exporter", "1.69.0-1"),
    debianPackage: "prometheus-redis-exporter",
    debianVersion: "1.69.0-1",
    binary: "/usr/bin/prometheus-redis-exporter",
    upstreamPath: "/redis_exporter",
    runAs: "59000:59000",
    dataDir: "",
  },
  // The certificate-expiry probe of every TLS endpoint (monitoring/certificateRules.ts).
  blackboxExporter: {
    tag: tagged("blackbox-exporter", "0.26.0-1"),
    debianPackage: "prometheus-blackbox-exporter",
    debianVersion: "0.26.0-1",
    binary: "/usr/bin/prometheus-blackbox-exporter",
    upstreamPath: "/bin/blackbox_exporter",
    runAs: "65534:65534",
    dataDir: "",
  },
} as const satisfies Record<string, MonitoringImage>;

export interface MonitoringImageBuild {
  context: string;
  args: { BASE_IMAGE: string; SUITE: string; PACKAGE: string; VERSION: string; BINARY: string; UPSTREAM_PATH: string; RUN_AS: string; DATA_DIR: string };
}

export function monitoringImageBuild(image: MonitoringImage): MonitoringImageBuild {
  return {
    context: MONITORING_IMAGE_CONTEXT,
    args: {
      BASE_IMAGE: DEBIAN_BASE_IMAGE,
      SUITE: MONITORING_DEBIAN_SUITE,
      PACKAGE: image.debianPackage,
      VERSION: image.debianVersion,
      BINARY: image.binary,
      UPSTREAM_PATH: image.upstreamPath,
      RUN_AS: image.runAs,
      DATA_DIR: image.dataDir,
    },
  };
}
