// A CA the team brings (tls.caCertFile, tls.caKeyFile, tls.trustedCaFiles) is checked where
// `pulumi preview` and `up` run, before anything is declared: a bad file found here costs
// nothing; the same file in a restarted Redis is an outage. The validator itself stays pure
// (no file read); the program's config loading and the offline commands' precheck call this.
import type { ConfigProblem } from "../config/reader";
import type { TlsConfig } from "../config/types";
import { authorityProblems, certificateEnd, certificateProblems } from "../tls/certificateChecks";

const DAY_MS = 86_400_000;

export function broughtCaProblems(tls: TlsConfig, now: Date = new Date()): ConfigProblem[] {
  if (!tls.enabled || tls.caCertFile === "" || tls.caKeyFile === "") return [];
  const problems: ConfigProblem[] = certificateProblems({ certificateFile: tls.caCertFile, keyFile: tls.caKeyFile, caFiles: [], mustBeCa: true }, now).map((p) => ({
    key: p.file === tls.caKeyFile ? "tls.caKeyFile" : "tls.caCertFile",
    value: p.file,
    allowed: `a usable CA certificate and its key: this file ${p.problem}`,
  }));
  // Every certificate it signs would outlive it, and fail verification at the CA's end (said
  // only of a CA that is otherwise usable).
  const end = problems.length === 0 ? certificateEnd(tls.caCertFile) : undefined;
  if (end && end > now && end.getTime() - now.getTime() < tls.leafValidityDays * DAY_MS)
    problems.push({
      key: "tls.caCertFile",
      value: tls.caCertFile,
      allowed: `a CA valid for at least tls.leafValidityDays (${tls.leafValidityDays} days): this one ends on ${end.toISOString()}, before the certificates it would sign`,
    });
  tls.trustedCaFiles.forEach((file, index) => {
    for (const p of authorityProblems(file, now)) problems.push({ key: `tls.trustedCaFiles[${index}]`, value: file, allowed: `a file of valid CA certificates: this file ${p.problem}` });
  });
  return problems;
}
