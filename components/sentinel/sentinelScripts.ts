// The sentinel container's start and health scripts (pure renderers, like sentinel.conf).
//
// A sentinel decides which master to monitor at every start, in this order:
//   1. what its peer sentinels name (the most common answer);
//   2. else the data nodes: the one reporting ROLE master;
//   3. else its own previous run (the `sentinel monitor` line Sentinel rewrote);
//   4. else the declared topology: the first boot.
// The runtime config is rebuilt from the declared file at every start; a restart of the same
// container carries over what Sentinel learned (epochs, peers, replicas) when the master it
// monitored is still the one found; otherwise only the peers it knew, the rest from the declared
// file. Either way it knows every declared data node but the master as a replica from its first
// second. Each sentinel's myid is fixed in the declared file (sentinelConf.ts), so a replaced
// sentinel is the same peer to the others, not a new one beside a dead one.
// While it runs, its master guard (below) stops it if it ever names an undeclared master.

import { ACL_USERS, type Credentials, SENTINEL_USERS } from "../redis/acl";
import { HANDOFF_TIMING } from "../redis/dataNodeScripts";
import { endpointList, RUN_AS_REDIS, scriptPrelude, shellAssignments, type LiveCredentials, superviseChild } from "../base/shell";
import type { RedisEndpoint } from "../base/endpoints";

export const RUNTIME_SENTINEL_CONF_NAME = "sentinel.conf";

/** Sentinel has no handoff: SIGTERM and it exits at once. The margin covers a slow config rewrite. */
export const SENTINEL_STOP_GRACE_SECONDS = 10;
/**
 * How often the master guard asks its sentinel which master it names. Well inside the 8 s after
 * which a moved sentinel starts turning the data nodes into replicas of the address it names.
 */
export const SENTINEL_GUARD_PERIOD_SECONDS = 1;
/** A replaced sentinel is healthy once it sees enough peers to authorize a failover (hello messages every 2 s). */
export const SENTINEL_HEALTHY_WITHIN_SECONDS = 60;

export interface SentinelScriptSettings {
  name: string;
  local: RedisEndpoint;
  dataDir: string;
  declaredConfPath: string;
  /** The volume's live credentials (seeded before the first start, rewritten by each rotation step). */
  credentials: LiveCredentials;
  masterName: string;
  peers: RedisEndpoint[];
  dataNodes: RedisEndpoint[];
  declaredMaster: RedisEndpoint;
}

function settingsBlock(s: SentinelScriptSettings): string[] {
  return shellAssignments({
    VEZA_NAME: s.name,
    VEZA_LOCAL: `${s.local.host}:${s.local.port}`,
    VEZA_DATA_DIR: s.dataDir,
    VEZA_DECLARED_CONF: s.declaredConfPath,
    VEZA_RUNTIME_CONF: `${s.dataDir}/${RUNTIME_SENTINEL_CONF_NAME}`,
    VEZA_MASTER_NAME: s.masterName,
    VEZA_DECLARED_MASTER: `${s.declaredMaster.host}:${s.declaredMaster.port}`,
    VEZA_MONITOR_USER: ACL_USERS.sentinel,
    VEZA_HEALTH_USER: ACL_USERS.health,
    // Asking the peers which master they name: the lookup-only client user.
    VEZA_SENTINEL_USER: SENTINEL_USERS.client.name,
    VEZA_ASK_TIMEOUT_S: HANDOFF_TIMING.askTimeoutSeconds,
    VEZA_DISCOVERY_ROUNDS: HANDOFF_TIMING.discoveryRounds,
    VEZA_GUARD_PERIOD_S: SENTINEL_GUARD_PERIOD_SECONDS,
  }).concat(
    `VEZA_PEERS=${endpointList(s.peers)}`,
    `VEZA_DATA_NODES=${endpointList(s.dataNodes)}`,
    // The only masters it follows (is_one_of): the declared set, apart from the lists discovery asks.
    `VEZA_DECLARED_DATA_NODES=${endpointList(s.dataNodes)}`,
  );
}

const MONITOR_LINE = String.raw`s/^[[:space:]]*sentinel[[:space:]]\{1,\}monitor[[:space:]]\{1,\}[^[:space:]]\{1,\}[[:space:]]\{1,\}\([^[:space:]]\{1,\}\)[[:space:]]\{1,\}\([0-9]\{1,\}\).*/\1:\2/p`;

