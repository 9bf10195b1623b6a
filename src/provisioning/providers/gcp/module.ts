/**
 * The GCP provider module (providerApi.ts `ProviderModule`): an environment in the developer's own GCP project,
 * with Application Default Credentials. Its driver is a composition (compose.ts): GCP resources go to the GCP
 * driver, the in-cluster half to the environment's GKE cluster, reached from the cluster's endpoint and CA with an
 * ADC access token. State is an object in the project's GCS state bucket, mirrored to the local copy for offline plans.
 */

import { environmentNamespace, type Environment } from '../../../model/environment';
import type { OpenedEnvironment, ProviderIdentity, ProviderModule, ProviderOpenOptions } from '../../../model/providerApi';
import type { StateBackend } from '../../../model/state';
import { ComposedDriver } from '../compose';
import { openGcpConnection } from './connection';
import { artifactRegistryCredential, gcpDeployTarget } from './deployTarget';
import { GcpDriver } from './driver';
import { gcpMirroredState, gcpOfflineState, gcpStateBackend as gcsStateBackend, stateBucketName, type GcsStateBackend, type GcsStateOptions } from './stateBackend';

function settingsOf(env: Environment): { project: string; region: string } {
  if (env.provider.kind !== 'gcp') throw new Error(`environment "${env.name}" is not a GCP environment`);
  return { project: env.provider.project, region: env.provider.region };
}

/**
 * The environment's state: an object in the project's GCS state bucket (generation preconditions, a lock object),
 * on the driver's own credentials and storage endpoint, mirrored to the app folder for offline plans.
 */
export async function gcpStateBackend(driver: GcpDriver, env: Environment, appRoot: string): Promise<StateBackend> {
  return gcpMirroredState(await gcsRemote(driver, env), appRoot, env.name);
}

/** The environment's folder in the GCS state bucket itself (no mirror): the state's and the deploy history's. */
async function gcsRemote(driver: GcpDriver, env: Environment): Promise<GcsStateBackend> {
  const { connection } = driver;
  const storage = connection.endpoint('storage');
  const account = await driver.whoAmI().then((me) => me.email, () => undefined);
  return gcsStateBackend({
    authClient: connection.auth as GcsStateOptions['authClient'],
    ...(storage.from === 'Google' ? {} : { apiEndpoint: storage.url }),
    projectId: connection.project,
    region: connection.region,
    environment: env.name,
    ...(account ? { account } : {}),
  });
}

export const gcpProvider: ProviderModule = {
  kind: 'gcp',

  async open(env: Environment, options: ProviderOpenOptions): Promise<OpenedEnvironment> {
    const { project, region } = settingsOf(env);
    const connection = await openGcpConnection({ project, region, env: options.env, homedir: options.homedir });
    const gcp = new GcpDriver({ ...options.timing, environment: env.name, connection, existingCluster: env.provider.kind === 'gcp' ? env.provider.cluster : undefined });
    const driver = new ComposedDriver(gcp, gcp, { ...options.timing, environment: env.name, namespace: environmentNamespace(env), production: env.type === 'production' });
    let state: Promise<StateBackend> | undefined;
    let remote: Promise<GcsStateBackend> | undefined;
    const history = () =>
      (remote ??= gcsRemote(gcp, env).catch((err) => {
        remote = undefined;
        throw err;
      }));
    return {
      driver,
      state: () =>
        (state ??= gcpStateBackend(gcp, env, options.appRoot).catch((err) => {
          state = undefined;
          throw err;
        })),
      async identity(): Promise<ProviderIdentity> {
        const me = await gcp.whoAmI();
        return { principal: me.email ?? me.label, scope: `GCP project ${project} in ${region}`, source: me.label };
      },
      dispose: () => driver.dispose(),
      deployTarget: () => {
        const target = gcpDeployTarget(history, () => driver.clusterClient(new AbortController().signal), environmentNamespace(env), `gs://${stateBucketName(project, region)}/environments/${env.name}/deploys.json (project ${project})`);
        return { ...target, registryCredential: (signal, repository) => artifactRegistryCredential(connection, repository, (name, s) => gcp.artifactRegistryLocation(name, s), signal) };
      },
    };
  },

  offlineState(env: Environment, { appRoot }: { appRoot: string }): StateBackend {
    const { project, region } = settingsOf(env);
    return gcpOfflineState(env.name, project, region, appRoot);
  },
};
