// The CrossGuard policies, one file per failure mode under policies/ (the keys of
// components/failureModes.ts), their shared reading of resources in resources.ts. They read
// resource inputs (container labels, uploaded file contents, volume labels), the same under
// `pulumi up --policy-pack policy` and in-process over the synth plan (`npm run policy`). Under
// `pulumi preview` a value a provider has yet to compute is unknown, and a policy that reads one is
// reported as advisory instead (docs/policy-pack.md, "Under a real preview").
// Imports stay inside policy/ (shared/ is generated: npm run policy:sync). index.ts only constructs
// the pack: constructing a PolicyPack starts its gRPC server, so tests import this module instead.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { readingContainerFiles, withFiles } from "./resources";
import { evictingPolicy, redisMemory, sensitiveKeysEvictable } from "./policies/memoryExhausted";
import { aofRewrite, dataVolumeSized } from "./policies/diskFull";
import { restartAndHealth, sentinelQuorum } from "./policies/availability";
import { imagesPinned, safeReplacement } from "./policies/plannedChange";
import { alertmanagerGated, apiUser, authRequired, configReadOnly, containersHardened, hostsFirewalled, imagesNotKnownBad, leastPrivilege, notExposed, pidsLimited } from "./policies/intruder";
import { apiToggles, sloComplete } from "./policies/apiImpact";
import { alertsLinked, deadMansSwitch } from "./policies/monitoringBlind";
import { credentialsRetire } from "./policies/credentialRotation";
import { backupOffDataHosts, backupRecommended, backupRepositoryRetained, backupRequired } from "./policies/backup";
export { MINIMUM_SENTINELS } from "./policies/availability";

// The checks that read a container's files get them from its config carrier.
export const policies: Array<ResourceValidationPolicy | StackValidationPolicy> = [
  credentialsRetire,
  readingContainerFiles(redisMemory),
  readingContainerFiles(evictingPolicy),
  readingContainerFiles(aofRewrite),
  withFiles(dataVolumeSized),
  backupRequired,
  backupRecommended,
  backupOffDataHosts,
  backupRepositoryRetained,
  // Resource policies: at `up` they check each new ACL file before its container takes it (docs/policy-pack.md).
  authRequired,
  leastPrivilege,
  readingContainerFiles(notExposed),
  hostsFirewalled,
  withFiles(sentinelQuorum),
  restartAndHealth,
  withFiles(safeReplacement),
  imagesPinned,
  imagesNotKnownBad,
  containersHardened,
  configReadOnly,
  pidsLimited,
  apiUser,
  apiToggles,
  readingContainerFiles(alertsLinked),
  readingContainerFiles(sloComplete),
  withFiles(deadMansSwitch),
  withFiles(alertmanagerGated),
  readingContainerFiles(sensitiveKeysEvictable),
];
