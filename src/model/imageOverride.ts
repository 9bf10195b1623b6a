/**
 * An environment's image override: where its cluster pulls the public images the product runs (the in-cluster
 * servers, the helper images of its Jobs and CronJobs, the placeholder workload), for clusters that pull from a
 * mirror or cannot reach the internet. The app's own image (a deploy's) is never rewritten. Pure, so the store's
 * validation and the planner share one reading of a reference.
 */

export interface ImageOverride {
  /**
   * A registry host, with an optional path, that serves every image instead of its own registry: the image's
   * name without its registry goes after it (`postgres:16` → `<mirror>/postgres:16`,
   * `registry.k8s.io/pause:3.10` → `<mirror>/pause:3.10`).
   */
  mirror?: string;
  /** Image as the product names it → the image to pull instead. Wins over `mirror`. */
  replace?: Record<string, string>;
}

// The grammar of github.com/distribution/reference, as Docker and containerd read an image reference.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;
const HOST_NAME = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;
const IPV6 = /^\[[0-9a-fA-F:.]+\]$/;
const MAX_NAME = 255;

/** A first path component that names a registry (as Docker decides): it has a dot or a port, or is localhost. */
function isRegistryHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component.startsWith('[');
}

/** Why `host` (with an optional port) is not a registry host, or undefined. */
function hostProblem(host: string): string | undefined {
  const m = host.startsWith('[') ? /^(\[[^\]]*\])(?::(.*))?$/.exec(host) : /^([^:]*)(?::(.*))?$/.exec(host);
  const name = m?.[1] ?? host;
  const port = m?.[2];
  if (!(HOST_NAME.test(name) || IPV6.test(name))) return `"${host}" is not a registry host (letters, digits, dots and dashes, with an optional :port)`;
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) return `"${port}" in "${host}" is not a port (1 to 65535)`;
  return undefined;
}

export interface ParsedImage {
  /** The registry host as written, or undefined for Docker Hub's implicit one. */
  registry: string | undefined;
  /** The repository path as written (`postgres`, `nsqio/nsq`): Docker Hub's implicit `library/` is not added. */
  path: string;
  tag?: string;
  digest?: string;
}

/** Reads `[host[:port]/]path[:tag][@digest]`; a string says why it is not an image reference. */
export function parseImage(text: string): ParsedImage | string {
  if (text === '') return 'it is empty';
  if (text !== text.trim() || /\s/.test(text)) return 'it has spaces in it';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return 'it starts with a URL scheme; write the registry host without http:// or https://';
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return `"${digest}" after @ is not a digest (sha256: and 64 lowercase hex digits); a registry login never goes here`;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return `"${tag}" is not a tag (letters, digits, _ . and -, at most 128, not starting with . or -)`;
  }
  const parts = rest.split('/');
  let registry: string | undefined;
  if (parts.length > 1 && isRegistryHost(parts[0]!)) {
    registry = parts.shift()!;
    const problem = hostProblem(registry);
    if (problem) return problem;
  }
  for (const c of parts) {
    if (c === '') return 'it has an empty path component (two slashes in a row, or one at an end)';
    if (!COMPONENT.test(c)) {
      return /[A-Z]/.test(c)
        ? `"${c}" has uppercase letters; repository names are lowercase`
        : `"${c}" is not a repository name component (lowercase letters and digits, with . _ or - between them)`;
    }
  }
  const path = parts.join('/');
  if ((registry ? registry.length + 1 : 0) + path.length > MAX_NAME) return `the name is longer than ${MAX_NAME} characters`;
  return { registry, path, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

/** Why `text` is not an image reference, or undefined when it is one. */
export function imageReferenceProblem(text: string): string | undefined {
  const parsed = parseImage(text);
  return typeof parsed === 'string' ? parsed : undefined;
}

/** Why `text` is not a mirror (a registry host with an optional path, no tag or digest), or undefined. */
export function mirrorProblem(text: string): string | undefined {
  if (text.endsWith('/')) return 'it ends with a slash; write it without one, e.g. registry.example.com/mirror';
  if (text.includes('@')) return 'it has an @: a mirror is a registry host and path, never a login or a digest';
  const parsed = parseImage(text.includes('/') ? text : `${text}/x`);
  if (typeof parsed === 'string') return parsed;
  if (parsed.registry === undefined) {
    return `it must start with a registry host (a name with a dot or a :port, or localhost), e.g. registry.example.com/mirror: "${text.split('/')[0]}" would be read as a Docker Hub account`;
  }
  if (parsed.tag !== undefined) return `it has a tag (":${parsed.tag}"); a mirror is a registry host and path only`;
  return undefined;
}

/**
 * The image the cluster pulls for `reference`, one the product names: its replacement, else the mirror in place
 * of its registry, else itself.
 */
export function overrideImage(reference: string, override: ImageOverride | undefined): string {
  if (!override) return reference;
  const replacement = override.replace && Object.hasOwn(override.replace, reference) ? override.replace[reference] : undefined;
  if (replacement !== undefined) return replacement;
  if (override.mirror === undefined) return reference;
  const parsed = parseImage(reference);
  if (typeof parsed === 'string') throw new Error(`the product names an image that is not a reference: ${reference} (${parsed})`);
  return `${override.mirror}/${parsed.path}${parsed.tag !== undefined ? `:${parsed.tag}` : ''}${parsed.digest !== undefined ? `@${parsed.digest}` : ''}`;
}
