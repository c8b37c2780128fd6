// Which certificates a stack needs, and the TLS half of redis.conf and sentinel.conf: plain
// functions of the topology. The program issues the certificates from this plan (@pulumi/tls),
// the tests and drills issue the same plan with openssl; the renderers point at the same paths.
//
// What TLS adds, and what it cannot. With `tls-auth-clients yes` a client must show a
// certificate signed by the stack CA before it may send AUTH: a password read off the network
// (there is none to read now) or stolen elsewhere is useless without a certificate, and a
// certificate without the password is useless too. Redis 7.0 does not map a certificate to an
// ACL user: the password still picks the user. Redis 7.0 has no revocation list either, so a
// stolen key stays usable until its certificate expires or its CA is rotated out; with its
// password still required, a key alone opens nothing. Each role gets its own certificate so
// that the CN says which role's key it was.

import { createHash } from "node:crypto";
import { isIP } from "node:net";

/**
 * Days left at which on-call hears of a certificate's end: a ticket first, a page a week out
 * (monitoring/certificateRules.ts). Renewal (tls.renewBeforeDays) must come before both.
 */
export const CERTIFICATE_EXPIRY_DAYS = { ticket: 21, page: 7 } as const;

/** The stack output that says the last `up` ran with TLS on: its CA bundle. */
export const TLS_APPLIED_OUTPUT = "redisTlsCaBundle";

/** The stack output that records the generated CA's generation and step the last `up` applied. */
export const TLS_CA_STEP_OUTPUT = "redisTlsCaStep";

export interface AppliedTls {
  tls: boolean;
  /** The generated CA's generation and step, when the last `up` recorded one. */
  ca?: { generation: number; step: "add" | "switch" | "retire" };
}

/** What the last `up` ran, from its outputs' values; undefined for a stack that never ran (no always-exported output). */
export function appliedTlsFrom(bundle: unknown, alwaysExported: unknown, caStep?: unknown): AppliedTls | undefined {
  if (alwaysExported === undefined || alwaysExported === null) return undefined;
  const step = caStep as { generation?: unknown; step?: unknown } | undefined;
  const ca =
    step && Number.isInteger(step.generation) && (step.step === "add" || step.step === "switch" || step.step === "retire")
      ? { generation: step.generation as number, step: step.step as "add" | "switch" | "retire" }
      : undefined;
  return { tls: bundle !== undefined && bundle !== null, ...(ca ? { ca } : {}) };
}

/**
 * The generated CA moves one step per `up`, as the passwords do: retire (g) -> add (g+1) -> switch
 * -> retire. A skipped step reissues every leaf from a CA that the processes not reloaded yet do
 * not trust (a data node reloads in turn, a sentinel when replaced): their links fail meanwhile.
 */
export function caStepProblems(
  lastUp: AppliedTls | undefined,
  tls: { enabled: boolean; caCertFile: string; caGeneration: number; caStep: "add" | "switch" | "retire" },
): Array<{ key: string; value: unknown; allowed: string }> {
  const applied = lastUp?.ca;
  if (!tls.enabled || tls.caCertFile !== "" || applied === undefined) return [];
  const next = { generation: tls.caGeneration, step: tls.caStep };
  const same = next.generation === applied.generation && next.step === applied.step;
  const following =
    applied.step === "retire"
      ? { generation: applied.generation + 1, step: "add" as const }
      : { generation: applied.generation, step: applied.step === "add" ? ("switch" as const) : ("retire" as const) };
  if (same || (next.generation === following.generation && next.step === following.step)) return [];
  return [
    {
      key: "tls.caStep",
      value: `generation ${next.generation} step ${next.step}`,
      allowed: `generation ${applied.generation} step ${applied.step} (what this stack last applied) or generation ${following.generation} step ${following.step} (next): the CA rotates one step per up (add, switch, retire)`,
    },
  ];
}

/**
 * Refusing a rolling switch between plaintext and TLS. A node with `port 0` and
 * `tls-replication yes` cannot link to a plaintext master (nor the reverse), so the first replica
 * the `up` replaces would never become healthy and the `up` would stop there, one node down. The
 * switch is a cold one: every Redis and Sentinel container stopped first (writes stop), then an
 * `up` with tls.coldSwitch acknowledging it. `lastUp` is undefined for a stack never applied.
 */
