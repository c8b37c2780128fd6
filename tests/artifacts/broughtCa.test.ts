// A CA the team brings (tls.caCertFile, tls.caKeyFile, tls.trustedCaFiles), on files openssl made:
// every bad file stops the commands before anything is declared, naming the key, the file and the
// problem (exit 2); a good one signs every certificate of the plan and its key never shows.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { broughtCaProblems } from "../../components/validation/tlsFiles";
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";
import { createCertificateAuthority, issueCertificate, validFor, type CertificateAuthority } from "../../drills/harness/certificates";
import { runScript } from "../helpers/cli";
import { synthOk } from "../helpers/synth";

const DAY_MS = 86_400_000;

describe("a brought CA", () => {
  let dir: string;
  let ca: CertificateAuthority;
  let other: CertificateAuthority;
  const tlsWith = (tls: Record<string, unknown>) => requireValidStackConfig({ ...readStackConfigFile("dev").raw, tls: { enabled: true, ...tls } }).tls;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-brought-ca-"));
    ca = createCertificateAuthority(path.join(dir, "ca"), "the team's CA");
    other = createCertificateAuthority(path.join(dir, "other"), "the team's next CA");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("passes a valid CA with its key, and a valid CA to trust beside it", () => {
    expect(broughtCaProblems(tlsWith({ caCertFile: ca.certFile, caKeyFile: ca.keyFile, trustedCaFiles: [other.certFile] }))).toEqual([]);
  });

  it("names each bad file by its key: a missing certificate, another CA's key, a leaf where a CA must be, an expired CA, one that ends before the certificates it signs, and a leaf among the trusted CAs", () => {
    const leaf = issueCertificate(ca, { name: "leaf", commonName: "veza-leaf", usage: "server", dnsNames: [], ipAddresses: ["127.0.0.1"] }, dir);
    const expired = createCertificateAuthority(path.join(dir, "expired"), "an expired CA", { notBefore: new Date(Date.now() - 30 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
    const ending = createCertificateAuthority(path.join(dir, "ending"), "a CA ending in 30 days", validFor(30));
    const missing = path.join(dir, "missing.crt");
    const problems = (tls: Record<string, unknown>) => broughtCaProblems(tlsWith(tls)).map((p) => `${p.key} ${p.value}: ${p.allowed}`);
    expect(problems({ caCertFile: missing, caKeyFile: ca.keyFile })).toEqual([`tls.caCertFile ${missing}: a usable CA certificate and its key: this file missing: no such file`]);
    expect(problems({ caCertFile: ca.certFile, caKeyFile: other.keyFile })).toEqual([expect.stringMatching(new RegExp(`^tls\\.caKeyFile ${other.keyFile}: .*does not match the certificate`))]);
    expect(problems({ caCertFile: leaf.certFile, caKeyFile: leaf.keyFile })).toEqual([expect.stringMatching(/^tls\.caCertFile .*is not a CA certificate/)]);
    expect(problems({ caCertFile: expired.certFile, caKeyFile: expired.keyFile })).toEqual([expect.stringMatching(/^tls\.caCertFile .*expired on \d{4}-/)]);
    expect(problems({ caCertFile: ending.certFile, caKeyFile: ending.keyFile })).toEqual([expect.stringMatching(/^tls\.caCertFile .*valid for at least tls\.leafValidityDays \(90 days\)/)]);
    expect(problems({ caCertFile: ca.certFile, caKeyFile: ca.keyFile, trustedCaFiles: [other.certFile, leaf.certFile] })).toEqual([
      expect.stringMatching(/^tls\.trustedCaFiles\[1\] .*not a CA certificate/),
    ]);
  });

  it("stops npm run synth with exit 2, naming the key and the file, and writes nothing", () => {
    const out = path.join(dir, "synth-out");
    const expired = createCertificateAuthority(path.join(dir, "expired-for-synth"), "an expired CA", { notBefore: new Date(Date.now() - 30 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
    const result = runScript("synth", ["--stack", "dev", "--config", `tls=${JSON.stringify({ enabled: true, caCertFile: expired.certFile, caKeyFile: expired.keyFile })}`, "--out", out]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`tls.caCertFile: got "${expired.certFile}"`);
    expect(result.stderr).toMatch(/expired on \d{4}-/);
    expect(fs.existsSync(out)).toBe(false);
  }, 120000);

  it("signs every certificate of the plan with it, declares no CA of its own, trusts it and the listed CA in every bundle, and never shows its key in the plan", async () => {
    const result = await synthOk("dev", [`tls=${JSON.stringify({ enabled: true, caCertFile: ca.certFile, caKeyFile: ca.keyFile, trustedCaFiles: [other.certFile] })}`]);
    const caPem = fs.readFileSync(ca.certFile, "utf8");
    expect(result.plan.resources.filter((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert")).toEqual([]);
    const leaves = result.unmasked.filter((r) => r.type === "tls:index/locallySignedCert:LocallySignedCert");
    expect(leaves.length).toBeGreaterThan(0);
    expect(new Set(leaves.map((l) => l.inputs.caCertPem))).toEqual(new Set([caPem]));
    expect(JSON.stringify(result.plan)).not.toContain(fs.readFileSync(ca.keyFile, "utf8").split("\n")[1]);
    expect(JSON.stringify(result.unmasked)).toContain(fs.readFileSync(ca.keyFile, "utf8").split("\n")[1]);
    const stdin = String(result.unmasked.find((r) => r.name === "redis-0-tls-files")!.inputs.stdin);
    expect(stdin).toContain(caPem.trim());
    expect(stdin).toContain(fs.readFileSync(other.certFile, "utf8").trim());
  }, 120000);
});
