import { placeTopology } from "../../components/topology/placement";
import { certificatePlan, CLIENT_CERTIFICATE_ROLES, tlsFilesIn, tlsListenDirectives } from "../../components/tls/certificates";
import { parseConfDirectives } from "../../components/redis/redisConf";

const host = (name: string, address: string, bindAddress = address) => ({ name, address, bindAddress, dockerHost: "unix:///var/run/docker.sock" });

describe("the certificate plan", () => {
  const topology = placeTopology({
    hosts: [host("redis-a", "10.20.0.11"), host("redis-b", "redis-b.veza.internal", "10.20.0.12"), host("redis-c", "10.20.0.13", "0.0.0.0")],
    redisPort: 6379,
    sentinelPort: 26379,
    replicas: 2,
    sentinels: 3,
  });
  const plan = certificatePlan(topology);

  it("gives every data node and sentinel a server certificate naming the address clients dial and the one its own scripts dial", () => {
    const servers = plan.filter((request) => request.usage === "server");
    expect(servers.map((s) => s.name).sort()).toEqual([...topology.dataNodes, ...topology.sentinels].map((p) => p.name).sort());
    const onB = servers.find((s) => s.name === topology.dataNodes.find((n) => n.host.name === "redis-b")!.name)!;
    expect(onB.dnsNames).toEqual(["redis-b.veza.internal"]);
    expect(onB.ipAddresses).toEqual(["10.20.0.12"]);
  });

  it("never names 0.0.0.0, which no client dials", () => {
    const onC = plan.find((s) => s.name === topology.dataNodes.find((n) => n.host.name === "redis-c")!.name)!;
    expect(onC.ipAddresses).toEqual(["10.20.0.13"]);
  });

  it("gives each client role its own certificate, with no address in it", () => {
    const clients = plan.filter((request) => request.usage === "client");
    expect(clients.map((c) => c.name)).toEqual(CLIENT_CERTIFICATE_ROLES.map((role) => `client-${role}`));
    expect(new Set(plan.map((request) => request.name)).size).toBe(plan.length);
    for (const client of clients) expect([...client.dnsNames, ...client.ipAddresses]).toEqual([]);
  });
});

describe("the TLS directives", () => {
  it("turn the plaintext port off and put TLS, client certificates and TLS replication on the declared port", () => {
    const directives = parseConfDirectives(tlsListenDirectives(6380, tlsFilesIn("/data/veza-credentials")).join("\n"));
    expect(directives.get("port")).toEqual(["0"]);
    expect(directives.get("tls-port")).toEqual(["6380"]);
    expect(directives.get("tls-auth-clients")).toEqual(["yes"]);
    expect(directives.get("tls-replication")).toEqual(["yes"]);
    // Without its own client pair, Redis presents its server certificate on outgoing links.
    expect(directives.get("tls-client-cert-file")).toEqual(["/data/veza-credentials/tls-client.crt"]);
    expect(directives.get("tls-cert-file")).toEqual(["/data/veza-credentials/tls-server.crt"]);
  });
});
