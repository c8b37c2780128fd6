import { isIP } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import type { StackConfig } from "../config/types";
import type { DockerHost } from "../host/DockerHost";
import { dockerRunStdinScript, hostCommand, type SshAccess, type HostCommand } from "../host/hostCommand";
import { toEnvList } from "../api/env";
import { containerLabels, volumeWriterRunFlags, LOG_OPTIONS, RESTART_POLICY } from "../host/containerDefaults";
import type { RedisCredentials } from "../redis/RedisCredentials";
import type { StackModel } from "../topology/model";
import { ALERTMANAGER_SECRET_FILES, renderAlertmanagerStartScript } from "./alertmanagerConfig";
import { buildDashboards, dashboardFile, GRAFANA_PATHS, renderGrafanaProvisioning } from "./dashboards";
import { PROMETHEUS_CONFIG_PATH, RULES_DIR } from "./prometheusConfig";
import { renderMonitoringFiles, renderPromtoolCheckScript } from "./render";
import { toYaml } from "./redisRules";
import { EXPORTER_CREDENTIALS_DIR, EXPORTER_IMAGE_USER, EXPORTER_TLS_FILES, EXPORTER_PASSWORD_FILE_NAME, exporterEnv, renderExporterPasswordFile, renderExporterReloadCommand } from "./redisExporter";
import { clientTlsVolumeFiles, renderVolumeFilesScript } from "../topology/credentialScripts";
import { CERTIFICATES_TRIGGER_LABEL, type ClientTlsMaterial } from "../tls/certificates";
import { certificateTriggers } from "../tls/StackCertificates";
import { BLACKBOX_CONFIG_PATH, BLACKBOX_CREDENTIALS_DIR, BLACKBOX_TLS_FILES, CERTIFICATE_TEXTFILE_NAME, renderBlackboxConfig, renderCertificateExpiryTextfile } from "./certificateRules";
import { NODE_EXPORTER_TEXTFILE_VOLUME } from "../backup/Backup";
import { MONITORING_IMAGES } from "../images/monitoringImages";
import { holdsMarker } from "../redis/rotation";
import { shellQuote } from "../base/shell";
import { hardenedContainerArgs, type ContainerKind } from "../base/hardening";
import { ALERTMANAGER_WEB, healthcheckWithoutCredential, PROMETHEUS_WEB, renderWebConfig, TLS_FILES, WEB_USERS, type WebUser } from "./webConfig";
import { hardenedContainer } from "../host/hardenedContainer";
import { ALERTMANAGER_GATE_COMMAND, ALERTMANAGER_GATE_PATHS, renderAlertmanagerGateConfig, renderGateHtpasswd, renderGateUpstreamAuthorization } from "./alertmanagerGate";
import { BUILT_ALERTMANAGER_GATE_IMAGE } from "../images/alertmanagerGateImage";
import type { HostConfig } from "../config/types";
import { NODE_EXPORTER_TEXTFILE_DIR } from "../backup/backupJob";

export const ALERTMANAGER_CONFIG_PATH = "/etc/alertmanager/alertmanager.yml";
/** Written by the start script: alertmanager.yml with the heartbeat URL in place (on the data volume). */
export const RENDERED_ALERTMANAGER_CONFIG_PATH = "/alertmanager/alertmanager.yml";
/** Where alerts go when a dev stack has no Slack/PagerDuty secrets: nowhere, loudly in the logs. */
export const UNCONFIGURED_WEBHOOK = "http://127.0.0.1:9/alerting-secrets-not-configured";

export interface MonitoringArgs {
  config: StackConfig;
  /** Placement and sizing, computed once for the stack. */
  model: StackModel;
  dockerHosts: Map<string, DockerHost>;
  credentials: RedisCredentials;
  slackWebhookUrl?: pulumi.Output<string>;
  pagerdutyRoutingKey?: pulumi.Output<string>;
  /** The dead man's switch Watchdog is sent to every minute. */
  heartbeatWebhookUrl?: pulumi.Output<string>;
  /** The Redis resources the exporters watch (they start after them), with the servers' live credential applies. */
  redisResources: pulumi.Resource[];
  /** The backup job's metrics volume: that host's node_exporter reads it (textfile collector). */
  backupMetrics?: { host: string; volume: docker.Volume; job: pulumi.Resource };
  /** With TLS on: the exporters' and the expiry probe's client material (StackCertificates). SECRET. */
  tls?: {
    exporter: pulumi.Output<ClientTlsMaterial>;
    probe: pulumi.Output<ClientTlsMaterial>;
    /** Every client certificate's end: written for the monitoring host's node_exporter (no server shows them). */
    clientExpiries: pulumi.Output<Array<{ name: string; notAfter: string }>>;
  };
  ssh: SshAccess;
}

