// The data node container's start and health scripts: pure renderers, unit-tested like the confs
// and run as real processes by the day-2 drills.
//
// Declared is the first boot; the running cluster owns the present. After a failover Sentinel,
// not Pulumi, knows the master, so a data node decides its role at every start, in this order:
//   1. the master a majority of the sentinels name: another node, or this node itself unless a
//      peer already reports ROLE master (a failover caught mid-way: follow the promoted node);
//   2. else the other data nodes: one reporting ROLE master;
//   3. else this node's own previous run (the replicaof Sentinel rewrote into the runtime conf);
//   4. else the declared topology: the first boot.
// On SIGTERM a master hands its role off: it pauses writes, lets the replicas catch up, shuts
// Redis down with its AOF flushed, then asks for SENTINEL FAILOVER and waits until the sentinels
// name the new master. So a provider delete, `docker stop` or a host reboot is a planned switchover.

import type { Sizing } from "./sizing";
import { ACL_USERS, type Credentials, SENTINEL_USERS } from "./acl";
import { PAUSE_PROBE_KEY } from "./pauseProbe";
import { AOF_HEAL_FUNCTION } from "./aofHeal";
import { endpointList, RUN_AS_REDIS, scriptPrelude, shellAssignments, type LiveCredentials, superviseChild } from "../base/shell";
import type { RedisEndpoint } from "../base/endpoints";

/** The runtime copy under the data dir is what Redis (and Sentinel's CONFIG REWRITE) uses. */
export const RUNTIME_REDIS_CONF_NAME = "redis.conf";

/** Bounds of each handoff step. Their sum, plus Redis's own shutdown, is the stop grace. */
export const HANDOFF_TIMING = {
  /** Every replica normally catches up within milliseconds once writes are paused. */
  catchUpMs: 5000,
  /** Retrying SENTINEL FAILOVER while a sentinel answers NOGOODSLAVE (a replica it has not re-checked yet). */
  failoverRequestMs: 3000,
  /** Redis's shutdown-timeout: how long a stopping master waits for lagging replicas. */
  redisShutdownSeconds: 10,
  /** After a handoff, how long the stopped node waits for a majority of the sentinels to name the new master. */
  majorityWaitMs: 5000,
  /** One redis-cli call; a dead peer must not stall discovery or the handoff. */
  askTimeoutSeconds: 2,
  /** Discovery rounds (1 s apart) while nobody answers, before falling back. */
  discoveryRounds: 3,
  /**
   * The longest a write may wait on this node outside its own handoff before the pause watchdog
   * stops Redis: a CLIENT PAUSE nobody ends (below) becomes a failover within this plus down-after.
   */
  pauseLimitMs: 10000,
  marginSeconds: 3,
} as const;

/**
 * The handoff's two phases, every redis-cli call at its timeout. Before Redis is told to shut
 * down: the checks before the pause (ROLE, the sentinels) and the catch-up. After it has exited:
 * the failover requests (a last round over every sentinel may start just before its budget ends)
 * and the promotion. The script enforces each as one deadline.
 */
export function handoffBudgets(promotionWaitMs: number, sentinelCount: number): { pauseMs: number; failoverMs: number } {
  const ask = HANDOFF_TIMING.askTimeoutSeconds * 1000;
  const checksBeforePause = (1 + sentinelCount) * ask;
  const catchUp = HANDOFF_TIMING.catchUpMs + ask;
  const failoverRequests = HANDOFF_TIMING.failoverRequestMs + sentinelCount * ask;
  return { pauseMs: checksBeforePause + catchUp, failoverMs: failoverRequests + promotionWaitMs + ask };
}

export function handoffBudgetMs(promotionWaitMs: number, sentinelCount: number): number {
  const { pauseMs, failoverMs } = handoffBudgets(promotionWaitMs, sentinelCount);
  return pauseMs + failoverMs;
}

/**
 * destroyGraceSeconds and stopTimeout: the handoff budget, Redis's own shutdown (AOF fsync, lagging
 * replicas) and the wait for a majority of the sentinels, with a margin. Below this the provider's
 * delete SIGKILLs Redis mid-handoff or mid-shutdown.
 */
