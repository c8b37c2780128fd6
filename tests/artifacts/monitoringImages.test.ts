// What is tested is what runs: the Prometheus, Alertmanager and redis_exporter that promtool,
// amtool and the drills run here are the Debian packages the deployed monitoring images install
// (components/images/monitoringImages.ts), and both stacks deploy those images.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { requireValidStackConfig } from "../../components/validation/validate";
import { MONITORING_DEBIAN_SUITE, MONITORING_IMAGE_CONTEXT, MONITORING_IMAGES, monitoringImageBuild } from "../../components/images/monitoringImages";
import { PROJECT_ROOT, readStackConfigFile } from "../../lib/stackFiles";

const images = Object.values(MONITORING_IMAGES);
const setupScript = fs.readFileSync(path.join(PROJECT_ROOT, "scripts", "setup-tools.sh"), "utf8");
const installed = (pkg: string) => spawnSync("dpkg-query", ["-W", "-f", "${Version}", pkg], { encoding: "utf8" }).stdout;
const versionOf = (command: string, flag: string) => {
  const run = spawnSync(command, [flag], { encoding: "utf8" });
  return `${run.stdout}${run.stderr}`;
};

describe("the monitoring images and the tools the tests run", () => {
  it("setup-tools.sh installs exactly the packages and versions the images pin, from the same suite", () => {
    const suite = /^MONITORING_SUITE=(\S+)$/m.exec(setupScript)?.[1];
    const pins = /^MONITORING_PACKAGES=\(([^)]*)\)$/m.exec(setupScript)?.[1].split(/\s+/).sort();
    expect(suite).toBe(MONITORING_DEBIAN_SUITE);
    expect(pins).toEqual(images.map((image) => `${image.debianPackage}=${image.debianVersion}`).sort());
  });

  it.each(images.map((image) => [image.debianPackage, image] as const))("%s here is the version its image installs", (pkg, image) => {
    expect(`${pkg} ${installed(pkg)}`).toBe(`${pkg} ${image.debianVersion}`);
  });

  it("promtool, amtool and redis_exporter on the PATH report those upstream versions", () => {
    const upstream = (image: (typeof images)[number]) => image.debianVersion.replace(/[+-].*$/, "");
    // The version stands alone: 2.53.3 must not match 2.53.30 (Debian appends "+ds1", the exporter "-1").
    const standalone = (image: (typeof images)[number]) => new RegExp(`(version|Exporter) ${upstream(image).replace(/\./g, "\\.")}[+ -]`);
    expect(versionOf("promtool", "--version")).toMatch(standalone(MONITORING_IMAGES.prometheus));
    expect(versionOf("amtool", "--version")).toMatch(standalone(MONITORING_IMAGES.alertmanager));
    expect(versionOf("prometheus-redis-exporter", "-version")).toMatch(standalone(MONITORING_IMAGES.redisExporter));
  });

  it.each(["dev", "prod"])("the %s stack deploys the built images, not upstream ones of other versions", (stack) => {
    const monitoring = requireValidStackConfig(readStackConfigFile(stack).raw).monitoring;
    expect([monitoring.prometheusImage, monitoring.alertmanagerImage, monitoring.redisExporterImage]).toEqual([
      MONITORING_IMAGES.prometheus.tag,
      MONITORING_IMAGES.alertmanager.tag,
      MONITORING_IMAGES.redisExporter.tag,
    ]);
  });

  it("the Dockerfile declares every build arg the program passes, and installs the package at the pinned version", () => {
    const dockerfile = fs.readFileSync(path.join(PROJECT_ROOT, MONITORING_IMAGE_CONTEXT, "Dockerfile"), "utf8");
    const declared = [...dockerfile.matchAll(/^ARG (\w+)$/gm)].map((m) => m[1]).sort();
    expect(declared).toEqual(Object.keys(monitoringImageBuild(MONITORING_IMAGES.prometheus).args).sort());
    expect(dockerfile).toContain('"${PACKAGE}=${VERSION}"');
  });
});
