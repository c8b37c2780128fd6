// The drill sections of docs/drills.md come from code and from docs/drill-results.json, never by hand.
import * as fs from "node:fs";
import * as path from "node:path";
import { SCENARIOS } from "../../drills";
import { DRILLS_PAGE, FIGURES_BEGIN, FIGURES_END, figuresSection, sectionOf, TARGETS_BEGIN, TARGETS_END, targetsSection, type StoredResults } from "../../drills/report";
import { PROJECT_ROOT } from "../../lib/stackFiles";

const readme = fs.readFileSync(path.join(PROJECT_ROOT, DRILLS_PAGE), "utf8");
const stored = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "docs", "drill-results.json"), "utf8")) as StoredResults;

describe("the drill sections of docs/drills.md", () => {
  it("shows exactly the targets the scenarios assert", () => {
    expect(sectionOf(readme, TARGETS_BEGIN, TARGETS_END)).toBe(targetsSection());
  });

  it("shows exactly the figures of docs/drill-results.json: no number typed by hand", () => {
    expect(sectionOf(readme, FIGURES_BEGIN, FIGURES_END)).toBe(figuresSection(stored));
  });

  it("has figures for every scenario, each row from the current drill code's scenarios and with its commit", () => {
    expect(stored.results.map((r) => r.scenario).sort()).toEqual(SCENARIOS.map((s) => s.name).sort());
    for (const result of stored.results) expect(result.measured).toMatch(/, commit [0-9a-f]{7,}$/);
  });

  it("gives every scenario targets, each naming a figure the scenario's stored run printed", () => {
    for (const scenario of SCENARIOS) {
      expect({ scenario: scenario.name, targets: scenario.targets.length > 0 }).toEqual({ scenario: scenario.name, targets: true });
      const figures = stored.results.find((r) => r.scenario === scenario.name)?.figures ?? {};
      for (const target of scenario.targets)
        expect({ scenario: scenario.name, figure: target.figure, printed: target.figure in figures }).toEqual({ scenario: scenario.name, figure: target.figure, printed: true });
    }
  });
});
