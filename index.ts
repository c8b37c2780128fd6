// Entry point for `pulumi up`: read and validate the stack config, then compose the components.
// On invalid config, loadStackConfig throws listing every problem and nothing is declared.
import { loadStackConfig } from "./components/config/load";
import { declareStack } from "./components/stack";

const { config, secrets } = loadStackConfig();
const outputs = declareStack(config, secrets);

export const redisAddress = outputs.redisAddress;
export const redisConnection = outputs.redisConnection;
export const redisConnectionUrl = outputs.redisConnectionUrl;
export const redisAppUser = outputs.redisAppUser;
export const redisAppPassword = outputs.redisAppPassword;
export const sentinelUser = outputs.sentinelUser;
export const sentinelPassword = outputs.sentinelPassword;
export const topology = outputs.topology;
export const sizing = outputs.sizing;
export const apiEnv = outputs.apiEnv;
export const apiToggles = outputs.apiToggles;
