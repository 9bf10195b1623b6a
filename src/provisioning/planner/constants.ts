/** Names shared by the workloads, the infra config and the cron jobs, kept apart so those modules import no cycle. */

/** The port Encore's runtime listens on in its Docker images (`PORT`, default 8080). */
export const PORT = 8080;

/** The API gateway's own Deployment and Service (see workloads.ts). */
export const GATEWAY_WORKLOAD = 'encore-gateway';

/** The generated key private endpoints use to trust calls from other services (infra config `auth`). */
/** The service-auth key (infra config `auth`, id `keyId`): generated at apply into a Secret, never in state or output. */
export const SERVICE_AUTH = { id: 'k8s:secret:encore-service-auth', name: 'encore-service-auth', key: 'key', keyId: 1, envVar: 'ENCORE_SERVICE_AUTH_KEY' };

/** The NSQ Jobs' image (curl and sh). */
export const CURL_IMAGE = 'curlimages/curl:8.14.1';

/** The CronJobs' image: Node, for the call's SHA3-256 signature and fetch (the app's own base is node:slim too). */
export const CRON_IMAGE = 'node:22-slim';

/** Where Encore's infra.config.json lives: a ConfigMap mounted into every workload at this path. */
export const INFRA_CONFIG = { id: 'k8s:configmap:encore-infra-config', name: 'encore-infra-config', key: 'infra.config.json', path: '/encore/infra.config.json' };

/** The image a workload gets until a deploy gives it the app's own: it runs, serves nothing, and says so. */
export const PLACEHOLDER_IMAGE = 'registry.k8s.io/pause:3.10';
