// The stack's certificates as resources: a CA per generation that the rotation step holds, and a
// key and a certificate per entry of the plan (certificates.ts), signed by the step's signing CA.
// Only wiring: what to issue and which CA signs come from the pure plan and authoritiesAt.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { authoritiesAt, CERTIFICATES_TRIGGER_LABEL, certificatesFingerprint, type CertificateRequest, type ClientCertificateRole, type ClientTlsMaterial, type TlsMaterial } from "./certificates";

/** ECDSA P-256: what the drills' openssl issues too, and a fast handshake. */
const KEY = { algorithm: "ECDSA", ecdsaCurve: "P256" } as const;
const HOURS_PER_DAY = 24;

export interface StackCertificatesArgs {
  plan: CertificateRequest[];
  /**
   * The generated CA's rotation generation and step (authoritiesAt), or a CA the team brings:
   * its certificate and key sign every leaf, and every bundle trusts it and `trustedPems`.
   */
  ca: GeneratedAuthority | { brought: BroughtAuthority };
  caValidityDays: number;
  leafValidityDays: number;
  /**
   * Lead time: a `pulumi up` this many days or fewer before a leaf expires replaces it
   * (earlyRenewalHours). Above the expiry ticket's days, so renewal comes before any alert.
   */
  renewBeforeDays: number;
  /** The subject's organization: the stack, so two stacks' certificates are told apart. */
  organization: string;
}

export interface GeneratedAuthority {
  generation: number;
  step: "add" | "switch" | "retire";
}

export interface BroughtAuthority {
  certPem: string;
  /** SECRET: read from the team's key file where `pulumi up` runs. */
  keyPem: pulumi.Output<string>;
  trustedPems: string[];
}

/** What signs the leaves, and the bundle every process and client verifies with. */
interface Signer {
  certPem: pulumi.Output<string>;
  keyPem: pulumi.Output<string>;
  bundlePem: pulumi.Output<string>;
}

export interface IssuedCertificate {
  certPem: pulumi.Output<string>;
  /** When it ends (RFC 3339), as the provider issued it. */
  notAfter: pulumi.Output<string>;
  /** Secret: only ever written to a process's volume, mode 0600. */
  keyPem: pulumi.Output<string>;
}

/**
 * The trigger entries of a command that writes a consumer's TLS files: a known label (it ends the
 * credential markers before it for the policy pack), then the certificates' fingerprint (never
 * the keys'), unsecret: a hash of public certificates. None in plaintext.
 */
export function certificateTriggers(material: pulumi.Output<Parameters<typeof certificatesFingerprint>[0]> | undefined): pulumi.Input<string>[] {
  return material ? [CERTIFICATES_TRIGGER_LABEL, pulumi.unsecret(material.apply(certificatesFingerprint))] : [];
}

/** A brought CA: no resource of its own (nothing to replace), its key a secret from the file. */
function broughtSigner(brought: BroughtAuthority): Signer {
  const pems = [brought.certPem, ...brought.trustedPems].map((pem) => (pem.endsWith("\n") ? pem : `${pem}\n`));
  return { certPem: pulumi.output(brought.certPem), keyPem: pulumi.secret(brought.keyPem), bundlePem: pulumi.output(pems.join("")) };
}

export class StackCertificates extends pulumi.ComponentResource {
  /** Every trusted CA certificate, concatenated: the file each process and client verifies with. */
  readonly caBundlePem: pulumi.Output<string>;
  readonly issued: Record<string, IssuedCertificate>;

  constructor(name: string, args: StackCertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:tls:StackCertificates", name, {}, opts);
    const signer = "brought" in args.ca ? broughtSigner(args.ca.brought) : this.generatedSigner(name, args, args.ca);
    this.caBundlePem = signer.bundlePem;
    this.issued = Object.fromEntries(
      args.plan.map((request) => {
        // The key outlives its certificates: a renewal or a CA switch reissues the certificate only.
        const key = new tls.PrivateKey(`${name}-${request.name}-key`, KEY, { parent: this });
        const certificateRequest = new tls.CertRequest(
          `${name}-${request.name}-request`,
          { privateKeyPem: key.privateKeyPem, subject: { commonName: request.commonName, organization: args.organization }, dnsNames: request.dnsNames, ipAddresses: request.ipAddresses },
          { parent: this },
        );
        const certificate = new tls.LocallySignedCert(
          `${name}-${request.name}`,
          {
            certRequestPem: certificateRequest.certRequestPem,
            caCertPem: signer.certPem,
            caPrivateKeyPem: signer.keyPem,
            validityPeriodHours: args.leafValidityDays * HOURS_PER_DAY,
            earlyRenewalHours: args.renewBeforeDays * HOURS_PER_DAY,
            allowedUses: ["digital_signature", "key_agreement", request.usage === "server" ? "server_auth" : "client_auth"],
          },
          { parent: this },
        );
        return [request.name, { certPem: certificate.certPem, notAfter: certificate.validityEndTime, keyPem: pulumi.secret(key.privateKeyPem) }];
      }),
    );
    this.registerOutputs({ caBundlePem: this.caBundlePem });
  }

