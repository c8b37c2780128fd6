// A security review's findings replayed against real redis-server and redis-sentinel processes
// loaded with the rendered files (LocalCluster: the program's renderers, a local placement):
// each is refused, and what each user legitimately needs still works.
import Redis from "ioredis";
import { ioredisSentinelOptions } from "../../components/api/clientSettings";
import { requireValidStackConfig } from "../../components/validation/validate";
import { ACL_ROLES, ACL_USERS, SENTINEL_HELLO_CHANNEL, type AclRole, SENTINEL_ROLES, SENTINEL_USERS, type SentinelRole } from "../../components/redis/acl";
import { LocalCluster } from "../../drills/harness/localCluster";
import { redisCli, waitFor, type CliAuth } from "../../drills/harness/processes";
import { readStackConfigFile } from "../../lib/stackFiles";

const dev = requireValidStackConfig(readStackConfigFile("dev").raw);
// The smallest set the hello channel matters in: a replica to move and three sentinels to fool.
const config = { ...dev, sentinel: { ...dev.sentinel, replicas: 1, count: 3, quorum: 2 } };
const NOPERM = /^NOPERM/;

describe("least privilege, on real processes loaded with the rendered ACLs", () => {
  let cluster: LocalCluster;
  let masterPort: number;
  let sentinelPort: number;
  const dataUser = (role: AclRole): CliAuth => ({ user: ACL_USERS[role], password: cluster.credentials[role] });
  const sentinelUser = (role: SentinelRole): CliAuth => ({ user: SENTINEL_USERS[role].name, password: cluster.credentials[SENTINEL_USERS[role].credential] });
  const onMaster = (auth: CliAuth, ...args: string[]) => redisCli(masterPort, args, auth).out;
  const onSentinel = (auth: CliAuth, ...args: string[]) => redisCli(sentinelPort, args, auth).out;
  const masterNamedBySentinels = () =>
    cluster.sentinels.map((s) => redisCli(s.port, ["sentinel", "get-master-addr-by-name", config.sentinel.masterName], sentinelUser("client")).out.replace("\n", ":"));
  /** ACL LOG (the denials) as "<username> <command or channel>" (redis-cli prints field, value, field, value...). */
  const aclLog = (port: number, auth: CliAuth) => {
    const lines = redisCli(port, ["acl", "log"], auth).out.split("\n").filter(Boolean);
    const entries: Array<Record<string, string>> = [];
    for (let i = 0; i + 1 < lines.length; i += 2) {
      if (lines[i] === "count") entries.push({});
      entries[entries.length - 1][lines[i]] = lines[i + 1];
    }
    return entries.map((e) => `${e.username} ${e.object}`);
  };

  beforeAll(async () => {
    cluster = await LocalCluster.render(config, { label: "least-privilege" });
    await cluster.start();
    masterPort = cluster.nodes[0].port;
    sentinelPort = cluster.sentinels[0].port;
  }, 60000);
  afterAll(async () => cluster?.stop());

  it("runs Sentinel with the narrow users: nothing a sentinel sent its peers or the data nodes was denied", () => {
    for (const sentinel of cluster.sentinels) expect(aclLog(sentinel.port, sentinelUser("admin"))).toEqual([]);
    for (const node of cluster.nodes) expect(aclLog(node.port, dataUser("admin"))).toEqual([]);
    expect(masterNamedBySentinels()).toEqual(Array(3).fill(`127.0.0.1:${masterPort}`));
  });

  it("refuses a forged __sentinel__:hello from every data-node user but the sentinel's, and no sentinel moves", () => {
    const forged = `10.66.66.66,6379,${"f".repeat(40)},999,${config.sentinel.masterName},10.66.66.66,6379,999`;
    const others = ACL_ROLES.filter((role) => role !== "sentinel");
    expect(others).toEqual(["admin", "app", "replication", "exporter", "health", "handoff", "backup"]);
    for (const role of others) expect([role, onMaster(dataUser(role), "publish", SENTINEL_HELLO_CHANNEL, forged)]).toEqual([role, expect.stringMatching(NOPERM)]);
    // The control: the sentinel user reaches the three sentinels' subscriptions (a payload Sentinel ignores).
    expect(onMaster(dataUser("sentinel"), "publish", SENTINEL_HELLO_CHANNEL, "not-a-hello")).toBe("3");
    // On a sentinel itself only the peer user may publish a hello (the admin is everything anyway).
    for (const role of SENTINEL_ROLES.filter((r) => r !== "peer" && r !== "admin")) {
      expect([role, onSentinel(sentinelUser(role), "publish", SENTINEL_HELLO_CHANNEL, forged)]).toEqual([role, expect.stringMatching(NOPERM)]);
    }
    expect(masterNamedBySentinels()).toEqual(Array(3).fill(`127.0.0.1:${masterPort}`));
    // The refusals are ACL denials (what the first test found none of): the command, or for the
    // admin (every command, no channel) the channel.
    expect(aclLog(masterPort, dataUser("admin"))).toEqual(expect.arrayContaining([`${ACL_USERS.app} publish`, `${ACL_USERS.admin} ${SENTINEL_HELLO_CHANNEL}`]));
    expect(aclLog(sentinelPort, sentinelUser("admin"))).toContain(`${SENTINEL_USERS.client.name} publish`);
  });

  it("refuses CONFIG GET masterauth, CLIENT PAUSE and CLIENT KILL to the exporter and the app", () => {
    for (const role of ["exporter", "app"] as const) {
      for (const command of [
        ["config", "get", "masterauth"],
        ["client", "pause", "60000", "all"],
        ["client", "kill", "type", "normal"],
      ]) {
        expect([role, command.join(" "), onMaster(dataUser(role), ...command)]).toEqual([role, command.join(" "), expect.stringMatching(NOPERM)]);
      }
    }
    // The control: the replication password is what CONFIG GET would have shown.
    expect(onMaster(dataUser("admin"), "config", "get", "masterauth")).toBe(`masterauth\n${cluster.credentials.replication}`);
  });

  it("lets the backup user read a snapshot and nothing else: no write, no CONFIG, no pause, no REPLICAOF", () => {
    for (const command of [["set", "k", "v"], ["get", "k"], ["config", "get", "masterauth"], ["client", "pause", "1000"], ["replicaof", "no", "one"], ["flushall"]])
      expect([command.join(" "), onMaster(dataUser("backup"), ...command)]).toEqual([command.join(" "), expect.stringMatching(NOPERM)]);
    expect(onMaster(dataUser("backup"), "role").split("\n")[0]).toBe("master");
    expect(onMaster(dataUser("backup"), "replconf", "rdb-only", "1")).toBe("OK");
  });

  it("lets the handoff user read only the pause probe key, with PFCOUNT alone", () => {
    expect(onMaster(dataUser("handoff"), "pfcount", "veza:pause-probe")).toBe("0");
    for (const command of [
      ["pfcount", "session:1"],
      ["pfadd", "veza:pause-probe", "x"],
      ["get", "veza:pause-probe"],
      ["set", "veza:pause-probe", "x"],
    ])
      expect([command.join(" "), onMaster(dataUser("handoff"), ...command)]).toEqual([command.join(" "), expect.stringMatching(NOPERM)]);
  });

  it("lets the exporter run what redis_exporter sends with its CONFIG call off", () => {
    const exporter = dataUser("exporter");
    expect(onMaster(exporter, "client", "setname", "redis_exporter")).toBe("OK");
    expect(onMaster(exporter, "info", "all")).toContain("role:master");
    for (const command of [["latency", "latest"], ["latency", "histogram"], ["slowlog", "len"], ["slowlog", "get", "1"], ["ping"]]) {
      expect(onMaster(exporter, ...command)).not.toMatch(/^(NOPERM|ERR)/);
    }
  });

  it("refuses the app script, function and memory administration, SCRIPT DEBUG (SYNC freezes the server) and Pub/Sub, but runs its data commands and Lua", () => {
    const app = dataUser("app");
    const library = "#!lua name=veza\nredis.register_function('noop', function() return 1 end)";
    for (const command of [
      ["script", "debug", "sync"],
      ["script", "flush"],
      ["function", "load", library],
      ["function", "flush"],
      ["function", "delete", "veza"],
      ["memory", "purge"],
      ["publish", "veza:events", "x"],
      ["subscribe", "veza:events"],
    ]) {
      expect([command[0], command[1], onMaster(app, ...command)]).toEqual([command[0], command[1], expect.stringMatching(NOPERM)]);
    }
    expect(onMaster(app, "set", "session:least-privilege", "x")).toBe("OK");
    expect(onMaster(app, "eval", "return redis.call('get', KEYS[1])", "1", "session:least-privilege")).toBe("x");
  });

  it("refuses SENTINEL SET, RESET, FAILOVER, SIMULATE-FAILURE, CONFIG SET and ACL SETUSER with the API's Sentinel credentials", () => {
    const api = sentinelUser("client");
    const name = config.sentinel.masterName;
    for (const command of [
      ["sentinel", "set", name, "quorum", "1"],
      ["sentinel", "set", name, "auth-pass", "x"],
      ["sentinel", "reset", "*"],
      ["sentinel", "failover", name],
      ["sentinel", "simulate-failure", "crash-after-election"],
      ["sentinel", "config", "set", "resolve-hostnames", "yes"],
      ["sentinel", "remove", name],
      ["acl", "setuser", SENTINEL_USERS.client.name, "+@all"],
    ]) {
      expect([command.join(" "), onSentinel(api, ...command)]).toEqual([command.join(" "), expect.stringMatching(NOPERM)]);
    }
    // The old way in (requirepass: the default user with +@all) is gone.
    expect(redisCli(sentinelPort, ["sentinel", "set", name, "quorum", "1"], { password: cluster.credentials.sentinelClients }).out).toMatch(/WRONGPASS|NOAUTH/);
    expect(onSentinel(sentinelUser("failover"), "sentinel", "set", name, "quorum", "1")).toMatch(NOPERM);
    expect(onSentinel(sentinelUser("admin"), "sentinel", "master", name)).toContain("quorum\n2");
  });

  it("lets the API's client find the master through Sentinel as the client user and subscribe to +switch-master", async () => {
    const client = new Redis(
      ioredisSentinelOptions({
        sentinels: cluster.sentinels.map((s) => ({ host: "127.0.0.1", port: s.port })),
        masterName: config.sentinel.masterName,
        username: ACL_USERS.app,
        password: cluster.credentials.app,
        sentinelUsername: SENTINEL_USERS.client.name,
        sentinelPassword: cluster.credentials.sentinelClients,
      }),
    );
    // What ioredis's own sentinel connections do: no ready check (INFO is not the client user's).
    const events = new Redis({
      host: "127.0.0.1",
      port: sentinelPort,
      username: SENTINEL_USERS.client.name,
      password: cluster.credentials.sentinelClients,
      lazyConnect: true,
      enableReadyCheck: false,
    });
    try {
      expect(await client.set("session:through-sentinel", "y")).toBe("OK");
      expect(await client.get("session:through-sentinel")).toBe("y");
      await events.connect();
      // go-redis subscribes to both in one command: refused whole if either were denied.
      expect(await events.subscribe("+switch-master", "+replica-reconf-done")).toBe(2);
      await expect(events.subscribe("+sdown")).rejects.toThrow(NOPERM);
    } finally {
      client.disconnect();
      events.disconnect();
    }
  });

  // Last: it moves the master. What a data node's handoff sends, as its own user.
  it("lets the data nodes' failover user look up and ask for SENTINEL FAILOVER, and the sentinels carry it out with their narrow users", async () => {
    const failover = sentinelUser("failover");
    const name = config.sentinel.masterName;
    expect(onSentinel(failover, "sentinel", "master", name)).toContain("flags\nmaster");
    expect(onSentinel(failover, "sentinel", "failover", name)).toBe("OK");
    const replica = `127.0.0.1:${cluster.nodes[1].port}`;
    await waitFor("every sentinel to name the promoted replica", () => masterNamedBySentinels().every((m) => m === replica), 15000, 100);
    for (const sentinel of cluster.sentinels) expect(aclLog(sentinel.port, sentinelUser("admin")).filter((d) => d.startsWith(SENTINEL_USERS.peer.name))).toEqual([]);
    expect(aclLog(cluster.nodes[1].port, dataUser("admin")).filter((d) => d.startsWith(ACL_USERS.sentinel))).toEqual([]);
  });
});