export function dataNodeStopGraceSeconds(promotionWaitMs: number, sentinelCount: number): number {
  return Math.ceil(handoffBudgetMs(promotionWaitMs, sentinelCount) / 1000) + HANDOFF_TIMING.redisShutdownSeconds + Math.ceil(HANDOFF_TIMING.majorityWaitMs / 1000) + HANDOFF_TIMING.marginSeconds;
}

/**
 * How long `wait: true` gives a node to become healthy: a replica must load its AOF and finish
 * a full sync of up to maxmemory. 60 s plus 1 s per 20 MiB (a slow disk or link), from the sizing.
 */
export function dataNodeHealthyWithinSeconds(sizing: Pick<Sizing, "maxmemoryBytes">): number {
  return 60 + Math.ceil(sizing.maxmemoryBytes / (20 * 1024 * 1024));
}

export interface DataNodeScriptSettings {
  name: string;
  /** How the sentinels and the other nodes name this node (announce address and port). */
  self: RedisEndpoint;
  /** Where this node listens (bind address), for its own local calls. */
  local: RedisEndpoint;
  dataDir: string;
  declaredConfPath: string;
  /** The volume's live credentials (seeded before the first start, rewritten by each rotation step). */
  credentials: LiveCredentials;
  masterName: string;
  sentinels: RedisEndpoint[];
  /** The other data nodes. */
  peers: RedisEndpoint[];
  /** The declared initial master, for a replica's first boot; undefined for the initial master. */
  declaredMaster?: RedisEndpoint;
  /** Sentinel's failover-timeout: the longest wait for the sentinels to name a new master. */
  promotionWaitMs: number;
}

/** Strict majority of the declared sentinels: a minority cannot move a restarting node. */
export function sentinelMajority(sentinelCount: number): number {
  return Math.floor(sentinelCount / 2) + 1;
}

function settingsBlock(s: DataNodeScriptSettings): string[] {
  const budgets = handoffBudgets(s.promotionWaitMs, s.sentinels.length);
  return shellAssignments({
    VEZA_NAME: s.name,
    VEZA_SELF: `${s.self.host}:${s.self.port}`,
    VEZA_LOCAL: `${s.local.host}:${s.local.port}`,
    VEZA_DATA_DIR: s.dataDir,
    VEZA_DECLARED_CONF: s.declaredConfPath,
    VEZA_RUNTIME_CONF: `${s.dataDir}/${RUNTIME_REDIS_CONF_NAME}`,
    VEZA_MASTER_NAME: s.masterName,
    VEZA_DECLARED_MASTER: s.declaredMaster ? `${s.declaredMaster.host}:${s.declaredMaster.port}` : "",
    VEZA_MAJORITY: sentinelMajority(s.sentinels.length),
    VEZA_HANDOFF_USER: ACL_USERS.handoff,
    VEZA_HEALTH_USER: ACL_USERS.health,
    // Sentinel lookups and SENTINEL FAILOVER only: not Sentinel's administrator, not the API's user.
    VEZA_SENTINEL_USER: SENTINEL_USERS.failover.name,
    VEZA_ASK_TIMEOUT_S: HANDOFF_TIMING.askTimeoutSeconds,
    VEZA_DISCOVERY_ROUNDS: HANDOFF_TIMING.discoveryRounds,
    VEZA_PAUSE_BUDGET_MS: budgets.pauseMs,
    VEZA_FAILOVER_BUDGET_MS: budgets.failoverMs,
    // The pause outlasts the whole stop: it never runs out while a failover may be under way.
    VEZA_STOP_GRACE_MS: dataNodeStopGraceSeconds(s.promotionWaitMs, s.sentinels.length) * 1000,
    VEZA_MARGIN_MS: HANDOFF_TIMING.marginSeconds * 1000,
    VEZA_CATCH_UP_MS: HANDOFF_TIMING.catchUpMs,
    VEZA_FAILOVER_REQUEST_MS: HANDOFF_TIMING.failoverRequestMs,
    VEZA_MAJORITY_WAIT_MS: HANDOFF_TIMING.majorityWaitMs,
    VEZA_PROMOTION_WAIT_MS: s.promotionWaitMs,
    VEZA_PAUSE_LIMIT_MS: HANDOFF_TIMING.pauseLimitMs,
    VEZA_PAUSE_PROBE_KEY: PAUSE_PROBE_KEY,
  }).concat(
    `VEZA_SENTINELS=${endpointList(s.sentinels)}`,
    `VEZA_PEERS=${endpointList(s.peers)}`,
    // The only masters and replicas it accepts (is_one_of): the declared set, apart from the lists discovery asks.
    `VEZA_DECLARED_DATA_NODES=${endpointList([s.self, ...s.peers])}`,
  );
}

