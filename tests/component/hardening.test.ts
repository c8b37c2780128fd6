// Container hardening and the alerting endpoints' auth, on the mock outputs of both stacks.
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";
import { BUILT_FIREWALL_IMAGE, firewallImageBuild } from "../../components/images/firewallImage";
import { FIREWALL_TABLE, firewallOwnerToken, renderFirewallRuleset } from "../../components/base/firewall";
import { hostFirewalls } from "../../components/topology/firewalls";
import { BUILT_BACKUP_IMAGE, backupImageBuild } from "../../components/images/backupImage";
import bcrypt from "bcryptjs";
import YAML from "yaml";
import {
  CONFIG_CARRIER_KIND,
  CONFIG_DIGEST_LABEL,
  configCarrierFor,
  configDigest,
  CONTAINER_HARDENING,
  NO_NEW_PRIVILEGES,
  PIDS_LIMIT_SUFFIX,
  pidsLimitCommand,
  type ContainerKind,
} from "../../components/base/hardening";
import { parseSshDockerHost } from "../../components/host/hostCommand";
import { BUILT_REDIS_IMAGE, DEBIAN_BASE_IMAGE, REDIS_DEBIAN_VERSION } from "../../components/images/redisImage";
import { BUILT_API_STANDIN_IMAGE, STANDIN_PYTHON_DEBIAN_VERSION } from "../../components/images/standinImage";
import { MONITORING_IMAGES, monitoringImageBuild } from "../../components/images/monitoringImages";
import { ALERTMANAGER_WEB, healthcheckWithoutCredential, PROMETHEUS_WEB, TLS_DIR, TLS_FILES } from "../../components/monitoring/webConfig";
import { ALERTMANAGER_GATE_PATHS, renderAlertmanagerGateConfig } from "../../components/monitoring/alertmanagerGate";
import { alertmanagerGateImageBuild, BUILT_ALERTMANAGER_GATE_IMAGE } from "../../components/images/alertmanagerGateImage";
import { byName, configCarrierOf, CONTAINER, label, ofType, synthOk, uploadContent, type Resource } from "../helpers/synth";
import type { SynthResult } from "../../scripts/lib/synth";

// One synth per stack for the whole file (each costs seconds).
const synthesized = new Map<string, Promise<SynthResult>>();
const synthOnce = (stack: string) => {
  if (!synthesized.has(stack)) synthesized.set(stack, synthOk(stack));
  return synthesized.get(stack)!;
};

const secretUploads = (result: SynthResult, container: Resource) => {
  const carrier = configCarrierOf(result.unmasked, container)!;
  const uploads = carrier.inputs.uploads as Array<{ file: string }>;
  return (result.secretPaths.get(`${CONTAINER}::${carrier.name}`) ?? [])
    .map((p) => /^uploads\[(\d+)\]\.content$/.exec(p))
    .filter((m) => m !== null)
    .map((m) => uploads[Number(m![1])].file);
};

