import { renderRedisConf, renderRedisSecretsConf, parseConfDirectives } from "../../components/redis/redisConf";
import { renderSentinelConf, renderSentinelSecretsConf, SENTINEL_ACL_RULES } from "../../components/sentinel/sentinelConf";
import { sha256Hex, slaveofRules, ACL_USERS, SENTINEL_USERS } from "../../components/redis/acl";
import { computeSizing } from "../../components/redis/sizing";
import { requireValidStackConfig } from "../../components/validation/validate";
import { dataNodeSettings, declaredDataHosts, sentinelSettings } from "../../components/topology/settings";
import { stackModel } from "../../components/topology/model";

const config = requireValidStackConfig({
  hosts: ["a", "b", "c"].map((name, i) => ({
    name,
    dockerHost: `ssh://ops@${name}`,
    address: `10.0.0.${i + 1}`,
    sshHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVASznxN7zUMGGt3onAoz7nzW0tNXTPQ94Xy/y3sf7F",
  })),
  environment: "production",
  slackWebhookUrl: "https://hooks.example/test",
  pagerdutyRoutingKey: "test-key",
  // Monitoring would need a fourth host of role monitoring outside dev; redis.conf is under test here.
  monitoring: { enabled: false },
});
const model = stackModel(config);
const { topology } = model;
const credentials = {
  admin: "a1",
  app: "p2",
  replication: "r3",
  sentinel: "s4",
  exporter: "e5",
  health: "h6",
  handoff: "o8",
  backup: "b9",
  sentinelClients: "c7",
  sentinelPeer: "q9",
  sentinelFailover: "f10",
  sentinelAdmin: "d11",
};

describe("redis.conf renderer", () => {
  const master = parseConfDirectives(renderRedisConf(dataNodeSettings(config, model, topology.dataNodes[0])));
  const replica = parseConfDirectives(renderRedisConf(dataNodeSettings(config, model, topology.dataNodes[1])));

  it("declares the sizing's maxmemory with an evicting policy", () => {
    expect(master.get("maxmemory")).toEqual([String(computeSizing(config.redis).maxmemoryBytes)]);
    expect(master.get("maxmemory-policy")).toEqual(["allkeys-lru"]);
  });

  it("persists with AOF, rewrites automatically and has no RDB save points by default", () => {
    expect(master.get("appendonly")).toEqual(["yes"]);
    expect(master.get("appendfsync")).toEqual(["everysec"]);
    expect(master.get("aof-use-rdb-preamble")).toEqual(["yes"]);
    expect(master.get("auto-aof-rewrite-percentage")).toEqual(["100"]);
    expect(master.get("auto-aof-rewrite-min-size")).toEqual([String(64 * 1024 * 1024)]);
    expect(master.get("save")).toEqual(['""']);
    expect(master.get("stop-writes-on-bgsave-error")).toEqual(["yes"]);
  });

  it("makes the kernel prefer killing the fork child over the server", () => {
    expect(master.get("oom-score-adj")).toEqual(["relative"]);
    expect(master.get("oom-score-adj-values")).toEqual(["0 200 800"]);
  });

  it("binds and announces the placement's addresses; replicas follow the initial master", () => {
    expect(master.get("bind")).toEqual(["10.0.0.1"]);
    expect(master.has("replicaof")).toBe(false);
    expect(replica.get("bind")).toEqual(["10.0.0.2"]);
    expect(replica.get("replicaof")).toEqual(["10.0.0.1 6379"]);
    expect(replica.get("replica-announce-ip")).toEqual(["10.0.0.2"]);
  });

  it("bounds what an isolated master accepts with min-replicas-to-write", () => {
    expect(master.get("min-replicas-to-write")).toEqual(["1"]);
    expect(master.get("min-replicas-max-lag")).toEqual(["5"]);
  });

  it("holds no password: credentials are in the included secrets file", () => {
    const text = renderRedisConf(dataNodeSettings(config, model, topology.dataNodes[0]));
    for (const password of Object.values(credentials)) expect(text).not.toContain(` ${password}`);
    // The volume's live copy, which each rotation step rewrites (seeded from /etc/veza/redis-secrets.conf).
    expect(master.get("include")).toEqual(["/data/veza-credentials/redis-secrets.conf"]);
  });

  it("renders ACL users with SHA-256 hashes, the default user off, and replication credentials", () => {
    const secrets = renderRedisSecretsConf(credentials, declaredDataHosts(topology));
    expect(secrets).toContain("user default off\n");
    // Sentinel's SLAVEOF reaches the three declared hosts and NO ONE, nothing else.
    expect(secrets).toMatch(
      new RegExp(`^user ${ACL_USERS.sentinel} on #${sha256Hex("s4")} .* \\+slaveof\\|no \\+slaveof\\|10\\.0\\.0\\.1 \\+slaveof\\|10\\.0\\.0\\.2 \\+slaveof\\|10\\.0\\.0\\.3$`, "m"),
    );
    expect(secrets).not.toMatch(/\+slaveof( |$)/m);
    expect(secrets).toContain(`user ${ACL_USERS.app} on #${sha256Hex("p2")} `);
    // The healthcheck tells a replica in sync from one that is not (ROLE); the handoff may pause writes, nothing more.
    expect(secrets).toContain(`user ${ACL_USERS.health} on #${sha256Hex("h6")} resetchannels -@all +ping +role\n`);
    expect(secrets).toContain(`user ${ACL_USERS.handoff} on #${sha256Hex("o8")} resetchannels %R~veza:pause-probe -@all +ping +role +info +client|pause +client|unpause +pfcount\n`);
    expect(secrets).toContain(`user ${ACL_USERS.backup} on #${sha256Hex("b9")} resetchannels -@all +ping +role +info +replconf +sync\n`);
    expect(secrets).not.toMatch(/>p2/);
    expect(secrets).toContain(`masteruser ${ACL_USERS.replication}\nmasterauth r3\n`);
  });
});

