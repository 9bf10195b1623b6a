/**
 * The app's secrets (`secret("Name")`) in an environment: the values a person types in, per environment, after the
 * environment is applied. The planner gives each one a resource whose value nobody but a person writes (a
 * Kubernetes Secret key marked `setBy`); the provider's driver reports whether it is set and stores a new value.
 * A value passes from the user to the driver and nowhere else: never into state, the journal, progress or a log.
 */

import type { DesiredGraph, DesiredResource } from '../model/desiredGraph';
import { DriverError, type ProviderDriver } from '../model/providerApi';

export interface AppSecret {
  /** The name in the app's code: `secret("StripeKey")`. */
  name: string;
  /** The resource that holds the value. */
  resource: DesiredResource;
  /** The services whose workloads read it. */
  services: string[];
}

export type SecretValueStatus = 'set' | 'unset' | 'missing';

/**
 * Whether a person types this resource's value in (an app secret's Kubernetes Secret, or its Secrets Manager /
 * Secret Manager secret in Production on AWS or GCP). An in-cluster copy synced from a cloud store is not: the
 * person sets the cloud one.
 */
export function holdsTypedValue(r: DesiredResource): boolean {
  if (r.kind !== 'secret' || r.source?.kind !== 'secret') return false;
  const keys = r.settings.keys as Record<string, { setBy?: unknown }> | undefined;
  return keys ? Object.values(keys).some((k) => typeof k?.setBy === 'string') : typeof r.settings.valueSetBy === 'string';
}

/** Every app secret of the graph, by name. */
export function appSecrets(graph: DesiredGraph): AppSecret[] {
  const readers = (id: string) => graph.resources.filter((w) => w.kind === 'deployment' && w.dependsOn.includes(id)).map((w) => w.source?.name ?? w.name);
  return graph.resources
    .filter(holdsTypedValue)
    .map((resource) => {
      // On AWS and GCP the pods read the in-cluster copy of the managed secret.
      const holders = [resource.id, ...graph.resources.filter((c) => secretCopies(c, resource.id)).map((c) => c.id)];
      return { name: resource.source!.name, resource, services: [...new Set(holders.flatMap(readers))].sort() };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** True when `copy` is the in-cluster copy of the managed secret `id` (Production on AWS or GCP). */
function secretCopies(copy: DesiredResource, id: string): boolean {
  const keys = copy.settings.keys as Record<string, { syncFrom?: unknown }> | undefined;
  return Object.values(keys ?? {}).some((k) => k?.syncFrom === id);
}

/** The largest value accepted: a Kubernetes Secret holds 1 MiB in all, base64 makes values a third larger. */
export const MAX_SECRET_BYTES = 512 * 1024;

/** Why a value cannot be stored, or null. */
export function checkSecretValue(value: string): string | null {
  if (value.length === 0) return 'The value is empty.';
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) return `The value is larger than ${MAX_SECRET_BYTES / 1024} KiB.`;
  return null;
}

export function findAppSecret(graph: DesiredGraph, name: string): AppSecret {
  const all = appSecrets(graph);
  const found = all.find((s) => s.name === name);
  if (found) return found;
  const known = all.map((s) => s.name);
  throw new DriverError('invalid', `the app has no secret "${name}"${known.length ? `; its secrets are ${known.join(', ')}` : ' (it declares none)'}`);
}

/** Whether each app secret has a value in the environment ('missing': the environment is not applied yet). */
export async function secretStatuses(graph: DesiredGraph, driver: ProviderDriver, signal: AbortSignal): Promise<{ secret: AppSecret; status: SecretValueStatus }[]> {
  const read = driverSecretValues(driver);
  return Promise.all(appSecrets(graph).map(async (secret) => ({ secret, status: await read.status(secret.resource, signal) })));
}

/** Stores the value of one app secret in the environment. */
export async function setSecretValue(graph: DesiredGraph, driver: ProviderDriver, name: string, value: string, signal: AbortSignal): Promise<AppSecret> {
  const secret = findAppSecret(graph, name);
  const problem = checkSecretValue(value);
  if (problem) throw new DriverError('invalid', `${problem} Nothing was stored for secret "${name}".`);
  const store = driverSecretValues(driver);
  await store.set(secret.resource, value, signal);
  // On AWS and GCP the pods read the in-cluster copy of the managed secret: it gets the same value now.
  for (const copy of graph.resources.filter((c) => secretCopies(c, secret.resource.id))) await store.set(copy, value, signal);
  return secret;
}

function driverSecretValues(driver: ProviderDriver): { status: NonNullable<ProviderDriver['secretValueStatus']>; set: NonNullable<ProviderDriver['setSecretValue']> } {
  const { secretValueStatus, setSecretValue: set } = driver;
  if (!secretValueStatus || !set) throw new DriverError('unsupported', `the ${driver.kind} provider cannot store secret values yet`);
  return { status: secretValueStatus.bind(driver), set: set.bind(driver) };
}