describe.each(["dev", "prod"])("container hardening (%s stack)", (stack) => {
  let result: SynthResult;
  let containers: Resource[];
  let carriers: Resource[];
  beforeAll(async () => {
    result = await synthOnce(stack);
    // The containers that run; the config carriers only hold their files.
    containers = ofType(result.unmasked, CONTAINER).filter((c) => label(c, "component") !== CONFIG_CARRIER_KIND);
    carriers = ofType(result.unmasked, CONTAINER).filter((c) => label(c, "component") === CONFIG_CARRIER_KIND);
  });

  it("every container drops ALL capabilities and adds back exactly its kind's, with no-new-privileges", () => {
    expect(containers.length).toBeGreaterThan(10);
    for (const container of containers) {
      const kind = label(container, "component") as ContainerKind;
      expect([container.name, container.inputs.capabilities]).toEqual([container.name, { drops: ["ALL"], adds: Object.keys(CONTAINER_HARDENING[kind].capAdd) }]);
      expect([container.name, container.inputs.securityOpts]).toEqual([container.name, [NO_NEW_PRIVILEGES]]);
      expect([container.name, container.inputs.privileged]).toEqual([container.name, undefined]);
    }
  });

  it("only the Redis entry scripts get capabilities back, the ones their root part needs", () => {
    const withCaps = new Set(containers.filter((c) => (c.inputs.capabilities as { adds: string[] }).adds.length > 0).map((c) => label(c, "component")));
    expect([...withCaps].sort()).toEqual(["redis", "sentinel"]);
    expect(Object.keys(CONTAINER_HARDENING.redis.capAdd)).toEqual(["CHOWN", "DAC_OVERRIDE", "KILL", "SETGID", "SETUID"]);
  });

  it("every container has a memory limit without swap and a healthcheck", () => {
    for (const container of containers) {
      expect([container.name, Number(container.inputs.memory) > 0, container.inputs.memorySwap === container.inputs.memory]).toEqual([container.name, true, true]);
      const tests = (container.inputs.healthcheck as { tests?: string[] } | undefined)?.tests ?? [];
      expect([container.name, tests[0]]).toEqual([container.name, "CMD"]);
    }
  });

  it("every container gets its kind's pids limit from a command on its own Docker host, run after it is created and again when it is replaced", () => {
    for (const container of containers) {
      const kind = label(container, "component") as ContainerKind;
      const command = byName(result.unmasked, `${container.name}${PIDS_LIMIT_SUFFIX}`);
      const name = container.inputs.name as string;
      expect(command.inputs.create).toBe(pidsLimitCommand(name, kind));
      // The id last: the mocks' id of the container, so a replacement changes the triggers.
      expect(command.inputs.triggers).toEqual([name, CONTAINER_HARDENING[kind].pidsLimit, `${container.name}-id`]);
      expect(command.dependsOn).toContain(container.name);
      // The same daemon the container's provider talks to: DOCKER_HOST locally, the SSH target otherwise.
      const daemon = byName(result.unmasked, container.options.provider!).inputs.host as string;
      const ssh = parseSshDockerHost(daemon);
      const target = command.inputs.connection as { host: string } | undefined;
      expect([container.name, ssh ? target?.host : (command.inputs.environment as Record<string, string>).DOCKER_HOST]).toEqual([container.name, ssh ? ssh.host : daemon]);
    }
    expect(CONTAINER_HARDENING.redis.pidsLimit).toBe(64);
  });

  it("every container has a read-only root and takes no upload: its files come from its config carrier's volume, mounted read-only", () => {
    for (const container of containers) {
      expect([container.name, container.inputs.readOnly, container.inputs.uploads]).toEqual([container.name, true, undefined]);
    }
    // Redis, Sentinel, Prometheus, Alertmanager, Grafana, blackbox_exporter (TLS on) and the backup job have files; the Redis exporters and the API none.
    const withFiles = containers.filter((c) => configCarrierOf(result.unmasked, c) !== undefined).map((c) => label(c, "component"));
    expect([...new Set(withFiles)].sort()).toEqual(["alertmanager", "alertmanager-gate", "backup", "blackbox-exporter", "grafana", "prometheus", "redis", "sentinel"]);
    expect(carriers.length).toBe(withFiles.length);
    for (const carrier of carriers) {
      const container = containers.find((c) => c.inputs.name === configCarrierFor(carrier.inputs.labels))!;
      const [volumeMount] = carrier.inputs.mounts as Array<{ type: string; source: string; target: string }>;
      // Never started, no network, nothing but the files; every file under the volume's mount point.
      expect(carrier.inputs).toMatchObject({ start: false, mustRun: false, networkMode: "none", image: container.inputs.image, capabilities: { drops: ["ALL"] }, securityOpts: [NO_NEW_PRIVILEGES] });
      for (const upload of carrier.inputs.uploads as Array<{ file: string }>) expect(upload.file.startsWith(`${volumeMount.target}/`)).toBe(true);
      // Its volume carries a digest of what it holds (a changed file replaces it); both are
      // autonamed and created before the old copies go, so no name can clash.
      const uploads = (carrier.inputs.uploads as Array<{ file: string; content: string }>).map(({ file, content }) => ({ file, content }));
      const volume = ofType(result.unmasked, "docker:index/volume:Volume").find((v) => v.name === `${carrier.name}-volume`)!;
      expect(label(volume, CONFIG_DIGEST_LABEL)).toBe(configDigest({ image: container.inputs.image as string, configRoot: volumeMount.target, uploads }));
      expect([carrier.inputs.name, volume.inputs.name, carrier.options.deleteBeforeReplace, volume.options.deleteBeforeReplace]).toEqual([undefined, undefined, false, false]);
      expect(carrier.propertyDependencies?.mounts).toEqual([volume.name]);
      expect(container.inputs.mounts).toContainEqual({ type: "volume", source: volumeMount.source, target: volumeMount.target, readOnly: true });
      // The container is created once its carrier holds the files.
      expect(container.dependsOn).toContain(carrier.name);
    }
  });

  it("builds the Redis image on each host from Debian's patched package, the monitoring images where they run, and tunes the kernel with the Redis image by content ID without the host PID namespace", () => {
    // Every host: the tuning runs it, the monitoring host included.
    const builds = ofType(result.unmasked, "docker:index/image:Image");
    const redisBuilds = builds.filter((b) => b.inputs.imageName === BUILT_REDIS_IMAGE);
    expect(redisBuilds.length).toBe(stack === "dev" ? 1 : 4);
    for (const build of redisBuilds) {
      expect(build.inputs).toMatchObject({
        imageName: BUILT_REDIS_IMAGE,
        skipPush: true,
        build: { context: "images/redis", args: { BASE_IMAGE: DEBIAN_BASE_IMAGE, REDIS_VERSION: REDIS_DEBIAN_VERSION } },
      });
    }
    // The dev API is the stand-in, built the same way; prod deploys the real backend (external).
    const standinBuilds = builds.filter((b) => b.inputs.imageName === BUILT_API_STANDIN_IMAGE);
    expect(standinBuilds.map((b) => b.inputs)).toEqual(
      stack === "dev"
        ? [
            {
              imageName: BUILT_API_STANDIN_IMAGE,
              skipPush: true,
              buildOnPreview: false,
              build: { context: "images/api-standin", args: { BASE_IMAGE: DEBIAN_BASE_IMAGE, PYTHON_VERSION: STANDIN_PYTHON_DEBIAN_VERSION } },
            },
          ]
        : [],
    );
    // Prometheus and Alertmanager on the monitoring host, a redis_exporter on each host with Redis
    // processes: the Debian packages the tests run (images/monitoring), built where they run.
    // blackbox_exporter (tls.enabled, on in both stacks) on the monitoring host only.
    const monitoringBuilds = builds.filter((b) => Object.values(MONITORING_IMAGES).some((image) => image.tag === b.inputs.imageName));
    const perImage = Object.fromEntries(Object.entries(MONITORING_IMAGES).map(([name, image]) => [name, monitoringBuilds.filter((b) => b.inputs.imageName === image.tag).length]));
    expect(perImage).toEqual({ prometheus: 1, alertmanager: 1, redisExporter: stack === "dev" ? 1 : 3, blackboxExporter: 1 });
    for (const build of monitoringBuilds) {
      const image = Object.values(MONITORING_IMAGES).find((i) => i.tag === build.inputs.imageName)!;
      expect(build.inputs).toEqual({ imageName: image.tag, skipPush: true, buildOnPreview: false, build: monitoringImageBuild(image) });
    }
    // The backup job's image (restic, redis-tools) on the backup host alone.
    const backupBuilds = builds.filter((b) => b.inputs.imageName === BUILT_BACKUP_IMAGE);
    expect(backupBuilds.map((b) => b.inputs)).toEqual([{ imageName: BUILT_BACKUP_IMAGE, skipPush: true, buildOnPreview: false, build: backupImageBuild() }]);
    // The firewall's nft (firewall.enabled: prod's ssh hosts) on each data host alone; none in dev (a local Docker).
    const firewallBuilds = builds.filter((b) => b.inputs.imageName === BUILT_FIREWALL_IMAGE);
    expect(firewallBuilds.map((b) => b.inputs)).toEqual(
      Array.from({ length: stack === "dev" ? 0 : 3 }, () => ({ imageName: BUILT_FIREWALL_IMAGE, skipPush: true, buildOnPreview: false, build: firewallImageBuild() })),
    );
    // Alertmanager's gate (nginx) on the monitoring host alone.
    const gateBuilds = builds.filter((b) => b.inputs.imageName === BUILT_ALERTMANAGER_GATE_IMAGE);
    expect(gateBuilds.map((b) => b.inputs)).toEqual([{ imageName: BUILT_ALERTMANAGER_GATE_IMAGE, skipPush: true, buildOnPreview: false, build: alertmanagerGateImageBuild() }]);
    expect(builds.length).toBe(redisBuilds.length + standinBuilds.length + monitoringBuilds.length + backupBuilds.length + firewallBuilds.length + gateBuilds.length);
    // nft runs with NET_ADMIN alone, not privileged, and the images by content ID.
    const declared = hostFirewalls(requireValidStackConfig(readStackConfigFile(stack).raw));
    for (const firewall of result.unmasked.filter((r) => r.name.endsWith("-firewall"))) {
      // The ruleset is its stdin, exactly what the drills apply.
      expect(firewall.inputs.stdin).toBe(renderFirewallRuleset(declared.find((f) => `${f.host}-firewall` === firewall.name)!));
      const owner = firewallOwnerToken(
        firewall.name,
        String(firewall.inputs.connection ? `ssh://deploy@${(firewall.inputs.connection as { host: string }).host}` : "unix:///var/run/docker.sock"),
        (firewall.inputs.connection as { hostKey?: string } | undefined)?.hostKey,
      );
      expect(firewall.inputs.create).toMatch(new RegExp(`--cap-drop ALL --cap-add NET_ADMIN .*--entrypoint nft 'sha256:[0-9a-f]{64}' -D owner=${owner} -f -`));
      expect(firewall.inputs.create).not.toContain("--privileged");
      expect(firewall.inputs.delete).toContain(`*"elements = { 0x${owner.toString(16).padStart(8, "0")} }"*) nft delete table inet ${FIREWALL_TABLE}`);
      // Deleted before its replacement applies the table again; skipped when its host goes too.
      expect(firewall.options.deleteBeforeReplace).toBe(true);
    }
    const tunings = result.unmasked.filter((r) => r.name.endsWith("-kernel-tuning"));
    for (const tuning of tunings) {
      expect(tuning.inputs.create).toMatch(/--entrypoint sh 'sha256:[0-9a-f]{64}' -s/);
      expect(tuning.inputs.create).not.toMatch(/--pid[ =]/);
    }
  });
});

