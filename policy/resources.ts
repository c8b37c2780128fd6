// What every policy reads: resource types, labels, uploaded files (from a container's config
// carrier), redis.conf directives, envs, rule files. No policy lives here.
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import YAML from "yaml";
import { parseConfDirectives } from "./shared/redis/redisConf";
import { CONFIG_CARRIER_KIND, CONFIG_DIGEST_LABEL, CONFIG_FOR_KIND_LABEL, configCarrierFor } from "./shared/base/hardening";
import { CREDENTIAL_SEED_SUFFIX, seededFiles } from "./shared/base/shell";

export const CONTAINER = "docker:index/container:Container";
export const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
export const VOLUME = "docker:index/volume:Volume";
export const DOCKER_PROVIDER = "pulumi:providers:docker";
export const IMAGE_BUILD = "docker:index/image:Image";
export const CREDENTIALS_COMPONENT = "veza:redis:Credentials";
export const HOST_COMMANDS = ["command:local:Command", "command:remote:Command"];

export type Props = Record<string, unknown>;
export interface Upload {
  file?: unknown;
  content?: unknown;
}

export function labelsOf(props: Props): Record<string, string> {
  const labels: Record<string, string> = {};
  const list = props.labels;
  if (Array.isArray(list)) {
    for (const entry of list as Array<{ label?: unknown; value?: unknown }>) {
      // Not a config volume's digest: unknown in a preview that changes a generated password, and no policy reads it.
      if (typeof entry?.label === "string" && entry.label.startsWith("veza.") && entry.label !== `veza.${CONFIG_DIGEST_LABEL}`) labels[entry.label.slice(5)] = String(entry.value);
    }
  }
  return labels;
}

export function componentOf(props: Props): string | undefined {
  return labelsOf(props).component;
}

/** The uploaded file whose path ends with `suffix`, when its content is known. */
export function uploadedFile(props: Props, suffix: string): string | undefined {
  const uploads = props.uploads;
  if (!Array.isArray(uploads)) return undefined;
  const upload = (uploads as Upload[]).find((u) => typeof u?.file === "string" && u.file.endsWith(suffix));
  return typeof upload?.content === "string" ? upload.content : undefined;
}

/**
 * Config carriers (components/host/hardenedContainer.ts): a container's files are uploaded to a
 * never-started carrier and mounted read-only from its volume. The resources with each container's
 * `uploads` read from its carrier (by the carrier's `veza.config-for` label), so the file checks
 * read a container's files wherever they are uploaded.
 */
export function withContainerFiles(resources: PolicyResource[]): PolicyResource[] {
  const carriers = new Map<string, PolicyResource>();
  for (const resource of resources) {
    const target = resource.type === CONTAINER ? configCarrierFor(resource.props.labels) : undefined;
    if (target !== undefined) carriers.set(target, resource);
  }
  return resources.map((resource) => {
    // A carrier's own name is never read: autonamed, it is unknown in a preview that creates or replaces it.
    const runs = resource.type === CONTAINER && configCarrierFor(resource.props.labels) === undefined;
    const carrier = runs && typeof resource.props.name === "string" ? carriers.get(resource.props.name) : undefined;
    if (carrier === undefined) return resource;
    const props = new Proxy(resource.props, { get: (target, key, receiver) => (key === "uploads" ? carrier.props.uploads : Reflect.get(target, key, receiver)) });
    return { ...resource, props } as PolicyResource;
  });
}

export function isConfigCarrier(props: Props): boolean {
  return componentOf(props) === CONFIG_CARRIER_KIND;
}

/** Whose files a resource holds: a carrier's container kind, else the container's own. */
export function filesComponentOf(props: Props): string | undefined {
  return isConfigCarrier(props) ? labelsOf(props)[CONFIG_FOR_KIND_LABEL] : componentOf(props);
}

/** The engine's error for a value a preview does not know yet (@pulumi/policy's unknown-checking proxy). */
export function isUnknownValueError(error: unknown): boolean {
  return error instanceof Error && "unknownTypeSentinel" in error;
}

/**
 * A check of one resource that reads a container's files, run over the stack so that it sees the
 * files from the container's carrier. A value unknown in a preview skips only the resource that
 * holds it (as the engine does for a resource policy); the policy then reports it after the others.
 */
