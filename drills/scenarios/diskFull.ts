// disk-full: the data volume filled under writes, then freed, then the node restarted the way its
// container does (the start script heals the AOF): nothing acknowledged lost, no person needed.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ACL_USERS } from "../../components/redis/acl";
import { computeSizing, MiB } from "../../components/redis/sizing";
import { renderAofHealScript } from "../../components/redis/aofHeal";
import type { LocalCluster, LocalNode } from "../harness/localCluster";
import { sleep, waitFor } from "../harness/processes";
import { directorySize, Workspace } from "../harness/workspace";
import { countMissing, directClient } from "../harness/writer";
import { standalone, startOverwriter, startStandalone } from "../harness/standalone";
import { AlertCheck, alertState } from "../harness/alerting";
import { Checks, seconds, type Scenario } from "../harness/types";

/** The page a full disk raises: AOF writes fail, so Redis refuses writes. */
const WRITE_FAILED_PAGE = "RedisAofWriteFailed";

export const diskFull: Scenario = {
  name: "disk-full",
  runbook: "Disk full: AOF or RDB filling /var/lib/redis",
  targets: [
    { figure: "aof_rewrites", kind: "at least", value: 1, why: "automatic rewrite keeps the AOF bounded" },
    { figure: "acked_writes_lost", kind: "equals", value: 0, why: "a full disk refuses writes loudly; nothing acknowledged is lost" },
    { figure: "writes_resume_after_free_s", kind: "at most", value: 5, why: "writes come back by themselves once space is freed" },
    { figure: "restarted_unaided", kind: "equals", value: "yes", why: "a node restarted after the disk filled comes back without a person: its start script heals the AOF" },
    { figure: "write_page_resolved_after_free_s", kind: "at most", value: 10, why: "the page clears itself once a write succeeds again: nobody has to close a stale page" },
  ],
  alerts: { raises: [WRITE_FAILED_PAGE] },
  run: async (ctx) => {
    const checks = new Checks();
    const ws = new Workspace("disk-full");
    const clients: ReturnType<typeof directClient>[] = [];
    let check: AlertCheck | undefined;
    try {
      // Scaled down: a 64 MiB container, its sizing's data volume as a tmpfs.
      const config = standalone(ctx.config, { memoryLimitMiB: 64, aofRewriteMinSizeMiB: 4 });
      const sizing = computeSizing(config.redis);
      const volume = ws.tmpfs("data", sizing.dataVolumeBytes);
      const { cluster, node } = await startStandalone(ws, config, "disk-full", volume);
      check = await AlertCheck.onLoopback(ctx.alerts, config, cluster.topology, cluster.credentials.exporter, ws);
      const aofDir = path.join(node.dir, "appendonlydir");

      // 1. Overwrites: automatic rewrite keeps the AOF bounded. Paced to a few MB/s of AOF: the
      // sizing bounds the dataset, not a write rate that outgrows the disk within one rewrite.
      const writer = startOverwriter(ws, cluster, node, 20000, 100, volume, false);
      let maxAof = 0;
      const phaseEnd = Date.now() + (ctx.short ? 8000 : 30000);
      while (Date.now() < phaseEnd) {
        if (fs.existsSync(aofDir)) maxAof = Math.max(maxAof, directorySize(aofDir));
        await sleep(100);
      }
      ws.processes.signal(writer, "SIGKILL");
      const rewrites = Number(cluster.info(node, "persistence").aof_rewrites ?? 0);
      checks.expect(rewrites > 0, "no automatic AOF rewrite happened");
      checks.expect(maxAof < sizing.dataVolumeBytes, `the AOF reached ${maxAof} B on a ${sizing.dataVolumeBytes} B volume`);

      // 2. Fill the disk with something else; clients must see errors, not silent loss. Wait for
      // any rewrite and its background deletion of history files first, and top the filler up
      // before every write, so space freed by Redis itself cannot make the disk look healthy.
      await waitFor("rewrites to settle", () => cluster.info(node, "persistence").aof_rewrite_in_progress === "0", 30000, 100);
      await sleep(500);
      const filler = path.join(volume, "filler");
      const fd = fs.openSync(filler, "w");
      const client = directClient(node.port, ACL_USERS.app, cluster.credentials.app);
      clients.push(client);
      const acked: string[] = [];
      let firstError = "";
      let errors = 0;
      const fillEnd = Date.now() + 4000;
      for (let i = 0; Date.now() < fillEnd && errors < 200; i++) {
        fillUntilFull(fd);
        try {
          await client.set(`full:${i}`, "x".repeat(1000));
          acked.push(`full:${i}`);
        } catch (error) {
          errors++;
          firstError ||= (error as Error).message;
        }
        await sleep(5);
      }
      fs.closeSync(fd);
      const persistence = cluster.info(node, "persistence");
      checks.expect(errors > 0, "writes never failed on a full disk");

      // 3. Free the space: how long until writes resume?
      fs.rmSync(filler);
      const freedAt = Date.now();
      const resumedAt = await waitFor(
        "writes to resume",
        async () => {
          try {
            await client.set("after-free", "1");
            return Date.now();
          } catch {
            return undefined;
          }
        },
        60000,
        50,
      ).catch(() => undefined);
      checks.expect(resumedAt !== undefined, "writes did not resume within 60 s of freeing space");
      acked.push("after-free");
      // The write-failure page must clear by itself once a write succeeds.
      const pageResolvedAt = check
        ? await waitFor("the write-failure page to resolve", async () => (alertState(await check!.alerting.alerts(), WRITE_FAILED_PAGE) === undefined ? Date.now() : undefined), 30000, 250).catch(
            () => undefined,
          )
        : undefined;

      // 4. Nothing acknowledged was lost: restart from the AOF the way the container does (its
      // start script's heal_aof, then Redis) and look. After ENOSPC, Redis 7.0.15 leaves a NUL run
      // inside an INCR file and refuses to start ("Bad file format") unless that is healed.
      client.disconnect();
      await cluster.processes.kill9(node.process!);
      const restart = await restartAsTheContainerDoes(ws, cluster, node);
      const lost = restart.ready ? await countMissing(node.port, acked, cluster.admin()) : acked.length;
      checks.expect(lost === 0, `${lost} acknowledged writes were lost`);
      const result = {
        passed: checks.passed,
        failures: checks.failures,
        figures: {
          volume_mib: Math.round(sizing.dataVolumeBytes / MiB),
          max_aof_mib: Math.round((maxAof / MiB) * 10) / 10,
          aof_rewrites: rewrites,
          client_error_when_full: firstError.slice(0, 80),
          info_aof_last_write_status: persistence.aof_last_write_status ?? "?",
          acked_during_fill: acked.length - 1,
          writes_resume_after_free_s: resumedAt ? seconds(resumedAt - freedAt) : "never",
          aof_repair_needed: restart.healed.length > 0 ? "yes" : "no",
          start_script_log: restart.healed.join(" | ") || "nothing to heal",
          restarted_unaided: restart.ready ? "yes" : `no: ${restart.error}`,
          acked_writes_lost: lost,
          ...(check ? { write_page_resolved_after_free_s: pageResolvedAt ? seconds(pageResolvedAt - freedAt) : "never" } : {}),
        },
      };
      return check ? await check.judge(result) : result;
    } finally {
      await check?.stop();
      for (const client of clients) client.disconnect();
      await ws.cleanup();
    }
  },
};

