// Repairs the one AOF corruption the disk-full drill produces with Redis 7.0.15: after ENOSPC, a
// short write is "undone" with ftruncate to a stale size, which leaves a run of NUL bytes inside
// the INCR file, followed by the valid commands written once space came back. Redis then refuses
// to start ("Bad file format"). redis-check-aof --fix would truncate at the NULs and drop those
// later, acknowledged writes; removing only the NUL run keeps them.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";

export interface AofRepair {
  file: string;
  offset: number;
  removedBytes: number;
  method: "removed NUL run" | "truncated";
}

export function validUpTo(file: string): number {
  const out = spawnSync("redis-check-aof", [file], { encoding: "utf8" }).stdout;
  const okUpTo = Number(/ok_up_to=(\d+)/.exec(out)?.[1]);
  if (!Number.isFinite(okUpTo)) throw new Error(`redis-check-aof gave no ok_up_to for ${file}: ${out.trim()}`);
  return okUpTo;
}

export function repairAofFile(file: string): AofRepair {
  const offset = validUpTo(file);
  const data = fs.readFileSync(file);
  let end = offset;
  while (end < data.length && data[end] === 0) end++;
  if (end > offset && (end === data.length || data[end] === 0x2a /* '*' starts a command */)) {
    fs.writeFileSync(file, Buffer.concat([data.subarray(0, offset), data.subarray(end)]));
    if (validUpTo(file) === fs.statSync(file).size) return { file, offset, removedBytes: end - offset, method: "removed NUL run" };
    fs.writeFileSync(file, data);
  }
  fs.truncateSync(file, offset);
  return { file, offset, removedBytes: data.length - offset, method: "truncated" };
}
