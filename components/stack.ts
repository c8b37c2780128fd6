// Composes the whole declaration from a validated StackConfig. index.ts only loads config and
// calls this; the tests and `synth` call it under mocks.

import { hostFirewalls } from "./topology/firewalls";
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import type { HostCommand } from "./host/hostCommand";
import { ApiService } from "./api/ApiService";
import { effectiveToggles, renderApiEnv, type RedisConnection } from "./api/env";
import type { StackSecrets } from "./validation/load";
import type { HostConfig, StackConfig, TlsConfig } from "./config/types";
import { DockerHost } from "./host/DockerHost";
import { ACL_USERS, SENTINEL_USERS } from "./redis/acl";
import { RedisCredentials } from "./redis/RedisCredentials";
import { ALWAYS_EXPORTED_OUTPUT, APPLIED_ROTATION_OUTPUT, appliedFromMarkers, markersIn, recordedRotation, rotationOrderProblems, RotationOrderError, type RecordedRotation } from "./redis/rotation";
import { SentinelCluster } from "./cluster/SentinelCluster";
import { Monitoring } from "./monitoring/Monitoring";
import { Backup } from "./backup/Backup";
import { stackModel } from "./topology/model";
import { appliedTlsFrom, caStepProblems, certificatePlan, TLS_APPLIED_OUTPUT, TLS_CA_STEP_OUTPUT, tlsSwitchProblems, type AppliedTls } from "./tls/certificates";
import { StackConfigError } from "./validation/validate";
import { StackCertificates, type StackCertificatesArgs } from "./tls/StackCertificates";
import type { Topology } from "./topology/placement";

/**
 * What this stack last applied, read back from its own outputs (a stack may reference itself;
 * they are the outputs of the last successful `up`: an update records them only at its end).
 */
export async function readAppliedRotation(): Promise<RecordedRotation> {
  const self = new pulumi.StackReference("veza-applied-rotation", { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}` });
  const [record, always] = await Promise.all([self.getOutputDetails(APPLIED_ROTATION_OUTPUT), self.getOutputDetails(ALWAYS_EXPORTED_OUTPUT)]);
  // A record marked secret (by an older program) is still the record, not a missing one.
  return recordedRotation(record.value ?? record.secretValue, always.value ?? always.secretValue);
}

/** Whether this stack's last `up` ran with TLS on (its CA bundle output), or undefined if it never ran. */
async function readAppliedTls(): Promise<AppliedTls | undefined> {
  const self = new pulumi.StackReference("veza-applied-tls", { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}` });
  const [bundle, always, caStep] = await Promise.all([self.getOutputDetails(TLS_APPLIED_OUTPUT), self.getOutputDetails(ALWAYS_EXPORTED_OUTPUT), self.getOutputDetails(TLS_CA_STEP_OUTPUT)]);
  return appliedTlsFrom(bundle.value ?? bundle.secretValue, always.value ?? always.secretValue, caStep.value ?? caStep.secretValue);
}

/**
 * The program: the rotation order is checked before anything is declared. A skipped step would
 * regenerate a password slot the servers still accept, or remove the one clients use.
 */
export async function declareProgram(config: StackConfig, secrets: StackSecrets) {
  const recorded = await readAppliedRotation();
  const problems = rotationOrderProblems(recorded, config.credentials);
  if (problems.length > 0) throw new RotationOrderError(problems);
  const lastUp = await readAppliedTls();
  const tlsProblems = [...tlsSwitchProblems(lastUp, config.tls), ...caStepProblems(lastUp, config.tls)];
  if (tlsProblems.length > 0) throw new StackConfigError(tlsProblems);
  return declareStack(config, secrets, recorded);
}

