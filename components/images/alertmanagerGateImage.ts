// Alertmanager's gate image (images/alertmanager-gate): Debian bookworm's nginx, the version the
// tests run the rendered gate config with here (scripts/setup-tools.sh installs the same pin, and
// tests/artifacts/toolImagePins.test.ts fails when the two differ).

import { DEBIAN_BASE_IMAGE } from "./redisImage";

/** Debian bookworm's nginx (with its security updates): auth_basic, map and proxy are built in. */
export const NGINX_DEBIAN_VERSION = "1.22.1-9+deb12u12";
/** The tag the build gives the image on the monitoring host (Docker tags cannot hold `+` or `~`). */
export const BUILT_ALERTMANAGER_GATE_IMAGE = "veza/alertmanager-gate:nginx-1.22.1-9-deb12u12";
export const ALERTMANAGER_GATE_IMAGE_CONTEXT = "images/alertmanager-gate";
/** nobody: nginx needs no root to listen above port 1024, and reads only its mounted files. */
export const ALERTMANAGER_GATE_RUN_AS = "65534:65534";

export function alertmanagerGateImageBuild(): { context: string; args: { BASE_IMAGE: string; NGINX_VERSION: string; RUN_AS: string } } {
  return { context: ALERTMANAGER_GATE_IMAGE_CONTEXT, args: { BASE_IMAGE: DEBIAN_BASE_IMAGE, NGINX_VERSION: NGINX_DEBIAN_VERSION, RUN_AS: ALERTMANAGER_GATE_RUN_AS } };
}
