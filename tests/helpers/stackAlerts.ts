// A committed stack's monitoring files, and the alert names its rules render: what tests check
// names against (drill scenarios, the threat model, the failure-mode registry, inhibition).
import { renderMonitoringFiles, type MonitoringFiles } from "../../components/monitoring/render";
import { stackModel } from "../../components/topology/model";
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";

/** Pulumi.<stack>.yaml, validated once, rendered with its own model. */
export function stackMonitoringFiles(stack: string): MonitoringFiles {
  const config = requireValidStackConfig(readStackConfigFile(stack).raw);
  return renderMonitoringFiles(config, stackModel(config));
}

/** Every alert name the stack's rule files hold, in rule-file order. */
export function renderedAlertNames(stack: string): string[] {
  return Object.values(stackMonitoringFiles(stack).rules)
    .flatMap((file) => file.groups.flatMap((group) => group.rules))
    .flatMap((rule) => ("alert" in rule ? [rule.alert] : []));
}