export function tlsSwitchProblems(lastUp: { tls: boolean } | undefined, tls: { enabled: boolean; coldSwitch: boolean }): Array<{ key: string; value: unknown; allowed: string }> {
  if (lastUp === undefined || lastUp.tls === tls.enabled || tls.coldSwitch) return [];
  const [from, to] = tls.enabled ? ["plaintext", "TLS"] : ["TLS", "plaintext"];
  return [
    {
      key: "tls.enabled",
      value: tls.enabled,
      allowed: `${String(!tls.enabled)} (what this stack's last \`up\` ran), or tls.coldSwitch: true once every veza-redis-* and veza-sentinel-* container is stopped: a rolling switch from ${from} to ${to} cannot work (a replica on one cannot link to a master on the other, and the \`up\` would stop at the first replica, unhealthy); see docs/tls.md#switching-a-running-stack`,
    },
  ];
}

/** Who presents a client certificate: the ACL roles that connect from outside a server, the servers' own outgoing links, and blackbox_exporter's expiry probe. */
export const CLIENT_CERTIFICATE_ROLES = ["app", "exporter", "sentinel", "replication", "backup", "admin", "probe"] as const;
export type ClientCertificateRole = (typeof CLIENT_CERTIFICATE_ROLES)[number];

/**
 * Whose certificate a process presents when it connects out: its server's links and every script
 * in its container (start, stop, handoff, health, credentials). A data node presents the
 * replication certificate, a sentinel the sentinel one. The handoff has no certificate of its
 * own: it runs in the data node's container, and a second key on the same volume would be stolen
 * with the first. The password still picks the ACL user (Redis 7.0 maps no certificate to one).
 */
export const OUTGOING_ROLE = { dataNode: "replication", sentinel: "sentinel" } as const satisfies Record<string, ClientCertificateRole>;

export interface CertificateRequest {
  /** Resource-safe name: the server's process name, or `client-<role>`. */
  name: string;
  commonName: string;
  usage: "server" | "client";
  /** Subject alternative names; clients that check them (ioredis, redis-cli --sni) compare the announced address. */
  dnsNames: string[];
  ipAddresses: string[];
}

function subjectAlternativeNames(addresses: readonly string[]): Pick<CertificateRequest, "dnsNames" | "ipAddresses"> {
  // 0.0.0.0 is where a process listens, never what a client dials.
  const unique = [...new Set(addresses.filter((address) => address !== "0.0.0.0" && address !== ""))];
  return { dnsNames: unique.filter((address) => isIP(address) === 0), ipAddresses: unique.filter((address) => isIP(address) !== 0) };
}

/**
 * A server certificate per data node and per sentinel (SANs: the announced address, and the
 * bind address the container's own scripts dial) and a client certificate per role.
 */
interface PlacedProcess {
  name: string;
  host: { address: string; bindAddress: string };
}

export function certificatePlan(topology: { dataNodes: readonly PlacedProcess[]; sentinels: readonly PlacedProcess[] }): CertificateRequest[] {
  const servers = [...topology.dataNodes, ...topology.sentinels].map((process): CertificateRequest => ({
    name: process.name,
    commonName: `veza-${process.name}`,
    usage: "server",
    ...subjectAlternativeNames([process.host.address, process.host.bindAddress]),
  }));
  const clients = CLIENT_CERTIFICATE_ROLES.map((role): CertificateRequest => ({ name: `client-${role}`, commonName: `veza-${role}`, usage: "client", dnsNames: [], ipAddresses: [] }));
  return [...servers, ...clients];
}

/** What a client reads: the CA bundle it verifies servers with, and the certificate pair it presents. */
export interface ClientTlsFiles {
  caCertFile: string;
  certFile: string;
  keyFile: string;
}

