/** AWS::ECR::Repository: the app's image repository, scanned on push, immutable tags, encrypted. */

import type { DesiredResource } from '../../../../model/desiredGraph';
import type { LiveObject, Outputs, ResolvedResource } from '../../../../model/providerApi';
import { asTagList, bool, isCode, marked, out, str, tagRecord, tagsFor, type AwsContext, type Handler } from './common';

const ecrSdk = () => import('@aws-sdk/client-ecr');

async function describe(c: AwsContext, name: string, signal: AbortSignal) {
  const { DescribeRepositoriesCommand } = await ecrSdk();
  try {
    return (await c.clients.send('ECR', new DescribeRepositoriesCommand({ repositoryNames: [name] }), signal)).repositories?.[0] ?? null;
  } catch (err) {
    if (isCode(err, 'RepositoryNotFoundException')) return null;
    throw err;
  }
}

const outputs = (repo: { repositoryUri?: string; repositoryArn?: string }, name: string): Outputs => ({
  name: out(name), uri: out(repo.repositoryUri ?? ''), arn: out(repo.repositoryArn ?? ''),
});

async function read(r: DesiredResource, c: AwsContext, signal: AbortSignal): Promise<LiveObject | null> {
  const { ListTagsForResourceCommand } = await ecrSdk();
  const repo = await describe(c, r.name, signal);
  if (!repo) return null;
  const tags = await c.clients.send('ECR', new ListTagsForResourceCommand({ resourceArn: repo.repositoryArn }), signal);
  return {
    externalId: repo.repositoryArn ?? r.name,
    observed: { imageScanOnPush: repo.imageScanningConfiguration?.scanOnPush ?? false, imageTagMutability: repo.imageTagMutability ?? 'MUTABLE' },
    outputs: outputs(repo, r.name),
    status: { state: 'ready' },
    ours: marked(tagRecord(tags.tags), r, c),
  };
}

async function ensure(r: ResolvedResource, c: AwsContext, step: { signal: AbortSignal }): Promise<Outputs> {
  const sdk = await ecrSdk();
  const s = r.resolved;
  const signal = step.signal;
  const mutability = str(s, 'imageTagMutability', r.id) as 'IMMUTABLE' | 'MUTABLE';
  let repo = await describe(c, r.name, signal);
  if (!repo) {
    try {
      repo = (await c.clients.send('ECR', new sdk.CreateRepositoryCommand({
        repositoryName: r.name, imageScanningConfiguration: { scanOnPush: bool(s, 'imageScanOnPush') }, imageTagMutability: mutability,
        encryptionConfiguration: { encryptionType: 'AES256' }, tags: asTagList(tagsFor(r, c)),
      }), signal)).repository!;
    } catch (err) {
      if (!isCode(err, 'RepositoryAlreadyExistsException')) throw err;
      repo = (await describe(c, r.name, signal))!;
    }
  }
  await c.clients.send('ECR', new sdk.TagResourceCommand({ resourceArn: repo.repositoryArn, tags: asTagList(tagsFor(r, c)) }), signal);
  await c.clients.send('ECR', new sdk.PutImageScanningConfigurationCommand({ repositoryName: r.name, imageScanningConfiguration: { scanOnPush: bool(s, 'imageScanOnPush') } }), signal);
  await c.clients.send('ECR', new sdk.PutImageTagMutabilityCommand({ repositoryName: r.name, imageTagMutability: mutability }), signal);
  return outputs(repo, r.name);
}

export const ecrHandler: Handler = {
  managed: ['imageScanOnPush', 'imageTagMutability'],
  read,
  create: ensure,
  update: ensure,
  async delete(r, c, step) {
    const { DeleteRepositoryCommand } = await ecrSdk();
    try {
      // Its images are build outputs, pushed again by the next deploy.
      await c.clients.send('ECR', new DeleteRepositoryCommand({ repositoryName: r.name, force: true }), step.signal);
    } catch (err) {
      if (!isCode(err, 'RepositoryNotFoundException')) throw err;
    }
  },
  async waitReady() {
    // A repository is usable as soon as it exists.
  },
};
