// The scenarios' names, in SCENARIOS' order, without loading the scenarios (they load the
// components and with them @pulumi/pulumi): `npm run drill` prints --help and refuses an unknown
// --scenario before it loads the drills. drills/index.ts refuses to load if the two lists differ.
export const SCENARIO_NAMES: readonly string[] = [
  "master-killed",
  "master-killed-lagging-replica",
  "master-hung",
  "master-partitioned",
  "sentinel-minority-lost",
  "quorum-lost",
  "memory-under-fork",
  "disk-full",
  "crash-restart",
  "planned-switchover",
  "planned-restart-of-master",
  "rolling-image-upgrade",
  "redeploy-after-failover",
  "credential-rotation",
  "incident-toggle",
  "master-lost-after-sentinel-restart",
  "prod-topology",
  "security",
  "scrape-target-lost",
  "backup-restore",
  "failover-with-tls",
  "tls-ca-rotation",
];

/** Throws on the first name that is not a scenario's. */
export function checkScenarioNames(names: string[]): void {
  for (const name of names) {
    if (!SCENARIO_NAMES.includes(name)) throw new Error(`unknown scenario ${JSON.stringify(name)}; scenarios: ${SCENARIO_NAMES.join(", ")}`);
  }
}
