/**
 * The AWS provider module (providerApi.ts `ProviderModule`): an environment in the developer's own AWS account,
 * with the credentials the AWS CLI would use (the environment's profile, or the default chain). Its driver is a
 * composition (compose.ts): AWS resources go to the AWS driver, the in-cluster half to the environment's EKS
 * cluster, reached from DescribeCluster and an EKS token. State lives in an S3 bucket of the account, with a local
 * copy for offline plans.
 */

import { environmentNamespace, type Environment } from '../../../model/environment';
import type { OpenedEnvironment, ProviderIdentity, ProviderModule, ProviderOpenOptions } from '../../../model/providerApi';
import type { StateBackend } from '../../../model/state';
import { LocalFileBackend } from '../../state/localFile';
import { MigratingBackend, MirroredBackend, MirrorReader, mirrorFile } from '../../state/mirror';
import { ComposedDriver, type ClusterHost } from '../compose';
import { openAwsConnection } from './connection';
import { AwsDriver } from './driver';
import { awsDeployTarget, ecrCredential } from './deployTarget';
import { S3StateBackend, stateBucketName, type S3StateOptions } from './stateBackend';

const EKS_ID = 'aws:eks';

function settingsOf(env: Environment): { profile?: string; region: string } {
  if (env.provider.kind !== 'aws') throw new Error(`environment "${env.name}" is not an AWS environment`);
  return { profile: env.provider.profile, region: env.provider.region };
}

/** The environment's S3 state backend, on the driver's connection (the bucket is named after the account). */
export async function awsStateBackend(driver: AwsDriver, environment: string, options: S3StateOptions = {}): Promise<S3StateBackend> {
  const signal = new AbortController().signal;
  const bucket = options.bucket ?? stateBucketName(await driver.awsContext.account(signal), driver.awsContext.region);
  return new S3StateBackend(driver.awsContext, bucket, environment, options);
}

/** The EKS cluster's name the last apply recorded in the environment's state, or null. */
export async function recordedClusterName(backend: () => Promise<Pick<S3StateBackend, 'load'>>): Promise<string | null> {
  const name = (await (await backend()).load()).state?.resources[EKS_ID]?.outputs.name;
  return typeof name === 'string' && name ? name : null;
}

export const awsProvider: ProviderModule = {
  kind: 'aws',

  async open(env: Environment, options: ProviderOpenOptions): Promise<OpenedEnvironment> {
    const { profile, region } = settingsOf(env);
    const mfa = options.prompts?.mfaCode;
    const connection = await openAwsConnection({ profile, region, env: options.env, homedir: options.homedir, mfaCode: mfa ? (q) => mfa(q) : undefined });
    const aws = new AwsDriver({ ...options.timing, environment: env.name, connection, existingCluster: env.provider.kind === 'aws' ? env.provider.cluster?.name : undefined });
    let state: Promise<StateBackend> | undefined;
    let remote: Promise<S3StateBackend> | undefined;
    const history = () =>
      (remote ??= awsStateBackend(aws, env.name).catch((err) => {
        remote = undefined;
        throw err;
      }));
    const host: ClusterHost = {
      async clusterEndpoint(signal) {
        // A deploy reads no resource, and the CI's deploy role may describe its own cluster only (no eks:ListClusters):
        // the name comes from state when no read told it. Without state, the tags find it (apply, plan).
        if (!aws.knowsCluster()) {
          const name = await recordedClusterName(history).catch(() => null);
          if (name) aws.rememberCluster(name);
        }
        return aws.clusterEndpoint(signal);
      },
    };
    const driver = new ComposedDriver(aws, host, { ...options.timing, environment: env.name, namespace: environmentNamespace(env), production: env.type === 'production' });
    return {
      driver,
      state: () =>
        (state ??= awsStateBackend(aws, env.name).then(
          (remote) => new MirroredBackend(new MigratingBackend(remote, LocalFileBackend.forApp(options.appRoot, env.name)), mirrorFile(options.appRoot, env.name)),
        ).catch((err) => {
          state = undefined;
          throw err;
        })),
      async identity(signal): Promise<ProviderIdentity> {
        const me = await aws.whoAmI(signal);
        return { principal: me.arn, scope: `AWS account ${me.account} in ${me.region}`, source: me.source };
      },
      dispose: () => driver.dispose(),
      deployTarget: () => {
        const target = awsDeployTarget(history, () => driver.clusterClient(new AbortController().signal), environmentNamespace(env), `environments/${env.name}/deploys.json in the state bucket of the account (${region})`);
        return { ...target, registryCredential: (signal) => ecrCredential(aws.awsContext, signal) };
      },
    };
  },

  offlineState(env: Environment, { appRoot }: { appRoot: string }): StateBackend {
    const { profile, region } = settingsOf(env);
    const source = `the S3 state bucket of the account${profile ? ` of profile ${profile}` : ''} in ${region}`;
    return new MirrorReader(mirrorFile(appRoot, env.name), { environment: env.name, source, legacy: LocalFileBackend.forApp(appRoot, env.name) });
  },
};
