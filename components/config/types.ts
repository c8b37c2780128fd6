// The validated, typed stack configuration. Every field has been checked and
// every default applied by validateStackConfig(); components never see raw config.
// The keys, ranges and defaults live in schema.ts (zod); this file stays free of zod because
// policy/ copies it. validate.ts builds a StackConfig from the schema's output, so tsc fails
// when the two disagree.

export const ENVIRONMENTS = ["dev", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export { EVICTING_POLICIES, type EvictionPolicy } from "../redis/evictionPolicies";
import type { EvictionPolicy } from "../redis/evictionPolicies";

export const INCIDENT_PRESETS = ["none", "redis-down"] as const;
export type IncidentPreset = (typeof INCIDENT_PRESETS)[number];

export const API_MODES = ["container", "external"] as const;
export type ApiMode = (typeof API_MODES)[number];

/** `redis`: may hold data nodes and sentinels; `monitoring`: holds none (Prometheus, Alertmanager, Grafana). */
export const HOST_ROLES = ["redis", "monitoring"] as const;
export type HostRole = (typeof HOST_ROLES)[number];

export interface HostConfig {
  name: string;
  /** Absent (the drills' hosts) counts as redis. */
  role?: HostRole;
  /** Docker daemon URI: unix:///var/run/docker.sock or ssh://user@host[:port]. */
  dockerHost: string;
  /** The address clients and other nodes use to reach this host (IP or DNS name). */
  address: string;
  /** The IP Redis and Sentinel bind to on this host (defaults to `address` when that is an IP). */
  bindAddress: string;
  /** ssh:// hosts: the host's public key (`<type> <base64>`), checked strictly on every connection. */
  sshHostKey?: string;
}

export interface RedisConfig {
  image: string;
  memoryLimitMiB: number;
  forkHeadroomPercent: number;
  /** Explicit maxmemory; when absent it is computed from the limit and the headroom. */
  maxmemoryMiB?: number;
  evictionPolicy: EvictionPolicy;
  allowedEvictionPolicies: EvictionPolicy[];
  aofRewritePercentage: number;
  aofRewriteMinSizeMiB: number;
  /** Explicit data volume size; when absent, the sizing minimum times volumeHeadroomFactor. */
  dataVolumeMiB?: number;
  volumeHeadroomFactor: number;
  rdbSnapshots: boolean;
  port: number;
  tcpBacklog: number;
  maxClients: number;
  minReplicasToWrite: number;
  minReplicasMaxLagSeconds: number;
}

export interface SentinelConfig {
  enabled: boolean;
  masterName: string;
  replicas: number;
  count: number;
  quorum: number;
  downAfterMilliseconds: number;
  failoverTimeoutMilliseconds: number;
  parallelSyncs: number;
  port: number;
}

/** Where Prometheus scrapes the API's own metrics (the SLO inputs). */
export interface ApiMetricsConfig {
  enabled: boolean;
  path: string;
  /** Container mode: the port on the API host (default api.port). */
  port: number;
  /** External mode: host:port of the API's metrics endpoint. */
  address?: string;
}

export interface ApiConfig {
  mode: ApiMode;
  host: string;
  image: string;
  port: number;
  /** Container mode: the numeric uid:gid the API runs as, and owns its password files (0600). */
  user?: string;
  extraEnv: Record<string, string>;
  metrics: ApiMetricsConfig;
  /** Seconds between SIGTERM and SIGKILL when the toggles restart the API. */
  stopGraceSeconds: number;
  /** External mode: the toggles file on the API host. */
  togglesFile: string;
  /** External mode: the restart after the toggles file changes (default: docker restart --time <grace> veza-backend-api). */
  restartCommand?: string;
}

export interface SloMetricsConfig {
  requestsTotal: string;
  durationBucket: string;
  methodLabel: string;
  statusLabel: string;
  routeLabel: string;
  paymentRoute: string;
  latencyThresholdSeconds: number;
}

export interface MonitoringConfig {
  enabled: boolean;
  host: string;
  prometheusImage: string;
  alertmanagerImage: string;
  redisExporterImage: string;
  /** blackbox_exporter: probes every TLS endpoint's certificate chain when tls.enabled. */
  blackboxExporterImage: string;
  nodeExporterImage: string;
  grafanaImage: string;
  prometheusPort: number;
  grafanaPort: number;
  /** Alertmanager's gate (nginx) listens here; Alertmanager itself on 127.0.0.1:alertmanagerLoopbackPort. */
  alertmanagerPort: number;
  alertmanagerLoopbackPort: number;
  nodeExporterPort: number;
  redisExporterPort: number;
  blackboxExporterPort: number;
  runbookBaseUrl: string;
  cluster: string;
  /** node_exporter mountpoint of the filesystem that holds Docker's volumes (the Redis data). */
  dataMountpoint: string;
  slackPageChannel: string;
  slackTicketChannel: string;
  slo: SloMetricsConfig;
  /** Host paths of the certificate, key and CA Prometheus and Alertmanager serve HTTPS with; none: HTTP. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

/** Scheduled snapshots of a replica, shipped to a restic repository on another host (components/backup). */
export interface BackupConfig {
  enabled: boolean;
  /** The host that runs the job and holds the repository (default: the monitoring host). */
  host: string;
  image: string;
  /** Minutes between snapshots: the recovery point objective. */
  intervalMinutes: number;
  /** restic forget --keep-hourly / --keep-daily: snapshots kept per hour and per day. */
  keepHourly: number;
  keepDaily: number;
}

/** TLS on every Redis and Sentinel link (components/tls): off, or the stack CA's lifetimes and rotation step. */
export interface TlsConfig {
  enabled: boolean;
  /** Acknowledges switching `enabled` on a running stack: every Redis and Sentinel container was stopped first. */
  coldSwitch: boolean;
  caValidityDays: number;
  leafValidityDays: number;
  /** A `pulumi up` this many days or fewer before a certificate's end reissues it. */
  renewBeforeDays: number;
  /** The CA rotation: which generations every bundle trusts and which one signs (authoritiesAt). */
  caGeneration: number;
  caStep: "add" | "switch" | "retire";
  /** A CA the team brings ("" for the generated one): certificate and key files where `pulumi up` runs. */
  caCertFile: string;
  caKeyFile: string;
  /** More CA certificates every bundle trusts (a brought CA's rotation overlap). */
  trustedCaFiles: string[];
}

/** The data hosts' nftables firewall (components/base/firewall.ts). */
export interface FirewallConfig {
  enabled: boolean;
  /** IPv4 addresses or CIDR networks outside the declared hosts that may reach Redis and Sentinel (the API). */
  clientSources: string[];
}

export type { RotationConfig } from "../redis/rotation";
import type { RotationConfig } from "../redis/rotation";

export interface StackConfig {
  environment: Environment;
  hosts: HostConfig[];
  redis: RedisConfig;
  sentinel: SentinelConfig;
  api: ApiConfig;
  monitoring: MonitoringConfig;
  backup: BackupConfig;
  incident: IncidentPreset;
  /** Explicit toggles; undefined means "follow the incident preset". */
  maintenanceMode?: boolean;
  rateLimitFailClosed?: boolean;
  /** Per user: the password generation and the rotation step (components/redis/rotation.ts). */
  credentials: RotationConfig;
  tls: TlsConfig;
  firewall: FirewallConfig;
}
