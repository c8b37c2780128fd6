// Failure modes master-lost, host-lost, sentinel-quorum-lost, restart-loop (components/failureModes.ts):
// Sentinel's quorum and spread, restart policies and health checks.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { dockerDaemonKey } from "../shared/config/dockerDaemon";
import { CONTAINER, DOCKER_PROVIDER, componentOf, countBy, directive, isRedisFamily, labelsOf, redisConf, redisContainers, uploadedFile } from "../resources";

export const MINIMUM_SENTINELS = 3;

export const sentinelQuorum: StackValidationPolicy = {
  name: "sentinel-quorum-and-spread",
  description:
    "Runbook: Instance down (W3 Sentinel HA). An odd number of at least 3 sentinels (the minimumSentinels setting), a majority quorum, no host with a majority of sentinels or a replica on the master's host when several hosts exist, hosts that are really different machines (no shared address or Docker daemon), and min-replicas-to-write on every data node.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      minimumSentinels: {
        type: "integer",
        minimum: MINIMUM_SENTINELS,
        default: MINIMUM_SENTINELS,
        description: "The fewest sentinels a stack may declare (an odd number is still required): 5 survives two losses.",
      },
    },
  },
  validateStack: (args, report) => {
    const sentinels = args.resources.filter((r) => r.type === CONTAINER && componentOf(r.props) === "sentinel");
    const dataNodes = redisContainers(args.resources);
    if (sentinels.length === 0) return;
    const minimum = args.getConfig<{ minimumSentinels?: number }>().minimumSentinels ?? MINIMUM_SENTINELS;
    if (sentinels.length < minimum || sentinels.length % 2 === 0)
      report(
        `${sentinels.length} sentinels: need an odd number of at least ${minimum}${minimum > MINIMUM_SENTINELS ? " (the pack's minimumSentinels setting)" : ""} so that losing one still leaves a majority`,
      );
    const majority = Math.floor(sentinels.length / 2) + 1;
    for (const sentinel of sentinels) {
      const conf = uploadedFile(sentinel.props, "/sentinel.conf");
      if (conf === undefined) continue;
      const monitor = /^sentinel monitor \S+ \S+ \d+ (\d+)$/m.exec(conf);
      const quorum = monitor ? Number(monitor[1]) : NaN;
      if (!(quorum >= majority && quorum <= sentinels.length))
        report(`${sentinel.name}: quorum ${monitor ? quorum : "missing"} is not a majority of ${sentinels.length} sentinels (${majority}..${sentinels.length})`, sentinel.urn);
    }
    // Two declared hosts on one machine make the spread below a fiction: one address announced by
    // two hosts, or two Docker providers that reach the same daemon.
    const daemons = new Map<string, string>();
    for (const provider of args.resources.filter((r) => r.type === DOCKER_PROVIDER && typeof r.props.host === "string")) {
      const daemon = dockerDaemonKey(provider.props.host as string);
      const other = daemons.get(daemon);
      if (other) report(`${provider.name} and ${other} reach the same Docker daemon (${String(provider.props.host)}): two hosts on one machine`, provider.urn);
      daemons.set(daemon, provider.name);
    }
    const announcedBy = new Map<string, Set<string>>();
    for (const node of [...dataNodes, ...sentinels]) {
      const text = uploadedFile(node.props, "/redis.conf") ?? uploadedFile(node.props, "/sentinel.conf");
      const address = text !== undefined ? /^(?:replica-announce-ip|sentinel announce-ip) (\S+)$/m.exec(text)?.[1] : undefined;
      const host = labelsOf(node.props).host;
      if (address && host) announcedBy.set(address, (announcedBy.get(address) ?? new Set()).add(host));
    }
    for (const [address, hosts] of announcedBy) {
      if (hosts.size > 1) report(`hosts ${[...hosts].sort().join(", ")} all announce ${address}: they are one machine, so the spread over hosts is not real`);
    }
    const hostCount = Number(labelsOf(sentinels[0].props)["host-count"] ?? "1");
    if (hostCount > 1) {
      const perHost = countBy(sentinels, (s) => labelsOf(s.props).host);
      for (const [host, count] of perHost) if (count >= majority) report(`host ${host} holds ${count} of ${sentinels.length} sentinels: losing it loses the quorum`);
      const masterHost = dataNodes.find((n) => labelsOf(n.props).role === "master");
      for (const replica of dataNodes.filter((n) => labelsOf(n.props).role === "replica")) {
        if (masterHost && labelsOf(replica.props).host === labelsOf(masterHost.props).host) report(`${replica.name} shares host ${labelsOf(replica.props).host} with the master`, replica.urn);
      }
    }
    for (const node of dataNodes) {
      const conf = redisConf(node.props);
      if (conf && !(Number(directive(conf, "min-replicas-to-write") ?? "0") >= 1)) {
        report(`${node.name}: min-replicas-to-write is 0: an isolated master keeps accepting writes that are lost when it is demoted`, node.urn);
      }
    }
  },
};

export const restartAndHealth: ResourceValidationPolicy = {
  name: "redis-restart-and-healthcheck",
  description: "Runbook: Process crashed ('systemctl restart redis'). Every Redis/Sentinel container restarts by itself and has a healthcheck.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== CONTAINER || !isRedisFamily(args.props)) return;
    if (!["always", "unless-stopped", "on-failure"].includes(String(args.props.restart))) report(`restart policy ${String(args.props.restart ?? "none")}: a crashed Redis stays down`);
    const healthcheck = args.props.healthcheck as { tests?: unknown } | undefined;
    if (!Array.isArray(healthcheck?.tests) || healthcheck!.tests.length === 0) report("no healthcheck: a hung Redis looks healthy to Docker");
  },
};
