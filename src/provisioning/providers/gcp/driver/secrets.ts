/**
 * secretmanager.googleapis.com/Secret: an app secret's store in Production. Apply makes the secret without a
 * value; a person sets the value later (setSecretValue), which goes straight to Secret Manager as a new version,
 * never through state. Also the driver's own secrets (a Cloud SQL administrator's password), read back as secret
 * outputs.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import type { LiveObject, Outputs, ResolvedResource } from '../../../../model/providerApi';
import { isAlreadyExists, isNotFound } from '../connection';
import { labelsFor, marked, out, plainLabels, type GcpContext, type Handler } from './common';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Secret Manager's messages

const secretPath = (c: GcpContext, id: string) => `projects/${c.project}/secrets/${id}`;

async function getSecret(c: GcpContext, id: string, signal: AbortSignal): Promise<Json | null> {
  const client = await c.clients.get('secretmanager');
  try {
    const [secret] = (await c.call('secretmanager', 'secrets.get', () => client.getSecret({ name: secretPath(c, id) }), signal)) as Json[];
    return secret;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

async function createSecret(c: GcpContext, id: string, r: Pick<DesiredResource, 'id'>, signal: AbortSignal): Promise<void> {
  const client = await c.clients.get('secretmanager');
  try {
    await c.call('secretmanager', 'secrets.create', () => client.createSecret({ parent: `projects/${c.project}`, secretId: id, secret: { replication: { automatic: {} }, labels: labelsFor(r, c) } }), signal);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

async function addVersion(c: GcpContext, id: string, value: string, signal: AbortSignal): Promise<void> {
  const client = await c.clients.get('secretmanager');
  await c.call('secretmanager', 'secrets.addVersion', () => client.addSecretVersion({ parent: secretPath(c, id), payload: { data: Buffer.from(value, 'utf8') } }), signal);
}

/** The latest value of a secret, or null when the secret or its versions do not exist. */
export async function accessLatest(c: GcpContext, id: string, signal: AbortSignal): Promise<string | null> {
  const client = await c.clients.get('secretmanager');
  try {
    const [version] = (await c.call('secretmanager', 'versions.access', () => client.accessSecretVersion({ name: `${secretPath(c, id)}/versions/latest` }), signal)) as Json[];
    const data = version.payload?.data;
    return data ? Buffer.from(data as Uint8Array).toString('utf8') : null;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** A secret of the driver's own holding `value` as its latest version. */
export async function ensureDriverSecret(c: GcpContext, id: string, owner: Pick<DesiredResource, 'id'>, value: string, signal: AbortSignal): Promise<void> {
  if (!(await getSecret(c, id, signal))) await createSecret(c, id, owner, signal);
  if ((await accessLatest(c, id, signal)) !== value) await addVersion(c, id, value, signal);
}

export async function deleteDriverSecret(c: GcpContext, id: string, signal: AbortSignal): Promise<void> {
  const client = await c.clients.get('secretmanager');
  try {
    await c.call('secretmanager', 'secrets.delete', () => client.deleteSecret({ name: secretPath(c, id) }), signal);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

async function read(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<LiveObject | null> {
  const secret = await getSecret(c, r.name, signal);
  if (!secret) return null;
  return {
    externalId: String(secret.name),
    observed: { replication: secret.replication?.automatic ? 'automatic' : 'user-managed' },
    outputs: { name: out(String(secret.name)), secretId: out(r.name) },
    status: { state: 'ready' },
    ours: marked(plainLabels(secret.labels), r, c),
  };
}

async function ensure(r: ResolvedResource, c: GcpContext, step: { signal: AbortSignal }): Promise<Outputs> {
  const client = await c.clients.get('secretmanager');
  const secret = await getSecret(c, r.name, step.signal);
  if (!secret) await createSecret(c, r.name, r, step.signal);
  else if (!marked(plainLabels(secret.labels), r, c)) {
    await c.call('secretmanager', 'secrets.update', () => client.updateSecret({ secret: { name: secret.name, labels: { ...plainLabels(secret.labels), ...labelsFor(r, c) } }, updateMask: { paths: ['labels'] } }), step.signal);
  }
  return { name: out(secretPath(c, r.name)), secretId: out(r.name) };
}

export const secretHandler: Handler = {
  managed: ['replication'],
  read,
  create: ensure,
  update: ensure,
  async delete(r, c, step) {
    await deleteDriverSecret(c, r.name, step.signal);
  },
  async waitReady() {
    // Usable once created.
  },
};

export async function secretValueStatus(r: DesiredResource, c: GcpContext, signal: AbortSignal): Promise<'set' | 'unset' | 'missing'> {
  if (!(await getSecret(c, r.name, signal))) return 'missing';
  const client = await c.clients.get('secretmanager');
  const [versions] = (await c.call('secretmanager', 'versions.list', () => client.listSecretVersions({ parent: secretPath(c, r.name) }, { autoPaginate: false }), signal)) as Json[][];
  return (versions ?? []).some((v) => v.state === 'ENABLED') ? 'set' : 'unset';
}

export async function setSecretValue(r: DesiredResource, c: GcpContext, value: string, signal: AbortSignal): Promise<void> {
  await addVersion(c, r.name, value, signal);
}
