// Container image references, checked against the full Docker reference grammar
// (github.com/distribution/reference, regexp.go), anchored at both ends: an image lands in
// `docker run` command strings and in the Docker provider, so `redis:7.0.15;id` must never pass.
// The one source of truth for the validator (schema.ts) and the policy pack's images-pinned.
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [domain "/"] path-component ["/" path-component]*
//   domain     := host [":" port]          host := domain-name | "[" IPv6 "]"
//   path-component := [a-z0-9]+ ([_.] | "__" | "-"+ [a-z0-9]+)*
//   tag        := [\w][\w.-]{0,127}
//   digest     := sha256 ":" [a-f0-9]{64}  (the only algorithm Docker pins with)

const ALPHANUMERIC = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|-+)";
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "sha256:[a-f0-9]{64}";

/** name[:tag][@sha256:<64 hex>], anchored; groups: 1 name, 2 tag, 3 digest. */
export const IMAGE_REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);

/** An image ID as the Docker provider reports it (a container's `image` input). */
export const IMAGE_ID = new RegExp(`^${DIGEST}$`);

/** distribution/reference's NameTotalLengthMax. */
const NAME_MAX = 255;

export interface ImageReference {
  name: string;
  tag?: string;
  digest?: string;
}

export function parseImageReference(image: string): ImageReference | undefined {
  const match = IMAGE_REFERENCE.exec(image);
  if (!match || match[1].length > NAME_MAX) return undefined;
  return { name: match[1], ...(match[2] !== undefined ? { tag: match[2] } : {}), ...(match[3] !== undefined ? { digest: match[3] } : {}) };
}

export const IMAGE_REFERENCE_GRAMMAR = "[registry[:port]/]lowercase/path[:tag][@sha256:<64 hex>], tag [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";

/** Why an image reference is not a pinned reference, or undefined when it is. */
export function imagePinProblem(image: string): string | undefined {
  const reference = parseImageReference(image);
  if (!reference) return `not an image reference: ${IMAGE_REFERENCE_GRAMMAR}`;
  if (reference.digest) return undefined;
  if (reference.tag === undefined) return "untagged images float to `latest`";
  if (reference.tag === "latest") return "`latest` changes under you";
  return undefined;
}
