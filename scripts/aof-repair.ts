// npm run aof-repair -- [--backup-dir <dir>] <incr file | appendonlydir | manifest>
// The disk-full runbook's repair when Redis refuses to start with "Bad file format reading the
// append only file": removes the NUL run a failed short write left (keeping the valid writes after
// it), or else truncates where the valid data ends. Refuses (exit 2, nothing changed) anything that
// is not a damaged AOF; copies the file to <file>.bak-<UTC time> before the first change.
import { EXIT_OK, parseOrHelp, runMain, type CommandSpec } from "./lib/args";
import { repairAofFile, resolveAofTarget } from "./lib/aofRepair";

const SPEC: CommandSpec = {
  name: "aof-repair",
  invocation: "npm run aof-repair --",
  summary:
    "The disk-full runbook's AOF repair (docs/runbooks/disk-full.md): removes the NUL run a failed write left, else truncates where the valid data ends; backs the file up first, refuses anything that is not a damaged AOF. Stop Redis first.",
  options: {
    "backup-dir": { type: "string", value: "<dir>", description: "where the backup <file>.bak-<UTC time> goes (default: beside the file; on a full disk, somewhere with room)" },
  },
  positionals: {
    name: "<aof>",
    description: "the AOF Redis named (appendonlydir/appendonly.aof.N.incr.aof), or its appendonlydir or manifest: then the one damaged INCR file the manifest lists",
    min: 1,
    max: 1,
  },
};

function main(): number {
  const args = parseOrHelp(SPEC);
  if (!args) return EXIT_OK;
  const [target] = args.positionals;
  const { file, chosen } = resolveAofTarget(target);
  if (!file) {
    process.stdout.write(`aof-repair: ${target}: ${chosen}: nothing to repair, nothing written\n`);
    return EXIT_OK;
  }
  const repair = repairAofFile(file, { backupDir: args.values["backup-dir"] as string | undefined });
  const via = chosen ? ` (${chosen})` : "";
  if (repair.method === "none") {
    process.stdout.write(`aof-repair: ${repair.file}${via}: valid to its end (${repair.offset} B): nothing to repair, nothing written\n`);
    return EXIT_OK;
  }
  process.stdout.write(`aof-repair: ${repair.file}${via}: ${repair.method}, ${repair.removedBytes} bytes at offset ${repair.offset}; original saved as ${repair.backup}\n`);
  return EXIT_OK;
}

runMain("aof-repair", main);