export function renderDataNodeEntrypoint(s: DataNodeScriptSettings): string {
  return [
    ...scriptPrelude(
      ["Rendered by veza-redis (components/redis/dataNodeScripts.ts). The data node's PID 1: decides", "the role from the running cluster, starts Redis, and hands the master role off on SIGTERM."],
      settingsBlock(s),
      s.credentials,
    ),
    "",
    String.raw`# Any sentinel holds the master down or is failing it over (SENTINEL MASTER flags).
failover_under_way() {
  for fu_sentinel in $VEZA_SENTINELS; do
    ask "$fu_sentinel" "$VEZA_SENTINEL_USER" "$VEZA_SENTINEL_PASSWORD" SENTINEL MASTER "$VEZA_MASTER_NAME" | awk 'previous == "flags" { print } { previous = $0 }'
  done | grep -q -E 's_down|o_down|failover_in_progress'
}

# Sets MASTER ("self" or host:port) and SOURCE. See the precedence in dataNodeScripts.ts.
discover_master() {
  round=1
  while :; do
    named=""
    [ -n "$VEZA_SENTINELS" ] && named=$(most_named "$VEZA_MAJORITY" $VEZA_SENTINELS)
    if [ -n "$named" ] && [ "$named" != "$VEZA_SELF" ]; then
      MASTER=$named SOURCE="a majority of the sentinels"
      return
    fi
    if [ "$named" = "$VEZA_SELF" ]; then
      # Named master while a failover of this node is under way: it crashed, and either a peer
      # already reports ROLE master (promoted, the sentinels not switched yet) or a sentinel
      # holds it down (s_down, o_down, failover_in_progress). Starting as master would take
      # writes the failover then throws away: wait for the sentinels, then follow the new master.
      promoted=$(master_among "$VEZA_HANDOFF_USER" "$VEZA_HANDOFF_PASSWORD" $VEZA_PEERS)
      if [ -z "$promoted" ] && ! failover_under_way; then MASTER=self SOURCE="a majority of the sentinels"; return; fi
      waited=$(now_ms)
      while named=$(most_named "$VEZA_MAJORITY" $VEZA_SENTINELS); [ "$named" = "$VEZA_SELF" ]; do
        if [ $(($(now_ms) - waited)) -gt "$VEZA_PROMOTION_WAIT_MS" ]; then break; fi
        sleep 0.2
      done
      if [ -n "$named" ] && [ "$named" != "$VEZA_SELF" ]; then
        MASTER=$named SOURCE="a failover under way (the sentinels now name $named)"
      elif [ -n "$promoted" ]; then
        MASTER=$promoted SOURCE="a failover under way ($promoted reports master)"
      else
        MASTER=self SOURCE="a majority of the sentinels, after waiting out a failover that did not happen"
      fi
      return
    fi
    found=$(master_among "$VEZA_HANDOFF_USER" "$VEZA_HANDOFF_PASSWORD" $VEZA_PEERS)
    if [ -n "$found" ]; then
      MASTER=$found SOURCE="the other data nodes (ROLE)"
      return
    fi
    [ "$round" -ge "$VEZA_DISCOVERY_ROUNDS" ] && break
    round=$((round + 1))
    sleep 1
  done
  if [ -f "$VEZA_RUNTIME_CONF" ]; then
    previous=$(sed -n 's/^[[:space:]]*\(replicaof\|slaveof\)[[:space:]]\{1,\}\([^[:space:]]\{1,\}\)[[:space:]]\{1,\}\([0-9]\{1,\}\).*/\2:\3/p' "$VEZA_RUNTIME_CONF" | tail -n 1)
    MASTER=${"$"}{previous:-self} SOURCE="this node's previous run"
    return
  fi
  MASTER=${"$"}{VEZA_DECLARED_MASTER:-self} SOURCE="the declared topology (first boot)"
}

write_runtime_conf() {
  tmp="$VEZA_RUNTIME_CONF.tmp"
  {
    echo "# Written at start from $VEZA_DECLARED_CONF; role from $SOURCE. Sentinel rewrites this copy."
    grep -v -i -E '^[[:space:]]*(replicaof|slaveof)[[:space:]]' "$VEZA_DECLARED_CONF"
    if [ "$MASTER" != self ]; then echo "replicaof ${"$"}{MASTER%:*} ${"$"}{MASTER##*:}"; fi
  } > "$tmp" && mv "$tmp" "$VEZA_RUNTIME_CONF"
}

local_ask() { ask "$VEZA_LOCAL" "$VEZA_HANDOFF_USER" "$VEZA_HANDOFF_PASSWORD" "$@"; }

# peers_caught_up <offset>: every other data node is a replica of this node, its link up, and has
# processed the offset. Sentinel may promote any replica it knows (one whose link just dropped
# too), so all must hold every acknowledged write; each is asked for its own offset (the master's
# view, from REPLCONF ACK once a second, can be a second old). Asked in parallel: writes are paused.
peers_caught_up() {
  for pc_peer in $VEZA_PEERS; do
    ask "$pc_peer" "$VEZA_HANDOFF_USER" "$VEZA_HANDOFF_PASSWORD" INFO replication | awk -F: -v target="$1" -v master="$VEZA_SELF" '
      /^master_host:/ { host = $2 } /^master_port:/ { port = $2 }
      /^master_link_status:/ { up = ($2 == "up") } /^slave_repl_offset:/ { offset = $2 + 0 }
      END { print (up && host ":" port == master && offset >= target + 0) ? "ok" : "behind" }' &
  done | grep -q behind && return 1
  return 0
}

# Time left in the current phase of the handoff.
before_deadline() { [ "$(now_ms)" -lt "$handoff_deadline" ]; }

# Stop without a handoff: writes resume until Redis shuts down (it waits for its replicas), and
# Sentinel fails over after down-after.
give_up() {
  log "$1: stopping without a handoff"
  local_ask CLIENT UNPAUSE > /dev/null
}

# SIGTERM on the master, before Redis stops: pause writes, then wait until every replica holds
# every acknowledged write. The failover is asked for once Redis has exited (request_failover).
prepare_handoff() {
  [ -n "$VEZA_SENTINELS" ] || return 0
  case "$(role_of "$VEZA_LOCAL" "$VEZA_HANDOFF_USER" "$VEZA_HANDOFF_PASSWORD")" in master*) ;; *) return 0 ;; esac
  # Sentinel promotes whichever replica it prefers, and a server outside the stack attached with
  # the replication password may ask to be preferred (replica-priority): no handoff for it.
  undeclared=$(local_ask INFO replication | awk -F'[:,=]' '/^slave[0-9]+:/ { print $3 ":" $5 }' | while read -r replica; do is_one_of "$replica" $VEZA_DECLARED_DATA_NODES || echo "$replica"; done | paste -sd ' ' -)
  if [ -n "$undeclared" ]; then
    log "a replica outside the declared data nodes is attached ($undeclared): stopping without a handoff (runbook: redis-security, UndeclaredReplica)"
    return 0
  fi
  named=$(most_named "$VEZA_MAJORITY" $VEZA_SENTINELS)
  if [ "$named" != "$VEZA_SELF" ]; then
    log "the sentinels name ${"$"}{named:-no master}, not this node: stopping without a handoff"
    return 0
  fi
  started=$(now_ms)
  log "handing the master role off: pausing writes"
  # One connection for the pause and the offset to reach: every spawned process counts here.
  target=$(printf 'CLIENT PAUSE %s WRITE\nINFO replication\n' "$VEZA_STOP_GRACE_MS" | local_ask | sed -n 's/^master_repl_offset:\([0-9]*\).*/\1/p')
  [ -n "$target" ] || { give_up "no replication offset from this node"; return 0; }
  until peers_caught_up "$target"; do
    if [ $(($(now_ms) - started)) -gt "$VEZA_CATCH_UP_MS" ] || ! before_deadline; then
      # Promoting a replica that lacks acknowledged writes would lose them: let Sentinel fail
      # over after down-after instead, once Redis has shut down (it waits for its replicas).
      give_up "not every peer is an in-sync replica at offset $target"
      return 0
    fi
    sleep 0.02
  done
  caught_up=1
  log "every replica at offset $target after $(($(now_ms) - started)) ms: shutting down, still paused, then asking for SENTINEL FAILOVER"
}

# Once Redis has exited, never before: a master still running while a replica is promoted keeps
# feeding the other replicas (a replication PING every repl-ping-replica-period). They then stand
# past the promoted node's offset, its PSYNC is refused, and the full resync (held back by
# repl-diskless-sync-delay, then the whole dataset) leaves the new master without a replica, so
# min-replicas-to-write refuses every write meanwhile: a ~6 s write gap in about 1 handoff in 6.
# The paused clients are disconnected unanswered and retry on the new master: no two nodes ever
# take writes at once.
request_failover() {
  handoff_deadline=$(($(now_ms) + VEZA_FAILOVER_BUDGET_MS))
  asked_at=$(now_ms)
  leader=""
  while [ -z "$leader" ]; do
    for sentinel in $VEZA_SENTINELS; do
      answer=$(ask "$sentinel" "$VEZA_SENTINEL_USER" "$VEZA_SENTINEL_PASSWORD" SENTINEL FAILOVER "$VEZA_MASTER_NAME")
      case "$answer" in OK | INPROG*) leader=$sentinel; break ;; esac
    done
    [ -n "$leader" ] && break
    if [ $(($(now_ms) - asked_at)) -gt "$VEZA_FAILOVER_REQUEST_MS" ] || ! before_deadline; then
      log "no sentinel accepted SENTINEL FAILOVER (last answer: ${"$"}{answer:-none}): stopped without a handoff, Sentinel fails over after down-after"
      return 0
    fi
    sleep 0.1
  done
  # The sentinel leading the failover names the new master from the promotion on; the rest
  # learn it from its hello messages (wait_for_majority).
  while :; do
    named=$(most_named 1 "$leader")
    [ -n "$named" ] && [ "$named" != "$VEZA_SELF" ] && break
    if ! before_deadline; then
      log "the sentinels named no new master in time: stopped without a handoff"
      return 0
    fi
    sleep 0.02
  done
  handed_off=1 handed_off_at=$(now_ms)
  log "handed off to $named in $((handed_off_at - started)) ms (failover led by $leader)"
}

# After a handoff, exit only once a majority of the sentinels name the new master (the
# replacement container's discovery asks them), within what is left of the stop grace.
wait_for_majority() {
  until named=$(most_named "$VEZA_MAJORITY" $VEZA_SENTINELS); [ -n "$named" ] && [ "$named" != "$VEZA_SELF" ]; do
    now=$(now_ms)
    if [ $((now - stop_at)) -gt $((VEZA_STOP_GRACE_MS - VEZA_MARGIN_MS)) ] || [ $((now - handed_off_at)) -gt "$VEZA_MAJORITY_WAIT_MS" ]; then
      log "no majority of the sentinels names the new master yet: exiting"
      return 0
    fi
    sleep 0.05
  done
  log "a majority of the sentinels names $named"
}

child=""
watchdog=""
stopping=0
handed_off=0
caught_up=0
on_stop() {
  [ -n "$child" ] || exit 0
  [ "$stopping" = 1 ] && return
  stopping=1
  # The handoff pauses writes itself, for up to the stop grace.
  [ -n "$watchdog" ] && kill "$watchdog" 2> /dev/null
  stop_at=$(now_ms)
  # A rotation step since the start may have switched the handoff's passwords.
  load_credentials
  handoff_deadline=$((stop_at + VEZA_PAUSE_BUDGET_MS))
  prepare_handoff || true
  # SIGINT: shutdown-on-sigint now, as the replicas are proven caught up. SIGTERM: Redis waits
  # up to shutdown-timeout for lagging replicas.
  if [ "$caught_up" = 1 ]; then kill -INT "$child" 2> /dev/null; else kill -TERM "$child" 2> /dev/null; fi
}
trap on_stop TERM INT

# A pause nobody ends: a stolen handoff password may CLIENT PAUSE for years, and ACL rules cannot
# bound the argument. Writes held past VEZA_PAUSE_LIMIT_MS outside this script's own handoff
# (on_stop stops the watchdog first) are released with CLIENT UNPAUSE, which a WRITE pause lets
# through. A pause of ALL commands holds back the UNPAUSE too (Redis 7.0), and looks like a hung
# server: on a master, Redis is then stopped (SIGTERM is served while paused, the AOF flushed);
# Sentinel has already failed it over (its PINGs go unanswered), and the restart policy brings it
# back as a replica. A paused replica is never stopped: that would turn a pause into a full
# resync, a fork on the master, and writes refused while no replica is in sync.
#
# A replica following an address outside the declared data nodes (a REPLICAOF with a stolen admin
# or sentinel password) has the data of a server outside the stack, and serves it to readers: it
# is stopped too, and the restart follows the master the sentinels name, as every start does. Not
# the master that was moved: its data is that server's already, and only the network stops that.
node_watchdog() {
  held_since=""
  last_role=""
  while kill -0 "$child" 2> /dev/null; do
    sleep 1
    load_credentials
    if [ -n "$(local_ask PFCOUNT "$VEZA_PAUSE_PROBE_KEY")" ]; then
      held_since=""
      role=$(role_of "$VEZA_LOCAL" "$VEZA_HANDOFF_USER" "$VEZA_HANDOFF_PASSWORD")
      following=$(echo "$role" | awk '$1 == "slave" { print $2 ":" $3 }')
      if [ -n "$following" ] && ! is_one_of "$following" $VEZA_DECLARED_DATA_NODES; then
        # Whether this node is the master is the sentinels' answer, not this node's past role: a
        # SLAVEOF NO ONE first would otherwise pass a replica off as a moved master.
        # Without sentinels there is no answer: left running (a standalone node is the master).
        if [ -n "$VEZA_SENTINELS" ] && [ "$(most_named "$VEZA_MAJORITY" $VEZA_SENTINELS)" != "$VEZA_SELF" ]; then
          log "this replica follows $following, which is not a declared data node (a REPLICAOF with a stolen credential): stopping Redis; the restart follows the master the sentinels name (runbook: redis-security, UndeclaredMaster)"
          kill -TERM "$child" 2> /dev/null
          return
        fi
        [ "$last_role" = moved ] || log "this node, the master the sentinels name (or a node without sentinels), was made a replica of $following, which is not a declared data node: its data is that server's now; left running for the operator (runbook: redis-security, UndeclaredMaster)"
        last_role=moved
        continue
      fi
      # Only an answer updates it: a ROLE that timed out on a busy host must not blank the role a
      # pause right after is judged by (a master left paused for good).
      case "$role" in master\ * | slave\ *) last_role=${"$"}{role%% *} ;; esac
      continue
    fi
    [ -n "$held_since" ] || held_since=$(now_ms)
    [ $(($(now_ms) - held_since)) -ge "$VEZA_PAUSE_LIMIT_MS" ] || continue
    held_ms=$(($(now_ms) - held_since))
    if [ "$(local_ask CLIENT UNPAUSE)" = OK ] && [ -n "$(local_ask PFCOUNT "$VEZA_PAUSE_PROBE_KEY")" ]; then
      log "writes were held for $held_ms ms by a pause this node did not ask for: ended it with CLIENT UNPAUSE (runbook: redis-security, a pause nobody ends)"
      held_since=""
      continue
    fi
    if [ "$last_role" = master ]; then
      log "writes held for $held_ms ms by a pause this node did not ask for, and CLIENT UNPAUSE held too (a pause of all commands, or a hung server): stopping Redis, Sentinel fails over (runbook: redis-security, a pause nobody ends)"
      kill -TERM "$child" 2> /dev/null
      return
    fi
    log "writes held for $held_ms ms on this ${"$"}{last_role:-node} by a pause CLIENT UNPAUSE cannot end: left running, Sentinel does not promote it meanwhile (runbook: redis-security, a pause nobody ends)"
    held_since=$(now_ms)
  done
}

discover_master
# Only a declared data node is ever this node's master: the sentinels (a forged hello moves them
# all), or the previous run's config (a REPLICAOF with a stolen credential, then Sentinel's
# rewrite), may name any address. Replicating from it would replace this node's data with its.
if [ "$MASTER" != self ] && ! is_one_of "$MASTER" $VEZA_DECLARED_DATA_NODES; then
  log "refusing to start: $SOURCE named $MASTER as master, which is not a declared data node ($VEZA_DECLARED_DATA_NODES); a forged Sentinel hello or a stolen credential's REPLICAOF would look like this (runbook: redis-security, UndeclaredMaster)"
  exit 1
fi
if [ "$MASTER" = self ]; then
  log "starting as master (from $SOURCE)"
else
  log "starting as a replica of $MASTER (from $SOURCE)"
fi
write_runtime_conf
`,
    "# A full disk's damage to the AOF would keep Redis from starting: heal it first (aofHeal.ts).",
    AOF_HEAL_FUNCTION,
    "heal_aof",
    RUN_AS_REDIS,
    `$run_as redis-server "$VEZA_RUNTIME_CONF" &`,
    superviseChild('if [ "$caught_up" = 1 ]; then request_failover; fi\nif [ "$handed_off" = 1 ]; then wait_for_majority; fi', "node_watchdog &\nwatchdog=$!"),
    "",
  ].join("\n");
}

