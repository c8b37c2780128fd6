// The live half of a credential rotation step (components/redis/rotation.ts): scripts run inside
// a running container (`docker exec -i <container> sh -s`, the script on stdin), never a restart.
// Each one first rewrites the volume's live credentials (what the entry and health scripts read,
// and what Redis includes at its next start), then applies the same state to the running process:
//   data node  ACL SETUSER <user> reset on #<hash>... <rules> (exactly the accepted passwords),
//              CONFIG SET masterauth (the replication password replicas use at this step)
//   sentinel   ACL SETUSER for its users, SENTINEL SET <master> auth-pass, SENTINEL CONFIG SET
//              sentinel-pass (Redis 7.0.15 accepts both at runtime; measured)
// ACL SETUSER is used, not ACL LOAD: the users come from an included config file, not an ACL
// file, and a changed user keeps its connections (7.0.15, measured: a client authenticated with
// a password that `reset` removed kept writing). Every command is idempotent: re-running a step
// sets the same state again. Passwords reach redis-cli on its stdin or in REDISCLI_AUTH, never argv;
// the ACL commands carry only SHA-256 hashes.
// Before a container first starts on a volume, the seed script (renderCredentialSeedScript) writes
// the same files for the step of that `pulumi up` into the volume, unless they are there already.

import { ACL_ROLES, aclRules, ACL_USERS, sha256Hex, SENTINEL_ROLES, SENTINEL_USERS } from "../redis/acl";
import { CONTAINER_DATA_DIR, REDIS_SECRETS_PATH, renderRedisSecretsConf } from "../redis/redisConf";
import { dataNodeScriptCredentials } from "../redis/dataNodeScripts";
import type { CredentialState } from "../redis/rotation";
import { renderSentinelSecretsConf, SENTINEL_ACL_RULES, SENTINEL_SECRETS_PATH } from "../sentinel/sentinelConf";
import { sentinelScriptCredentials } from "../sentinel/sentinelScripts";
import type { RedisEndpoint } from "../base/endpoints";
import { TLS_FILE_NAMES, tlsFileDirectives, type ClientTlsFiles, type ClientTlsMaterial, type TlsFiles, type TlsMaterial } from "../tls/certificates";
import { CREDENTIALS_EOF, redisCliTlsWords, CREDENTIALS_FILE_NAME, credentialsHereDoc, renderCredentialsFile, seedFileCommand, shellAssignments, shellQuote } from "../base/shell";

/**
 * The path the scripts' headers name: this module's path before it moved here. The headers are
 * part of the commands' inputs, so naming the new path would re-run every credentials command
 * (and re-seed every volume) on the next `up` for a comment.
 */
const RENDERED_FROM = "components/redis/credentialScripts.ts";

const EOF_MARK = CREDENTIALS_EOF;

export interface LiveApplySettings {
  /** The container's name in logs (redis-0, sentinel-1). */
  name: string;
  /** Where the process listens inside the container (its bind address and port). */
  local: RedisEndpoint;
  /** The volume's live credentials dir (shell.ts CREDENTIALS_DIR_NAME under the data dir). */
  credentialsDir: string;
  /** With TLS on: the container's client pair, which its redis-cli presents. */
  tls?: ClientTlsFiles;
}

function fileName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** `ACL SETUSER` that leaves exactly these passwords (hashes) and the declared rules: idempotent. */
export function aclSetUserCommand(user: string, passwords: readonly string[], rules: string): string {
  return ["ACL SETUSER", user, "reset", "on", ...passwords.map((p) => `#${sha256Hex(p)}`), rules].join(" ");
}