export function declareStack(config: StackConfig, secrets: StackSecrets, recorded: RecordedRotation = { kind: "new" }) {
  // Placement and sizing, once for the stack: every component below takes them from here.
  const model = stackModel(config);
  const { topology, sizing } = model;
  const ssh = { privateKey: secrets.sshPrivateKey, stack: pulumi.getStack() };
  const firewalls = new Map(hostFirewalls(config).map((firewall) => [firewall.host, firewall]));
  const dockerHosts = new Map(
    config.hosts.map((host) => [host.name, new DockerHost(host.name, { host, tuningImage: config.redis.image, tcpBacklog: config.redis.tcpBacklog, firewall: firewalls.get(host.name), ssh })]),
  );
  // Per user: the generation and rotation step (components/redis/rotation.ts), beside the step
  // this stack last applied.
  const credentials = new RedisCredentials("redis-credentials", { rotation: config.credentials, recorded });

  // With TLS on: the CA of the rotation step and a certificate per process and per client role.
  const certificates = config.tls.enabled
    ? new StackCertificates("tls", {
        plan: certificatePlan(topology),
        ca: certificateAuthority(config.tls),
        caValidityDays: config.tls.caValidityDays,
        leafValidityDays: config.tls.leafValidityDays,
        renewBeforeDays: config.tls.renewBeforeDays,
        organization: `veza-redis ${pulumi.getStack()}`,
      })
    : undefined;

  // Data nodes (and sentinels when enabled) under one component in both modes: stable URNs.
  const cluster = new SentinelCluster("redis", { config, model, dockerHosts, credentials, ssh, ...(certificates ? { certificates } : {}) });
  const connection: RedisConnection = config.sentinel.enabled
    ? { mode: "sentinel", masterName: cluster.masterName, sentinels: cluster.sentinelEndpoints }
    : { mode: "standalone", master: { host: cluster.nodes[0].address, port: cluster.nodes[0].port } };
  // The rotation steps applied live count as Redis being ready: consumers move after the servers accept.
  const redisResources: pulumi.Resource[] = [
    ...cluster.nodes.map((n) => n.container),
    ...cluster.sentinels,
    ...cluster.nodes.map((n) => n.credentialsApply),
    ...cluster.sentinelCredentials,
    ...cluster.nodes.flatMap((n) => (n.tlsReload ? [n.tlsReload] : [])),
  ];

  const toggles = effectiveToggles(config);
  const api = new ApiService("api", {
    api: config.api,
    environment: config.environment,
    dockerHost: dockerHosts.get(config.api.host)!,
    connection,
    toggles,
    credentials,
    redisImage: config.redis.image,
    redisResources,
    ssh,
    ...(certificates ? { tls: certificates.clientMaterial("app") } : {}),
  });

  // A replica's snapshot every interval, off the data hosts (the validator requires monitoring on).
  const backup = config.backup.enabled
    ? new Backup("backup", { config, model, dockerHosts, credentials, redisResources, ssh, ...(certificates ? { tls: certificates.clientMaterial("backup") } : {}) })
    : undefined;

  const monitoring = !config.monitoring.enabled
    ? undefined
    : new Monitoring("monitoring", {
        config,
        model,
        dockerHosts,
        credentials,
        slackWebhookUrl: secrets.slackWebhookUrl,
        pagerdutyRoutingKey: secrets.pagerdutyRoutingKey,
        heartbeatWebhookUrl: secrets.heartbeatWebhookUrl,
        redisResources,
        ...(backup ? { backupMetrics: { host: backup.settings.host.name, volume: backup.textfileVolume, job: backup.container } } : {}),
        ...(certificates ? { tls: { exporter: certificates.clientMaterial("exporter"), probe: certificates.clientMaterial("probe"), clientExpiries: certificates.clientExpiries() } } : {}),
        ssh,
      });

  // What the record is read from: each credential command's triggers as the engine recorded them,
  // i.e. as of its last run. Unknown in a preview while one is re-run; a command the engine did
  // not run (`up --target`, a failure before it) keeps its old markers, so the record never
  // claims a step that did not reach every server and consumer.
  const credentialCommands: HostCommand[] = [
    ...cluster.nodes.map((n) => n.credentialsApply),
    ...cluster.sentinelCredentials,
    ...(monitoring?.exporterCredentials ?? []),
    ...(backup ? [backup.credentialsWrite] : []),
    api.connectivityCheck,
  ];
  const master = topology.master;
  return {
    // The initial master. With Sentinel on, the master moves on failover: clients use
    // redisConnection (sentinel addresses and master name), not this address.
    redisAddress: `${master.host.address}:${master.port}`,
    redisConnection: connection,
    redisConnectionUrl: pulumi.secret(pulumi.interpolate`${certificates ? "rediss" : "redis"}://${ACL_USERS.app}:${credentials.passwords.app}@${master.host.address}:${master.port}/0`),
    redisAppUser: ACL_USERS.app,
    redisAppPassword: credentials.passwords.app,
    sentinelUser: SENTINEL_USERS.client.name,
    sentinelPassword: credentials.passwords.sentinelClients,
    topology: summarizeTopology(config, topology),
    sizing: {
      memoryLimitBytes: sizing.memoryLimitBytes,
      maxmemoryBytes: sizing.maxmemoryBytes,
      minimumDataVolumeBytes: sizing.minimumDataVolumeBytes,
      dataVolumeBytes: sizing.dataVolumeBytes,
    },
    apiEnv: renderApiEnv(connection, toggles, config.api.extraEnv, certificates !== undefined),
    apiToggles: toggles,
    apiConnectivityCheck: api.connectivityCheck.urn,
    // The rotation applied (appliedFromMarkers): read back by the next `up` (declareProgram).
    // Unsecret: some triggers hold a secret (the API check's script), which would taint the record,
    // and it holds only generations and steps.
    [APPLIED_ROTATION_OUTPUT]: pulumi.unsecret(pulumi.all(credentialCommands.map((c) => c.triggers)).apply((recorded) => appliedFromMarkers(recorded.flatMap(markersIn), config.credentials))),
    // With TLS on: the CA bundle every client verifies with (public), and the operator's client
    // certificate for redis-cli --tls (secret; the admin password still picks the user).
    ...(certificates ? { [TLS_APPLIED_OUTPUT]: certificates.caBundlePem, redisAdminClientTls: certificates.clientMaterial("admin") } : {}),
    // The generated CA's step, read back by the next `up` (caStepProblems): one step per up.
    ...(certificates && config.tls.caCertFile === "" ? { [TLS_CA_STEP_OUTPUT]: { generation: config.tls.caGeneration, step: config.tls.caStep } } : {}),
    // An API deployed elsewhere gets its client certificate from here (secret), as its passwords.
    ...(certificates && config.api.mode === "external" ? { redisAppClientTls: certificates.clientMaterial("app") } : {}),
    // Basic auth for people on Prometheus and Alertmanager (user `operator`).
    ...(monitoring ? { monitoringOperatorPassword: pulumi.secret(monitoring.operatorPassword) } : {}),
    // The restic repository's password (npm run restore): keep a copy outside this stack's state.
    ...(backup ? { backupHost: backup.settings.host.name, backupRepositoryPassword: pulumi.secret(backup.repositoryPassword) } : {}),
  };
}

/**
 * The generated CA at its rotation step, or the CA the team brings, read where `pulumi up` runs
 * (loadStackConfig checked the files first: broughtCaProblems).
 */
function certificateAuthority(tls: TlsConfig): StackCertificatesArgs["ca"] {
  if (tls.caCertFile === "") return { generation: tls.caGeneration, step: tls.caStep };
  const read = (file: string) => fs.readFileSync(file, "utf8");
  return { brought: { certPem: read(tls.caCertFile), keyPem: pulumi.secret(read(tls.caKeyFile)), trustedPems: tls.trustedCaFiles.map(read) } };
}

/** One line per process: what an on-call engineer wants to see first. */
export function summarizeTopology(config: StackConfig, topology: Topology<HostConfig>): string[] {
  return [
    ...topology.dataNodes.map((n) => `${n.name}: ${n.role === "master" ? "master (initial)" : "replica"} on ${n.host.name} ${n.host.address}:${n.port}`),
    ...topology.sentinels.map((s) => `${s.name}: sentinel on ${s.host.name} ${s.host.address}:${s.port} (quorum ${config.sentinel.quorum} of ${config.sentinel.count})`),
  ];
}
