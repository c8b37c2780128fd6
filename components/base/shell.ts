// Shared pieces of the containers' start and health scripts (POSIX sh, run by the Redis image's
// /bin/sh, dash on Debian). Every value put into a script goes through shellQuote, so no config
// value can end the quoting; passwords are only ever read from the volume's live credentials file
// and handed to redis-cli in REDISCLI_AUTH, never on a command line.

import type { RedisEndpoint } from "./endpoints";
import { redisCliTlsArguments, type ClientTlsFiles } from "../tls/certificates";

/** Where the uploaded (declared) files live in every Redis-family container. */
export const CONTAINER_CONFIG_DIR = "/etc/veza";
export const CREDENTIALS_FILE = `${CONTAINER_CONFIG_DIR}/credentials.sh`;
export const ENTRYPOINT_FILE = `${CONTAINER_CONFIG_DIR}/entrypoint.sh`;
export const HEALTHCHECK_FILE = `${CONTAINER_CONFIG_DIR}/healthcheck.sh`;
/**
 * The live credentials, in the container's volume (/data): written into the volume before the
 * container first starts (its seed command, components/topology/credentialScripts.ts) and rewritten
 * by each rotation step; read at every start, so a node restarted or replaced mid-rotation comes
 * back with the passwords of the step last applied. No password is uploaded into a container.
 */
export const CREDENTIALS_DIR_NAME = "veza-credentials";
export const CREDENTIALS_FILE_NAME = "credentials.sh";
/** `<name>-credentials-seed`: the command that writes a fresh volume's live credentials (named in the entry scripts' refusal). */
export const CREDENTIAL_SEED_SUFFIX = "-credentials-seed";

/** The credentials scripts' here-document delimiter; no rendered file has a line equal to it (passwords are alphanumeric). */
export const CREDENTIALS_EOF = "VEZA_CREDENTIALS_EOF";

/** A here-document of the content, fed to a shell function: the text is never an argument. */
export function credentialsHereDoc(content: string): string {
  return `<<'${CREDENTIALS_EOF}'\n${content.endsWith("\n") ? content : `${content}\n`}${CREDENTIALS_EOF}`;
}

/** One file of a credentials seed script (components/topology/credentialScripts.ts): `seed_file '<name>' <<'EOF'`. */
export function seedFileCommand(name: string, content: string): string {
  return `seed_file ${shellQuote(name)} ${credentialsHereDoc(content)}`;
}

/**
 * The files a seed script writes, by name: what the policy pack reviews (a volume's ACL files are
 * no container upload, the seed command's stdin is where the plan declares them).
 */
export function seededFiles(script: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const match of script.matchAll(new RegExp(`^seed_file '([^']+)' <<'${CREDENTIALS_EOF}'\\n([\\s\\S]*?)^${CREDENTIALS_EOF}$`, "gm"))) files.set(match[1], match[2]);
  return files;
}