const prelude = (tls?: ClientTlsFiles) => String.raw`set -eu
log() { printf 'veza %s %s: %s\n' "$VEZA_NAME" "$(date +%H:%M:%S.%3N)" "$*" >&2; }

# The file as the volume's live copy: written beside it, then renamed (a start never reads half a file).
# (The dir belongs to redis once the entry script handed /data over: root may write in it with
# DAC_OVERRIDE but not chmod it, the container having no FOWNER.)
write_live() {
  [ -d "$VEZA_CREDENTIALS_DIR" ] || { mkdir -p "$VEZA_CREDENTIALS_DIR" && chmod 700 "$VEZA_CREDENTIALS_DIR"; }
  (umask 077 && cat > "$1.tmp")
  chown redis:redis "$VEZA_CREDENTIALS_DIR" "$1.tmp" 2>/dev/null || true
  mv -f "$1.tmp" "$1"
}

# cli_as <password> <seconds> <args...>: redis-cli at VEZA_LOCAL as $ra_user, carriage returns
# dropped; the password in REDISCLI_AUTH, never on the command line.
cli_as() {
  ca_password=$1 ca_seconds=$2
  shift 2
  REDISCLI_AUTH=$ca_password timeout "$ca_seconds" redis-cli${redisCliTlsWords(tls)} --no-auth-warning -h "${"$"}{VEZA_LOCAL%:*}" -p "${"$"}{VEZA_LOCAL##*:}" --user "$ra_user" "$@" | tr -d '\r'
}

# run_as_admin <user> <passwords...>: the commands on stdin, as the first of the passwords that
# logs in (the old one until the admin's own switch). Fails unless every reply is OK.
run_as_admin() {
  ra_user=$1
  shift
  ra_password=""
  for ra_candidate in "$@"; do
    if [ "$(cli_as "$ra_candidate" 5 PING 2>/dev/null)" = PONG ]; then
      ra_password=$ra_candidate
      break
    fi
  done
  if [ -z "$ra_password" ]; then log "credentials: no accepted $ra_user password logs in at $VEZA_LOCAL"; exit 1; fi
  ra_commands=$(cat)
  ra_replies=$(printf '%s\n' "$ra_commands" | cli_as "$ra_password" 20 2>&1)
  ra_expected=$(printf '%s\n' "$ra_commands" | grep -c .)
  ra_ok=$(printf '%s\n' "$ra_replies" | grep -c -x OK || true)
  if [ "$ra_ok" != "$ra_expected" ]; then
    log "credentials: $ra_ok of $ra_expected commands answered OK: $(printf '%s\n' "$ra_replies" | grep -v -x OK | head -n 3 | tr '\n' ' ')"
    exit 1
  fi
}

# as_admin <command...>: one command as the user and password run_as_admin logged in with.
as_admin() { cli_as "$ra_password" 5 "$@"; }

# The ids of the replica links logged in as one of the users given (CLIENT LIST has no USER filter in 7.0).
replica_links_of() { as_admin CLIENT LIST TYPE replica | awk -v users=" $* " '{ for (i = 1; i <= NF; i++) if ($i ~ /^user=/ && index(users, " " substr($i, 6) " ")) { sub(/^id=/, "", $1); print $1 } }'; }
replica_count() { as_admin INFO replication | sed -n 's/^connected_slaves:\([0-9]*\)$/\1/p'; }

# replicas_while <test> <count> <tenths>: waits while [ replicas <test> count ] holds, at most tenths x 0.1 s.
replicas_while() {
  rw_waited=0
  while [ "$rw_waited" -lt "$3" ] && [ "$(replica_count)" "$1" "$2" ]; do
    sleep 0.1
    rw_waited=$((rw_waited + 1))
  done
}

# retire_sessions <user>...: ends every connection the users still have. ACL SETUSER removed the
# retired passwords, but a connection one logged in stays open (7.0.15, measured), and Redis
# cannot tell which password a connection used: all of the users' go, and their clients log in
# again with the current one. Ordinary and Pub/Sub connections at once, in one session; then a
# master's replica links one at a time, the next once the master counts the last one back (its
# replica reconnects within its 1 s replication cron): all at once, min-replicas-to-write would
# refuse writes meanwhile. A link that does not come back (its password retired) had to go.
retire_sessions() {
  for rs_user in "$@"; do printf 'CLIENT KILL USER %s TYPE normal\nCLIENT KILL USER %s TYPE pubsub\n' "$rs_user" "$rs_user"; done | as_admin > /dev/null
  for rs_id in $(replica_links_of "$@"); do
    rs_replicas=$(replica_count)
    as_admin CLIENT KILL ID "$rs_id" > /dev/null
    replicas_while -ge "$rs_replicas" 10
    replicas_while -lt "$rs_replicas" 20
  done
  log "credentials: ended the sessions of $*"
}`;

