// What is tested is what runs: the nginx that the gate tests run the rendered config with is the
// Debian package the gate image installs.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ALERTMANAGER_GATE_IMAGE_CONTEXT, alertmanagerGateImageBuild, NGINX_DEBIAN_VERSION } from "../../components/images/alertmanagerGateImage";
import { PROJECT_ROOT } from "../../lib/stackFiles";

describe("the Alertmanager gate image and the nginx the tests run", () => {
  it("setup-tools.sh installs the nginx version the image pins, and it is the one installed here", () => {
    const setupScript = fs.readFileSync(path.join(PROJECT_ROOT, "scripts", "setup-tools.sh"), "utf8");
    expect(/^NGINX_PACKAGE=(\S+)$/m.exec(setupScript)?.[1]).toBe(`nginx=${NGINX_DEBIAN_VERSION}`);
    const installed = spawnSync("dpkg-query", ["-W", "-f", "${Version}", "nginx"], { encoding: "utf8" }).stdout;
    expect(`nginx ${installed}`).toBe(`nginx ${NGINX_DEBIAN_VERSION}`);
  });

  it("the Dockerfile declares every build arg the program passes, and installs nginx at the pinned version", () => {
    const dockerfile = fs.readFileSync(path.join(PROJECT_ROOT, ALERTMANAGER_GATE_IMAGE_CONTEXT, "Dockerfile"), "utf8");
    const declared = [...dockerfile.matchAll(/^ARG (\w+)$/gm)].map((m) => m[1]).sort();
    expect(declared).toEqual(Object.keys(alertmanagerGateImageBuild().args).sort());
    expect(dockerfile).toContain('"nginx=${NGINX_VERSION}"');
  });
});