export function renderSentinelEntrypoint(s: SentinelScriptSettings): string {
  return [
    ...scriptPrelude(
      ["Rendered by veza-redis (components/sentinel/sentinelScripts.ts). The sentinel's PID 1: finds", "the current master, writes the runtime sentinel.conf, runs Sentinel."],
      settingsBlock(s),
      s.credentials,
    ),
    "",
    String.raw`monitored_in() { sed -n '${MONITOR_LINE}' "$1" | tail -n 1; }

# Sets MASTER (host:port) and SOURCE. See the precedence in sentinelScripts.ts.
discover_master() {
  round=1
  while :; do
    named=$(most_named 1 $VEZA_PEERS)
    # A peer may have been moved by a forged hello: only a declared data node is followed.
    if [ -n "$named" ] && is_one_of "$named" $VEZA_DECLARED_DATA_NODES; then MASTER=$named SOURCE="the peer sentinels"; return; fi
    [ -n "$named" ] && log "the peer sentinels name $named, which is not a declared data node ($VEZA_DECLARED_DATA_NODES): not followed"
    found=$(master_among "$VEZA_MONITOR_USER" "$VEZA_MONITOR_PASSWORD" $VEZA_DATA_NODES)
    if [ -n "$found" ]; then MASTER=$found SOURCE="the data nodes (ROLE)"; return; fi
    [ "$round" -ge "$VEZA_DISCOVERY_ROUNDS" ] && break
    round=$((round + 1))
    sleep 1
  done
  previous=""
  [ -f "$VEZA_RUNTIME_CONF" ] && previous=$(monitored_in "$VEZA_RUNTIME_CONF")
  if [ -n "$previous" ] && is_one_of "$previous" $VEZA_DECLARED_DATA_NODES; then MASTER=$previous SOURCE="this sentinel's previous run"; return; fi
  [ -n "$previous" ] && log "this sentinel's previous run monitored $previous, which is not a declared data node: not followed"
  MASTER=$VEZA_DECLARED_MASTER SOURCE="the declared topology (first boot)"
}

# Always rebuilt from the declared file: Sentinel's rewrite of the runtime copy adds the included
# users and passwords to it, and Redis refuses to start on the duplicates. When the master found
# is the one monitored before (a restart of this container), what Sentinel learned is carried over.
# When it is another, only the peers are: epochs and replicas belong to the old master, but a peer
# is a peer whatever the master. A forged hello's peer is then kept too, so RedisSentinelUnknownPeer
# keeps paging after the master guard's restart until an operator resets the sentinels.
#
# A peer's line is carried only in the shape Sentinel writes for a real one (name, address, port,
# a 40-hex runid): Sentinel takes a hello's runid unchecked and rewrites it unquoted, so a forged
# one holding a space or a quote would make every later start refuse the file.
write_runtime_conf() {
  learned=""
  if [ -f "$VEZA_RUNTIME_CONF" ]; then
    if [ "$(monitored_in "$VEZA_RUNTIME_CONF")" = "$MASTER" ]; then
      learned=$(grep -E '^[[:space:]]*sentinel[[:space:]]+(known-replica|known-slave|current-epoch|config-epoch|leader-epoch)[[:space:]]' "$VEZA_RUNTIME_CONF")
    fi
    peers=$(grep -E '^[[:space:]]*sentinel[[:space:]]+known-sentinel[[:space:]]' "$VEZA_RUNTIME_CONF")
    wellformed=$(echo "$peers" | grep -E '^[[:space:]]*sentinel[[:space:]]+known-sentinel[[:space:]]+[A-Za-z0-9._-]+[[:space:]]+[A-Za-z0-9.:-]+[[:space:]]+[0-9]+[[:space:]]+[0-9a-f]{40}[[:space:]]*$')
    dropped=$(($(echo "$peers" | grep -c .) - $(echo "$wellformed" | grep -c .)))
    [ "$dropped" -eq 0 ] || log "dropping $dropped known-sentinel lines not in the shape Sentinel writes (a forged hello's runid): $(echo "$peers" | grep -vxF "$wellformed" | tr '\n' ' ')"
    learned=$(printf '%s\n%s\n' "$learned" "$wellformed" | grep .)
    log "carrying over what the previous run learned ($(echo "$learned" | grep -c .) lines)"
  fi
  tmp="$VEZA_RUNTIME_CONF.tmp"
  {
    echo "# Written at start from $VEZA_DECLARED_CONF; master from $SOURCE. Sentinel rewrites this copy."
    awk -v master="${"$"}{MASTER%:*}" -v port="${"$"}{MASTER##*:}" '$1 == "sentinel" && $2 == "monitor" { $4 = master; $5 = port } { print }' "$VEZA_DECLARED_CONF"
    if [ -n "$learned" ]; then echo "$learned"; fi
    declared_replicas
  } > "$tmp" && mv "$tmp" "$VEZA_RUNTIME_CONF"
}

# Every declared data node but the master, as a known replica, unless the carried-over lines hold
# it already (Sentinel refuses a duplicate and would not start). Otherwise a sentinel learns the
# replicas only from the master's INFO, every 10 s: one that started while they were re-attaching
# and is elected in that window finds no replica to promote (-failover-abort-no-good-slave), and
# the next try waits 2 x failover-timeout.
declared_replicas() {
  for node in $VEZA_DATA_NODES; do
    [ "$node" = "$MASTER" ] && continue
    host=${"$"}{node%:*} port=${"$"}{node##*:}
    echo "$learned" | awk -v host="$host" -v port="$port" '($2 == "known-replica" || $2 == "known-slave") && $4 == host && $5 == port { found = 1 } END { exit !found }' && continue
    echo "sentinel known-replica $VEZA_MASTER_NAME $host $port"
  done
}

child=""
guard=""
on_stop() {
  [ -n "$child" ] || exit 0
  [ -n "$guard" ] && kill "$guard" 2> /dev/null
  kill -TERM "$child" 2> /dev/null
}
trap on_stop TERM INT

# A forged hello (the peer password is all it takes) moves a running sentinel to any address:
# clients asking it are sent there, and 8 s later (4 hello periods) it makes the data nodes that
# server's replicas, which replaces their data. Sentinel has no list of allowed masters, so this
# guard is one: a sentinel naming an address outside the declared data nodes is stopped, and the
# restart policy starts it again, where discover_master follows only a declared data node.
master_guard() {
  unanswered=0
  while kill -0 "$child" 2> /dev/null; do
    sleep "$VEZA_GUARD_PERIOD_S"
    load_credentials
    # Its own sentinel's answer (no answer, or an error, names none).
    named=$(most_named 1 "$VEZA_LOCAL")
    if [ -z "$named" ]; then
      # A guard that cannot ask is no guard: say so once a minute rather than never.
      unanswered=$((unanswered + 1))
      [ $((unanswered % 60)) -eq 0 ] && log "the master guard got no master from its sentinel $unanswered times in a row (its client credential refused, or Sentinel not answering): it is not guarding"
      continue
    fi
    unanswered=0
    is_one_of "$named" $VEZA_DECLARED_DATA_NODES && continue
    log "Sentinel names $named as master, which is not a declared data node ($VEZA_DECLARED_DATA_NODES): a forged hello. Stopping it; the restart follows the declared data node that is master (runbook: redis-security, UndeclaredMaster)"
    kill -TERM "$child" 2> /dev/null
    return
  done
}

discover_master
log "monitoring $MASTER (from $SOURCE)"
write_runtime_conf
`,
    RUN_AS_REDIS,
    `$run_as redis-server "$VEZA_RUNTIME_CONF" --sentinel &`,
    superviseChild(":", "master_guard &\nguard=$!"),
    "",
  ].join("\n");
}