/** The files one Redis or Sentinel process reads: its CA bundle, its server pair and the client pair its links present. */
export interface TlsFiles {
  /** The CA bundle: during a CA rotation both the old and the new CA. */
  caCertFile: string;
  certFile: string;
  keyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** What a server's own outgoing links and scripts present: its client pair, verifying with its bundle. */
export function outgoingClientTls(files: TlsFiles): ClientTlsFiles {
  return { caCertFile: files.caCertFile, certFile: files.clientCertFile, keyFile: files.clientKeyFile };
}

/** A process's TLS files as PEM text, by TlsFiles field. SECRET: it holds the private keys. */
export type TlsMaterial = Record<keyof TlsFiles, string>;

/** A client's files as PEM text, by ClientTlsFiles field. SECRET: it holds the private key. */
export type ClientTlsMaterial = Record<keyof ClientTlsFiles, string>;

/**
 * The trigger entries that make a consumer's files command run again at a reissue: a known label,
 * then the fingerprint. The label ends the credential markers before it for the policy pack
 * (which reads them up to the first other value), so a fingerprint unknown in a preview is never read.
 */
export const CERTIFICATES_TRIGGER_LABEL = "tls-certificates";

/** A fingerprint of a process's certificates (never its keys): what changes when any of them is reissued. */
export function certificatesFingerprint(material: Pick<TlsMaterial, "caCertFile" | "certFile"> & { clientCertFile?: string }): string {
  return createHash("sha256")
    .update([material.caCertFile, material.certFile, material.clientCertFile ?? ""].join("\n"))
    .digest("hex");
}

/** The file names inside a process's TLS directory (the volume's credentials dir in the containers). */
export const TLS_FILE_NAMES = {
  caCertFile: "tls-ca.crt",
  certFile: "tls-server.crt",
  keyFile: "tls-server.key",
  clientCertFile: "tls-client.crt",
  clientKeyFile: "tls-client.key",
} as const satisfies TlsFiles;

export function tlsFilesIn(dir: string): TlsFiles {
  const files = {} as TlsFiles;
  for (const [key, name] of Object.entries(TLS_FILE_NAMES)) files[key as keyof TlsFiles] = `${dir}/${name}`;
  return files;
}

/**
 * The listening and TLS directives of a Redis or Sentinel process with TLS on: the declared
 * port carries TLS and the plaintext port is off (`port 0`). `tls-auth-clients yes` refuses any
 * client without a certificate from the CA bundle, before AUTH. `tls-replication yes` makes a
 * replica's link to its master, and all of Sentinel's links, TLS. The client pair is set apart
 * from the server pair: without it Redis presents its server certificate on outgoing links.
 */
export function tlsListenDirectives(port: number, files: TlsFiles): string[] {
  return [
    "# --- TLS: the declared port speaks only TLS, and every client shows a certificate from the stack CA ---",
    "port 0",
    `tls-port ${port}`,
    ...tlsFileDirectives(files).map(([directive, file]) => `${directive} ${file}`),
    "tls-auth-clients yes",
    "tls-replication yes",
    "# TLS 1.0 and 1.1 are broken (RFC 8996).",
    'tls-protocols "TLSv1.2 TLSv1.3"',
  ];
}

/** The directive naming each TLS file, in the order redis.conf lists them. */
const TLS_FILE_DIRECTIVES = {
  certFile: "tls-cert-file",
  keyFile: "tls-key-file",
  clientCertFile: "tls-client-cert-file",
  clientKeyFile: "tls-client-key-file",
  caCertFile: "tls-ca-cert-file",
} as const satisfies Record<keyof TlsFiles, string>;

/**
 * Each TLS file's directive and path: the lines of redis.conf, and the arguments of the one
 * CONFIG SET that makes a running data node re-read them all (Redis applies tls-* settings even
 * when unchanged, and keeps the old files if any new one is bad).
 */
export function tlsFileDirectives(files: TlsFiles): Array<[string, string]> {
  return Object.entries(TLS_FILE_DIRECTIVES).map(([key, directive]) => [directive, files[key as keyof TlsFiles]]);
}

/** redis-cli's options for a TLS connection with a client certificate (the scripts and the drills). */
export function redisCliTlsArguments(files: ClientTlsFiles): string[] {
  return ["--tls", "--cacert", files.caCertFile, "--cert", files.certFile, "--key", files.keyFile];
}

/**
 * The CA generations at a rotation step, as the credentials rotate (add, switch, retire): which
 * CAs every bundle trusts and which one signs the leaves. The CA is never renewed in place:
 * replacing it would replace every leaf in the same `pulumi up`, each signed by a CA no peer
 * trusts yet. Each step is loaded everywhere before the next one starts.
 *   add     trust both, leaves still from the old CA
 *   switch  trust both, every leaf reissued by the new CA
 *   retire  trust the new CA alone: the steady state
 */
export function authoritiesAt(generation: number, step: "add" | "switch" | "retire"): { trusted: number[]; signing: number } {
  if (!Number.isInteger(generation) || generation < 0) throw new Error(`authoritiesAt: generation ${generation} is not a whole number >= 0`);
  if (step !== "retire" && generation === 0) throw new Error(`authoritiesAt: step ${step} needs a previous CA (generation >= 1)`);
  if (step === "retire") return { trusted: [generation], signing: generation };
  return { trusted: [generation - 1, generation], signing: step === "add" ? generation - 1 : generation };
}
