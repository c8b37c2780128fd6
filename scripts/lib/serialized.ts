// Pulumi's wire format marks secrets, resource references and unknowns with signature keys
// (sdk/nodejs/runtime/rpc.ts). These helpers turn a serialized value into two plain views:
// one with secrets masked (for plan.json, diffs, logs) and one with them unwrapped (for the
// in-process policy run, which, like the engine, hands policies the plain values).

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const MASK = "[secret]";
export const UNKNOWN_MARK = "[unknown]";

export interface Masked {
  masked: unknown;
  unmasked: unknown;
  /** Dotted paths of every secret, e.g. uploads[1].content. */
  secretPaths: string[];
}

export function maskSerialized(value: unknown): Masked {
  const secretPaths: string[] = [];
  const walk = (v: unknown, at: string, inSecret: boolean): [unknown, unknown] => {
    if (v === UNKNOWN) return [UNKNOWN_MARK, UNKNOWN_MARK];
    if (Array.isArray(v)) {
      const pairs = v.map((item, i) => walk(item, `${at}[${i}]`, inSecret));
      return [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
    }
    if (typeof v === "object" && v !== null) {
      const record = v as Record<string, unknown>;
      const sig = record[SIG_KEY];
      if (sig === SECRET_SIG) {
        if (!inSecret) secretPaths.push(at || "(root)");
        const [, plain] = walk(record.value, at, true);
        return [MASK, plain];
      }
      if (sig === RESOURCE_SIG) return [record.urn, record.urn];
      if (sig === OUTPUT_SIG) {
        if (!("value" in record)) return [UNKNOWN_MARK, UNKNOWN_MARK];
        if (record.secret === true) {
          if (!inSecret) secretPaths.push(at || "(root)");
          return [MASK, walk(record.value, at, true)[1]];
        }
        return walk(record.value, at, inSecret);
      }
      const masked: Record<string, unknown> = {};
      const plain: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(record)) {
        const [m, p] = walk(item, at ? `${at}.${key}` : key, inSecret);
        masked[key] = m;
        plain[key] = p;
      }
      return [masked, plain];
    }
    return [v, v];
  };
  const [masked, unmasked] = walk(value, "", false);
  return { masked, unmasked, secretPaths };
}