function header(kind: string, s: LiveApplySettings): string[] {
  return [
    "#!/bin/sh",
    `# Rendered by veza-redis (${RENDERED_FROM}). A ${kind}'s credentials, applied live:`,
    "# run inside its container with this script on stdin. SECRET: holds plain-text passwords.",
    ...shellAssignments({ VEZA_NAME: s.name, VEZA_LOCAL: `${s.local.host}:${s.local.port}`, VEZA_CREDENTIALS_DIR: s.credentialsDir }),
    prelude(s.tls),
    "",
  ];
}

function writeLive(name: string, content: string): string {
  return `write_live "$VEZA_CREDENTIALS_DIR/${name}" ${credentialsHereDoc(content)}`;
}

function adminCommands(user: string, passwords: readonly string[], commands: string[]): string {
  return [`run_as_admin ${shellQuote(user)} ${passwords.map(shellQuote).join(" ")} <<'${EOF_MARK}'`, ...commands, EOF_MARK].join("\n");
}

/** The data-node commands of a step: every ACL user, then the replication password this node uses to its master. */
export function dataNodeLiveCommands(state: CredentialState, declaredDataHosts: readonly string[]): string[] {
  const rules = aclRules(declaredDataHosts);
  return [
    ...ACL_ROLES.map((role) => aclSetUserCommand(ACL_USERS[role], state.accepted[role], rules[role])),
    // Used at the next (re)connection to the master; the link up now stays up.
    `CONFIG SET masterauth ${state.used.replication}`,
  ];
}

export function sentinelLiveCommands(masterName: string, state: CredentialState): string[] {
  return [
    ...SENTINEL_ROLES.map((role) => aclSetUserCommand(SENTINEL_USERS[role].name, state.accepted[SENTINEL_USERS[role].credential], SENTINEL_ACL_RULES[role])),
    `SENTINEL SET ${masterName} auth-pass ${state.used.sentinel}`,
    `SENTINEL CONFIG SET sentinel-pass ${state.used.sentinelPeer}`,
  ];
}

/** The live credential files' names in the volume: what the entry and health scripts require. */
export const DATA_NODE_LIVE_FILE_NAMES = [fileName(REDIS_SECRETS_PATH), CREDENTIALS_FILE_NAME] as const;
export const SENTINEL_LIVE_FILE_NAMES = [fileName(SENTINEL_SECRETS_PATH), CREDENTIALS_FILE_NAME] as const;

/** A data node's live credential files at a step, by name: what its seed and its live apply write. */
export function dataNodeLiveFiles(state: CredentialState, declaredDataHosts: readonly string[]): Record<string, string> {
  const [secrets, scripts] = DATA_NODE_LIVE_FILE_NAMES;
  return { [secrets]: renderRedisSecretsConf(state, declaredDataHosts), [scripts]: renderCredentialsFile(dataNodeScriptCredentials(state.used)) };
}

/** A sentinel's live credential files at a step, by name. */
export function sentinelLiveFiles(masterName: string, state: CredentialState): Record<string, string> {
  const [secrets, scripts] = SENTINEL_LIVE_FILE_NAMES;
  return { [secrets]: renderSentinelSecretsConf(masterName, state), [scripts]: renderCredentialsFile(sentinelScriptCredentials(state.used)) };
}

/** The ACL users of a data node whose previous password this step retires. */
export function dataNodeRetiredUsers(state: CredentialState): string[] {
  return ACL_ROLES.filter((role) => state.retired[role] !== undefined).map((role) => ACL_USERS[role]);
}

/** The ACL users of a sentinel whose previous password this step retires. */
export function sentinelRetiredUsers(state: CredentialState): string[] {
  return SENTINEL_ROLES.filter((role) => state.retired[SENTINEL_USERS[role].credential] !== undefined).map((role) => SENTINEL_USERS[role].name);
}

