/**
 * App secret values in the environment's Kubernetes Secrets (appSecrets.ts). The value is written by server-side
 * apply under a field manager of its own, so it owns the `value` key and the provider's manager (which never sends
 * that key, manifests/secrets.ts) neither removes nor fights it on a later apply. It is forced: setting a value on
 * purpose takes the key over from whoever set it before (kubectl, say).
 *
 * Errors never carry the value: the request body is not part of any message the client builds.
 */

import type { DesiredResource } from '../../../model/desiredGraph';
import { DriverError } from '../../../model/providerApi';
import type { KubeClient, KubeObject } from './client';
import { toDriverError } from './driverErrors';
import { resourcePath, resourceType } from './resources';

export const SECRET_VALUE_MANAGER = 'encore-environments-secret-value';
const KEY = 'value';

interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

export async function secretValueStatus(client: KubeClient, namespace: string, r: DesiredResource, signal: AbortSignal): Promise<'set' | 'unset' | 'missing'> {
  try {
    const live = await client.find<SecretObject>('v1', 'Secret', namespace, r.name, signal);
    if (!live) return 'missing';
    return live.data?.[KEY] ? 'set' : 'unset';
  } catch (err) {
    throw toDriverError(err, r.id);
  }
}

export async function setSecretValue(client: KubeClient, namespace: string, r: DesiredResource, value: string, signal: AbortSignal): Promise<void> {
  if (r.providerType !== 'k8s/v1/Secret') throw new DriverError('unsupported', `${r.id} is not a Kubernetes Secret`, { resourceId: r.id });
  try {
    if (!(await client.find('v1', 'Secret', namespace, r.name, signal))) {
      throw new DriverError('not-ready', `Secret ${r.name} does not exist in namespace ${namespace} yet: apply the environment first, then set its value`, { resourceId: r.id });
    }
    const body: SecretObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: r.name, namespace }, data: { [KEY]: Buffer.from(value, 'utf8').toString('base64') } };
    await client.request('PATCH', resourcePath(resourceType('v1', 'Secret'), namespace, r.name), {
      query: { fieldManager: SECRET_VALUE_MANAGER, fieldValidation: 'Strict', force: 'true' },
      body,
      contentType: 'application/apply-patch+yaml',
      signal,
    });
  } catch (err) {
    throw toDriverError(err, r.id);
  }
}
