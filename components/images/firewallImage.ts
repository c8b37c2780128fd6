// The data hosts' firewall image (images/host-firewall): Debian bookworm's nftables, the version
// the prod-topology drill applies the same ruleset with here (scripts/setup-tools.sh installs it).

import { DEBIAN_BASE_IMAGE } from "./redisImage";

/** Debian bookworm's nftables. */
export const NFTABLES_DEBIAN_VERSION = "1.0.6-2+deb12u2";
/** The tag the build gives the image on each host (Docker tags cannot hold `+` or `~`). */
export const BUILT_FIREWALL_IMAGE = "veza/host-firewall:nftables-1.0.6-2-deb12u2";
export const FIREWALL_IMAGE_CONTEXT = "images/host-firewall";

export function firewallImageBuild(): { context: string; args: { BASE_IMAGE: string; NFTABLES_VERSION: string } } {
  return { context: FIREWALL_IMAGE_CONTEXT, args: { BASE_IMAGE: DEBIAN_BASE_IMAGE, NFTABLES_VERSION: NFTABLES_DEBIAN_VERSION } };
}
