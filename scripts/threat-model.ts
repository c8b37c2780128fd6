// npm run threat-model [-- --check]
// Writes docs/threat-model.md from components/security/threatModel.ts: every credential and
// network position in an attacker's hands, the ACL rules as the servers load them. --check only
// reports whether the file differs (exit 1), as tests/unit/threatModel.test.ts does.
import { renderThreatModel, THREAT_MODEL_FILE } from "../components/security/threatModel";
import { EXIT_OK, parseOrHelp, runMain, type CommandSpec } from "./lib/args";
import { regenerate } from "./lib/generatedFile";

const SPEC: CommandSpec = {
  name: "threat-model",
  invocation: "npm run threat-model --",
  summary: `Regenerates ${THREAT_MODEL_FILE} (what each stolen credential allows, what is refused, detected and left) from components/security/threatModel.ts.`,
  options: { check: { type: "boolean", description: `change nothing; exit 1 when ${THREAT_MODEL_FILE} differs` } },
  finding: `${THREAT_MODEL_FILE} differs (--check)`,
};

function main(): number {
  const args = parseOrHelp(SPEC);
  if (!args) return EXIT_OK;
  return regenerate("threat-model", THREAT_MODEL_FILE, renderThreatModel(), args.values.check === true);
}

runMain("threat-model", main);
