// The backup job's own script against real redis-server processes and a real restic repository:
// it reads a replica, never the master, never a node following a server outside the stack, and
// leaves its result for node_exporter. The servers hold the stack's ACL rule for the backup user,
// so what passes here is what that least-privilege user can do.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ACL_RULES, ACL_USERS } from "../../components/redis/acl";
import {
  BACKUP_METRICS,
  BACKUP_METRICS_FILE,
  backupJobEnv,
  renderBackupJobScript,
  SNAPSHOT_FILE_NAME,
  SNAPSHOT_TAG,
  jobPathsIn,
  type BackupJobPaths,
  type BackupSettings,
} from "../../components/backup/backupJob";
import { LOCAL_HOST } from "../../drills/harness/localCluster";
import { freePortRange, ProcessGroup, redisCli, waitFor } from "../../drills/harness/processes";
import { Workspace } from "../../drills/harness/workspace";

const ADMIN = { user: "admin", password: "admin-password" };
const BACKUP_PASSWORD = "backup-password";

let ws: Workspace;
let processes: ProcessGroup;
let ports: number[];

function startServer(name: string, port: number, replicaOf?: number): void {
  const dir = ws.tempDir(name);
  const conf = [
    `port ${port}`,
    "bind 127.0.0.1",
    `dir ${dir}`,
    'save ""',
    "user default off",
    `user ${ADMIN.user} on >${ADMIN.password} ~* &* +@all`,
    `user ${ACL_USERS.backup} on >${BACKUP_PASSWORD} ${ACL_RULES.backup}`,
    `user ${ACL_USERS.replication} on >replication-password ${ACL_RULES.replication}`,
    ...(replicaOf ? [`replicaof 127.0.0.1 ${replicaOf}`, `masteruser ${ACL_USERS.replication}`, "masterauth replication-password"] : []),
  ].join("\n");
  fs.writeFileSync(path.join(dir, "redis.conf"), conf);
  processes.start(name, "redis-server", [path.join(dir, "redis.conf")], path.join(dir, "server.log"));
}

const forks = (port: number) => Number(/total_forks:(\d+)/.exec(redisCli(port, ["info", "stats"], ADMIN).out)?.[1]);

function runJob(dataNodes: Array<{ name: string; port: number }>, label: string, prepare?: (paths: BackupJobPaths) => void) {
  const dir = ws.tempDir(label);
  const paths = jobPathsIn(dir);
  fs.mkdirSync(paths.state);
  fs.mkdirSync(paths.textfile);
  fs.writeFileSync(paths.backupPasswordFile, BACKUP_PASSWORD, { mode: 0o600 });
  fs.writeFileSync(paths.resticPasswordFile, "restic-test-password", { mode: 0o600 });
  prepare?.(paths);
  const settings: BackupSettings = {
    host: LOCAL_HOST,
    intervalSeconds: 60,
    keepHourly: 48,
    keepDaily: 14,
    cluster: "veza-test",
    dataNodes: dataNodes.map((n) => ({ name: n.name, address: "127.0.0.1", port: n.port })),
    readerAddress: "127.0.0.1:0",
    transferTimeoutSeconds: 3600,
  };
  const script = path.join(dir, "backup.sh");
  fs.writeFileSync(script, renderBackupJobScript());
  const run = spawnSync("sh", [script], { env: { PATH: process.env.PATH, ...backupJobEnv(settings, paths), VEZA_BACKUP_ONCE: "1" }, encoding: "utf8", timeout: 120_000 });
  const metricsPath = path.join(paths.textfile, BACKUP_METRICS_FILE);
  const metrics = Object.fromEntries(
    fs
      .readFileSync(metricsPath, "utf8")
      .split("\n")
      .filter((line) => line && !line.startsWith("#"))
      .map((line) => line.split(" ") as [string, string]),
  );
  const restic = (args: string[]) => spawnSync("restic", ["-r", paths.repository, "--password-file", paths.resticPasswordFile, ...args], { encoding: "utf8", timeout: 60_000 });
  const snapshots = JSON.parse(restic(["snapshots", "--json", "--no-lock"]).stdout || "[]") as Array<{ tags: string[]; paths: string[] }>;
  return {
    paths,
    status: run.status,
    log: run.stderr,
    metrics,
    metricsMode: fs.statSync(metricsPath).mode & 0o777,
    snapshots,
  };
}

