// What is tested is what runs: the nft the prod-topology drill applies the data hosts' firewall
// with, and the nginx the gate tests run the rendered config with, are the Debian packages their
// images install (scripts/setup-tools.sh pins the same versions).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ALERTMANAGER_GATE_IMAGE_CONTEXT, alertmanagerGateImageBuild, NGINX_DEBIAN_VERSION } from "../../components/images/alertmanagerGateImage";
import { FIREWALL_IMAGE_CONTEXT, firewallImageBuild, NFTABLES_DEBIAN_VERSION } from "../../components/images/firewallImage";
import { PROJECT_ROOT } from "../../lib/stackFiles";

const IMAGES = [
  {
    image: "the firewall image",
    pinVariable: "NFTABLES_PACKAGE",
    pkg: "nftables",
    version: NFTABLES_DEBIAN_VERSION,
    context: FIREWALL_IMAGE_CONTEXT,
    build: firewallImageBuild,
    install: '"nftables=${NFTABLES_VERSION}"',
  },
  {
    image: "the Alertmanager gate image",
    pinVariable: "NGINX_PACKAGE",
    pkg: "nginx",
    version: NGINX_DEBIAN_VERSION,
    context: ALERTMANAGER_GATE_IMAGE_CONTEXT,
    build: alertmanagerGateImageBuild,
    install: '"nginx=${NGINX_VERSION}"',
  },
];

describe.each(IMAGES)("$image and the $pkg the tests run", ({ pinVariable, pkg, version, context, build, install }) => {
  it(`setup-tools.sh installs the ${pkg} version the image pins, and it is the one installed here`, () => {
    const setupScript = fs.readFileSync(path.join(PROJECT_ROOT, "scripts", "setup-tools.sh"), "utf8");
    expect(new RegExp(`^${pinVariable}=(\\S+)$`, "m").exec(setupScript)?.[1]).toBe(`${pkg}=${version}`);
    const installed = spawnSync("dpkg-query", ["-W", "-f", "${Version}", pkg], { encoding: "utf8" }).stdout;
    expect(`${pkg} ${installed}`).toBe(`${pkg} ${version}`);
  });

  it(`the Dockerfile declares every build arg the program passes, and installs ${pkg} at the pinned version`, () => {
    const dockerfile = fs.readFileSync(path.join(PROJECT_ROOT, context, "Dockerfile"), "utf8");
    const declared = [...dockerfile.matchAll(/^ARG (\w+)$/gm)].map((m) => m[1]).sort();
    expect(declared).toEqual(Object.keys(build().args).sort());
    expect(dockerfile).toContain(install);
  });
});
