// npm run failure-modes [-- --check]
// Writes docs/failure-modes.md from components/failureModes.ts: each failure mode's guards,
// policies, alerts, runbook section, drills and tests. --check only reports whether the file
// differs (exit 1), as tests/unit/failureModes.test.ts does.
import { FAILURE_MODES_FILE, renderFailureModes } from "../components/failureModes";
import { runRegenerateCommand } from "./lib/generatedFile";

runRegenerateCommand("failure-modes", FAILURE_MODES_FILE, "what guards each failure mode, and what proves it", "components/failureModes.ts", renderFailureModes);
