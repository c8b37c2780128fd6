// The failure-mode registry is complete and names only what exists: a newcomer asking "what guards
// disk-full, and what proves it?" reads one row of docs/failure-modes.md, and the row is true.
import * as fs from "node:fs";
import * as path from "node:path";
import { FAILURE_MODES, FAILURE_MODES_FILE, renderFailureModes, type FailureMode } from "../../components/failureModes";
import { SCENARIO_NAMES } from "../../drills/scenarioNames";
import { policies } from "../../policy/policies";
import { PROJECT_ROOT, stackNames } from "../../lib/stackFiles";
import { renderedAlertNames } from "../helpers/stackAlerts";

const modes = Object.entries(FAILURE_MODES as Record<string, FailureMode>);
const policyNames = policies.map((p) => p.name);

const unowned = (names: string[], owned: (m: FailureMode) => string[]) => names.filter((name) => !modes.some(([, m]) => owned(m).includes(name)));

describe("the failure-mode registry", () => {
  it("is what npm run failure-modes renders", () => {
    expect(fs.readFileSync(path.join(PROJECT_ROOT, FAILURE_MODES_FILE), "utf8")).toBe(renderFailureModes());
  });

  it("gives every mode a guard, an alert, a drill and a runbook section", () => {
    const lacking = modes.flatMap(([key, m]) => [
      ...(m.guards.length === 0 ? [`${key}: no guard`] : []),
      ...(m.alerts.length === 0 ? [`${key}: no alert`] : []),
      ...(m.drills.length === 0 ? [`${key}: no drill`] : []),
      ...(m.tests.length === 0 ? [`${key}: no test`] : []),
    ]);
    expect(lacking).toEqual([]);
  });

  it("names runbook sections that exist: the page, and its ## heading", () => {
    const missing = modes.filter(([, m]) => {
      const page = path.join(PROJECT_ROOT, "docs/runbooks", `${m.runbook.page}.md`);
      return !fs.existsSync(page) || !fs.readFileSync(page, "utf8").split("\n").includes(`## ${m.runbook.section}`);
    });
    expect(missing.map(([key, m]) => `${key}: ${m.runbook.page} "## ${m.runbook.section}"`)).toEqual([]);
  });

  it("names only policies of the pack, scenarios of npm run drill, and files that exist", () => {
    const unknown = modes.flatMap(([key, m]) => [
      ...m.policies.filter((p) => !policyNames.includes(p)).map((p) => `${key}: policy ${p}`),
      ...m.drills.filter((d) => !SCENARIO_NAMES.includes(d)).map((d) => `${key}: drill ${d}`),
      ...[...m.guards.map((g) => g.file), ...m.tests].filter((f) => !fs.existsSync(path.join(PROJECT_ROOT, f))).map((f) => `${key}: file ${f}`),
    ]);
    expect(unknown).toEqual([]);
  });

  it.each(stackNames())("names only alerts the %s stack renders, and every alert it renders belongs to a mode", (stack) => {
    const rendered = renderedAlertNames(stack);
    expect({ unknown: modes.flatMap(([key, m]) => m.alerts.filter((a) => !rendered.includes(a)).map((a) => `${key}: ${a}`)), unowned: unowned(rendered, (m) => m.alerts) }).toEqual({
      unknown: [],
      unowned: [],
    });
  });

  it("gives every policy of the pack and every drill scenario a mode", () => {
    expect({ policies: unowned(policyNames, (m) => m.policies), drills: unowned([...SCENARIO_NAMES], (m) => m.drills) }).toEqual({ policies: [], drills: [] });
  });
});