describe("the sentinel user's SLAVEOF pin", () => {
  it("allows each declared host once, and NO ONE", () => {
    expect(slaveofRules(["redis-a", "redis-a", "10.0.0.2"])).toBe("+slaveof|no +slaveof|redis-a +slaveof|10.0.0.2");
  });

  it("refuses a host that would change the ACL line, an IPv6 address (as the config schema does), and an empty set (no node could ever be moved)", () => {
    for (const host of ["a b", "a|b", "#x", "", "2001:db8::1"]) expect(() => slaveofRules([host])).toThrow(/cannot be an ACL argument/);
    expect(() => slaveofRules([])).toThrow(/no declared data node host/);
  });
});

describe("sentinel.conf renderer", () => {
  const text = renderSentinelConf(sentinelSettings(config, model, topology.sentinels[2]));
  const sentinel = parseConfDirectives(text);

  it("monitors the initial master with the quorum and the declared timings", () => {
    expect(sentinel.get("sentinel")).toEqual(
      expect.arrayContaining([
        "monitor veza-redis 10.0.0.1 6379 2",
        "down-after-milliseconds veza-redis 2000",
        "failover-timeout veza-redis 10000",
        "parallel-syncs veza-redis 1",
        "announce-ip 10.0.0.3",
        "announce-port 26379",
        "resolve-hostnames no",
      ]),
    );
  });

  it("resolves and announces hostnames when hosts are given by DNS name", () => {
    const named = requireValidStackConfig({
      monitoring: { enabled: false },
      hosts: ["a", "b", "c"].map((n, i) => ({
        name: n,
        dockerHost: `ssh://ops@${n}`,
        address: `${n}.redis.internal`,
        bindAddress: `10.0.0.${i + 1}`,
        sshHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVASznxN7zUMGGt3onAoz7nzW0tNXTPQ94Xy/y3sf7F",
      })),
    });
    const namedModel = stackModel(named);
    const namedTopology = namedModel.topology;
    const namedText = parseConfDirectives(renderSentinelConf(sentinelSettings(named, namedModel, namedTopology.sentinels[0])));
    expect(namedText.get("sentinel")).toEqual(expect.arrayContaining(["resolve-hostnames yes", "announce-hostnames yes", "monitor veza-redis a.redis.internal 6379 2"]));
    expect(namedText.get("bind")).toEqual(["10.0.0.1"]);
  });

  it("authenticates to Redis as the dedicated sentinel user, to its peers as the peer user, and has no default user", () => {
    const secrets = renderSentinelSecretsConf("veza-redis", credentials);
    expect(secrets).toContain(`sentinel auth-user veza-redis ${ACL_USERS.sentinel}\nsentinel auth-pass veza-redis s4\n`);
    expect(secrets).toContain(`sentinel sentinel-user ${SENTINEL_USERS.peer.name}\nsentinel sentinel-pass q9\n`);
    expect(secrets).toContain("user default off\n");
    expect(secrets).not.toMatch(/^requirepass/m);
    for (const [role, password] of [
      ["client", "c7"],
      ["peer", "q9"],
      ["failover", "f10"],
      ["admin", "d11"],
      ["exporter", "e5"],
      ["health", "h6"],
    ] as const) {
      expect(secrets).toContain(`user ${SENTINEL_USERS[role].name} on #${sha256Hex(password)} ${SENTINEL_ACL_RULES[role]}\n`);
    }
    expect(secrets).not.toMatch(/>c7|>f10|>d11/);
    expect(text).not.toContain("s4");
  });
});
