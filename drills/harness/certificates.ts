// Certificates for the tests and drills, issued with Debian's openssl from the program's own
// plan (components/tls/certificates.ts): the same names, usages and subject alternative names
// as the stack's @pulumi/tls resources, with explicit validity dates so a test can make a
// certificate that is expired, not yet valid or about to expire. ECDSA P-256, as the stack's.

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { CertificateRequest, ClientCertificateRole, ClientTlsFiles, ClientTlsMaterial, TlsFiles, TlsMaterial } from "../../components/tls/certificates";

export interface CertificatePair {
  certFile: string;
  keyFile: string;
}

export interface CertificateAuthority extends CertificatePair {
  /** openssl's working files (index, serials) for this CA. */
  dir: string;
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

const DAY_MS = 86_400_000;

/** From an hour ago (clock skew between processes) to `days` from now. */
export function validFor(days: number, now = Date.now()): Validity {
  return { notBefore: new Date(now - 3_600_000), notAfter: new Date(now + days * DAY_MS) };
}

const opensslDate = (date: Date) => date.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"], timeout: 15_000 });
}

function newKey(keyFile: string): void {
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyFile]);
  fs.chmodSync(keyFile, 0o600);
}

/** `openssl ca`: the one openssl command that takes explicit start and end dates. */
function signWith(ca: { dir: string; certFile?: string; keyFile: string }, csr: string, out: string, extensions: string, validity: Validity): void {
  const config = path.join(ca.dir, "openssl-ca.cnf");
  const extensionsFile = `${out}.ext`;
  fs.writeFileSync(extensionsFile, `[extensions]\n${extensions}\n`);
  openssl([
    "ca",
    "-config",
    config,
    "-batch",
    "-notext",
    "-in",
    csr,
    "-out",
    out,
    ...(ca.certFile ? ["-cert", ca.certFile] : ["-selfsign"]),
    "-keyfile",
    ca.keyFile,
    "-startdate",
    opensslDate(validity.notBefore),
    "-enddate",
    opensslDate(validity.notAfter),
    "-extfile",
    extensionsFile,
    "-extensions",
    "extensions",
  ]);
}

function request(keyFile: string, commonName: string, csr: string): void {
  openssl(["req", "-new", "-key", keyFile, "-subj", `/CN=${commonName}`, "-out", csr]);
}

export function createCertificateAuthority(dir: string, commonName: string, validity: Validity = validFor(3650)): CertificateAuthority {
  fs.mkdirSync(path.join(dir, "issued"), { recursive: true });
  fs.writeFileSync(path.join(dir, "index.txt"), "");
  fs.writeFileSync(path.join(dir, "serial"), "1000\n");
  fs.writeFileSync(
    path.join(dir, "openssl-ca.cnf"),
    [
      "[ca]",
      "default_ca = local",
      "[local]",
      `database = ${dir}/index.txt`,
      `new_certs_dir = ${dir}/issued`,
      `serial = ${dir}/serial`,
      "default_md = sha256",
      "policy = any_name",
      "unique_subject = no",
      "copy_extensions = none",
      "[any_name]",
      "commonName = supplied",
      "",
    ].join("\n"),
  );
  const ca = { dir, certFile: path.join(dir, "ca.crt"), keyFile: path.join(dir, "ca.key") };
  newKey(ca.keyFile);
  const csr = path.join(dir, "ca.csr");
  request(ca.keyFile, commonName, csr);
  signWith({ dir, keyFile: ca.keyFile }, csr, ca.certFile, "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash", validity);
  return ca;
}

/** A leaf certificate for one entry of the plan, signed by `ca`, written to `<dir>/<name>.crt|.key`. */
export function issueCertificate(ca: CertificateAuthority, plan: CertificateRequest, dir: string, validity: Validity = validFor(90)): CertificatePair {
  fs.mkdirSync(dir, { recursive: true });
  const pair = { certFile: path.join(dir, `${plan.name}.crt`), keyFile: path.join(dir, `${plan.name}.key`) };
  newKey(pair.keyFile);
  const csr = path.join(dir, `${plan.name}.csr`);
  request(pair.keyFile, plan.commonName, csr);
  const names = [...plan.dnsNames.map((name) => `DNS:${name}`), ...plan.ipAddresses.map((address) => `IP:${address}`)];
  const extensions = [
    "basicConstraints = critical, CA:FALSE",
    "keyUsage = critical, digitalSignature, keyAgreement",
    `extendedKeyUsage = ${plan.usage === "server" ? "serverAuth" : "clientAuth"}`,
    "authorityKeyIdentifier = keyid",
    ...(names.length > 0 ? [`subjectAltName = ${names.join(", ")}`] : []),
  ];
  signWith(ca, csr, pair.certFile, extensions.join("\n"), validity);
  return pair;
}

/** Concatenates CA certificates into one bundle: how a CA rotation trusts the old and the new CA at once. */
export function caBundle(file: string, authorities: readonly CertificatePair[]): string {
  fs.writeFileSync(file, authorities.map((ca) => fs.readFileSync(ca.certFile, "utf8")).join(""));
  return file;
}

/** One process's TLS files: the bundle, its server pair and the client pair its links present. */
export function processTlsFiles(caCertFile: string, server: CertificatePair, client: CertificatePair): TlsFiles {
  return { caCertFile, certFile: server.certFile, keyFile: server.keyFile, clientCertFile: client.certFile, clientKeyFile: client.keyFile };
}

/**
 * The plan issued the way StackCertificates issues it (one CA, a certificate per entry), as the
 * PEM text the program's `<name>-tls-files` commands write: per server, its material with the
 * client pair of its outgoing role; per client role, its material.
 */
export function issuePlanMaterial(dir: string, plan: readonly CertificateRequest[], ca = createCertificateAuthority(path.join(dir, "ca"), "veza-redis drill CA")) {
  const read = (file: string) => fs.readFileSync(file, "utf8");
  const pairs = new Map(plan.map((entry) => [entry.name, issueCertificate(ca, entry, path.join(dir, "leaves"))]));
  const pair = (name: string) => {
    const found = pairs.get(name);
    if (!found) throw new Error(`issuePlanMaterial: no ${name} in the plan`);
    return found;
  };
  const bundle = read(ca.certFile);
  return {
    ca,
    server(name: string, outgoing: ClientCertificateRole): TlsMaterial {
      const own = pair(name);
      const client = pair(`client-${outgoing}`);
      return { caCertFile: bundle, certFile: read(own.certFile), keyFile: read(own.keyFile), clientCertFile: read(client.certFile), clientKeyFile: read(client.keyFile) };
    },
    client(role: ClientCertificateRole): ClientTlsMaterial {
      const own = pair(`client-${role}`);
      return { caCertFile: bundle, certFile: read(own.certFile), keyFile: read(own.keyFile) };
    },
    /** A client role's files on disk (for redis-cli and ioredis in the tests). */
    clientFiles(role: ClientCertificateRole): ClientTlsFiles {
      const own = pair(`client-${role}`);
      return { caCertFile: ca.certFile, certFile: own.certFile, keyFile: own.keyFile };
    },
  };
}