/**
 * Healthy = this sentinel and the ones it sees can authorize a failover (SENTINEL CKQUORUM). The
 * first sentinel of a first boot has no peer up yet: alone, it is healthy. With `wait: true` a
 * replaced sentinel must have rejoined the quorum before the engine replaces the next one.
 */
export function renderSentinelHealthcheck(s: SentinelScriptSettings): string {
  return [
    ...scriptPrelude(["Rendered by veza-redis (components/sentinel/sentinelScripts.ts). Docker's healthcheck."], settingsBlock(s), s.credentials),
    String.raw`answer=$(ask "$VEZA_LOCAL" "$VEZA_HEALTH_USER" "$VEZA_HEALTH_PASSWORD" SENTINEL CKQUORUM "$VEZA_MASTER_NAME")
case "$answer" in OK*) echo "$answer"; exit 0 ;; esac
for peer in $VEZA_PEERS; do
  if [ "$(ask "$peer" "$VEZA_HEALTH_USER" "$VEZA_HEALTH_PASSWORD" PING)" = PONG ]; then
    echo "${"$"}{answer:-no answer to SENTINEL CKQUORUM}"
    exit 1
  fi
done
echo "no peer sentinel answers: alone, nothing to rejoin (${"$"}{answer:-no answer})"
exit 0
`,
  ].join("\n");
}

export function sentinelScriptCredentials(passwords: Pick<Credentials, "sentinelClients" | "sentinel" | "health">): Record<string, string> {
  return { VEZA_SENTINEL_PASSWORD: passwords.sentinelClients, VEZA_MONITOR_PASSWORD: passwords.sentinel, VEZA_HEALTH_PASSWORD: passwords.health };
}