/** 3. At retire: the retired passwords' sessions end (a stolen password's open connection too). */
function retireSessions(users: string[]): string[] {
  return users.length === 0 ? [] : ["# 3. The sessions the retired passwords opened end: whoever holds an old one is out now.", `retire_sessions ${users.map(shellQuote).join(" ")}`];
}

export function renderDataNodeLiveScript(s: LiveApplySettings, state: CredentialState, declaredDataHosts: readonly string[]): string {
  return [
    ...header("data node", s),
    "# 1. The live copy first: a restart from here on comes back with this step's passwords.",
    ...Object.entries(dataNodeLiveFiles(state, declaredDataHosts)).map(([name, content]) => writeLive(name, content)),
    "# 2. The running server, as its administrator.",
    adminCommands(ACL_USERS.admin, state.accepted.admin, dataNodeLiveCommands(state, declaredDataHosts)),
    'log "credentials: applied live (ACL users, masterauth)"',
    ...retireSessions(dataNodeRetiredUsers(state)),
    "",
  ].join("\n");
}

export function renderSentinelLiveScript(s: LiveApplySettings, masterName: string, state: CredentialState): string {
  return [
    ...header("sentinel", s),
    "# 1. The live copy first: a restart from here on comes back with this step's passwords.",
    ...Object.entries(sentinelLiveFiles(masterName, state)).map(([name, content]) => writeLive(name, content)),
    "# 2. The running sentinel, as its administrator (SENTINEL SET and CONFIG SET rewrite its runtime config).",
    adminCommands(SENTINEL_USERS.admin.name, state.accepted.sentinelAdmin, sentinelLiveCommands(masterName, state)),
    'log "credentials: applied live (ACL users, auth-pass, sentinel-pass)"',
    ...retireSessions(sentinelRetiredUsers(state)),
    "",
  ].join("\n");
}

/** Who owns a consumer's password files: the uid and gid its container runs as. */
export interface FileOwner {
  uid: number;
  gid: number;
}

/**
 * Files for a container without an entry script of ours (the exporter, the API): a script for a
 * throwaway container (as root) with the credentials volume at `mountDir`, writing each file whole
 * (beside it, then renamed). With an owner: mode 0600, owned by the uid its reader runs as, so no
 * other uid can read it. Without (a reader whose uid this stack does not know): 0644, see the caller.
 */
export function renderVolumeFilesScript(mountDir: string, files: Record<string, string>, owner?: FileOwner): string {
  return [
    "#!/bin/sh",
    `# Rendered by veza-redis (${RENDERED_FROM}): a consumer's password files. SECRET.`,
    "set -eu",
    owner ? "umask 077" : "umask 022",
    ...Object.entries(files).map(([name, content]) => {
      const target = shellQuote(`${mountDir}/${name}`);
      const tmp = shellQuote(`${mountDir}/${name}.tmp`);
      return [
        // A leftover is removed, not opened: owned by the reader, root could not open it without DAC_OVERRIDE.
        `rm -f ${tmp}`,
        // printf is the shell's builtin: the content is never another process's argument; byte-exact
        // (a password file gets no trailing newline).
        `printf '%s' ${shellQuote(content)} > ${tmp}`,
        ...(owner ? [`chown ${owner.uid}:${owner.gid} ${tmp}`] : []),
        `mv -f ${tmp} ${target}`,
      ].join("\n");
    }),
    "",
  ].join("\n");
}

/**
 * What the seed's throwaway container may do, dropping every other capability: root creates the
 * credentials dir in the redis-owned /data (the image's /data, copied into a fresh volume) and
 * hands the files to the redis user. The drills' container runner replays it under this set.
 */
export const CREDENTIAL_SEED_CAPABILITIES: Record<string, string> = {
  CHOWN: "hands the seeded files and dir to the redis user",
  DAC_OVERRIDE: "root writes into the redis-owned /data and looks into a populated 0700 credentials dir",
};

