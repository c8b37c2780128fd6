import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CREDENTIAL_NAMES, type CredentialName, type Credentials } from "./acl";

/**
 * One generated password per ACL user plus the Sentinel client password. Every node and every
 * client uses these same references. Each is wrapped with pulumi.secret explicitly: derived
 * outputs stay secret under the engine, but mocks do not mark them for us.
 */
export class RedisCredentials extends pulumi.ComponentResource {
  readonly passwords: Record<CredentialName, pulumi.Output<string>>;
  /** All passwords as one secret object, for renderers. */
  readonly all: pulumi.Output<Credentials>;

  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("veza:redis:Credentials", name, {}, opts);
    const entries = CREDENTIAL_NAMES.map((credential) => {
      // No special characters: the passwords go into redis.conf, URLs and shell commands unquoted.
      const password = new random.RandomPassword(`${name}-${credential}`, { length: 40, special: false }, { parent: this });
      return [credential, pulumi.secret(password.result)] as const;
    });
    this.passwords = Object.fromEntries(entries) as Record<CredentialName, pulumi.Output<string>>;
    this.all = pulumi.secret(pulumi.all(this.passwords) as pulumi.Output<Credentials>);
    this.registerOutputs({});
  }
}