describe("alerting endpoints behind basic auth (prod stack)", () => {
  let result: SynthResult;
  let prometheus: Resource;
  let alertmanager: Resource;
  let gate: Resource;
  let grafana: Resource;
  const password = (name: string) => `synthpw${name.replace(/[^a-zA-Z0-9]/g, "")}`;
  beforeAll(async () => {
    result = await synthOnce("prod");
    prometheus = byName(result.unmasked, "monitoring-prometheus-container");
    alertmanager = byName(result.unmasked, "monitoring-alertmanager-container");
    gate = byName(result.unmasked, "monitoring-alertmanager-gate-container");
    grafana = byName(result.unmasked, "monitoring-grafana-container");
  });

  it("Prometheus and Alertmanager run with a web config of bcrypt hashes of the generated passwords, uploaded as secrets", () => {
    expect(prometheus.inputs.command).toContain(`--web.config.file=${PROMETHEUS_WEB.config}`);
    expect((alertmanager.inputs.entrypoints as string[]).join(" ")).toContain(`--web.config.file=${ALERTMANAGER_WEB.config}`);
    const users = (container: Resource, file: string) => YAML.parse(uploadContent(result.unmasked, container, file)).basic_auth_users as Record<string, string>;
    // Basic auth has no roles: each server lists only the clients that need it (Grafana reads Prometheus only).
    expect(Object.keys(users(prometheus, PROMETHEUS_WEB.config)).sort()).toEqual(["grafana", "operator", "prometheus"]);
    // Alertmanager lists its gate alone, and listens on the loopback; the gate checks the clients' passwords.
    expect(Object.keys(users(alertmanager, ALERTMANAGER_WEB.config)).sort()).toEqual(["alertmanager-gate"]);
    expect((alertmanager.inputs.entrypoints as string[]).join(" ")).toContain("--web.listen-address=127.0.0.1:9193 ");
    const htpasswd = Object.fromEntries(
      uploadContent(result.unmasked, gate, ALERTMANAGER_GATE_PATHS.htpasswd)
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)]),
    );
    expect(Object.keys(htpasswd).sort()).toEqual(["operator", "prometheus"]);
    for (const [user, hash] of Object.entries(htpasswd)) expect(bcrypt.compareSync(password(`monitoring-web-${user}-password`), hash)).toBe(true);
    const gateCredential = Buffer.from(`alertmanager-gate:${password("monitoring-web-alertmanagerGate-password")}`).toString("base64");
    expect(uploadContent(result.unmasked, gate, ALERTMANAGER_GATE_PATHS.upstreamAuthorization)).toBe(`proxy_set_header Authorization "Basic ${gateCredential}";\n`);
    expect(uploadContent(result.unmasked, gate, ALERTMANAGER_GATE_PATHS.config)).toBe(renderAlertmanagerGateConfig({ listenAddress: "10.20.0.14", listenPort: 9093, loopbackPort: 9193, tls: false }));
    expect(secretUploads(result, gate).sort()).toEqual([ALERTMANAGER_GATE_PATHS.htpasswd, ALERTMANAGER_GATE_PATHS.upstreamAuthorization]);
    expect(gate.dependsOn).toContain("monitoring-alertmanager-container");
    // Alertmanager's replacement frees the port only once the gate's image is built: the gate takes it at once.
    expect(alertmanager.dependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/-image-veza-alertmanager-gate-nginx-/)]));
    expect(bcrypt.compareSync(password("monitoring-web-alertmanagerGate-password"), users(alertmanager, ALERTMANAGER_WEB.config)["alertmanager-gate"])).toBe(true);
    expect(secretUploads(result, prometheus)).toEqual(expect.arrayContaining([PROMETHEUS_WEB.config, PROMETHEUS_WEB.clientPassword]));
    expect(secretUploads(result, alertmanager)).toEqual(expect.arrayContaining([ALERTMANAGER_WEB.config]));
    expect(result.plan.outputs.monitoringOperatorPassword).toBe("[secret]");
  });

  it("Prometheus sends alerts to and scrapes Alertmanager with its own credentials, from a file", () => {
    const config = YAML.parse(uploadContent(result.unmasked, prometheus, "/etc/prometheus/prometheus.yml"));
    const auth = { basic_auth: { username: "prometheus", password_file: PROMETHEUS_WEB.clientPassword } };
    expect(config.alerting.alertmanagers[0]).toMatchObject(auth);
    for (const job of ["alertmanager", "prometheus"]) expect(config.scrape_configs.find((j: { job_name: string }) => j.job_name === job)).toMatchObject(auth);
    expect(uploadContent(result.unmasked, prometheus, PROMETHEUS_WEB.clientPassword)).toBe(password("monitoring-web-prometheus-password"));
  });

  it("Grafana's datasource authenticates as grafana; the file holding the password is a secret upload", () => {
    const datasource = YAML.parse(uploadContent(result.unmasked, grafana, "/etc/grafana/provisioning/datasources/veza.yml")).datasources[0];
    expect(datasource).toMatchObject({ url: "http://10.20.0.14:9090", basicAuth: true, basicAuthUser: "grafana", secureJsonData: { basicAuthPassword: password("monitoring-web-grafana-password") } });
    expect(secretUploads(result, grafana)).toContain("/etc/grafana/provisioning/datasources/veza.yml");
  });

  it("healthchecks hold no credential (a password there could silence every alert): they probe /-/healthy and take 401 as up", () => {
    for (const container of [prometheus, alertmanager]) {
      const test = (container.inputs.healthcheck as { tests: string[] }).tests;
      const url = /http:\/\/[\d.]+:\d+\/-\/healthy/.exec(test.join(" "))?.[0] ?? "no /-/healthy URL";
      expect(test).toEqual(healthcheckWithoutCredential(url));
      expect(test.join(" ")).not.toMatch(/Authorization|secrets|synthpw/);
    }
    // The gate's: its open /-/healthy, 200 only when Alertmanager answers behind it.
    expect((gate.inputs.healthcheck as { tests: string[] }).tests).toEqual(["CMD", "wget", "-q", "-O", "/dev/null", "http://10.20.0.14:9093/-/healthy"]);
  });

  it("with monitoring.tls*, serves HTTPS from the mounted files and the clients verify with the CA", async () => {
    const tls = await synthOk("prod", ["monitoring.tlsCertFile=/etc/veza/tls/cert.pem", "monitoring.tlsKeyFile=/etc/veza/tls/key.pem", "monitoring.tlsCaFile=/etc/veza/tls/ca.pem"]);
    const p = byName(tls.unmasked, "monitoring-prometheus-container");
    expect(YAML.parse(uploadContent(tls.unmasked, p, PROMETHEUS_WEB.config)).tls_server_config).toMatchObject({ cert_file: TLS_FILES.cert, key_file: TLS_FILES.key });
    expect(p.inputs.mounts).toEqual(expect.arrayContaining([{ type: "bind", source: "/etc/veza/tls/key.pem", target: TLS_FILES.key, readOnly: true }]));
    expect(YAML.parse(uploadContent(tls.unmasked, p, "/etc/prometheus/prometheus.yml")).alerting.alertmanagers[0]).toMatchObject({ scheme: "https", tls_config: { ca_file: TLS_FILES.ca } });
    // The gate serves HTTPS on Alertmanager's port; Alertmanager itself, on the loopback, plain HTTP and no TLS files.
    const gateTls = byName(tls.unmasked, "monitoring-alertmanager-gate-container");
    expect(uploadContent(tls.unmasked, gateTls, ALERTMANAGER_GATE_PATHS.config)).toContain("listen 10.20.0.14:9093 ssl;\n");
    expect(uploadContent(tls.unmasked, gateTls, ALERTMANAGER_GATE_PATHS.config)).toContain(`ssl_certificate ${TLS_FILES.cert};\n    ssl_certificate_key ${TLS_FILES.key};`);
    const tlsMountsOf = (container: Resource) => (container.inputs.mounts as Array<{ target: string }>).map((mount) => mount.target).filter((target) => target.startsWith(TLS_DIR));
    expect(tlsMountsOf(gateTls).sort()).toEqual([TLS_FILES.cert, TLS_FILES.key]);
    const am = byName(tls.unmasked, "monitoring-alertmanager-container");
    expect(YAML.parse(uploadContent(tls.unmasked, am, ALERTMANAGER_WEB.config)).tls_server_config).toBeUndefined();
    expect(tlsMountsOf(am)).toEqual([]);
    const g = byName(tls.unmasked, "monitoring-grafana-container");
    expect(g.inputs.envs).toContain(`SSL_CERT_FILE=${TLS_FILES.ca}`);
    expect(YAML.parse(uploadContent(tls.unmasked, g, "/etc/grafana/provisioning/datasources/veza.yml")).datasources[0].url).toBe("https://10.20.0.14:9090");
  });
});

