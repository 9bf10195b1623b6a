/** Names shared by the workloads, the infra config and the cron jobs, kept apart so those modules import no cycle. */

/** The port Encore's runtime listens on in its Docker images (`PORT`, default 8080). */
export const PORT = 8080;

/** The API gateway's own Deployment and Service (see workloads.ts). */
export const GATEWAY_WORKLOAD = 'encore-gateway';

/** The service-auth key (infra config `auth`, id `keyId`): generated at apply into a Secret, never in state or output. */
export const SERVICE_AUTH = { id: 'k8s:secret:encore-service-auth', name: 'encore-service-auth', key: 'key', keyId: 1, envVar: 'ENCORE_SERVICE_AUTH_KEY' };

/**
 * Where service-auth key `id` lives: its key in the Secret and the variable the pods read it from. Key 1 keeps the
 * first names, so environments applied before rotation existed plan no change; a rotation's key N is `key-N`.
 */
export function serviceAuthKey(id: number): { key: string; envVar: string } {
  return id === SERVICE_AUTH.keyId ? { key: SERVICE_AUTH.key, envVar: SERVICE_AUTH.envVar } : { key: `key-${id}`, envVar: `${SERVICE_AUTH.envVar}_${id}` };
}

/** The key ids a Secret's recorded `keys` setting holds (`key` is 1, `key-N` is N), ascending. */
export function serviceAuthKeyIds(keys: readonly string[]): number[] {
  const ids = keys.map((k) => (k === SERVICE_AUTH.key ? SERVICE_AUTH.keyId : /^key-([1-9]\d{0,9})$/.test(k) ? Number(k.slice(4)) : NaN));
  return ids.filter((n) => Number.isSafeInteger(n)).sort((a, b) => a - b);
}

/** The NSQ Jobs' image (curl and sh). */
export const CURL_IMAGE = 'curlimages/curl:8.14.1';

/** The CronJobs' image: Node, for the call's SHA3-256 signature and fetch (the app's own base is node:slim too). */
export const CRON_IMAGE = 'node:22-slim';

/** Where Encore's infra.config.json lives: a ConfigMap mounted into every workload at this path. */
export const INFRA_CONFIG = { id: 'k8s:configmap:encore-infra-config', name: 'encore-infra-config', key: 'infra.config.json', path: '/encore/infra.config.json' };

/** The image a workload gets until a deploy gives it the app's own: it runs, serves nothing, and says so. */
export const PLACEHOLDER_IMAGE = 'registry.k8s.io/pause:3.10';
