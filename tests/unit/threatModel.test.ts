// The threat model (docs/threat-model.md) is generated from the ACL definitions and names only
// alerts the stacks render: it cannot drift from what the servers enforce and what pages.
import * as fs from "node:fs";
import * as path from "node:path";
import { CREDENTIAL_NAMES } from "../../components/redis/acl";
import { WEB_USERS } from "../../components/monitoring/webConfig";
import { credentialRules, MONITORING_THREATS, renderThreatModel, THREAT_MODEL_FILE, threatModelAlerts } from "../../components/security/threatModel";
import { PROJECT_ROOT } from "../../lib/stackFiles";
import { renderedAlertNames } from "../helpers/stackAlerts";

describe("the threat model", () => {
  it("is what npm run threat-model renders from the ACL rules the servers load", () => {
    expect(fs.readFileSync(path.join(PROJECT_ROOT, THREAT_MODEL_FILE), "utf8")).toBe(renderThreatModel());
  });

  it("has a row for every credential, with the rules of every server that knows it", () => {
    const doc = renderThreatModel();
    for (const name of CREDENTIAL_NAMES) {
      expect([name, credentialRules(name).length > 0]).toEqual([name, true]);
      expect(doc).toMatch(new RegExp(`^\\| \`${name}\` \\|`, "m"));
    }
  });

  it("has a row for every web user of Prometheus and Alertmanager, and for their credential-free healthchecks", () => {
    const positions = MONITORING_THREATS.map((t) => t.position);
    for (const user of Object.values(WEB_USERS)) expect(positions).toContain(`\`${user}\` (web user)`);
    expect(positions).toContain("the healthchecks");
  });

  it("names only alerts both stacks render", () => {
    for (const stack of ["dev", "prod"]) {
      const rendered = new Set(renderedAlertNames(stack));
      expect({ stack, unknown: threatModelAlerts().filter((alert) => !rendered.has(alert)) }).toEqual({ stack, unknown: [] });
    }
  });
});
