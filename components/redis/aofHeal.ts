// The data node's start script heals the one AOF damage a full disk leaves, so a node restarted
// after space is freed comes back without a person. Measured by the disk-full drill with Redis
// 7.0.15 in every run: after ENOSPC, a short write "undone" with ftruncate to a stale size leaves
// a run of NUL bytes inside an INCR file, followed by the commands written once space came back.
// Redis then refuses to start ("Bad file format") and the node stays down. redis-check-aof --fix
// would truncate at the NULs and drop those later, acknowledged writes; removing only the NUL run
// keeps them. Any other damage is left alone for a person (`npm run aof-repair`), with a log line.

import { scriptPrelude, shellAssignments } from "../base/shell";

/** Under the data dir: a copy of every file the start script changed, never overwritten. */
export const AOF_HEAL_BACKUP_DIR = "aof-heal-backups";

/**
 * `heal_aof`: needs VEZA_DATA_DIR and `log`. Each INCR file redis-check-aof rejects is healed only
 * when the bytes at its last valid offset are a NUL run followed by a command (`*`, byte 42), and
 * only kept when redis-check-aof then accepts the whole file. A backup is written first; no room
 * for it means no change.
 */
export const AOF_HEAL_FUNCTION = String.raw`heal_aof() {
  ha_dir="$VEZA_DATA_DIR/appendonlydir"
  ha_backups="$VEZA_DATA_DIR/${AOF_HEAL_BACKUP_DIR}"
  [ -d "$ha_dir" ] || return 0
  for ha_file in "$ha_dir"/*.incr.aof; do
    [ -f "$ha_file" ] || continue
    ha_report=$(redis-check-aof "$ha_file" 2>&1)
    case "$ha_report" in *" is valid"*) continue ;; esac
    ha_ok=$(printf '%s\n' "$ha_report" | sed -n 's/.*ok_up_to=\([0-9]*\),.*/\1/p' | head -n 1)
    if [ -z "$ha_ok" ]; then
      log "AOF $ha_file: redis-check-aof gave no valid offset; left alone (npm run aof-repair)"
      continue
    fi
    # The NUL run at that offset and the byte after it ("eof" when the file ends first).
    set -- $(tail -c +$((ha_ok + 1)) "$ha_file" | od -An -v -tu1 | awk '
      { for (i = 1; i <= NF; i++) { if ($i != 0) { print run + 0, $i; found = 1; exit } run++ } }
      END { if (!found) print run + 0, "eof" }')
    if [ "${"$"}{1:-0}" -eq 0 ] || [ "${"$"}{2:-}" != 42 ]; then
      log "AOF $ha_file: invalid from offset $ha_ok, not the damage a full disk leaves; left alone (npm run aof-repair)"
      continue
    fi
    ha_run=$1
    ha_backup="$ha_backups/${"$"}{ha_file##*/}.$(date -u +%Y%m%dT%H%M%SZ)"
    ha_healed="$ha_backups/${"$"}{ha_file##*/}.healing"
    if ! { mkdir -p "$ha_backups" && [ ! -e "$ha_backup" ] && cp -p "$ha_file" "$ha_backup"; }; then
      log "AOF $ha_file: no backup could be written (disk still full?); left alone"
      continue
    fi
    if { head -c "$ha_ok" "$ha_backup" && tail -c +$((ha_ok + ha_run + 1)) "$ha_backup"; } > "$ha_healed" \
      && redis-check-aof "$ha_healed" 2>&1 | grep -q " is valid" && mv "$ha_healed" "$ha_file"; then
      log "AOF $ha_file: removed $ha_run NUL bytes at offset $ha_ok left by a full disk (backup: $ha_backup)"
    else
      rm -f "$ha_healed"
      log "AOF $ha_file: removing the NUL run at offset $ha_ok did not make it valid; left alone (npm run aof-repair, backup: $ha_backup)"
    fi
  done
}`;

/** The same function as a script of its own: what the disk-full drill runs before a restart. */
export function renderAofHealScript(name: string, dataDir: string): string {
  return [
    ...scriptPrelude(["Rendered by veza-redis (components/redis/aofHeal.ts): heal_aof alone, as the data node's entry script runs it."], shellAssignments({ VEZA_NAME: name, VEZA_DATA_DIR: dataDir })),
    AOF_HEAL_FUNCTION,
    "heal_aof",
    "",
  ].join("\n");
}
