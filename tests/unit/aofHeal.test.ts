// The start script's heal_aof, run by dash on real files and checked with the real redis-check-aof:
// it removes exactly the NUL run a full disk leaves, keeps the commands after it, backs up first,
// and leaves any other damage for a person.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { AOF_HEAL_BACKUP_DIR, renderAofHealScript } from "../../components/redis/aofHeal";
import { cleanedTempDirs } from "../helpers/tempDirs";

const set = (key: string, value: string) => `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`;
const SELECT = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n";

const tempDir = cleanedTempDirs();

function dataDirWith(files: Record<string, Buffer>): string {
  const dir = tempDir("aof-heal-");
  fs.mkdirSync(path.join(dir, "appendonlydir"));
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, "appendonlydir", name), content);
  return dir;
}

function heal(dir: string): string {
  const script = path.join(dir, "heal.sh");
  fs.writeFileSync(script, renderAofHealScript("redis-0", dir));
  const run = spawnSync("dash", [script], { encoding: "utf8", timeout: 30000 });
  expect(run.status).toBe(0);
  return run.stdout + run.stderr;
}

const checkAof = (file: string) => spawnSync("redis-check-aof", [file], { encoding: "utf8" }).stdout;

describe("heal_aof (the data node's start script)", () => {
  it("removes the NUL run a full disk leaves inside an INCR file and keeps the writes after it, with a backup", () => {
    const damaged = Buffer.concat([Buffer.from(SELECT + set("before", "1")), Buffer.alloc(847), Buffer.from(set("after", "2"))]);
    const dir = dataDirWith({ "appendonly.aof.44.incr.aof": damaged });
    const log = heal(dir);
    const file = path.join(dir, "appendonlydir", "appendonly.aof.44.incr.aof");
    expect(log).toMatch(/removed 847 NUL bytes at offset \d+ left by a full disk/);
    expect(fs.readFileSync(file, "latin1")).toBe(SELECT + set("before", "1") + set("after", "2"));
    expect(checkAof(file)).toContain(" is valid");
    const backups = fs.readdirSync(path.join(dir, AOF_HEAL_BACKUP_DIR));
    expect(backups).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, AOF_HEAL_BACKUP_DIR, backups[0])).equals(damaged)).toBe(true);
  });

  it("leaves valid files and any other damage untouched, saying so", () => {
    const valid = Buffer.from(SELECT + set("a", "1"));
    const garbage = Buffer.from(SELECT + set("a", "1") + "garbage");
    const nulsAtTheEnd = Buffer.concat([Buffer.from(SELECT), Buffer.alloc(64)]);
    const dir = dataDirWith({ "appendonly.aof.1.incr.aof": valid, "appendonly.aof.2.incr.aof": garbage, "appendonly.aof.3.incr.aof": nulsAtTheEnd });
    const log = heal(dir);
    expect(log).not.toContain("appendonly.aof.1.incr.aof");
    expect(log).toMatch(/appendonly\.aof\.2\.incr\.aof: invalid from offset \d+, not the damage a full disk leaves; left alone/);
    expect(log).toMatch(/appendonly\.aof\.3\.incr\.aof: invalid from offset \d+, not the damage a full disk leaves; left alone/);
    expect(fs.readFileSync(path.join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")).equals(valid)).toBe(true);
    expect(fs.readFileSync(path.join(dir, "appendonlydir", "appendonly.aof.2.incr.aof")).equals(garbage)).toBe(true);
    expect(fs.readFileSync(path.join(dir, "appendonlydir", "appendonly.aof.3.incr.aof")).equals(nulsAtTheEnd)).toBe(true);
    expect(fs.existsSync(path.join(dir, AOF_HEAL_BACKUP_DIR))).toBe(false);
  });

  it("does nothing on a fresh volume (no appendonlydir yet)", () => {
    expect(heal(tempDir("aof-heal-"))).toBe("");
  });
});
