// StackCertificates under mocks: which CAs exist and which one signs, at each step of a CA
// rotation; the leaves' names, uses, SANs and lifetimes from the plan.
import * as pulumi from "@pulumi/pulumi";
import { authoritiesAt, certificatePlan } from "../../components/tls/certificates";
import { StackCertificates } from "../../components/tls/StackCertificates";
import { placeTopology } from "../../components/topology/placement";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
const registered: Registered[] = [];

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      // Each PEM names the resource that made it, so a test can tell which CA signed what.
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: { ...args.inputs, privateKeyPem: `key(${args.name})`, certPem: `cert(${args.name})`, certRequestPem: `csr(${args.name})` } };
      },
      call: (args) => args.inputs,
    },
    "veza-redis",
    "dev",
    false,
  );
});

const host = (name: string, address: string) => ({ name, address, bindAddress: address });
const topology = placeTopology({
  hosts: [host("redis-a", "10.20.0.11"), host("redis-b", "10.20.0.12"), host("redis-c", "10.20.0.13")],
  redisPort: 6379,
  sentinelPort: 26379,
  replicas: 2,
  sentinels: 3,
});
const plan = certificatePlan(topology);
const value = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

async function declare(generation: number, step: "add" | "switch" | "retire") {
  registered.length = 0;
  const certificates = new StackCertificates("tls", { plan, ca: { generation, step }, caValidityDays: 3650, leafValidityDays: 90, renewBeforeDays: 30, organization: "veza-redis/dev" });
  const bundle = await value(certificates.caBundlePem);
  await Promise.all(Object.values(certificates.issued).map((issued) => value(issued.certPem)));
  const ofType = (type: string) => registered.filter((r) => r.type === type);
  return { certificates, bundle, ofType };
}

describe("the stack's certificates", () => {
  it("issues one key, request and certificate per plan entry, with the plan's SANs and uses, renewed 30 days before their 90", async () => {
    const { ofType } = await declare(0, "retire");
    const leaves = ofType("tls:index/locallySignedCert:LocallySignedCert");
    expect(leaves.map((l) => l.name).sort()).toEqual(plan.map((p) => `tls-${p.name}`).sort());
    for (const leaf of leaves) {
      expect(leaf.inputs.validityPeriodHours).toBe(90 * 24);
      expect(leaf.inputs.earlyRenewalHours).toBe(30 * 24);
    }
    const server = leaves.find((l) => l.name === "tls-redis-1")!;
    expect(server.inputs.allowedUses).toEqual(["digital_signature", "key_agreement", "server_auth"]);
    expect(leaves.find((l) => l.name === "tls-client-app")!.inputs.allowedUses).toEqual(["digital_signature", "key_agreement", "client_auth"]);
    const request = ofType("tls:index/certRequest:CertRequest").find((r) => r.name === "tls-redis-1-request")!;
    expect(request.inputs.ipAddresses).toEqual(plan.find((p) => p.name === "redis-1")!.ipAddresses);
    for (const key of ofType("tls:index/privateKey:PrivateKey")) expect(key.inputs).toMatchObject({ algorithm: "ECDSA", ecdsaCurve: "P256" });
  });

  it("keeps a single CA that never renews itself in the steady state, and signs every leaf with it", async () => {
    const { ofType, bundle } = await declare(0, "retire");
    const authorities = ofType("tls:index/selfSignedCert:SelfSignedCert");
    expect(authorities.map((a) => a.name)).toEqual(["tls-ca-0"]);
    expect(authorities[0].inputs).toMatchObject({ isCaCertificate: true, allowedUses: ["cert_signing", "crl_signing"] });
    expect(authorities[0].inputs.earlyRenewalHours).toBeUndefined();
    expect(bundle).toBe("cert(tls-ca-0)");
    expect(new Set(ofType("tls:index/locallySignedCert:LocallySignedCert").map((l) => l.inputs.caCertPem))).toEqual(new Set(["cert(tls-ca-0)"]));
  });

  it.each([
    ["add", "cert(tls-ca-1)", "cert(tls-ca-1)cert(tls-ca-2)"],
    ["switch", "cert(tls-ca-2)", "cert(tls-ca-1)cert(tls-ca-2)"],
    ["retire", "cert(tls-ca-2)", "cert(tls-ca-2)"],
  ] as const)("at %s of generation 2, signs with %s and trusts %s, one CA resource per trusted generation, named by it", async (step, signer, bundle) => {
    const declared = await declare(2, step);
    expect(declared.bundle).toBe(bundle);
    // Named by generation: generation 1's CA is the same resource from its own rotation until it is retired.
    expect(declared.ofType("tls:index/selfSignedCert:SelfSignedCert").map((a) => a.name)).toEqual(authoritiesAt(2, step).trusted.map((generation) => `tls-ca-${generation}`));
    expect(new Set(declared.ofType("tls:index/locallySignedCert:LocallySignedCert").map((l) => l.inputs.caCertPem))).toEqual(new Set([signer]));
    // @pulumi/tls marks the key secret (the mock monitor's wrapper holds its value).
    const keys = declared.ofType("tls:index/locallySignedCert:LocallySignedCert").map((l) => (l.inputs.caPrivateKeyPem as { value?: string }).value);
    expect(new Set(keys)).toEqual(new Set([signer.replace("cert(", "key(").replace(")", "-key)")]));
  });
});

describe("authoritiesAt", () => {
  it("refuses a rotation step before any CA existed, and a generation that is not a whole number", () => {
    expect(() => authoritiesAt(0, "add")).toThrow(/needs a previous CA/);
    expect(() => authoritiesAt(-1, "retire")).toThrow(/not a whole number/);
    expect(() => authoritiesAt(1.5, "switch")).toThrow(/not a whole number/);
  });
});