/** Where the seed's throwaway container mounts the volume: the data dir, as the container does. */
export const CREDENTIAL_SEED_MOUNT = CONTAINER_DATA_DIR;

/**
 * A volume's live credentials before its container first starts: run in a throwaway container of
 * the server's image with the volume at /data (`docker run --rm -i ... sh -s`, this on stdin),
 * after the volume exists and before the container is created. It writes only the files the
 * volume lacks: a populated volume keeps its own (each rotation step's live apply moves them
 * forward), a fresh one gets the step of this `pulumi up`. So no container ever starts on
 * passwords frozen at an earlier step. Each file 0600 in a 0700 dir, written beside and renamed.
 */
export function renderCredentialSeedScript(s: Pick<LiveApplySettings, "name" | "credentialsDir">, files: Record<string, string>, lineage?: SeedLineage): string {
  return [
    "#!/bin/sh",
    `# Rendered by veza-redis (${RENDERED_FROM}). A volume's live credentials,`,
    "# written before its container starts unless there already. SECRET: holds plain-text passwords.",
    ...shellAssignments({ VEZA_NAME: s.name, VEZA_CREDENTIALS_DIR: s.credentialsDir }),
    String.raw`set -eu
umask 077
log() { printf 'veza %s: %s\n' "$VEZA_NAME" "$*" >&2; }
# As root (the throwaway container), the files go to the redis user the server runs as; the entry
# script also hands the whole volume over before Redis starts.
give_to_redis() { if [ "$(id -u)" = 0 ]; then chown redis:redis "$@"; fi; }
[ -d "$VEZA_CREDENTIALS_DIR" ] || { mkdir "$VEZA_CREDENTIALS_DIR" && give_to_redis "$VEZA_CREDENTIALS_DIR"; }
seeded="" kept="" replace=""
# seed_file <name>, the content on stdin: only if the volume has no such file (or a copy from another life).
seed_file() {
  if [ -z "$replace" ] && [ -e "$VEZA_CREDENTIALS_DIR/$1" ]; then kept="$kept $1"; return 0; fi
  rm -f "$VEZA_CREDENTIALS_DIR/$1.tmp"
  cat > "$VEZA_CREDENTIALS_DIR/$1.tmp"
  give_to_redis "$VEZA_CREDENTIALS_DIR/$1.tmp"
  mv -f "$VEZA_CREDENTIALS_DIR/$1.tmp" "$VEZA_CREDENTIALS_DIR/$1"
  seeded="$seeded $1"
}`,
    ...(lineage ? [lineageCheck(lineage)] : []),
    ...Object.entries(files).map(([name, content]) => seedFileCommand(name, content)),
    String.raw`if [ -n "$seeded" ]; then log "credentials: seeded$seeded in $VEZA_CREDENTIALS_DIR (a fresh volume)"; fi
if [ -n "$kept" ]; then log "credentials: kept$kept (the volume's live copy; the live apply moves it)"; fi`,
    "",
  ].join("\n");
}

/**
 * Whether a populated volume's live copy belongs to this stack's passwords: its ACL file holds one
 * of the administrator hashes this step accepts. Every step the program allows shares one with the
 * step before it (rotation.ts allowedSteps), so a copy with none is from another life of the stack:
 * destroyed and deployed again onto the retained volume, every password regenerated. Kept, it
 * would start the server on passwords no one holds (the live apply could not even log in).
 */
export interface SeedLineage {
  /** The live ACL file's name in the credentials dir. */
  file: string;
  /** The administrator's passwords this step accepts. */
  adminPasswords: readonly string[];
}

