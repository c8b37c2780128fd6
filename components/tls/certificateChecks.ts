// Checks a certificate, its key and the CA that must have signed it, before anything uses them:
// a bad file found at `preview` costs nothing, the same file found by a restarted Redis is an
// outage (it refuses to start, or every peer refuses it). Node's X509Certificate parses; nothing
// here shells out.

import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import * as fs from "node:fs";

export interface CertificateFiles {
  certificateFile: string;
  keyFile: string;
  /** The CA certificates one of which must have signed it (a bundle file may hold several). */
  caFiles: readonly string[];
  /** The certificate is itself a CA (the stack's issuing CA, brought by the team). */
  mustBeCa?: boolean;
}

export interface CertificateProblem {
  file: string;
  problem: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function read(file: string, problems: CertificateProblem[]): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push({ file, problem: code === "ENOENT" ? "missing: no such file" : `unreadable (${code ?? (error as Error).message})` });
    return undefined;
  }
}

function certificatesIn(file: string, text: string, problems: CertificateProblem[]): X509Certificate[] {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  const parsed: X509Certificate[] = [];
  for (const block of blocks) {
    try {
      parsed.push(new X509Certificate(block));
    } catch (error) {
      problems.push({ file, problem: `holds a certificate that does not parse (${(error as Error).message})` });
    }
  }
  if (blocks.length === 0) problems.push({ file, problem: "holds no PEM certificate (-----BEGIN CERTIFICATE-----)" });
  return parsed;
}

/** The problems of one certificate, its key and its issuer, at `now`; empty when all is well. */
export function certificateProblems(files: CertificateFiles, now: Date = new Date()): CertificateProblem[] {
  const problems: CertificateProblem[] = [];
  const certificateText = read(files.certificateFile, problems);
  const keyText = read(files.keyFile, problems);
  const authorities = files.caFiles.flatMap((file) => {
    const text = read(file, problems);
    return text === undefined ? [] : certificatesIn(file, text, problems);
  });
  const certificate = certificateText === undefined ? undefined : certificatesIn(files.certificateFile, certificateText, problems)[0];
  let key: KeyObject | undefined;
  if (keyText !== undefined) {
    try {
      key = createPrivateKey(keyText);
    } catch (error) {
      problems.push({ file: files.keyFile, problem: `is not a readable unencrypted private key (${(error as Error).message})` });
    }
  }
  if (!certificate) return problems;
  const file = files.certificateFile;
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  if (notAfter <= now) problems.push({ file, problem: `expired on ${notAfter.toISOString()}` });
  if (notBefore > now) problems.push({ file, problem: `not valid before ${notBefore.toISOString()}` });
  if (key && !certificate.checkPrivateKey(key)) problems.push({ file: files.keyFile, problem: `does not match the certificate in ${file} (another key pair)` });
  if (files.mustBeCa && !certificate.ca) problems.push({ file, problem: "is not a CA certificate (basicConstraints CA:TRUE), so it cannot sign the stack's certificates" });
  if (authorities.length > 0 || files.caFiles.length > 0) {
    const signer = authorities.find((ca) => certificate.checkIssued(ca) && certificate.verify(ca.publicKey));
    if (!signer && files.caFiles.length > 0) problems.push({ file, problem: `not signed by the CA in ${files.caFiles.join(", ")} (issuer: ${certificate.issuer.replace(/\n/g, ", ")})` });
    for (const ca of authorities) {
      if (new Date(ca.validTo) <= now)
        problems.push({ file: files.caFiles.join(", "), problem: `holds a CA that expired on ${new Date(ca.validTo).toISOString()} (${ca.subject.replace(/\n/g, ", ")})` });
    }
  }
  return problems;
}

/** The problems of a file of CA certificates every bundle will trust: each one a CA, valid at `now`. */
export function authorityProblems(file: string, now: Date = new Date()): CertificateProblem[] {
  const problems: CertificateProblem[] = [];
  const text = read(file, problems);
  if (text === undefined) return problems;
  for (const ca of certificatesIn(file, text, problems)) {
    const subject = ca.subject.replace(/\n/g, ", ");
    if (!ca.ca) problems.push({ file, problem: `holds ${subject}, which is not a CA certificate (basicConstraints CA:TRUE)` });
    if (new Date(ca.validTo) <= now) problems.push({ file, problem: `holds a CA that expired on ${new Date(ca.validTo).toISOString()} (${subject})` });
    if (new Date(ca.validFrom) > now) problems.push({ file, problem: `holds a CA not valid before ${new Date(ca.validFrom).toISOString()} (${subject})` });
  }
  return problems;
}

/** When a certificate file's first certificate ends (undefined when it cannot be read). */
export function certificateEnd(file: string): Date | undefined {
  try {
    return new Date(new X509Certificate(fs.readFileSync(file, "utf8")).validTo);
  } catch {
    return undefined;
  }
}