export function readingContainerFiles(policy: ResourceValidationPolicy): StackValidationPolicy {
  const validate = policy.validateResource as (args: ResourceValidationArgs, report: (message: string) => void) => void;
  return {
    name: policy.name,
    description: policy.description,
    enforcementLevel: policy.enforcementLevel,
    ...(policy.configSchema ? { configSchema: policy.configSchema } : {}),
    validateStack: (args, report) => {
      let unknown: unknown;
      for (const resource of withContainerFiles(args.resources)) {
        try {
          validate({ ...resource, getConfig: args.getConfig, notApplicable: args.notApplicable } as unknown as ResourceValidationArgs, (message) => report(message, resource.urn));
        } catch (error) {
          if (!isUnknownValueError(error)) throw error;
          unknown ??= error;
        }
      }
      if (unknown !== undefined) throw unknown;
    },
  };
}

/** A stack check that reads containers' files: it gets each container with its carrier's. */
export function withFiles(policy: StackValidationPolicy): StackValidationPolicy {
  return { ...policy, validateStack: (args, report) => policy.validateStack({ ...args, resources: withContainerFiles(args.resources) }, report) };
}

/**
 * The ACL files a data node's or sentinel's seed command writes into its volume (no container
 * uploads them: components/topology/credentialScripts.ts), with the component they configure.
 */
export function seededAcl(args: { name: string; props: Props }): { component: "redis" | "sentinel"; file: string } | undefined {
  if (!args.name.endsWith(CREDENTIAL_SEED_SUFFIX)) return undefined;
  const files = seededFiles(String(args.props.stdin));
  const redis = files.get("redis-secrets.conf");
  if (redis !== undefined) return { component: "redis", file: redis };
  const sentinel = files.get("sentinel-secrets.conf");
  return sentinel === undefined ? undefined : { component: "sentinel", file: sentinel };
}

export function directive(conf: Map<string, string[]>, key: string): string | undefined {
  return conf.get(key)?.[conf.get(key)!.length - 1];
}

export function redisConf(props: Props): Map<string, string[]> | undefined {
  const text = uploadedFile(props, "/redis.conf");
  return text === undefined ? undefined : parseConfDirectives(text);
}

export function isRedisFamily(props: Props): boolean {
  const component = componentOf(props);
  return component === "redis" || component === "sentinel";
}

export function envOf(props: Props): Map<string, string> {
  const env = new Map<string, string>();
  if (Array.isArray(props.envs)) {
    for (const entry of props.envs) {
      if (typeof entry !== "string") continue;
      const eq = entry.indexOf("=");
      if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  }
  return env;
}

export function listOf(props: Props, key: string): unknown[] | undefined {
  return Array.isArray(props[key]) ? (props[key] as unknown[]) : undefined;
}

export interface RuleYaml {
  groups?: Array<{ rules?: Array<{ alert?: string; record?: string; expr?: string; labels?: Record<string, string>; annotations?: Record<string, string> }> }>;
}

export function ruleFiles(props: Props): Array<{ file: string; rules: NonNullable<NonNullable<RuleYaml["groups"]>[number]["rules"]> }> {
  const uploads = Array.isArray(props.uploads) ? (props.uploads as Upload[]) : [];
  return (
    uploads
      // The promtool test files beside the rules (*.test.yml) are not rule files.
      .filter((u) => typeof u?.file === "string" && u.file.includes("/rules/") && !/\.test\.ya?ml$/.test(u.file) && typeof u.content === "string")
      .map((u) => ({ file: u.file as string, rules: (parseYamlOnce<RuleYaml>(u.content as string)?.groups ?? []).flatMap((g) => g.rules ?? []) }))
  );
}

/** Several policies read the same rule files: parse each content once (the plan is immutable). */
export const parsedYaml = new Map<string, unknown>();
export function parseYamlOnce<T>(text: string): T {
  if (!parsedYaml.has(text)) parsedYaml.set(text, YAML.parse(text));
  return parsedYaml.get(text) as T;
}

export function volumesByName(resources: PolicyResource[]): Map<string, PolicyResource> {
  // Not the config volumes: autonamed, their names are unknown in a preview that creates or replaces them.
  return new Map(resources.filter((r) => r.type === VOLUME && !isConfigCarrier(r.props) && typeof r.props.name === "string").map((r) => [r.props.name as string, r]));
}

export function redisContainers(resources: PolicyResource[]): PolicyResource[] {
  return resources.filter((r) => r.type === CONTAINER && componentOf(r.props) === "redis");
}

export function countBy<T>(items: T[], key: (item: T) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item) ?? "unknown";
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/**
 * Credential rotation (components/redis/rotation.ts): the credentials commands carry a marker in
 * their triggers, `accepts` on each server's live apply (a user's generation and step) and `holds`
 * on each consumer (the generation it authenticates with; for a consumer outside the stack, what
 * `credentials.<user>.external` declares). Retiring removes the previous generation's password
 * from every ACL: a consumer still holding it would be refused at its next connection.
 */
