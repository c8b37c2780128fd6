// The stand-in API image the dev stack deploys by default (images/api-standin): Debian's
// python3-minimal at the version the incident-toggle drill runs the same standin.py with.

import { DEBIAN_BASE_IMAGE } from "./redisImage";

/** Debian bookworm's python3-minimal (what /usr/bin/python3 is where the drill runs). */
export const STANDIN_PYTHON_DEBIAN_VERSION = "3.11.2-1+b1";
/** The tag the build gives the image on each host. */
export const BUILT_API_STANDIN_IMAGE = "veza/api-standin:1-py3.11.2-1-b1";
export const API_STANDIN_CONTEXT = "images/api-standin";
/** Where the image holds the stand-in (its entrypoint runs it). */
export const API_STANDIN_SCRIPT = "/app/standin.py";

export function apiStandinBuild(): { context: string; args: { BASE_IMAGE: string; PYTHON_VERSION: string } } {
  return { context: API_STANDIN_CONTEXT, args: { BASE_IMAGE: DEBIAN_BASE_IMAGE, PYTHON_VERSION: STANDIN_PYTHON_DEBIAN_VERSION } };
}