function lineageCheck(lineage: SeedLineage): string {
  const patterns = lineage.adminPasswords.map((p) => `-e ${shellQuote(`#${sha256Hex(p)}`)}`).join(" ");
  return String.raw`if [ -f "$VEZA_CREDENTIALS_DIR/${lineage.file}" ] && ! grep -q -F ${patterns} "$VEZA_CREDENTIALS_DIR/${lineage.file}"; then
  replace=yes
  log "credentials: the volume's live copy accepts none of this step's administrator passwords: left by an earlier life of this stack (destroyed, passwords regenerated); replacing it"
fi`;
}

/** A data node's seed: its live files at this step, replacing a copy from another life. */
export function dataNodeSeedScript(name: string, credentialsDir: string, state: CredentialState, declaredDataHosts: readonly string[]): string {
  return renderCredentialSeedScript({ name, credentialsDir }, dataNodeLiveFiles(state, declaredDataHosts), { file: DATA_NODE_LIVE_FILE_NAMES[0], adminPasswords: state.accepted.admin });
}

/** A sentinel's seed: the same, its administrator being the sentinel admin user. */
export function sentinelSeedScript(name: string, credentialsDir: string, masterName: string, state: CredentialState): string {
  return renderCredentialSeedScript({ name, credentialsDir }, sentinelLiveFiles(masterName, state), { file: SENTINEL_LIVE_FILE_NAMES[0], adminPasswords: state.accepted.sentinelAdmin });
}

/**
 * `<name>-tls-files`: the process's TLS files written into its volume by a throwaway container
 * (the seed's flags), before the container is created and again whenever a certificate changes.
 * Unlike the passwords' seed it always replaces: the declared certificates are the truth at every
 * step, and a process reads only what it loads (a data node at its reload, a sentinel at start).
 * Each file 0600 and the redis user's, written beside and renamed: a start never reads half a key.
 */
export function renderTlsFilesScript(name: string, credentialsDir: string, material: TlsMaterial): string {
  return [
    "#!/bin/sh",
    `# Rendered by veza-redis (components/topology/credentialScripts.ts). A process's TLS files. SECRET: holds private keys.`,
    ...shellAssignments({ VEZA_NAME: name, VEZA_CREDENTIALS_DIR: credentialsDir }),
    String.raw`set -eu
umask 077
give_to_redis() { if [ "$(id -u)" = 0 ]; then chown redis:redis "$@"; fi; }
[ -d "$VEZA_CREDENTIALS_DIR" ] || { mkdir "$VEZA_CREDENTIALS_DIR" && give_to_redis "$VEZA_CREDENTIALS_DIR"; }
replace_file() {
  rm -f "$VEZA_CREDENTIALS_DIR/$1.tmp"
  cat > "$VEZA_CREDENTIALS_DIR/$1.tmp"
  give_to_redis "$VEZA_CREDENTIALS_DIR/$1.tmp"
  mv -f "$VEZA_CREDENTIALS_DIR/$1.tmp" "$VEZA_CREDENTIALS_DIR/$1"
}`,
    ...Object.entries(TLS_FILE_NAMES).map(([field, file]) => `replace_file ${shellQuote(file)} ${credentialsHereDoc(material[field as keyof TlsFiles])}`),
    `printf 'veza %s: tls: wrote %s\\n' "$VEZA_NAME" ${shellQuote(Object.values(TLS_FILE_NAMES).join(" "))} >&2`,
    "",
  ].join("\n");
}

/**
 * `<name>-tls-reload`: a running data node re-reads its TLS files on one CONFIG SET of their paths
 * (Redis 7.0 applies tls-* settings even when unchanged, keeps the old context if a new file is
 * bad, and keeps open connections), as its administrator: never a restart, never a failover.
 */
export function renderDataNodeTlsReloadScript(s: LiveApplySettings, files: TlsFiles, state: CredentialState): string {
  return [
    ...header("data node", s),
    adminCommands(ACL_USERS.admin, state.accepted.admin, [["CONFIG SET", ...tlsFileDirectives(files).flat()].join(" ")]),
    'log "tls: reloaded its certificates (CONFIG SET)"',
    "",
  ].join("\n");
}

/** A client's TLS files for renderVolumeFilesScript: each file's name in its volume, and its PEM. */
export function clientTlsVolumeFiles(files: ClientTlsFiles, material: ClientTlsMaterial): Record<string, string> {
  return Object.fromEntries((Object.keys(files) as Array<keyof ClientTlsFiles>).map((key) => [fileName(files[key]), material[key]]));
}
