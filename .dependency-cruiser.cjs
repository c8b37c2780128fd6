// The floors of the code, bottom first: a module imports only its own floor and the floors below
// it (type imports count too), so no folder can import one that imports it back, and no cycle
// between files can form. `npm run deps` checks it, and npm test runs that first.
// A new folder gets a floor here; an import that breaks a floor means something must move down.
const FLOORS = [
  "components/tls/", // the certificate plan and TLS directives: plain data, below every renderer
  "components/base/", // shell quoting, conf directives, container hardening, endpoint types
  "components/images/", // image references and builds
  "components/redis/", // redis.conf, ACL, sizing, rotation, the data node's scripts
  "components/sentinel/", // sentinel.conf and its scripts
  "components/config/", // the stack config's types, schema and reader
  "components/topology/", // placement, ports, settings, container definitions, credential scripts
  "components/validation/", // the validator and config loading (it places the topology)
  "components/host/", // Docker hosts, hardened containers, host commands
  "components/api/", // the API's env and ApiService
  "components/backup/", // the backup job: its settings, script, metrics and Backup
  "components/monitoring/", // rules, routes, dashboards, Monitoring
  "components/cluster/", // RedisNode, SentinelCluster
  "components/security/", // the threat model
  "components/failureModes.ts",
  "components/stack.ts",
  "index.ts",
  "lib/", // what commands, drills and tests share: stack files, plans, the engine's order
  "drills/",
  "scripts/",
];

const pattern = (path) => `^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${path.endsWith("/") ? "" : "$"}`;

module.exports = {
  forbidden: [
    { name: "no-circular", comment: "files import each other", severity: "error", from: {}, to: { circular: true } },
    ...FLOORS.slice(0, -1).map((floor, index) => ({
      name: `floor:${floor}`,
      comment: `${floor} imports only the floors below it (.dependency-cruiser.cjs)`,
      severity: "error",
      from: { path: pattern(floor) },
      to: {
        path: FLOORS.slice(index + 1)
          .map(pattern)
          .join("|"),
      },
    })),
    {
      name: "policy-stands-alone",
      comment: "the pack installs and publishes on its own: it imports its generated copies (policy/shared), never the program",
      severity: "error",
      from: { path: "^policy/" },
      to: { path: "^(components|lib|drills|scripts|tests)/|^index\\.ts$" },
    },
    {
      name: "not-to-unlisted",
      comment: "every module of the program lives on a floor",
      severity: "error",
      from: { path: "^(components|lib|drills|scripts)/|^index\\.ts$" },
      to: { path: "^(components|lib|drills|scripts)/|^index\\.ts$", pathNot: FLOORS.map(pattern).join("|") },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" },
  },
};
