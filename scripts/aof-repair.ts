// npm run aof-repair -- <path to appendonly.aof.N.incr.aof>
// The disk-full runbook's repair when Redis refuses to start with "Bad file format reading the
// append only file": removes the NUL run a failed short write left (keeping the valid writes after
// it), or else truncates where the valid data ends. Back the directory up first.
import { repairAofFile } from "./lib/aofRepair";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: npm run aof-repair -- <appendonlydir/appendonly.aof.N.incr.aof>\n");
  process.exit(2);
}
const repair = repairAofFile(file);
process.stdout.write(`aof-repair: ${repair.file}: ${repair.method}, ${repair.removedBytes} bytes at offset ${repair.offset}\n`);
