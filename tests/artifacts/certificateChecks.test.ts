// The certificate checks on files openssl made: each bad case named by file and problem.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { certificateProblems } from "../../components/tls/certificateChecks";
import { createCertificateAuthority, issueCertificate, validFor, type CertificateAuthority, type CertificatePair } from "../../drills/harness/certificates";

const DAY_MS = 86_400_000;

describe("certificate checks", () => {
  const request = (name: string) => ({ name, commonName: `veza-${name}`, usage: "server" as const, dnsNames: [], ipAddresses: ["10.20.0.11"] });
  let dir: string;
  let ca: CertificateAuthority;
  let other: CertificateAuthority;
  let good: CertificatePair;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-cert-checks-"));
    ca = createCertificateAuthority(path.join(dir, "ca"), "veza-redis test CA");
    other = createCertificateAuthority(path.join(dir, "other"), "someone else's CA");
    good = issueCertificate(ca, request("good"), dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("finds nothing wrong with a valid certificate, its key and the CA that signed it", () => {
    expect(certificateProblems({ certificateFile: good.certFile, keyFile: good.keyFile, caFiles: [ca.certFile] })).toEqual([]);
  });

  it("names an expired certificate and the date it expired", () => {
    const expired = issueCertificate(ca, request("expired"), dir, { notBefore: new Date(Date.now() - 30 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
    expect(certificateProblems({ certificateFile: expired.certFile, keyFile: expired.keyFile, caFiles: [ca.certFile] })).toEqual([
      { file: expired.certFile, problem: expect.stringMatching(/^expired on \d{4}-/) },
    ]);
  });

  it("names a certificate that is not valid yet", () => {
    const future = issueCertificate(ca, request("future"), dir, { notBefore: new Date(Date.now() + 2 * DAY_MS), notAfter: new Date(Date.now() + 90 * DAY_MS) });
    expect(certificateProblems({ certificateFile: future.certFile, keyFile: future.keyFile, caFiles: [ca.certFile] })).toEqual([
      { file: future.certFile, problem: expect.stringMatching(/^not valid before /) },
    ]);
  });

  it("names a certificate signed by another CA, with its issuer", () => {
    const foreign = issueCertificate(other, request("foreign"), dir);
    expect(certificateProblems({ certificateFile: foreign.certFile, keyFile: foreign.keyFile, caFiles: [ca.certFile] })).toEqual([
      { file: foreign.certFile, problem: expect.stringContaining("not signed by the CA in") },
    ]);
  });

  it("names a key that belongs to another certificate", () => {
    const second = issueCertificate(ca, request("second"), dir);
    expect(certificateProblems({ certificateFile: good.certFile, keyFile: second.keyFile, caFiles: [ca.certFile] })).toEqual([
      { file: second.keyFile, problem: expect.stringContaining("does not match the certificate") },
    ]);
  });

  it("names a missing file, a file with no certificate, and a leaf given where a CA must be", () => {
    const garbage = path.join(dir, "garbage.pem");
    fs.writeFileSync(garbage, "not a certificate\n");
    expect(certificateProblems({ certificateFile: path.join(dir, "absent.crt"), keyFile: good.keyFile, caFiles: [ca.certFile] })).toEqual([
      { file: path.join(dir, "absent.crt"), problem: "missing: no such file" },
    ]);
    expect(certificateProblems({ certificateFile: garbage, keyFile: good.keyFile, caFiles: [] })).toEqual([{ file: garbage, problem: expect.stringContaining("holds no PEM certificate") }]);
    expect(certificateProblems({ certificateFile: good.certFile, keyFile: good.keyFile, caFiles: [ca.certFile], mustBeCa: true })).toEqual([
      { file: good.certFile, problem: expect.stringContaining("is not a CA certificate") },
    ]);
  });

  it("accepts a leaf signed by either CA of a rotation's bundle, and names an expired CA in it", () => {
    const bundle = path.join(dir, "bundle.crt");
    const oldCa = createCertificateAuthority(path.join(dir, "old"), "old CA", { notBefore: new Date(Date.now() - 400 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
    fs.writeFileSync(bundle, fs.readFileSync(oldCa.certFile, "utf8") + fs.readFileSync(ca.certFile, "utf8"));
    expect(certificateProblems({ certificateFile: good.certFile, keyFile: good.keyFile, caFiles: [bundle] })).toEqual([
      { file: bundle, problem: expect.stringContaining("holds a CA that expired on") },
    ]);
    const fresh = createCertificateAuthority(path.join(dir, "fresh"), "next CA", validFor(3650));
    fs.writeFileSync(bundle, fs.readFileSync(fresh.certFile, "utf8") + fs.readFileSync(ca.certFile, "utf8"));
    expect(certificateProblems({ certificateFile: good.certFile, keyFile: good.keyFile, caFiles: [bundle] })).toEqual([]);
  });
});
