// SentinelCluster placement under mocks for 1, 3 and 5 hosts, and the Monitoring component.
import { synthOk, CONTAINER, label, ofType, byName, uploadContent, uploadsOf, configCarrierOf, type Resource } from "../helpers/synth";
import type { SynthResult } from "../../scripts/lib/synth";
import { CREDENTIAL_SEED_SUFFIX, seededFiles } from "../../components/base/shell";

const hosts = (n: number) =>
  Array.from({ length: n }, (_, i) => [
    `hosts[${i}].name=h${i}`,
    `hosts[${i}].dockerHost=ssh://deploy@10.0.0.${i + 1}`,
    `hosts[${i}].address=10.0.0.${i + 1}`,
    `hosts[${i}].sshHostKey=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVASznxN7zUMGGt3onAoz7nzW0tNXTPQ94Xy/y3sf7${i}`,
  ]).flat();

function placement(result: SynthResult, component: string): Array<[string, string]> {
  return ofType(result.unmasked, CONTAINER)
    .filter((c) => label(c, "component") === component)
    .map((c): [string, string] => [c.name.replace(/-container$/, ""), label(c, "host")!])
    .sort(([a], [b]) => a.localeCompare(b));
}

describe("SentinelCluster placement", () => {
  it("puts everything on the one dev host, on distinct ports", async () => {
    const result = await synthOk("dev");
    expect(new Set(placement(result, "redis").map(([, host]) => host))).toEqual(new Set(["local"]));
    const ports = ofType(result.unmasked, CONTAINER)
      .filter((c) => ["redis", "sentinel"].includes(label(c, "component")!))
      // With TLS on (the dev stack), `port 0` and the declared port as tls-port.
      .map((c) => /^tls-port (\d+)$/m.exec(uploadsOf(result.unmasked, c)[0].content)![1]);
    expect(ports.sort()).toEqual(["26379", "26380", "26381", "6379", "6380", "6381"]);
  });

  it("with 3 hosts: master and replicas on different hosts, one sentinel per host", async () => {
    const result = await synthOk("prod");
    expect(placement(result, "redis")).toEqual([
      ["redis-0", "redis-a"],
      ["redis-1", "redis-b"],
      ["redis-2", "redis-c"],
    ]);
    expect(placement(result, "sentinel")).toEqual([
      ["sentinel-0", "redis-a"],
      ["sentinel-1", "redis-b"],
      ["sentinel-2", "redis-c"],
    ]);
    for (const host of ["redis-a", "redis-b", "redis-c"]) {
      expect(byName(result.unmasked, `${host}-docker`).inputs.host).toMatch(/^ssh:\/\/deploy@10\.20\.0\.1\d$/);
      expect(byName(result.unmasked, `${host}-kernel-tuning`).type).toBe("command:remote:Command");
    }
  });

  it("with 5 hosts and 5 sentinels: no host holds more than one sentinel", async () => {
    const result = await synthOk("dev", [...hosts(5), "sentinel.count=5", "sentinel.quorum=3", "monitoring.host=h0", "api.host=h0"]);
    const sentinels = placement(result, "sentinel");
    expect(sentinels.map(([, host]) => host)).toEqual(["h0", "h1", "h2", "h3", "h4"]);
    expect(placement(result, "redis").map(([, host]) => host)).toEqual(["h0", "h1", "h2"]);
    const conf = uploadContent(result.unmasked, byName(result.unmasked, "sentinel-4-container"), "/etc/veza/sentinel.conf");
    expect(conf).toContain("sentinel monitor veza-redis 10.0.0.1 6379 3\n");
    expect(conf).toContain("sentinel announce-ip 10.0.0.5\n");
  });

  it("every node and sentinel uses the same secret references", async () => {
    const result = await synthOk("prod");
    const containers = ofType(result.unmasked, CONTAINER).filter((c) => ["redis", "sentinel"].includes(label(c, "component")!));
    // What each one's seed writes into its volume (no container uploads a password).
    const seeded = (c: Resource) => seededFiles(byName(result.unmasked, c.name.replace(/-container$/, CREDENTIAL_SEED_SUFFIX)).inputs.stdin as string);
    const scriptCredentials = new Set(containers.map((c) => /^VEZA_HEALTH_PASSWORD=.*$/m.exec(seeded(c).get("credentials.sh")!)![0]));
    expect(scriptCredentials.size).toBe(1);
    const sentinelSecrets = new Set(containers.filter((c) => label(c, "component") === "sentinel").map((c) => seeded(c).get("sentinel-secrets.conf")));
    expect(sentinelSecrets.size).toBe(1);
    // 12 Redis credentials (8 data-node ACL users, 4 Sentinel users) in two rotation slots each,
    // the Grafana admin password, the 3 web users of Prometheus and Alertmanager's gate, the gate's
    // own (the one Alertmanager lists; the healthchecks hold none) and the backup repository's password.
    expect(ofType(result.unmasked, "random:index/randomPassword:RandomPassword")).toHaveLength(30);
  });

  it("exports the sentinel addresses, master name and a topology summary for clients", async () => {
    const result = await synthOk("prod");
    expect(result.plan.outputs.redisConnection).toEqual({
      mode: "sentinel",
      masterName: "veza-redis",
      sentinels: [
        { host: "10.20.0.11", port: 26379 },
        { host: "10.20.0.12", port: 26379 },
        { host: "10.20.0.13", port: 26379 },
      ],
    });
    expect(result.plan.outputs.sentinelPassword).toBe("[secret]");
    expect(result.plan.outputs.topology).toContain("redis-1: replica on redis-b 10.20.0.12:6379");
  });
});