beforeAll(async () => {
  ws = new Workspace("backup-job-test");
  processes = ws.processes;
  const base = await freePortRange(3);
  ports = [base, base + 1, base + 2];
  startServer("master", ports[0]);
  startServer("replica", ports[1], ports[0]);
  // A server outside the stack, and a node that follows it.
  startServer("outsider", ports[2]);
  redisCli(ports[0], ["set", "session:1", "token"], ADMIN);
  await waitFor("the replica to be in sync", () => redisCli(ports[1], ["info", "replication"], ADMIN).out.includes("master_link_status:up"), 30_000);
}, 60_000);

afterAll(async () => {
  await ws.cleanup();
});

describe("the backup job's script", () => {
  it("reads its snapshot from the replica, never forks the master, and stores one file in restic", () => {
    const masterForks = forks(ports[0]);
    const run = runJob(
      [
        { name: "redis-0", port: ports[0] },
        { name: "redis-1", port: ports[1] },
      ],
      "replica-read",
    );
    expect(run.log).toContain("reading a snapshot from replica redis-1");
    expect(run.status).toBe(0);
    expect(forks(ports[0])).toBe(masterForks);
    expect(run.snapshots).toHaveLength(1);
    expect(run.snapshots[0].paths).toEqual([`/${SNAPSHOT_FILE_NAME}`]);
    expect(run.snapshots[0].tags).toEqual([SNAPSHOT_TAG, "node=redis-1"]);
    expect(run.metrics[BACKUP_METRICS.lastRunSuccess]).toBe("1");
    expect(Number(run.metrics[BACKUP_METRICS.lastSuccess])).toBeGreaterThan(Date.now() / 1000 - 120);
    // node_exporter runs as another user: the metrics file alone is readable by others.
    expect(run.metricsMode).toBe(0o644);
  }, 120_000);

  it("fails the run instead of reading the master when no replica is declared", () => {
    const masterForks = forks(ports[0]);
    const run = runJob([{ name: "redis-0", port: ports[0] }], "master-only");
    expect(run.status).not.toBe(0);
    expect(run.log).toContain("no declared replica in sync");
    expect(forks(ports[0])).toBe(masterForks);
    expect(run.snapshots).toHaveLength(0);
    expect(run.metrics[BACKUP_METRICS.lastRunSuccess]).toBe("0");
    expect(run.metrics[BACKUP_METRICS.lastSuccess]).toBeUndefined();
  }, 120_000);

  it("does not read a declared node that follows a server outside the stack", async () => {
    redisCli(ports[1], ["replicaof", "127.0.0.1", String(ports[2])], ADMIN);
    try {
      await waitFor(
        "the node to follow the outsider",
        () =>
          /master_port:\d+\s+master_link_status:up/.test(redisCli(ports[1], ["info", "replication"], ADMIN).out) &&
          redisCli(ports[1], ["info", "replication"], ADMIN).out.includes(`master_port:${ports[2]}`),
        30_000,
      );
      const run = runJob([{ name: "redis-1", port: ports[1] }], "rogue-master");
      expect(run.log).toContain(`redis-1 follows 127.0.0.1:${ports[2]}, not a declared data node`);
      expect(run.status).not.toBe(0);
      expect(run.snapshots).toHaveLength(0);
    } finally {
      redisCli(ports[1], ["replicaof", "127.0.0.1", String(ports[0])], ADMIN);
    }
  }, 120_000);

  it("never initializes over a repository its password does not open (a regenerated password), and fails every run saying so", () => {
    let config = "";
    const run = runJob([{ name: "redis-1", port: ports[1] }], "foreign-repository", (paths) => {
      const init = spawnSync("restic", ["init", "-r", paths.repository, "--password-file", paths.backupPasswordFile], { encoding: "utf8", timeout: 60_000 });
      expect(init.status).toBe(0);
      config = fs.readFileSync(path.join(paths.repository, "config"), "utf8");
    });
    expect(run.status).not.toBe(0);
    expect(run.log).toContain("does not open with this password");
    expect(run.log).not.toContain("initializing the repository");
    expect(fs.readFileSync(path.join(run.paths.repository, "config"), "utf8")).toBe(config);
    expect(run.metrics[BACKUP_METRICS.lastRunSuccess]).toBe("0");
  }, 120_000);
});
