/**
 * Deterministic names. Encore allows names that clouds and Kubernetes do not (camelCase caches, dotted topics,
 * PascalCase secrets), so each name is turned into the target's alphabet. When that changes the name, a short hash
 * of the original is appended, so two Encore names can never land on the same cloud name (`FooBar` and `foo-bar`).
 * The same input always gives the same name, which is what lets a re-run after a crash find what it created.
 */

/** FNV-1a, 32 bit, as 8 hex digits: small, pure and stable across platforms. */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Splits camelCase and replaces everything but [a-z0-9] with dashes: `CatalogApiKey` → `catalog-api-key`. */
function kebab(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * A DNS label (Kubernetes object names, most cloud names): lowercase letters, digits and dashes, starting with a
 * letter, at most `max` characters. `prefix` is prepended as is (it must already be a valid label start).
 */
export function dnsLabel(prefix: string, name: string, max = 63): string {
  const base = kebab(name);
  const exact = base === name && /^[a-z]/.test(prefix + base);
  const head = `${prefix}${base || 'x'}`;
  if (exact && head.length <= max) return head;
  const suffix = `-${shortHash(prefix + name).slice(0, 6)}`;
  const body = head.slice(0, max - suffix.length).replace(/-+$/, '');
  return `${/^[a-z]/.test(body) ? body : `r-${body}`.slice(0, max - suffix.length)}${suffix}`;
}

/**
 * An environment variable name, `<prefix><name>`: the Encore name keeps its case (`ENCORE_SECRET_CatalogApiKey`),
 * so it stays unique; any other character becomes `_` and then the hash is appended, as in `dnsLabel`.
 */
export function envVar(prefix: string, name: string): string {
  const base = name.replace(/[^A-Za-z0-9]/g, '_');
  return base === name ? `${prefix}${base}` : `${prefix}${base}_${shortHash(name).slice(0, 6)}`;
}

/** The names every resource of an environment derives from. */
export interface Naming {
  app: string;
  env: string;
  namespace: string;
  /** `<app>-<env>-<name>`, a DNS label of at most `max` characters, unique per app, environment and name. */
  cloud(name: string, max?: number): string;
  /** Globally unique names (S3 and GCS buckets): `cloud()` plus a hash of app, environment and scope. */
  global(name: string, scope: string): string;
  /** The in-cluster DNS name of a Kubernetes Service of this environment. */
  serviceHost(service: string): string;
}

export function naming(app: string, env: string, namespace: string): Naming {
  const appLabel = dnsLabel('', app, 20);
  const cloud = (name: string, max = 63) => dnsLabel(`${appLabel}-${env}-`, name, max);
  return {
    app,
    env,
    namespace,
    cloud,
    global: (name, scope) => `${cloud(name, 54)}-${shortHash(`${app}/${env}/${scope}/${name}`)}`,
    serviceHost: (service) => `${service}.${namespace}.svc.cluster.local`,
  };
}
