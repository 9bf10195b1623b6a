/**
 * AWS::SecretsManager::Secret: an app secret's store in Production. Apply makes the secret without a value; the
 * value comes from a person later (setSecretValue) and goes straight to Secrets Manager, never through state.
 * Delete schedules the deletion with the recovery window the plan shows; a create finding it scheduled restores it.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import type { LiveObject, Outputs, ResolvedResource } from '../../../../model/providerApi';
import { asTagList, isCode, marked, out, tagRecord, tagsFor, type AwsContext, type Handler } from './common';

const smSdk = () => import('@aws-sdk/client-secrets-manager');

export async function describeSecret(c: AwsContext, name: string, signal: AbortSignal) {
  const { DescribeSecretCommand } = await smSdk();
  try {
    return await c.clients.send('Secrets Manager', new DescribeSecretCommand({ SecretId: name }), signal);
  } catch (err) {
    if (isCode(err, 'ResourceNotFoundException')) return null;
    throw err;
  }
}

async function read(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const secret = await describeSecret(c, r.name, signal);
  // One scheduled for deletion is gone for the app, though a create brings it back.
  if (!secret || secret.DeletedDate) return null;
  return {
    externalId: secret.ARN!,
    observed: {},
    outputs: { arn: out(secret.ARN!), name: out(r.name) },
    status: { state: 'ready' },
    ours: marked(tagRecord(secret.Tags), r, c),
  };
}

async function ensure(r: ResolvedResource, c: AwsContext, step: { signal: AbortSignal }): Promise<Outputs> {
  const sdk = await smSdk();
  const signal = step.signal;
  let secret = await describeSecret(c, r.name, signal);
  if (secret?.DeletedDate) {
    await c.clients.send('Secrets Manager', new sdk.RestoreSecretCommand({ SecretId: r.name }), signal);
  }
  if (!secret) {
    try {
      await c.clients.send('Secrets Manager', new sdk.CreateSecretCommand({
        Name: r.name, Description: `Encore environment ${c.environment}: secret("${r.source?.name ?? r.name}")`, Tags: asTagList(tagsFor(r, c)),
      }), signal);
    } catch (err) {
      if (!isCode(err, 'ResourceExistsException')) throw err;
    }
  } else {
    await c.clients.send('Secrets Manager', new sdk.TagResourceCommand({ SecretId: r.name, Tags: asTagList(tagsFor(r, c)) }), signal);
  }
  secret = await describeSecret(c, r.name, signal);
  return { arn: out(secret!.ARN!), name: out(r.name) };
}

export const secretHandler: Handler = {
  managed: [],
  read,
  create: ensure,
  update: ensure,
  async delete(r, c, step) {
    const { DeleteSecretCommand } = await smSdk();
    const secret = await describeSecret(c, r.name, step.signal);
    if (!secret || secret.DeletedDate) return;
    const days = typeof r.settings.recoveryWindowDays === 'number' ? r.settings.recoveryWindowDays : 30;
    await c.clients.send('Secrets Manager', new DeleteSecretCommand({ SecretId: r.name, RecoveryWindowInDays: days }), step.signal);
  },
  async waitReady() {
    // Usable once created.
  },
};

export async function secretValueStatus(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<'set' | 'unset' | 'missing'> {
  const secret = await describeSecret(c, r.name, signal);
  if (!secret || secret.DeletedDate) return 'missing';
  return Object.values(secret.VersionIdsToStages ?? {}).some((stages) => stages.includes('AWSCURRENT')) ? 'set' : 'unset';
}

export async function setSecretValue(r: DesiredResource, c: AwsContext, value: string, signal: AbortSignal): Promise<void> {
  const { PutSecretValueCommand } = await smSdk();
  await c.clients.send('Secrets Manager', new PutSecretValueCommand({ SecretId: r.name, SecretString: value }), signal);
}
