// The Backup component under mocks: what `pulumi up` declares for the backup job on each stack.
// The policy pack cannot see retainOnDelete (the engine does not pass it to analyzers), so the
// repository's survival of a destroy is proven here, on the synth plan's options.
import { byName, CONTAINER, label, ofType, synthOk, uploadContent } from "../helpers/synth";
import type { SynthResult } from "../../scripts/lib/synth";
import { BACKUP_PATHS, renderBackupJobScript } from "../../components/backup/backupJob";
import { ACL_USERS } from "../../components/redis/acl";

const envOf = (container: { inputs: Record<string, unknown> }) => Object.fromEntries(((container.inputs.envs as string[]) ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));

describe("Backup under mocks", () => {
  let dev: SynthResult;
  let prod: SynthResult;
  beforeAll(async () => {
    dev = await synthOk("dev");
    prod = await synthOk("prod");
  });

  it("keeps the repository on a destroy in every stack, and protects it and its password in production", () => {
    for (const [result, production] of [
      [dev, false],
      [prod, true],
    ] as const) {
      const repository = result.plan.resources.find((r) => r.name === "backup-repository")!;
      expect(repository.options.retainOnDelete).toBe(true);
      expect(repository.options.protect).toBe(production);
      expect(result.plan.resources.find((r) => r.name === "backup-restic-password")!.options.protect).toBe(production);
    }
  });

  it("runs the job on the monitoring host in prod, reading only the declared data nodes, with no secret in its environment", () => {
    const container = byName(prod.unmasked, "backup-container");
    expect(label(container, "host")).toBe("monitoring");
    const env = envOf(container);
    expect(env.VEZA_BACKUP_DATA_NODES).toBe("redis-0=10.20.0.11:6379 redis-1=10.20.0.12:6379 redis-2=10.20.0.13:6379");
    expect(env.VEZA_BACKUP_INTERVAL_SECONDS).toBe("3600");
    expect(env.VEZA_BACKUP_USER).toBe(ACL_USERS.backup);
    expect(env.RESTIC_PASSWORD_FILE).toBe(`${BACKUP_PATHS.credentials}/restic-password`);
    expect(Object.keys(env).filter((name) => /PASSWORD$|^RESTIC_PASSWORD$|AUTH/.test(name))).toEqual([]);
    expect(uploadContent(prod.unmasked, container, BACKUP_PATHS.script)).toBe(renderBackupJobScript());
  });

  it("mounts the credentials read-only and the repository, state and metrics volumes writable", () => {
    const mounts = byName(prod.unmasked, "backup-container").inputs.mounts as Array<{ target: string; readOnly?: boolean }>;
    const byTarget = Object.fromEntries(mounts.map((m) => [m.target, m.readOnly === true]));
    expect(byTarget).toMatchObject({ [BACKUP_PATHS.credentials]: true, [BACKUP_PATHS.repository]: false, [BACKUP_PATHS.state]: false, [BACKUP_PATHS.textfile]: false });
  });

  it("gives the textfile collector to the backup host's node_exporter alone, started after the job so the volume takes the job's owner", () => {
    const exporters = ofType(prod.unmasked, CONTAINER).filter((c) => label(c, "component") === "node-exporter");
    const withTextfile = exporters.filter((c) => (c.inputs.command as string[]).some((arg) => arg.startsWith("--collector.textfile.directory=")));
    expect(withTextfile.map((c) => c.name)).toEqual(["node-exporter-monitoring-container"]);
    expect(prod.plan.resources.find((r) => r.name === "node-exporter-monitoring-container")!.dependsOn).toContain("backup-container");
  });

  it("declares no backup when backup.enabled is false", async () => {
    const off = await synthOk("dev", ["backup.enabled=false"]);
    expect(off.plan.resources.filter((r) => r.name.startsWith("backup"))).toEqual([]);
    expect(off.plan.outputs.backupRepositoryPassword).toBeUndefined();
  });

  it("exports the repository's password as a secret", () => {
    expect(prod.plan.outputs.backupRepositoryPassword).toBe("[secret]");
  });
});
