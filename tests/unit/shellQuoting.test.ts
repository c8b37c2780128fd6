// No config value can end the quoting of a command string. Each command the
// program builds from config (the `create` strings of the host commands, and the scripts they run)
// is executed by dash, Debian's /bin/sh, with `docker` and `redis-cli` replaced by shell functions
// that record their arguments. For arbitrary values (quotes, $(), backticks, newlines, ;, heredoc
// delimiters, unicode) each value must arrive as exactly one argument, byte for byte, and nothing
// else may run: a value that ended its quoting would split, change or add arguments or commands.
import { spawnSync } from "node:child_process";
import { SENTINEL_USERS } from "../../components/redis/acl";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { renderConnectivityCheckScript } from "../../components/api/env";
import { dockerRunStdinScript } from "../../components/host/hostCommand";
import { renderDataVolumeCheckCommand, renderDataVolumeCheckScript, renderHostTuningCommand } from "../../components/host/hostTuning";
import { renderPromtoolCheckScript } from "../../components/monitoring/render";
import { shellQuote } from "../../components/base/shell";

/** Strings built to break quoting, mixed with arbitrary ASCII and unicode (no NUL: no C string, hence no command string, can hold one). */
const hostile = fc.oneof(
  fc
    .array(
      fc.constantFrom(
        "'",
        '"',
        "'\\''",
        "$(",
        ")",
        "`",
        "\n",
        ";",
        "\\",
        "$",
        "${x}",
        "&&",
        "|",
        ">",
        "<",
        " ",
        "\t",
        "*",
        "?",
        "~",
        "#",
        "{",
        "}",
        "!",
        "-e",
        "VEZA_HOST_TUNING",
        "VEZA_RULES_EOF",
        "EOF",
        "id",
        "redis:7",
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join("")),
  fc.string({ unit: "binary-ascii", maxLength: 40 }).map((s) => s.replaceAll("\0", "")),
  fc.string({ unit: "grapheme", maxLength: 20 }),
);

const work = fs.mkdtempSync(path.join(os.tmpdir(), "veza-quoting-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/**
 * Stubs, as functions behind aliases (dash takes no `redis-cli` as a function name; an alias is
 * replaced before the words are parsed, so the arguments are split exactly as for the real
 * command): every call appends `<name>\0<argc>\0<args>\0...` to $VEZA_REC.
 */
const STUBS = String.raw`record_docker() { printf '%s\0' docker "$#" "$@" >> "$VEZA_REC"; }
record_redis_cli() {
  printf '%s\0' redis-cli "$(($# + 1))" "$REDISCLI_AUTH" "$@" >> "$VEZA_REC"
  # Answers like a sentinel, then like the master, so the connectivity script runs to its end.
  if [ "$8" = sentinel ]; then printf '10.9.9.9\n6379\n'; elif [ "$8" = ping ]; then echo PONG; elif [ "$8" = role ]; then echo master; fi
}
alias docker=record_docker redis-cli=record_redis_cli`;

/** Runs the commands (each in its own subshell) under dash; the recorded calls, in order. */
function runRecorded(commands: string[]): { calls: Array<{ command: string; args: string[] }>; stderr: string; status: number | null } {
  const rec = path.join(work, `rec-${process.hrtime.bigint()}`);
  fs.writeFileSync(rec, "");
  const script = [STUBS, ...commands.map((command) => `(\n${command}\n)`)].join("\n");
  const run = spawnSync("dash", ["-c", script], { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", VEZA_REC: rec } });
  const tokens = fs.readFileSync(rec, "utf8").split("\0");
  tokens.pop();
  const calls: Array<{ command: string; args: string[] }> = [];
  for (let i = 0; i < tokens.length;) {
    const command = tokens[i];
    const count = Number(tokens[i + 1]);
    calls.push({ command, args: tokens.slice(i + 2, i + 2 + count) });
    i += 2 + count;
  }
  fs.rmSync(rec);
  return { calls, stderr: run.stderr, status: run.status };
}

// Few runs of many values each: one dash per run keeps this file to a few seconds.
const RUNS = { numRuns: 10 };

describe("no config value can end the quoting of a command string", () => {
  it("shellQuote: every value is read back by dash as exactly itself", () => {
    fc.assert(
      fc.property(fc.array(hostile, { minLength: 1, maxLength: 20 }), (values) => {
        const { calls, stderr, status } = runRecorded(values.map((v) => `docker ${shellQuote(v)}`));
        expect({ stderr, status }).toEqual({ stderr: "", status: 0 });
        expect(calls).toEqual(values.map((v) => ({ command: "docker", args: [v] })));
      }),
      RUNS,
    );
  });

  it("the promtool check, the connectivity check's docker run: the image is one argument after --entrypoint sh", () => {
    fc.assert(
      fc.property(fc.array(hostile, { minLength: 1, maxLength: 10 }), (images) => {
        const { calls, stderr, status } = runRecorded(images.flatMap((image) => [dockerRunStdinScript(image), dockerRunStdinScript(image, ["--network host"])]));
        expect({ stderr, status }).toEqual({ stderr: "", status: 0 });
        expect(calls).toEqual(
          images.flatMap((image) => [
            { command: "docker", args: ["run", "--rm", "--pids-limit", "128", "-i", "--entrypoint", "sh", image, "-s"] },
            { command: "docker", args: ["run", "--rm", "--pids-limit", "128", "-i", "--network", "host", "--entrypoint", "sh", image, "-s"] },
          ]),
        );
      }),
      RUNS,
    );
  });

  it("the privileged kernel tuning command: the image is one argument, and the heredoc still carries the whole script", () => {
    fc.assert(
      fc.property(fc.array(hostile, { minLength: 1, maxLength: 10 }), (images) => {
        const { calls, stderr, status } = runRecorded(images.map((image) => renderHostTuningCommand(image, { tcpBacklog: 511 })));
        expect({ stderr, status }).toEqual({ stderr: "", status: 0 });
        expect(calls).toHaveLength(images.length);
        calls.forEach((call, i) => {
          expect(call.command).toBe("docker");
          // The flags before are the hardening's to choose; what follows the entrypoint is fixed.
          expect(call.args.slice(call.args.indexOf("--entrypoint"))).toEqual(["--entrypoint", "sh", images[i], "-s"]);
        });
      }),
      RUNS,
    );
  });

  it("the data volume check: the volume and the image are one argument each, the check script intact", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(hostile, hostile), { minLength: 1, maxLength: 10 }), (pairs) => {
        const { calls, stderr, status } = runRecorded(pairs.map(([image, volume]) => renderDataVolumeCheckCommand(image, volume, 123456789)));
        expect({ stderr, status }).toEqual({ stderr: "", status: 0 });
        expect(calls).toEqual(
          pairs.map(([image, volume]) => ({
            command: "docker",
            args: ["run", "--rm", "--pids-limit", "128", "-v", `${volume}:/data`, "--entrypoint", "sh", image, "-c", renderDataVolumeCheckScript("/data", 123456789)],
          })),
        );
      }),
      RUNS,
    );
  });

  it("the API's connectivity check script: master name, sentinel addresses and passwords each arrive whole", () => {
    const input = fc.record({ masterName: hostile, host: hostile, app: hostile, sentinelClients: hostile });
    fc.assert(
      fc.property(fc.array(input, { minLength: 1, maxLength: 4 }), (inputs) => {
        const scripts = inputs.flatMap(({ masterName, host, app, sentinelClients }) => [
          renderConnectivityCheckScript({ mode: "sentinel", masterName, sentinels: [{ host, port: 26379 }] }, { app, sentinelClients }),
          renderConnectivityCheckScript({ mode: "standalone", master: { host, port: 6379 } }, { app, sentinelClients }),
        ]);
        const { calls, stderr, status } = runRecorded(scripts);
        expect({ stderr, status }).toEqual({ stderr: "", status: 0 });
        const asApp = (host: string, port: string, app: string, command: string) => ({ command: "redis-cli", args: [app, "-h", host, "-p", port, "--user", "veza-app", "--no-auth-warning", command] });
        expect(calls).toEqual(
          inputs.flatMap(({ masterName, host, app, sentinelClients }) => [
            { command: "redis-cli", args: [sentinelClients, "-h", host, "-p", "26379", "--user", SENTINEL_USERS.client.name, "--no-auth-warning", "sentinel", "get-master-addr-by-name", masterName] },
            asApp("10.9.9.9", "6379", app, "ping"),
            asApp("10.9.9.9", "6379", app, "role"),
            // Standalone: the declared master's host:port, split at the last colon.
            asApp(host, "6379", app, "ping"),
            asApp(host, "6379", app, "role"),
          ]),
        );
      }),
      { numRuns: 6 },
    );
  });

  it("the promtool check script refuses a rule file whose content would end its heredoc", () => {
    expect(renderPromtoolCheckScript({ "redis.yml": "groups: []\n" })).toContain("cat > /tmp/redis.yml <<'VEZA_RULES_EOF'\ngroups: []\nVEZA_RULES_EOF");
    expect(() => renderPromtoolCheckScript({ "redis.yml": "groups: []\nVEZA_RULES_EOF\nrm -rf /\n" })).toThrow(/cannot be written by a heredoc/);
    expect(() => renderPromtoolCheckScript({ "a b;id.yml": "groups: []\n" })).toThrow(/cannot be written by a heredoc/);
  });
});
