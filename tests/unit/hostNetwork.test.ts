// The prod-topology drill's hosts: the bridge takes an address of the hosts' own /24 that no host
// holds, and hosts it cannot place are refused by name before any namespace is made.
import { bridgeAddressFor } from "../../drills/harness/hostNetwork";
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";

describe("the drill's host network", () => {
  it("puts the bridge in the production example's /24, on an address no host holds", () => {
    const hosts = requireValidStackConfig(readStackConfigFile("prod").raw).hosts;
    const bridge = bridgeAddressFor(hosts);
    expect(bridge).toEqual({ subnet: "10.20.0.0/24", address: "10.20.0.1" });
    expect(hosts.map((h) => h.address)).not.toContain(bridge.address);
  });

  it("passes over an address a host holds", () => {
    expect(
      bridgeAddressFor([
        { name: "a", address: "192.168.7.1" },
        { name: "b", address: "192.168.7.254" },
      ]).address,
    ).toBe("192.168.7.2");
  });

  it("refuses a DNS name, naming the host and the address", () => {
    expect(() => bridgeAddressFor([{ name: "redis-a", address: "redis-a.internal" }])).toThrow("host redis-a: address redis-a.internal is not an IPv4 address");
  });

  it("refuses hosts spread over several /24s, listing their addresses", () => {
    expect(() =>
      bridgeAddressFor([
        { name: "a", address: "10.0.1.5" },
        { name: "b", address: "10.0.2.5" },
      ]),
    ).toThrow("10.0.1.5, 10.0.2.5 are not in one /24");
  });
});
