// Where a Redis or Sentinel process is reached and keeps its files: the types every renderer takes,
// below the placement that computes them.

import type { TlsFiles } from "../tls/certificates";

export interface RedisEndpoint {
  host: string;
  port: number;
}

/** Where one Redis or Sentinel process listens and keeps its files: the renderers' shared input. */
export interface ProcessLocation {
  bindAddress: string;
  port: number;
  /** What other nodes, sentinels and clients are told to use for this process. */
  announceAddress: string;
  announcePort: number;
  dataDir: string;
  secretsPath: string;
  /** With TLS on: the declared port speaks TLS only (components/tls/certificates.ts). */
  tls?: TlsFiles;
}