describe("Monitoring component", () => {
  let result: SynthResult;
  let containers: Resource[];
  beforeAll(async () => {
    result = await synthOk("prod");
    containers = ofType(result.unmasked, CONTAINER);
  });

  it("runs one redis_exporter per Redis and Sentinel process, on its host, as the exporter user", () => {
    // By name: a container whose inputs wait on a secret registers once it resolves.
    const exporters = containers.filter((c) => label(c, "component") === "redis-exporter").sort((a, b) => a.name.localeCompare(b.name));
    expect(exporters.map((e) => [e.name, label(e, "host")])).toEqual([
      ["redis-0-exporter-container", "redis-a"],
      ["redis-1-exporter-container", "redis-b"],
      ["redis-2-exporter-container", "redis-c"],
      ["sentinel-0-exporter-container", "redis-a"],
      ["sentinel-1-exporter-container", "redis-b"],
      ["sentinel-2-exporter-container", "redis-c"],
    ]);
    const env = exporters[3].inputs.envs as string[];
    expect(env).toContain("REDIS_ADDR=rediss://10.20.0.11:26379");
    expect(env).toContain("REDIS_USER=veza-exporter");
    // No password in the environment (docker inspect), no CONFIG GET: the password is a file in the
    // exporter's credentials volume (read-only), written by a command at each rotation step.
    expect(env).toContain("REDIS_EXPORTER_CONFIG_COMMAND=-");
    expect(env.filter((e) => e.startsWith("REDIS_PASSWORD="))).toEqual([]);
    expect(env).toContain("REDIS_PASSWORD_FILE=/run/veza-credentials/redis-exporter-passwords.json");
    expect(exporters[3].inputs.uploads).toBeUndefined();
    expect(exporters[3].inputs.mounts).toEqual([{ type: "volume", source: "veza-sentinel-0-exporter-credentials", target: "/run/veza-credentials", readOnly: true }]);
    expect(result.secretPaths.get(`${CONTAINER}::${exporters[3].name}`) ?? []).toEqual([]);
    const writer = result.unmasked.find((r) => r.name === "sentinel-0-exporter-credentials" && r.type.startsWith("command:"))!;
    expect(result.secretPaths.get(`${writer.type}::${writer.name}`)).toContain("stdin");
    // redis_exporter's password file: URI -> password, with and without the user (its lookup key varies by release).
    const passwords = JSON.parse(/printf '%s' '([^']*)'/.exec(writer.inputs.stdin as string)![1]) as Record<string, string>;
    expect(Object.keys(passwords)).toEqual(["rediss://10.20.0.11:26379", "rediss://veza-exporter@10.20.0.11:26379"]);
    expect(new Set(Object.values(passwords)).size).toBe(1);
  });

  it("puts Prometheus, Alertmanager and Grafana on the prod monitoring host, which holds no Redis process", () => {
    const on = (component: string) => containers.filter((c) => label(c, "component") === component).map((c) => label(c, "host"));
    for (const component of ["prometheus", "alertmanager", "grafana"]) expect(on(component)).toEqual(["monitoring"]);
    expect([...on("redis"), ...on("sentinel"), ...on("redis-exporter")]).not.toContain("monitoring");
  });

  it("mounts the host filesystem read-only into node_exporter on every host, and the backup job's metrics on the backup host", () => {
    const nodeExporters = containers.filter((c) => label(c, "component") === "node-exporter");
    expect(nodeExporters.map((e) => label(e, "host"))).toEqual(["redis-a", "redis-b", "redis-c", "monitoring"]);
    for (const exporter of nodeExporters)
      expect(exporter.inputs.mounts).toEqual([
        expect.objectContaining({ source: "/", target: "/host", readOnly: true }),
        ...(label(exporter, "host") === "monitoring" ? [expect.objectContaining({ target: "/textfile", readOnly: true })] : []),
      ]);
  });

  it("gates Prometheus on promtool check rules and keeps Alertmanager's secrets in secret files", () => {
    const check = byName(result.unmasked, "monitoring-promtool-check-rules");
    expect(check.inputs.create).toBe("docker run --rm --pids-limit 128 -i --entrypoint sh 'veza/prometheus:2.53.3-ds1-2' -s");
    expect(check.inputs.stdin).toContain("promtool check rules /tmp/redis.yml /tmp/slo.yml /tmp/api.yml /tmp/monitoring.yml");
    expect(check.inputs.stdin).toMatch(/promtool test rules \/tmp\/redis\.test\.yml .*\/tmp\/monitoring\.test\.yml/);
    expect(byName(result.unmasked, "monitoring-prometheus-container").dependsOn).toContain("monitoring-promtool-check-rules");
    expect(uploadContent(result.unmasked, byName(result.unmasked, "monitoring-prometheus-container"), "/etc/prometheus/rules/redis.yml")).toContain("alert: RedisUnreachable");
    // The web config, Slack, PagerDuty and the heartbeat URL (the healthcheck holds no credential).
    const alertmanager = configCarrierOf(result.unmasked, byName(result.unmasked, "monitoring-alertmanager-container"))!;
    const files = (result.secretPaths.get(`${CONTAINER}::${alertmanager.name}`) ?? []).map(
      (p) => (alertmanager.inputs.uploads as Array<{ file: string }>)[Number(/^uploads\[(\d+)\]/.exec(p)![1])].file,
    );
    expect(files.sort()).toEqual([
      "/etc/alertmanager/secrets/heartbeat-webhook-url",
      "/etc/alertmanager/secrets/pagerduty-routing-key",
      "/etc/alertmanager/secrets/slack-webhook-url",
      "/etc/alertmanager/web-config.yml",
    ]);
  });

  it("provisions Grafana with the Prometheus datasource and both dashboards, its admin password a secret file", () => {
    const grafana = byName(result.unmasked, "monitoring-grafana-container");
    expect(uploadContent(result.unmasked, grafana, "/etc/grafana/provisioning/datasources/veza.yml")).toContain("url: http://10.20.0.14:9090");
    expect(JSON.parse(uploadContent(result.unmasked, grafana, "/etc/grafana/dashboards/veza-api-overview.json")).title).toBe("Veza API Overview");
    expect(JSON.parse(uploadContent(result.unmasked, grafana, "/etc/grafana/dashboards/veza-redis.json")).title).toBe("Redis");
    expect(grafana.inputs.envs).toContain("GF_SECURITY_ADMIN_PASSWORD__FILE=/etc/grafana/secrets/admin-password");
    const carrier = configCarrierOf(result.unmasked, grafana)!;
    const uploads = carrier.inputs.uploads as Array<{ file: string }>;
    // The admin password, and the datasource (it holds the grafana user's password for Prometheus).
    const secret = ["/etc/grafana/provisioning/datasources/veza.yml", "/etc/grafana/secrets/admin-password"].map((file) => `uploads[${uploads.findIndex((u) => u.file === file)}].content`);
    expect(result.secretPaths.get(`${CONTAINER}::${carrier.name}`)).toEqual(secret);
    // Nothing secret on the container itself.
    expect(result.secretPaths.get(`${CONTAINER}::monitoring-grafana-container`) ?? []).toEqual([]);
  });
});
