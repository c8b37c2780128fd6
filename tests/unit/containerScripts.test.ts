// The containers' start and health scripts as text: valid POSIX sh, every value quoted, the
// settings they embed taken from the same sizing and topology as the confs.
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { requireValidStackConfig } from "../../components/validation/validate";
import { dataNodeStopGraceSeconds, handoffBudgetMs, HANDOFF_TIMING, sentinelMajority } from "../../components/redis/dataNodeScripts";
import { dataNodeContainer, sentinelContainer } from "../../components/topology/containers";
import { shellQuote } from "../../components/base/shell";
import { readStackConfigFile } from "../../lib/stackFiles";
import { randomCredentials } from "../../drills/harness/localCluster";
import { steadyState } from "../../components/redis/rotation";
import { stackModel } from "../../components/topology/model";

const config = requireValidStackConfig(readStackConfigFile("prod").raw);
const model = stackModel(config);
const { topology } = model;
const definitions = [
  ...topology.dataNodes.map((n) => ({ name: n.name, definition: dataNodeContainer(config, model, n) })),
  ...topology.sentinels.map((s) => ({ name: s.name, definition: sentinelContainer(config, model, s) })),
];
const credentials = randomCredentials();
const render = (file: (typeof definitions)[number]["definition"]["files"][number]) => file.content;

describe("container start and health scripts", () => {
  it.each(definitions.map((d) => [d.name, d.definition] as const))("%s: every uploaded script and the credentials seed parse as POSIX sh (dash -n)", (_name, definition) => {
    const scripts = [...definition.files.filter((f) => f.path.endsWith(".sh")).map((f) => ({ path: f.path, text: render(f) })), { path: "seed", text: definition.seed(steadyState(credentials)) }];
    for (const { path, text } of scripts) {
      const result = spawnSync("dash", ["-n"], { input: text, encoding: "utf8" });
      expect({ file: path, status: result.status, stderr: result.stderr }).toEqual({ file: path, status: 0, stderr: "" });
    }
  });

  it("no generated value can end the shell quoting: sh reads back exactly what was quoted", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary" }).filter((s) => !s.includes("\0")),
        (value) => {
          const result = spawnSync("dash", ["-c", `printf %s ${shellQuote(value)}`], { encoding: "utf8" });
          expect(result.stdout).toBe(value);
        },
      ),
      { numRuns: 120 },
    );
  });

  it("uploads no password: only the seed script (on stdin, into the volume) holds them", () => {
    const holdsPassword = (text: string) => Object.values(credentials).some((password) => text.includes(password));
    for (const { name, definition } of definitions) {
      for (const file of definition.files) expect({ file: file.path, secret: holdsPassword(render(file)) }).toEqual({ file: file.path, secret: false });
      expect({ name, seedHoldsPasswords: holdsPassword(definition.seed(steadyState(credentials))) }).toEqual({ name, seedHoldsPasswords: true });
    }
  });

  it("every entry script sets umask 077 before it writes a file: the runtime configs Redis and Sentinel rewrite with passwords are owner-only", () => {
    for (const definition of [dataNodeContainer(config, model, topology.dataNodes[0]), sentinelContainer(config, model, topology.sentinels[0])]) {
      const entry = render(definition.files.find((f) => f.path.endsWith("entrypoint.sh"))!);
      expect(entry).toMatch(/^umask 077$/m);
      expect(entry.search(/^umask 077$/m)).toBeLessThan(entry.search(/^write_runtime_conf$/m));
    }
  });

  it("gives a data node's stop the whole handoff budget and the sentinels' majority from the declared count", () => {
    const node = dataNodeContainer(config, model, topology.dataNodes[0]);
    expect(node.stopGraceSeconds).toBe(dataNodeStopGraceSeconds(config.sentinel.failoverTimeoutMilliseconds, config.sentinel.count));
    // Every bounded step at its bound, Redis's shutdown and the majority wait fit in the grace.
    expect(node.stopGraceSeconds * 1000).toBeGreaterThanOrEqual(
      handoffBudgetMs(config.sentinel.failoverTimeoutMilliseconds, config.sentinel.count) + HANDOFF_TIMING.redisShutdownSeconds * 1000 + HANDOFF_TIMING.majorityWaitMs,
    );
    const entryText = render(node.files.find((f) => f.path.endsWith("entrypoint.sh"))!);
    expect(entryText).toContain(`VEZA_STOP_GRACE_MS='${node.stopGraceSeconds * 1000}'`);
    const entry = render(node.files.find((f) => f.path.endsWith("entrypoint.sh"))!);
    expect(entry).toContain(`VEZA_MAJORITY='${sentinelMajority(config.sentinel.count)}'`);
    expect(entry).toContain("VEZA_SENTINELS='10.20.0.11:26379 10.20.0.12:26379 10.20.0.13:26379'");
    expect(entry).toContain("VEZA_PEERS='10.20.0.12:6379 10.20.0.13:6379'");
    expect(sentinelMajority(3)).toBe(2);
    expect(sentinelMajority(5)).toBe(3);
  });

  it("declares the initial master only for the replicas' first boot", () => {
    const entry = (index: number) => render(dataNodeContainer(config, model, topology.dataNodes[index]).files.find((f) => f.path.endsWith("entrypoint.sh"))!);
    expect(entry(0)).toContain("VEZA_DECLARED_MASTER=''");
    expect(entry(1)).toContain("VEZA_DECLARED_MASTER='10.20.0.11:6379'");
  });
});
