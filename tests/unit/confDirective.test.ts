// A config value cannot change the structure of redis.conf or sentinel.conf: whatever string
// reaches confDirective, the line either is refused (the render fails, naming it) or reads back,
// as Redis reads config files, as exactly the directive and its arguments.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { confDirective } from "../../components/base/confDirective";
import { renderRedisConf, renderRedisSecretsConf } from "../../components/redis/redisConf";
import { renderSentinelConf } from "../../components/sentinel/sentinelConf";
import { dataNodeSettings, sentinelSettings } from "../../components/topology/settings";
import { placeTopology } from "../../components/topology/placement";
import { LOCAL_HOST, randomCredentials } from "../../drills/harness/localCluster";
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";
import { stackModelPlacedAt } from "../../components/topology/model";

/** Redis's loadServerConfigFromString: lines, trimmed, comments skipped, each split by sdssplitargs (sds.c). */
function readConfig(text: string): string[][] {
  return text
    .split("\n")
    .map((line) => line.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, ""))
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const args = splitArgs(line);
      if (args === undefined) throw new Error(`unbalanced quotes: ${JSON.stringify(line)}`);
      return args;
    });
}

/** sds.c sdssplitargs, the quoting Redis applies to a config line (undefined: unbalanced quotes). */
function splitArgs(line: string): string[] | undefined {
  const args: string[] = [];
  const space = (c: string | undefined) => c !== undefined && " \n\r\t\f\v".includes(c);
  let i = 0;
  for (;;) {
    while (space(line[i])) i++;
    if (i >= line.length) return args;
    let current = "";
    let inDouble = false;
    let inSingle = false;
    for (let done = false; !done;) {
      const c = line[i];
      if (inDouble) {
        if (c === undefined) return undefined;
        if (c === "\\" && line[i + 1] === "x" && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
          current += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === "\\" && line[i + 1] !== undefined) {
          i++;
          current += ({ n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" } as Record<string, string>)[line[i]] ?? line[i];
        } else if (c === '"') {
          if (line[i + 1] !== undefined && !space(line[i + 1])) return undefined;
          done = true;
        } else current += c;
      } else if (inSingle) {
        if (c === undefined) return undefined;
        if (c === "\\" && line[i + 1] === "'") {
          i++;
          current += "'";
        } else if (c === "'") {
          if (line[i + 1] !== undefined && !space(line[i + 1])) return undefined;
          done = true;
        } else current += c;
      } else if (c === undefined || space(c)) done = true;
      else if (c === '"') inDouble = true;
      else if (c === "'") inSingle = true;
      else current += c;
      if (c !== undefined) i++;
    }
    args.push(current);
  }
}

/** Strings built to break a config line, mixed with arbitrary ASCII and unicode. */
const hostile = fc.oneof(
  fc
    .array(fc.constantFrom('"', "'", "\\", "\\x41", " ", "\t", "\n", "\r", "#", "include /etc/passwd", "bind 0.0.0.0", "x", "/data", "127.0.0.1", ":", "@"), { maxLength: 10 })
    .map((parts) => parts.join("")),
  fc.string({ unit: "binary-ascii", maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
);

describe("config lines from values", () => {
  it("reads back as exactly the directive and its arguments, or is refused naming the value, whatever the string", () => {
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        let line: string;
        try {
          line = confDirective("sentinel", "monitor", a, b, 6379, 2);
        } catch (error) {
          expect((error as Error).message).toMatch(/cannot be written into a Redis config file as one argument/);
          return;
        }
        expect(readConfig(line)).toEqual([["sentinel", "monitor", a, b, "6379", "2"]]);
      }),
      { numRuns: 2000 },
    );
  });

  it("the model of Redis's splitting is Redis's: a real redis-server reads quotes and escapes as the model does", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-conf-"));
    try {
      const spaced = path.join(dir, "a b");
      fs.mkdirSync(spaced);
      const text = `dir "${spaced}"\nmasterauth 'x\\'y'\n# include /etc/x\nreplica-announce-ip "a\\x41\\tb"\nport 0\nunixsocket ${dir}/s\nsave ""\n`;
      expect(readConfig(text).slice(0, 3)).toEqual([
        ["dir", spaced],
        ["masterauth", "x'y"],
        ["replica-announce-ip", "aA\tb"],
      ]);
      fs.writeFileSync(path.join(dir, "redis.conf"), text);
      const server = spawn("redis-server", [path.join(dir, "redis.conf")], { stdio: "ignore" });
      try {
        const get = (key: string) => spawnSync("redis-cli", ["-s", `${dir}/s`, "--raw", "config", "get", key], { encoding: "utf8" }).stdout.split("\n")[1];
        for (let i = 0; i < 50 && spawnSync("redis-cli", ["-s", `${dir}/s`, "ping"], { encoding: "utf8" }).stdout.trim() !== "PONG"; i++) spawnSync("sleep", ["0.1"]);
        expect([get("dir"), get("masterauth"), get("replica-announce-ip")]).toEqual([spaced, "x'y", "aA\tb"]);
      } finally {
        server.kill("SIGKILL");
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(() => readConfig('dir "/a b')).toThrow(/unbalanced/);
  });

  const config = requireValidStackConfig(readStackConfigFile("dev").raw);
  const topology = placeTopology({ hosts: [LOCAL_HOST], redisPort: 6379, sentinelPort: 26379, replicas: 2, sentinels: 3 });
  const model = stackModelPlacedAt(config, topology);

  it("renders the stack's files as directives Redis reads back one per line, and refuses a value that would add one", () => {
    const node = dataNodeSettings(config, model, topology.dataNodes[1]);
    const conf = readConfig(renderRedisConf(node));
    expect(conf.find((d) => d[0] === "replicaof")).toEqual(["replicaof", "127.0.0.1", "6379"]);
    expect(conf.filter((d) => d[0] === "bind")).toEqual([["bind", "127.0.0.1"]]);
    expect(readConfig(renderRedisSecretsConf(randomCredentials(), ["10.0.0.1"])).filter((d) => d[0] === "masterauth")).toHaveLength(1);
    expect(() => renderRedisConf({ ...node, bindAddress: "127.0.0.1\nbind 0.0.0.0" })).toThrow(/^bind: "127\.0\.0\.1\\nbind 0\.0\.0\.0" cannot be written/);
    expect(() => renderRedisConf({ ...node, dataDir: "/data\ninclude /tmp/evil.conf" })).toThrow(/^dir: /);
    const sentinel = sentinelSettings(config, model, topology.sentinels[0]);
    expect(readConfig(renderSentinelConf(sentinel)).find((d) => d[1] === "monitor")).toEqual(["sentinel", "monitor", config.sentinel.masterName, "127.0.0.1", "6379", String(config.sentinel.quorum)]);
    expect(() => renderSentinelConf({ ...sentinel, masterAddress: "127.0.0.1 6379 1\nsentinel monitor evil 6.6.6.6" })).toThrow(/^sentinel: /);
  });
});
