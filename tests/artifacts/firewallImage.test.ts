// What is drilled is what runs: the nft that the prod-topology drill applies the data hosts'
// firewall with is the Debian package the firewall image installs.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { FIREWALL_IMAGE_CONTEXT, firewallImageBuild, NFTABLES_DEBIAN_VERSION } from "../../components/images/firewallImage";
import { PROJECT_ROOT } from "../../lib/stackFiles";

describe("the firewall image and the nft the drills run", () => {
  it("setup-tools.sh installs the nftables version the image pins, and it is the one installed here", () => {
    const setupScript = fs.readFileSync(path.join(PROJECT_ROOT, "scripts", "setup-tools.sh"), "utf8");
    expect(/^NFTABLES_PACKAGE=(\S+)$/m.exec(setupScript)?.[1]).toBe(`nftables=${NFTABLES_DEBIAN_VERSION}`);
    const installed = spawnSync("dpkg-query", ["-W", "-f", "${Version}", "nftables"], { encoding: "utf8" }).stdout;
    expect(`nftables ${installed}`).toBe(`nftables ${NFTABLES_DEBIAN_VERSION}`);
  });

  it("the Dockerfile declares every build arg the program passes, and installs nftables at the pinned version", () => {
    const dockerfile = fs.readFileSync(path.join(PROJECT_ROOT, FIREWALL_IMAGE_CONTEXT, "Dockerfile"), "utf8");
    const declared = [...dockerfile.matchAll(/^ARG (\w+)$/gm)].map((m) => m[1]).sort();
    expect(declared).toEqual(Object.keys(firewallImageBuild().args).sort());
    expect(dockerfile).toContain('"nftables=${NFTABLES_VERSION}"');
  });
});