/**
 * Prometheus with the generated rules, Alertmanager with the page/ticket routes, a redis_exporter
 * per Redis and Sentinel process (least-privilege exporter user) and node_exporter per host.
 * `promtool check rules` runs before Prometheus is created or replaced, so `pulumi up` stops on
 * an invalid rule before touching the running Prometheus.
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly prometheus: docker.Container;
  readonly alertmanager: docker.Container;
  /** nginx on Alertmanager's public port: each client's password and permissions (alertmanagerGate.ts). */
  readonly alertmanagerGate: docker.Container;
  readonly grafana: docker.Container;
  /** The operator's basic-auth password for Prometheus and Alertmanager (amtool, the web UIs). */
  readonly operatorPassword: pulumi.Output<string>;
  /** Each exporter's password file command: the rotation's record waits for them (stack.ts). */
  readonly exporterCredentials: HostCommand[] = [];

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:monitoring:Monitoring", name, {}, opts);
    const { config, model, dockerHosts } = args;
    const m = config.monitoring;
    const files = renderMonitoringFiles(config, model);
    // Every container here gets its pids limit right after it is created (hardening.ts).
    const limited = (kind: ContainerKind, host: HostConfig) => ({ kind, host, ssh: args.ssh });
    const smallContainer = (hostName: string, component: ContainerKind) => ({
      // Capabilities, no-new-privileges, read-only root (components/base/hardening.ts).
      ...hardenedContainerArgs(component),
      networkMode: "host",
      restart: RESTART_POLICY,
      memory: 128,
      memorySwap: 128,
      logDriver: "json-file",
      logOpts: LOG_OPTIONS,
      labels: containerLabels({ component, environment: config.environment, host: hostName }),
    });

    const exporterTls: pulumi.Output<ClientTlsMaterial | undefined> = args.tls?.exporter ?? pulumi.output(undefined);
    const exporterTlsFiles = args.tls ? EXPORTER_TLS_FILES : undefined;
    for (const exporter of files.exporters) {
      const host = dockerHosts.get(exporter.host.name)!;
      const hostConfig = config.hosts.find((h) => h.name === exporter.host.name)!;
      const image = host.image(m.redisExporterImage);
      // The password file lives in a volume, written before the exporter first starts and again at
      // each rotation step (then the running exporter re-reads it on /-/reload): no upload, so a
      // new password never replaces the exporter.
      const credentialsVolume = new docker.Volume(
        `${exporter.name}-credentials-volume`,
        {
          name: `veza-${exporter.name}-credentials`,
          labels: [{ label: "veza.component", value: "redis-exporter-credentials" }],
        },
        { parent: this, provider: host.provider },
      );
      const credentials = hostCommand(
        `${exporter.name}-credentials`,
        hostConfig,
        {
          create: credentialsVolume.name.apply((volume) =>
            [
              // Root only to hand the file to the exporter's uid (CHOWN); nothing else.
              dockerRunStdinScript(m.redisExporterImage, ["--user 0:0", "--network none", "--cap-drop ALL", "--cap-add CHOWN", "--security-opt no-new-privileges", `-v ${shellQuote(`${volume}:/c`)}`]),
              renderExporterReloadCommand(exporter.name, exporter),
            ].join(" && "),
          ),
          stdin: pulumi.secret(
            pulumi
              .all([args.credentials.passwords.exporter, exporterTls])
              .apply(([password, tls]) =>
                renderVolumeFilesScript(
                  "/c",
                  { [EXPORTER_PASSWORD_FILE_NAME]: renderExporterPasswordFile(exporter, password, exporterTlsFiles), ...(tls ? clientTlsVolumeFiles(EXPORTER_TLS_FILES, tls) : {}) },
                  EXPORTER_IMAGE_USER,
                ),
              ),
          ),
          // The marker first (the rotation record reads the leading ones), then the certificates' label and fingerprint.
          triggers: [holdsMarker(exporter.name, args.credentials.rotation, ["exporter"]), ...certificateTriggers(args.tls?.exporter)],
          // After every server's live apply (redisResources holds them): at `switch` the exporter
          // moves to the new password only once every node and sentinel accepts it.
        },
        args.ssh,
        { parent: this, dependsOn: [image, credentialsVolume, ...args.redisResources] },
      );
      this.exporterCredentials.push(credentials);
      hardenedContainer(
        limited("redis-exporter", hostConfig),
        `${exporter.name}-container`,
        {
          name: `veza-${exporter.name}`,
          image: image.imageId,
          // No password in the environment (docker inspect): it is read from the credentials volume.
          envs: toEnvList(exporterEnv(exporter, exporterTlsFiles)),
          mounts: [{ type: "volume", source: credentialsVolume.name, target: EXPORTER_CREDENTIALS_DIR, readOnly: true }],
          // wget: busybox's in the built image (images/monitoring), as in the upstream -alpine one.
          healthcheck: { tests: ["CMD", "wget", "-q", "-O", "/dev/null", `http://${exporter.host.bindAddress}:${exporter.port}/health`], interval: "15s", timeout: "5s", retries: 3 },
          ...smallContainer(exporter.host.name, "redis-exporter"),
        },
        { parent: this, provider: host.provider, dependsOn: [...args.redisResources, credentials], deleteBeforeReplace: true },
      );
    }

    const certificateExpiries = args.tls ? this.declareCertificateTextfile(name, args, args.tls.clientExpiries) : undefined;
    for (const hostConfig of config.hosts) {
      const host = dockerHosts.get(hostConfig.name)!;
      // The textfile collector's directory: the backup job's metrics, and with TLS on the client
      // certificates' ends on the monitoring host (the same volume where both are there).
      const backupHere = args.backupMetrics?.host === hostConfig.name ? args.backupMetrics : undefined;
      const certificatesHere = hostConfig.name === m.host ? certificateExpiries : undefined;
      const textfile = backupHere ?? certificatesHere;
      hardenedContainer(
        limited("node-exporter", hostConfig),
        `node-exporter-${hostConfig.name}-container`,
        {
          name: "veza-node-exporter",
          image: host.image(m.nodeExporterImage).imageId,
          command: [
            "--path.rootfs=/host",
            `--web.listen-address=${hostConfig.bindAddress}:${m.nodeExporterPort}`,
            ...(textfile ? [`--collector.textfile.directory=${NODE_EXPORTER_TEXTFILE_DIR}`] : []),
          ],
          pidMode: "host",
          // The host's filesystems, read-only: the disk-full alerts read the Redis data filesystem here.
          mounts: [
            { type: "bind", source: "/", target: "/host", readOnly: true, bindOptions: { propagation: "rslave" } },
            ...(textfile ? [{ type: "volume", source: textfile.volume.name, target: NODE_EXPORTER_TEXTFILE_DIR, readOnly: true }] : []),
          ],
          healthcheck: { tests: ["CMD", "wget", "-q", "-O", "/dev/null", `http://${hostConfig.bindAddress}:${m.nodeExporterPort}/`], interval: "15s", timeout: "5s", retries: 3 },
          ...smallContainer(hostConfig.name, "node-exporter"),
        },
        // After the job: the volume takes its owner from the job's image at the first mount. After
        // the host's firewall, which guards its port on a data host from its first start.
        {
          parent: this,
          provider: host.provider,
          deleteBeforeReplace: true,
          dependsOn: [...(host.firewall ? [host.firewall] : []), ...(backupHere ? [backupHere.job] : []), ...(certificatesHere ? [certificatesHere.job] : [])],
        },
      );
    }

    const monitoringHostConfig = config.hosts.find((h) => h.name === m.host)!;
    const monitoringHost = dockerHosts.get(m.host)!;
    // The rules travel on stdin (a script that writes them and runs promtool): a rule change shows
    // up in a preview as the changed lines, and re-runs the check.
    // ... and the promtool cases shipped beside them must pass on the image's own promtool.
    const rulesCheck = hostCommand(
      `${name}-promtool-check-rules`,
      monitoringHostConfig,
      {
        create: dockerRunStdinScript(m.prometheusImage),
        stdin: renderPromtoolCheckScript(files.ruleFiles, files.ruleTestFiles),
      },
      args.ssh,
      { parent: this, dependsOn: [monitoringHost.image(m.prometheusImage)] },
    );

    // Basic auth on Prometheus and Alertmanager: one generated password per client. The web
    // configs hold the provider's bcrypt hashes (computed once, kept in state: no diff per run).
    const webPasswords = Object.fromEntries(
      (Object.keys(WEB_USERS) as WebUser[]).map((user) => [user, new random.RandomPassword(`${name}-web-${user}-password`, { length: 32, special: false }, { parent: this })]),
    ) as Record<WebUser, random.RandomPassword>;
    this.operatorPassword = webPasswords.operator.result;
    const tls = m.tls !== undefined;
    const scheme = tls ? "https" : "http";
    const webConfig = (users: WebUser[], servesTls = tls) =>
      pulumi.secret(pulumi.all(users.map((u) => webPasswords[u].bcryptHash)).apply((hashes) => renderWebConfig(Object.fromEntries(users.map((u, i) => [u, hashes[i]])), servesTls)));
    // The host's TLS files, read-only, where the web configs and clients expect them.
    const tlsMounts: docker.types.input.ContainerMount[] = m.tls
      ? (
          [
            ["certFile", TLS_FILES.cert],
            ["keyFile", TLS_FILES.key],
            ["caFile", TLS_FILES.ca],
          ] as const
        ).map(([key, target]) => ({ type: "bind", source: m.tls![key], target, readOnly: true }))
      : [];

    const prometheusData = new docker.Volume(`${name}-prometheus-data`, { name: "veza-prometheus-data" }, { parent: this, provider: monitoringHost.provider });
    this.prometheus = hardenedContainer(
      limited("prometheus", monitoringHostConfig),
      `${name}-prometheus-container`,
      {
        name: "veza-prometheus",
        image: monitoringHost.image(m.prometheusImage).imageId,
        command: [
          `--config.file=${PROMETHEUS_CONFIG_PATH}`,
          "--storage.tsdb.path=/prometheus",
          "--storage.tsdb.retention.time=30d",
          `--web.listen-address=${monitoringHostConfig.bindAddress}:${m.prometheusPort}`,
          `--web.config.file=${PROMETHEUS_WEB.config}`,
        ],
        mounts: [{ type: "volume", source: prometheusData.name, target: "/prometheus" }, ...tlsMounts],
        healthcheck: { tests: healthcheckWithoutCredential(`${scheme}://${monitoringHostConfig.bindAddress}:${m.prometheusPort}/-/healthy`), interval: "15s", timeout: "5s", retries: 3 },
        ...smallContainer(m.host, "prometheus"),
        memory: 1024,
        memorySwap: 1024,
      },
      { parent: this, provider: monitoringHost.provider, dependsOn: [rulesCheck], deleteBeforeReplace: true },
      [
        // Read-only at the kind's config root, from its config carrier (host/hardenedContainer.ts).
        { file: PROMETHEUS_CONFIG_PATH, content: files.prometheusYml },
        { file: PROMETHEUS_WEB.config, content: webConfig(["prometheus", "grafana", "operator"]) },
        { file: PROMETHEUS_WEB.clientPassword, content: pulumi.secret(webPasswords.prometheus.result) },
        ...Object.entries({ ...files.ruleFiles, ...files.ruleTestFiles }).map(([file, content]) => ({ file: `${RULES_DIR}/${file}`, content })),
      ],
    );

    // Alertmanager listens on the host's 127.0.0.1 and lists one user, its gate's: basic auth has
    // no roles, so a client it listed could create and expire silences whatever its job.
    const alertmanagerLoopback = `127.0.0.1:${m.alertmanagerLoopbackPort}`;
    const alertmanagerData = new docker.Volume(`${name}-alertmanager-data`, { name: "veza-alertmanager-data" }, { parent: this, provider: monitoringHost.provider });
    this.alertmanager = hardenedContainer(
      limited("alertmanager", monitoringHostConfig),
      `${name}-alertmanager-container`,
      {
        name: "veza-alertmanager",
        image: monitoringHost.image(m.alertmanagerImage).imageId,
        // The start script writes the config with the heartbeat URL from its secret file.
        entrypoints: [
          "/bin/sh",
          "-c",
          renderAlertmanagerStartScript(ALERTMANAGER_CONFIG_PATH, RENDERED_ALERTMANAGER_CONFIG_PATH, [
            "--storage.path=/alertmanager",
            `--web.listen-address=${alertmanagerLoopback}`,
            // A single Alertmanager: no gossip port listening on every interface.
            "--cluster.listen-address=",
            `--web.config.file=${ALERTMANAGER_WEB.config}`,
          ]),
        ],
        mounts: [{ type: "volume", source: alertmanagerData.name, target: "/alertmanager" }],
        healthcheck: { tests: healthcheckWithoutCredential(`http://${alertmanagerLoopback}/-/healthy`), interval: "15s", timeout: "5s", retries: 3 },
        ...smallContainer(m.host, "alertmanager"),
      },
      // After the gate's image is built: Alertmanager's replacement frees the public port, and the
      // gate must then take it at once, not after a build (a failed build would leave it dark).
      { parent: this, provider: monitoringHost.provider, deleteBeforeReplace: true, dependsOn: [monitoringHost.image(BUILT_ALERTMANAGER_GATE_IMAGE)] },
      [
        // Read-only at the kind's config root, from its config carrier (host/hardenedContainer.ts).
        { file: ALERTMANAGER_CONFIG_PATH, content: files.alertmanagerYml },
        // Plain HTTP on the loopback: the gate serves HTTPS to the clients when monitoring.tls* is set.
        { file: ALERTMANAGER_WEB.config, content: webConfig(["alertmanagerGate"], false) },
        { file: ALERTMANAGER_SECRET_FILES.slackWebhookUrl, content: pulumi.secret(args.slackWebhookUrl ?? UNCONFIGURED_WEBHOOK) },
        { file: ALERTMANAGER_SECRET_FILES.pagerdutyRoutingKey, content: pulumi.secret(args.pagerdutyRoutingKey ?? "not-configured") },
        { file: ALERTMANAGER_SECRET_FILES.heartbeatWebhookUrl, content: pulumi.secret(args.heartbeatWebhookUrl ?? UNCONFIGURED_WEBHOOK) },
      ],
    );

    // The gate takes Alertmanager's public port: after Alertmanager, so that a stack that moves
    // Alertmanager to the loopback (a replacement that deletes first) has freed the port.
    const gateUrl = `${scheme}://${monitoringHostConfig.bindAddress}:${m.alertmanagerPort}`;
    this.alertmanagerGate = hardenedContainer(
      limited("alertmanager-gate", monitoringHostConfig),
      `${name}-alertmanager-gate-container`,
      {
        name: "veza-alertmanager-gate",
        image: monitoringHost.image(BUILT_ALERTMANAGER_GATE_IMAGE).imageId,
        entrypoints: ALERTMANAGER_GATE_COMMAND,
        mounts: tlsMounts.filter((mount) => mount.target !== TLS_FILES.ca),
        // Healthy when the open path answers 200 through the gate: nginx and Alertmanager both up.
        healthcheck: { tests: ["CMD", "wget", "-q", "-O", "/dev/null", `${gateUrl}/-/healthy`], interval: "15s", timeout: "5s", retries: 3 },
        ...smallContainer(m.host, "alertmanager-gate"),
        memory: 64,
        memorySwap: 64,
      },
      { parent: this, provider: monitoringHost.provider, dependsOn: [this.alertmanager], deleteBeforeReplace: true },
      [
        {
          file: ALERTMANAGER_GATE_PATHS.config,
          content: renderAlertmanagerGateConfig({
            listenAddress: monitoringHostConfig.bindAddress,
            listenPort: m.alertmanagerPort,
            loopbackPort: m.alertmanagerLoopbackPort,
            tls,
            // Prometheus sends to the host's address: when it is an IP, that is where it comes from.
            hostAddresses: isIP(monitoringHostConfig.address) ? [monitoringHostConfig.address] : [],
          }),
        },
        {
          file: ALERTMANAGER_GATE_PATHS.htpasswd,
          content: pulumi.secret(pulumi.all([webPasswords.prometheus.bcryptHash, webPasswords.operator.bcryptHash]).apply(([prometheus, operator]) => renderGateHtpasswd({ prometheus, operator }))),
        },
        {
          file: ALERTMANAGER_GATE_PATHS.upstreamAuthorization,
          content: pulumi.secret(webPasswords.alertmanagerGate.result.apply((password) => renderGateUpstreamAuthorization(WEB_USERS.alertmanagerGate, password))),
        },
      ],
    );

    if (args.tls) this.declareCertificateProbe(name, args, monitoringHostConfig, monitoringHost, args.tls.probe, limited, smallContainer);

    // Grafana: the Prometheus datasource and the dashboards, provisioned from files; the admin
    // password is generated and read from a secret file (GF_..._FILE), never an env value.
    const grafanaPassword = new random.RandomPassword(`${name}-grafana-admin-password`, { length: 32, special: false }, { parent: this });
    const prometheusUrl = `${scheme}://${files.scrape.prometheus}`;
    const provisioning = renderGrafanaProvisioning(prometheusUrl);
    // The datasource holds the grafana user's password: a secret upload.
    const datasources = pulumi.secret(webPasswords.grafana.result.apply((password) => toYaml(renderGrafanaProvisioning(prometheusUrl, { user: WEB_USERS.grafana, password }).datasources)));
    const dashboards = buildDashboards({ sizing: model.sizing, slo: m.slo });
    const grafanaData = new docker.Volume(`${name}-grafana-data`, { name: "veza-grafana-data" }, { parent: this, provider: monitoringHost.provider });
    this.grafana = hardenedContainer(
      limited("grafana", monitoringHostConfig),
      `${name}-grafana-container`,
      {
        name: "veza-grafana",
        image: monitoringHost.image(m.grafanaImage).imageId,
        envs: [
          `GF_SERVER_HTTP_ADDR=${monitoringHostConfig.bindAddress}`,
          `GF_SERVER_HTTP_PORT=${m.grafanaPort}`,
          `GF_SERVER_ROOT_URL=${files.grafanaUrl}`,
          "GF_SECURITY_ADMIN_USER=admin",
          `GF_SECURITY_ADMIN_PASSWORD__FILE=${GRAFANA_PATHS.adminPassword}`,
          "GF_USERS_ALLOW_SIGN_UP=false",
          "GF_AUTH_ANONYMOUS_ENABLED=false",
          "GF_ANALYTICS_REPORTING_ENABLED=false",
          "GF_ANALYTICS_CHECK_FOR_UPDATES=false",
          // The image also logs to /var/log/grafana, on the read-only root: the console only.
          "GF_LOG_MODE=console",
          // Go reads its trust roots from here: the datasource then verifies Prometheus's certificate.
          ...(tls ? [`SSL_CERT_FILE=${TLS_FILES.ca}`] : []),
        ],
        mounts: [{ type: "volume", source: grafanaData.name, target: "/var/lib/grafana" }, ...tlsMounts.filter((mount) => mount.target === TLS_FILES.ca)],
        healthcheck: { tests: ["CMD", "wget", "-qO-", `http://${monitoringHostConfig.bindAddress}:${m.grafanaPort}/api/health`], interval: "15s", timeout: "5s", retries: 3 },
        ...smallContainer(m.host, "grafana"),
        memory: 256,
        memorySwap: 256,
      },
      { parent: this, provider: monitoringHost.provider, dependsOn: [this.prometheus], deleteBeforeReplace: true },
      [
        // Read-only at the kind's config root, from its config carrier (host/hardenedContainer.ts).
        { file: GRAFANA_PATHS.datasources, content: datasources },
        { file: GRAFANA_PATHS.dashboardProvider, content: toYaml(provisioning.dashboardProvider) },
        { file: dashboardFile("api"), content: `${JSON.stringify(dashboards.api, null, 2)}\n` },
        { file: dashboardFile("redis"), content: `${JSON.stringify(dashboards.redis, null, 2)}\n` },
        { file: GRAFANA_PATHS.adminPassword, content: pulumi.secret(grafanaPassword.result) },
      ],
    );

    this.registerOutputs({ prometheus: files.scrape.prometheus, alertmanager: files.scrape.alertmanager, grafana: files.grafanaUrl });
  }

  /**
   * blackbox_exporter on the monitoring host: Prometheus has it probe every Redis and Sentinel
   * endpoint with mutual TLS and a PING (certificateRules.ts), with the probe role's certificate.
   * Its TLS files live in a volume, written before it starts and again at each reissue; it reads
   * them at every probe, so a renewal restarts nothing.
   */
  private declareCertificateProbe(
    name: string,
    args: MonitoringArgs,
    hostConfig: HostConfig,
    host: DockerHost,
    probe: pulumi.Output<ClientTlsMaterial>,
    limited: (kind: ContainerKind, host: HostConfig) => { kind: ContainerKind; host: HostConfig; ssh: SshAccess },
    smallContainer: (hostName: string, component: ContainerKind) => Record<string, unknown>,
  ): void {
    const m = args.config.monitoring;
    const image = host.image(m.blackboxExporterImage);
    const volume = new docker.Volume(
      `${name}-blackbox-credentials-volume`,
      { name: "veza-blackbox-credentials", labels: [{ label: "veza.component", value: "blackbox-credentials" }] },
      { parent: this, provider: host.provider },
    );
    const [uid, gid] = MONITORING_IMAGES.blackboxExporter.runAs.split(":").map(Number);
    const files = hostCommand(
      `${name}-blackbox-tls-files`,
      hostConfig,
      {
        // Root only to hand the files to the prober's uid (CHOWN); nothing else.
        create: volume.name.apply((volumeName) => dockerRunStdinScript(m.blackboxExporterImage, volumeWriterRunFlags("CHOWN", volumeName, "/c"))),
        stdin: pulumi.secret(probe.apply((material) => renderVolumeFilesScript("/c", clientTlsVolumeFiles(BLACKBOX_TLS_FILES, material), { uid, gid }))),
        triggers: certificateTriggers(probe),
      },
      args.ssh,
      { parent: this, dependsOn: [image, volume] },
    );
    const listen = `${hostConfig.bindAddress}:${m.blackboxExporterPort}`;
    hardenedContainer(
      limited("blackbox-exporter", hostConfig),
      `${name}-blackbox-exporter-container`,
      {
        name: "veza-blackbox-exporter",
        image: image.imageId,
        command: [`--config.file=${BLACKBOX_CONFIG_PATH}`, `--web.listen-address=${listen}`],
        mounts: [{ type: "volume", source: volume.name, target: BLACKBOX_CREDENTIALS_DIR, readOnly: true }],
        healthcheck: { tests: ["CMD", "wget", "-q", "-O", "/dev/null", `http://${listen}/-/healthy`], interval: "15s", timeout: "5s", retries: 3 },
        ...smallContainer(hostConfig.name, "blackbox-exporter"),
      },
      { parent: this, provider: host.provider, dependsOn: [files], deleteBeforeReplace: true },
      [{ file: BLACKBOX_CONFIG_PATH, content: toYaml(renderBlackboxConfig(BLACKBOX_TLS_FILES)) }],
    );
  }

  /**
   * The client certificates' ends, as this `up` declared them, in node_exporter's textfile
   * directory on the monitoring host (the backup job's volume when it runs there, else one of
   * its own): written at every `up`, so the file follows every renewal.
   */
  private declareCertificateTextfile(name: string, args: MonitoringArgs, expiries: pulumi.Output<Array<{ name: string; notAfter: string }>>): { volume: docker.Volume; job: pulumi.Resource } {
    const m = args.config.monitoring;
    const hostConfig = args.config.hosts.find((h) => h.name === m.host)!;
    const host = args.dockerHosts.get(m.host)!;
    const volume =
      args.backupMetrics?.host === m.host ? args.backupMetrics.volume : new docker.Volume(`${name}-textfile`, { name: NODE_EXPORTER_TEXTFILE_VOLUME }, { parent: this, provider: host.provider });
    const image = host.image(m.blackboxExporterImage);
    const content = expiries.apply(renderCertificateExpiryTextfile);
    const job = hostCommand(
      `${name}-certificate-expiry-textfile`,
      hostConfig,
      {
        create: volume.name.apply((volumeName) => dockerRunStdinScript(m.blackboxExporterImage, volumeWriterRunFlags("DAC_OVERRIDE", volumeName, "/t"))),
        // Written beside and renamed: node_exporter never reads half a file. World-readable: no secret in it.
        stdin: content.apply((text) =>
          ["set -eu", "umask 022", `printf '%s' ${shellQuote(text)} > /t/.${CERTIFICATE_TEXTFILE_NAME}.tmp`, `mv -f /t/.${CERTIFICATE_TEXTFILE_NAME}.tmp /t/${CERTIFICATE_TEXTFILE_NAME}`, ""].join(
            "\n",
          ),
        ),
        // A known label first: the policy pack reads every command's leading triggers.
        triggers: [CERTIFICATES_TRIGGER_LABEL, content],
      },
      args.ssh,
      { parent: this, dependsOn: [image, volume, ...(args.backupMetrics?.host === m.host ? [args.backupMetrics.job] : [])] },
    );
    return { volume, job };
  }
}
