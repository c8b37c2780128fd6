// The short version of `npm run drill`: every runbook scenario against real redis-server and
// redis-sentinel processes, with the dev stack's settings. Figures are printed, not asserted
// beyond what each scenario claims (the full figures live in the README, from the drill).
import { requireValidStackConfig } from "../../components/config/validate";
import { readStackConfigFile } from "../../scripts/lib/stackFiles";
import { runScenario, SCENARIOS } from "../../scripts/lib/drills";
import * as fs from "node:fs";
import * as os from "node:os";

const config = requireValidStackConfig(readStackConfigFile("dev").raw);

function leftovers(): string[] {
  const mounts = fs.readFileSync("/proc/mounts", "utf8").split("\n").filter((l) => l.includes("veza-drill-"));
  const cgroups = ["memory", "cpu"].flatMap((c) => (fs.existsSync(`/sys/fs/cgroup/${c}`) ? fs.readdirSync(`/sys/fs/cgroup/${c}`).filter((d) => d.startsWith("veza-drill-")) : []));
  const dirs = fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith("veza-drill-"));
  return [...mounts, ...cgroups, ...dirs];
}

describe("fault drills (short)", () => {
  beforeAll(() => expect(leftovers()).toEqual([]));

  it.each(SCENARIOS.map((s) => [s.name, s] as const))("%s holds and cleans up after itself", async (_name, scenario) => {
    const result = await runScenario(scenario, { config, short: true, log: () => undefined });
    process.stdout.write(`drill ${result.scenario}: ${result.passed ? "pass" : "FAIL"} ${JSON.stringify(result.figures)}\n`);
    expect(result.failures).toEqual([]);
    expect(result.passed).toBe(true);
    expect(leftovers()).toEqual([]);
  }, 180000);
});
