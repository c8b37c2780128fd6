import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { dockerSshOptions, knownHostsLine, writeSshIdentity } from "../../components/host/dockerSsh";

const host = {
  name: "redis-a",
  dockerHost: "ssh://deploy@10.20.0.11:2222",
  address: "10.20.0.11",
  bindAddress: "10.20.0.11",
  sshHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVASznxN7zUMGGt3onAoz7nzW0tNXTPQ94Xy/y3sf7F",
};

describe("the ssh:// Docker provider's ssh options", () => {
  it("names a host off port 22 as [host]:port, as known_hosts does", () => {
    expect(knownHostsLine(host)).toBe(`[10.20.0.11]:2222 ${host.sshHostKey}`);
    expect(knownHostsLine({ ...host, dockerHost: "ssh://deploy@10.20.0.11" })).toBe(`10.20.0.11 ${host.sshHostKey}`);
  });

  it("checks the host key strictly against the declared key only, and uses only the stack's key when given", () => {
    expect(dockerSshOptions(host)).toEqual([
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      `KnownHostsCommand=/bin/echo [10.20.0.11]:2222 ${host.sshHostKey}`,
    ]);
    expect(dockerSshOptions(host, ".veza-ssh/prod.key").slice(-4)).toEqual(["-o", "IdentitiesOnly=yes", "-i", ".veza-ssh/prod.key"]);
  });

  it("refuses a host without a declared key", () => {
    expect(() => knownHostsLine({ ...host, sshHostKey: undefined })).toThrow(/sshHostKey are required/);
  });

  it("writes the stack's key 0600 under the project-relative directory the options name", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-ssh-test-"));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const file = await new Promise<string>((resolve) => writeSshIdentity("prod", pulumi.output("-----BEGIN KEY-----\nabc\n-----END KEY-----")).apply(resolve));
      expect(file).toBe(path.join(".veza-ssh", "prod.key"));
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(file, "utf8")).toBe("-----BEGIN KEY-----\nabc\n-----END KEY-----\n");
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