/**
 * Healthy = serving its role: a master, or a replica whose link to its master is up. A replica
 * whose master does not answer at all (the first boot creates the replicas first) is healthy:
 * there is nothing to sync with yet. With `wait: true` this is what holds the rolling order: the
 * engine only moves on once the replaced node has caught up with the live master.
 */
export function renderDataNodeHealthcheck(s: DataNodeScriptSettings): string {
  return [
    ...scriptPrelude(["Rendered by veza-redis (components/redis/dataNodeScripts.ts). Docker's healthcheck."], settingsBlock(s), s.credentials),
    String.raw`role=$(role_of "$VEZA_LOCAL" "$VEZA_HEALTH_USER" "$VEZA_HEALTH_PASSWORD")
set -- $role
case "${"$"}{1:-}" in
  master) echo "master"; exit 0 ;;
  slave)
    [ "${"$"}{4:-}" = connected ] && { echo "replica of $2:$3, in sync"; exit 0; }
    if [ "$(ask "$2:$3" "$VEZA_HEALTH_USER" "$VEZA_HEALTH_PASSWORD" PING)" = PONG ]; then
      echo "replica of $2:$3, link ${"$"}{4:-unknown}: not in sync yet"
      exit 1
    fi
    echo "replica of $2:$3, which does not answer: nothing to sync with yet"
    exit 0 ;;
  *) echo "no answer to ROLE"; exit 1 ;;
esac
`,
  ].join("\n");
}

/** The passwords the data node's scripts use: its own handoff user, the sentinels' failover user, the health user's. */
export function dataNodeScriptCredentials(passwords: Pick<Credentials, "handoff" | "sentinelFailover" | "health">): Record<string, string> {
  return { VEZA_HANDOFF_PASSWORD: passwords.handoff, VEZA_SENTINEL_PASSWORD: passwords.sentinelFailover, VEZA_HEALTH_PASSWORD: passwords.health };
}