  /** The generated CAs the rotation step trusts, one resource pair per generation, and the one that signs. */
  private generatedSigner(name: string, args: StackCertificatesArgs, ca: GeneratedAuthority): Signer {
    const { trusted, signing } = authoritiesAt(ca.generation, ca.step);
    const authorities = new Map(
      trusted.map((generation) => {
        // Per generation, never renewed early: a new CA is a rotation (authoritiesAt), not a
        // replacement. Every input of these resources forces a replacement (terraform-provider-tls:
        // RequiresReplace), which would reissue every leaf from a CA no peer trusts yet: a changed
        // lifetime or subject applies from the next generation on. A CA past its end is replaced
        // by the provider at the next `up`, with every leaf: the chain-expiry page comes 7 days
        // before, and a 10-year CA is rotated long before it.
        const ignoreChanges = { parent: this, ignoreChanges: ["algorithm", "ecdsaCurve", "privateKeyPem", "subject", "validityPeriodHours", "allowedUses", "isCaCertificate", "setSubjectKeyId"] };
        const key = new tls.PrivateKey(`${name}-ca-${generation}-key`, KEY, ignoreChanges);
        const certificate = new tls.SelfSignedCert(
          `${name}-ca-${generation}`,
          {
            privateKeyPem: key.privateKeyPem,
            isCaCertificate: true,
            setSubjectKeyId: true,
            subject: { commonName: `veza-redis CA ${generation}`, organization: args.organization },
            validityPeriodHours: args.caValidityDays * HOURS_PER_DAY,
            allowedUses: ["cert_signing", "crl_signing"],
          },
          ignoreChanges,
        );
        return [generation, { key, certificate }] as const;
      }),
    );
    const signer = authorities.get(signing)!;
    return {
      certPem: signer.certificate.certPem,
      keyPem: signer.key.privateKeyPem,
      bundlePem: pulumi.all(trusted.map((generation) => authorities.get(generation)!.certificate.certPem)).apply((pems) => pems.join("")),
    };
  }

  /** A server's files: the bundle, its own pair and the client pair of the role its links present. SECRET. */
  serverMaterial(server: string, outgoing: ClientCertificateRole): pulumi.Output<TlsMaterial> {
    const own = this.certificate(server);
    const client = this.certificate(`client-${outgoing}`);
    return pulumi.secret(
      pulumi
        .all([this.caBundlePem, own.certPem, own.keyPem, client.certPem, client.keyPem])
        .apply(([caCertFile, certFile, keyFile, clientCertFile, clientKeyFile]) => ({ caCertFile, certFile, keyFile, clientCertFile, clientKeyFile })),
    );
  }

  /** A client's files: the bundle it verifies servers with and its role's pair. SECRET. */
  clientMaterial(role: ClientCertificateRole): pulumi.Output<ClientTlsMaterial> {
    const own = this.certificate(`client-${role}`);
    return pulumi.secret(pulumi.all([this.caBundlePem, own.certPem, own.keyPem]).apply(([caCertFile, certFile, keyFile]) => ({ caCertFile, certFile, keyFile })));
  }

  /** Every client certificate's name and end: what the monitoring host's textfile holds (no server shows them). */
  clientExpiries(): pulumi.Output<Array<{ name: string; notAfter: string }>> {
    const clients = Object.entries(this.issued).filter(([name]) => name.startsWith("client-"));
    return pulumi.all(clients.map(([name, issued]) => issued.notAfter.apply((notAfter) => ({ name, notAfter }))));
  }

  private certificate(name: string): IssuedCertificate {
    const issued = this.issued[name];
    if (!issued) throw new Error(`StackCertificates: no certificate ${name} in the plan (${Object.keys(this.issued).join(", ")})`);
    return issued;
  }
}
