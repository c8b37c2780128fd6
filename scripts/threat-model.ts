// npm run threat-model [-- --check]
// Writes docs/threat-model.md from components/security/threatModel.ts: every credential and
// network position in an attacker's hands, the ACL rules as the servers load them. --check only
// reports whether the file differs (exit 1), as tests/unit/threatModel.test.ts does.
import { renderThreatModel, THREAT_MODEL_FILE } from "../components/security/threatModel";
import { runRegenerateCommand } from "./lib/generatedFile";

runRegenerateCommand("threat-model", THREAT_MODEL_FILE, "what each stolen credential allows, what is refused, detected and left", "components/security/threatModel.ts", renderThreatModel);