/** Single-quotes a value for sh: the only character to escape inside '' is ' itself. */
export function shellQuote(value: string | number): string {
  return `'${String(value).replaceAll("'", `'\\''`)}'`;
}

/** `host:port` words, the form the scripts iterate over. */
export function endpointList(endpoints: RedisEndpoint[]): string {
  return shellQuote(endpoints.map((e) => `${e.host}:${e.port}`).join(" "));
}

/** `NAME='value'` lines: the plain settings at the top of a script, or the credentials file. */
export function shellAssignments(values: Record<string, string | number>): string[] {
  return Object.entries(values).map(([name, value]) => `${name}=${shellQuote(value)}`);
}

/** The credentials file every script sources (uploaded as a secret, never in the environment). */
export function renderCredentialsFile(passwords: Record<string, string>): string {
  return ["# Rendered by veza-redis. SECRET: plain-text passwords, sourced by the start and health scripts.", ...shellAssignments(passwords), ""].join("\n");
}

/**
 * Functions both scripts use:
 * - ask: one bounded redis-cli call as a named ACL user; the password goes in REDISCLI_AUTH (not argv);
 * - most_named: the master address that at least N sentinels name, asked as the container's
 *   Sentinel user (VEZA_SENTINEL_USER: lookups only, never Sentinel's administrator);
 * - role_of / master_among: ROLE of a node, and which of several nodes is a master (highest
 *   replication offset first, in case a split left two).
 */
export function shellLibrary(tls?: ClientTlsFiles): string {
  return String.raw`log() { printf 'veza %s %s: %s\n' "$VEZA_NAME" "$(date +%H:%M:%S.%3N)" "$*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

ask() {
  ask_endpoint=$1 ask_user=$2 ask_password=$3
  shift 3
  REDISCLI_AUTH=$ask_password timeout "$VEZA_ASK_TIMEOUT_S" redis-cli${redisCliTlsWords(tls)} --no-auth-warning -h "${"$"}{ask_endpoint%:*}" -p "${"$"}{ask_endpoint##*:}" --user "$ask_user" "$@" 2>/dev/null | tr -d '\r'
}

# most_named <at least> <sentinel endpoints...>: "host:port" of the master named by the most
# sentinels, if at least that many agree.
most_named() {
  mn_need=$1
  shift
  for mn_sentinel in "$@"; do
    ask "$mn_sentinel" "$VEZA_SENTINEL_USER" "$VEZA_SENTINEL_PASSWORD" SENTINEL GET-MASTER-ADDR-BY-NAME "$VEZA_MASTER_NAME" | paste -sd ' ' -
  done | awk -v need="$mn_need" 'NF == 2 && $2 ~ /^[0-9]+$/ { votes[$1 ":" $2]++ }
    END { for (a in votes) if (votes[a] > most) { most = votes[a]; best = a } if (most >= need) print best }'
}

# is_one_of <address> <addresses...>: whether the first is one of the others.
is_one_of() {
  io_address=$1
  shift
  for io_candidate in "$@"; do [ "$io_candidate" = "$io_address" ] && return 0; done
  return 1
}

# role_of <endpoint> <user> <password>: "master <offset>" or "slave <host> <port> <link state>".
role_of() {
  ask "$1" "$2" "$3" ROLE | awk 'NR == 1 { r = $1 } NR == 2 { a = $1 } NR == 3 { b = $1 } NR == 4 { c = $1 }
    END { if (r == "master") print r, a; else if (r == "slave") print r, a, b, c }'
}

# master_among <user> <password> <endpoints...>: the endpoint that reports role master (the
# highest offset if several do).
master_among() {
  ma_user=$1 ma_password=$2
  shift 2
  for ma_endpoint in "$@"; do
    ma_role=$(role_of "$ma_endpoint" "$ma_user" "$ma_password")
    case "$ma_role" in master\ *) echo "${"$"}{ma_role#master } $ma_endpoint" ;; esac
  done | sort -rn | awk 'NR == 1 { print $2 }'
}`;
}

/**
 * redis-cli's TLS options as shell words (leading space), or nothing in plaintext: a plaintext
 * script renders byte for byte as before, so turning this code on replaces no container.
 */
export function redisCliTlsWords(tls?: ClientTlsFiles): string {
  return tls ? ` ${redisCliTlsArguments(tls).map(shellQuote).join(" ")}` : "";
}

/** The volume's live credentials a script needs: its dir and the files that must be there. */
export interface LiveCredentials {
  dir: string;
  /** File names in `dir`; credentials.sh is sourced. */
  files: string[];
  /** With TLS on: what the scripts' redis-cli presents and verifies with (files in `dir`, also listed in `files`). */
  tls?: ClientTlsFiles;
}

/**
 * The head every container script shares: the shebang, what the script is, `set -u`, its plain
 * settings, the shell library and, when it has credentials, the volume's live copy. Without it
 * the script stops with one clear line: no copy is uploaded to fall back on (a frozen upload
 * would bring back passwords a rotation has since retired).
 */
export function scriptPrelude(description: string[], settings: string[], live?: LiveCredentials): string[] {
  const load =
    live === undefined
      ? []
      : [
          `VEZA_CREDENTIALS_DIR=${shellQuote(live.dir)}`,
          "# Called again before every use that may come long after the start (a handoff at SIGTERM):",
          "# a rotation step may have rewritten the file since.",
          `load_credentials() { . "$VEZA_CREDENTIALS_DIR/${CREDENTIALS_FILE_NAME}"; }`,
          `for live_file in ${live.files.map(shellQuote).join(" ")}; do`,
          '  if [ ! -r "$VEZA_CREDENTIALS_DIR/$live_file" ]; then',
          // Backslashed backquotes: literal inside the double quotes.
          `    log "no live credentials in $VEZA_CREDENTIALS_DIR: the $VEZA_NAME${CREDENTIAL_SEED_SUFFIX} command of ` + '\\`pulumi up\\` writes them"',
          "    exit 1",
          "  fi",
          "done",
          "load_credentials",
          "",
        ];
  // Owner-only files: Redis and Sentinel rewrite their runtime config (masterauth, auth-pass,
  // sentinel-pass in plain text) at 0644 & ~umask of their own process (Redis 7.0 config.c,
  // rewriteConfigOverwriteFile), and the server inherits this script's umask.
  return ["#!/bin/sh", ...description.map((line) => `# ${line}`), "set -u", "umask 077", ...settings, "", shellLibrary(live?.tls), "", ...load];
}

/** Starts the server as the unprivileged redis user (what the official image's entrypoint does with gosu). */
export const RUN_AS_REDIS = String.raw`if [ "$(id -u)" = 0 ]; then
  # The volume may come from an older container or a restore: hand it to the redis user.
  find "$VEZA_DATA_DIR" \! -user redis -exec chown redis:redis '{}' +
  run_as="setpriv --reuid=redis --regid=redis --init-groups"
else
  run_as=""
fi`;

/**
 * PID 1 stays this script, so SIGTERM (docker stop, the provider's delete, a host shutdown)
 * reaches on_stop, which may hand off before passing the signal on. `wait` returns early when a
 * trapped signal arrives, hence the loop. `afterExit` runs once the server has exited;
 * `onStart` once it has started (its pid in $child).
 */
export function superviseChild(afterExit = ":", onStart = ":"): string {
  return String.raw`child=$!
${onStart}
status=0
while kill -0 "$child" 2>/dev/null; do
  wait "$child"
  status=$?
done
log "server exited with status $status"
${afterExit}
exit "$status"`;
}
