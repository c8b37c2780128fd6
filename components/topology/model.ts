// What a stack's config determines, computed once per stack and passed down: where every process
// runs (placement and ports) and how memory and disk are sized. The program builds it once
// (components/stack.ts); the renderers take it instead of recomputing either from the config.
import type { HostConfig, StackConfig } from "../config/types";
import { computeSizing, type Sizing } from "../redis/sizing";
import type { PlacementHost, Topology } from "./placement";
import { stackTopology } from "./ports";

export interface StackModel<H extends PlacementHost = HostConfig> {
  topology: Topology<H>;
  sizing: Sizing;
}

export function stackModel(config: Pick<StackConfig, "hosts" | "redis" | "sentinel">): StackModel {
  return { topology: stackTopology(config), sizing: computeSizing(config.redis) };
}

/** The stack's sizing with a placement of one's own: the drills' and tests' processes on 127.0.0.1. */
export function stackModelPlacedAt<H extends PlacementHost>(config: Pick<StackConfig, "redis">, topology: Topology<H>): StackModel<H> {
  return { topology, sizing: computeSizing(config.redis) };
}