/**
 * Restarts a node as its container's entry script does: heal_aof (the very function the script
 * runs, as a process on the node's data dir), then Redis. No repair from the drill's side.
 */
async function restartAsTheContainerDoes(ws: Workspace, cluster: LocalCluster, node: LocalNode): Promise<{ ready: boolean; healed: string[]; error: string }> {
  const script = path.join(ws.tempDir("heal"), "heal-aof.sh");
  fs.writeFileSync(script, renderAofHealScript(node.name, node.dir));
  const heal = spawnSync("dash", [script], { encoding: "utf8", timeout: 60000 });
  const healed = `${heal.stdout}${heal.stderr}`
    .split("\n")
    .filter((l) => l.includes("AOF "))
    .map((l) => l.replace(/^veza \S+ \S+ /, "").replaceAll(`${node.dir}/`, ""));
  cluster.startNode(node);
  try {
    await cluster.waitReady(node, 20000);
    return { ready: true, healed, error: "" };
  } catch (error) {
    return { ready: false, healed, error: (error as Error).message.split("\n")[0].slice(0, 160) };
  }
}

/** Appends to `fd` until the filesystem says ENOSPC, down to the last 4 KiB page. */
function fillUntilFull(fd: number): void {
  for (const size of [1024 * 1024, 4096]) {
    const chunk = Buffer.alloc(size, 1);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch {
      /* ENOSPC at this chunk size; try a smaller one */
    }
  }
}
