// Entry point for `pulumi up`: read and validate the stack config, then compose the components.
// On invalid config, loadStackConfig throws listing every problem and nothing is declared.
import { loadStackConfig } from "./components/validation/load";
import { declareProgram } from "./components/stack";

const { config, secrets } = loadStackConfig();

// Async: the credential rotation's order is checked against what this stack last applied (its
// own outputs) before anything is declared. The returned object is the stack's outputs.
export = async () => {
  const outputs = await declareProgram(config, secrets);
  // Every output declareStack returns but the connectivity check's URN (plumbing for tests),
  // including credentialRotation, which the order check reads back at the next `up`.
  const { apiConnectivityCheck: _plumbing, ...exported } = outputs;
  return exported;
};