describe("the data hosts' firewall (prod stack)", () => {
  it("comes before every Redis and Sentinel container of the stack and its host's node_exporter, and no host of the monitoring role gets one", async () => {
    const result = await synthOnce("prod");
    const firewalls = result.unmasked.filter((r) => r.name.endsWith("-firewall")).map((r) => r.name);
    expect(firewalls).toEqual(["redis-a-firewall", "redis-b-firewall", "redis-c-firewall"]);
    const redisFamily = result.unmasked.filter((r) => r.type === "docker:index/container:Container" && /^veza-(redis|sentinel)-\d+$/.test(String(r.inputs.name)));
    expect(redisFamily).toHaveLength(6);
    for (const container of redisFamily) {
      // Its host is the one whose kernel tuning it waits for.
      const host = container.dependsOn.find((name) => name.endsWith("-kernel-tuning"))!.replace(/-kernel-tuning$/, "");
      expect(container.dependsOn).toContain(`${host}-firewall`);
      // And every other data host's: its peers admit it before it starts.
      expect(firewalls.filter((name) => !container.dependsOn.includes(name))).toEqual([]);
    }
    // The exporters on a data host start behind its firewall too: redis_exporter after the Redis
    // containers, node_exporter after the firewall itself.
    for (const host of ["redis-a", "redis-b", "redis-c"]) expect(result.unmasked.find((r) => r.name === `node-exporter-${host}-container`)!.dependsOn).toContain(`${host}-firewall`);
  });
});
