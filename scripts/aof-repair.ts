// npm run aof-repair -- <path to appendonly.aof.N.incr.aof>
// The disk-full runbook's repair when Redis refuses to start with "Bad file format reading the
// append only file": removes the NUL run a failed short write left (keeping the valid writes after
// it), or else truncates where the valid data ends. Back the directory up first.
import * as fs from "node:fs";
import { EXIT_OK, parseOrHelp, runMain, UsageError, type CommandSpec } from "./lib/args";
import { repairAofFile } from "./lib/aofRepair";

const SPEC: CommandSpec = {
  name: "aof-repair",
  invocation: "npm run aof-repair --",
  summary: "The disk-full runbook's AOF repair (docs/runbooks/disk-full.md): removes the NUL run a failed write left, else truncates where the valid data ends. Back the directory up first.",
  options: {},
  positionals: { name: "<incr file>", description: "the AOF to repair in place: appendonlydir/appendonly.aof.N.incr.aof", min: 1, max: 1 },
};

function main(): number {
  const args = parseOrHelp(SPEC);
  if (!args) return EXIT_OK;
  const [file] = args.positionals;
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new UsageError(`${file}: no such file`);
  const repair = repairAofFile(file);
  process.stdout.write(`aof-repair: ${repair.file}: ${repair.method}, ${repair.removedBytes} bytes at offset ${repair.offset}\n`);
  return EXIT_OK;
}

runMain("aof-repair", main);
