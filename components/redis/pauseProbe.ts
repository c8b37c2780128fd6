// The data node's pause watchdog (dataNodeScripts.ts) and the handoff user's ACL (acl.ts) share it.

/**
 * The key the pause watchdog reads with PFCOUNT: a read that Redis holds back like a write while
 * writes are paused (PFCOUNT may rewrite its cache, so it is flagged may-replicate), and that the
 * handoff user may only read (ACL `%R~`). It never needs to exist.
 */
export const PAUSE_PROBE_KEY = "veza:pause-probe";
