// The data hosts' firewall as rendered for `pulumi up` (components/base/firewall.ts), applied by the
// real nft in network namespaces that stand for hosts on one network: a data host, another
// declared host, an API host inside firewall.clientSources, and an outsider. Real redis-server
// processes listen in each; redis-cli connects from each.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { FIREWALL_OWNER_VARIABLE, FIREWALL_TABLE, renderFirewallRemoveScript, renderFirewallRuleset, type HostFirewall } from "../../components/base/firewall";
import { hostFirewalls } from "../../components/topology/firewalls";
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";
import { applyFirewall, refusedPackets } from "../../drills/harness/firewall";
import { HostNetwork, hostNetworkUnavailable } from "../../drills/harness/hostNetwork";
import { freePortRange, waitFor } from "../../drills/harness/processes";
import { Workspace } from "../../drills/harness/workspace";

const SUBNET = "10.213.77";
const HOSTS = [
  { name: "data", address: `${SUBNET}.11` },
  { name: "member", address: `${SUBNET}.12` },
  { name: "api", address: `${SUBNET}.50` },
  { name: "outsider", address: `${SUBNET}.99` },
];
const addressOf = (name: string) => HOSTS.find((host) => host.name === name)!.address;

describe("the data hosts' firewall (real nft, network namespaces)", () => {
  it("is rendered for every data host of the prod example and none of the dev stack", () => {
    const prod = hostFirewalls(requireValidStackConfig(readStackConfigFile("prod").raw));
    expect(prod.map((firewall) => firewall.host)).toEqual(["redis-a", "redis-b", "redis-c"]);
    expect(prod[0].members).toEqual(["10.20.0.11", "10.20.0.12", "10.20.0.13", "10.20.0.14"]);
    // Each data host: its node, its sentinel, their two redis_exporters and node_exporter.
    expect(prod[0].guardedPorts).toEqual([6379, 9100, 9121, 9122, 26379]);
    expect(prod[0].clientSources).toEqual(["10.20.1.0/24"]);
    expect(hostFirewalls(requireValidStackConfig(readStackConfigFile("dev").raw))).toEqual([]);
  });

  it("admits hosts given by DNS name by their bind addresses", () => {
    const raw = readStackConfigFile("prod").raw;
    const hosts = (raw.hosts as Array<Record<string, unknown>>).map((host) => ({ ...host, address: `${String(host.name)}.redis.internal`, bindAddress: host.address }));
    expect(hostFirewalls(requireValidStackConfig({ ...raw, hosts }))[0].members).toEqual(["10.20.0.11", "10.20.0.12", "10.20.0.13", "10.20.0.14"]);
  });

  const unavailable = hostNetworkUnavailable();
  if (unavailable) throw new Error(`this test needs network namespaces: ${unavailable}`);
  const ws = new Workspace("host-firewall");
  let network: HostNetwork;
  let guarded = 0;
  let unguarded = 0;

  /** A command in a host's network namespace, bounded in time. */
  const inNamespace = (host: string, args: string[], input?: string) => spawnSync("nsenter", [`--net=${network.namespacePath(host)}`, ...args], { input, encoding: "utf8", timeout: 5000 });
  const ping = (from: string, to: string, port: number) => {
    const result = inNamespace(from, ["redis-cli", "-h", addressOf(to), "-p", String(port), "PING"]);
    return `${result.stdout}${result.stderr}`.trim() || `no answer (${result.error?.message ?? `exit ${result.status}`})`;
  };
  /** A throwaway redis-server (no persistence, no protected mode) in a host's namespace, stopped with the workspace. */
  const startRedis = (name: string, host: string, dir: string, settings: string[]) =>
    ws.processes.start(
      name,
      "nsenter",
      [`--net=${network.namespacePath(host)}`, "redis-server", "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", dir, ...settings],
      path.join(dir, `${name}.log`),
    );

  beforeAll(async () => {
    network = HostNetwork.create(ws, HOSTS);
    [guarded, unguarded] = [await freePortRange(1), await freePortRange(1)];
    const dir = ws.tempDir("servers");
    // Every host runs a server on the guarded port; the data host one more, on a port the firewall does not guard.
    const servers = [...HOSTS.map((host) => ({ host: host.name, port: guarded })), { host: "data", port: unguarded }];
    for (const { host, port } of servers) startRedis(`${host}-${port}`, host, dir, ["--port", String(port), "--bind", `${addressOf(host)} 127.0.0.1`]);
    for (const { host, port } of servers) await waitFor(`${host}:${port} answering`, () => ping(host, host, port) === "PONG", 10000);
    // Overlapping sources (a network and an address in it) merge instead of failing the load.
    const firewall: HostFirewall = { host: "data", guardedPorts: [guarded], members: [addressOf("data"), addressOf("member")], clientSources: [`${SUBNET}.48/29`, addressOf("api")] };
    applyFirewall(network.namespacePath("data"), firewall);
  }, 30000);

  afterAll(async () => {
    await ws.cleanup();
  });

  it("its guarded ports answer the host itself, the declared hosts and the client sources, and refuse an outsider", () => {
    expect({ self: ping("data", "data", guarded), member: ping("member", "data", guarded), api: ping("api", "data", guarded), outsider: ping("outsider", "data", guarded) }).toEqual({
      self: "PONG",
      member: "PONG",
      api: "PONG",
      outsider: expect.stringContaining("Connection refused"),
    });
    expect(refusedPackets(network.namespacePath("data"))).toBeGreaterThan(0);
  });

  it("leaves every other port alone: the outsider reaches a port the firewall does not guard", () => {
    expect(ping("outsider", "data", unguarded)).toBe("PONG");
  });

  it("lets a declared host's server attach as a replica and never an outsider's: no undeclared replica, so none to promote", async () => {
    const replicaPort = await freePortRange(1);
    for (const host of ["member", "outsider"])
      startRedis(`${host}-replica`, host, ws.tempDir(`${host}-replica`), ["--port", String(replicaPort), "--bind", addressOf(host), "--replicaof", addressOf("data"), String(guarded)]);
    const replication = (host: string, port: number) => inNamespace(host, ["redis-cli", "-h", addressOf(host), "-p", String(port), "INFO", "replication"]).stdout;
    await waitFor("the member's replica attached", () => replication("member", replicaPort).includes("master_link_status:up"), 15000);
    // The outsider retries once a second; give it a few tries after the member is in.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const master = replication("data", guarded);
    expect({ attached: /connected_slaves:(\d+)/.exec(master)?.[1], member: master.includes(`ip=${addressOf("member")},`), outsider: master.includes(`ip=${addressOf("outsider")},`) }).toEqual({
      attached: "1",
      member: true,
      outsider: false,
    });
    expect(replication("outsider", replicaPort)).toContain("master_link_status:down");
  });

  it("applies again over itself in one transaction (a changed ruleset is an update of the same table)", () => {
    const again: HostFirewall = { host: "data", guardedPorts: [guarded], members: [addressOf("data"), addressOf("member"), addressOf("outsider")], clientSources: [] };
    applyFirewall(network.namespacePath("data"), again);
    expect({ outsider: ping("outsider", "data", guarded), api: ping("api", "data", guarded) }).toEqual({ outsider: "PONG", api: expect.stringContaining("Connection refused") });
    expect(renderFirewallRuleset(again)).not.toContain("client_sources");
  });

  it("is removed by its own command's delete only: another owner's table stays, and no table is nothing to do", () => {
    const rules = renderFirewallRuleset({ host: "member", guardedPorts: [guarded], members: [addressOf("member")], clientSources: [] });
    expect(inNamespace("member", ["nft", "-D", `${FIREWALL_OWNER_VARIABLE}=111`, "-f", "-"], rules).status).toBe(0);
    const removeAs = (owner: number) => inNamespace("member", ["sh", "-c", renderFirewallRemoveScript(owner)]);
    const other = removeAs(222);
    expect({ status: other.status, out: other.stdout.trim() }).toEqual({ status: 0, out: `table inet ${FIREWALL_TABLE} belongs to another command: left in place` });
    expect(ping("outsider", "member", guarded)).toContain("Connection refused");
    const own = removeAs(111);
    expect({ status: own.status, out: own.stdout.trim() }).toEqual({ status: 0, out: `table inet ${FIREWALL_TABLE} removed` });
    expect(ping("outsider", "member", guarded)).toBe("PONG");
    const none = removeAs(111);
    expect({ status: none.status, out: none.stdout.trim() }).toEqual({ status: 0, out: `no table inet ${FIREWALL_TABLE}: nothing to remove` });
  });
});
