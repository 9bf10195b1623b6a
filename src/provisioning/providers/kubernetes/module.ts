/**
 * The Kubernetes provider module (providerApi.ts `ProviderModule`): an environment in a cluster of the developer's
 * kubeconfig. The driver connects through the environment's context (never the kubeconfig's current one); state
 * lives in a Secret and a Lease in the environment's namespace, with a local copy for offline plans.
 */

import { environmentNamespace, type Environment } from '../../../model/environment';
import type { OpenedEnvironment, ProviderIdentity, ProviderModule, ProviderOpenOptions } from '../../../model/providerApi';
import type { StateBackend } from '../../../model/state';
import { LocalFileBackend } from '../../state/localFile';
import { MigratingBackend, MirroredBackend, MirrorReader, mirrorFile } from '../../state/mirror';
import { CI_IDENTITY } from '../../planner/ciIdentity';
import { connect } from './connection';
import { kubernetesDeployTarget } from './deployTarget';
import { KubernetesDriver, kubernetesStateBackend } from './driver';
import { toDriverError } from './driverErrors';
import { selfIdentity } from './identity';
import { STATE_GONE, STATE_SECRET } from './stateBackend';

function settingsOf(env: Environment): { context: string; namespace: string } {
  if (env.provider.kind !== 'kubernetes') throw new Error(`environment "${env.name}" is not a Kubernetes environment`);
  return { context: env.provider.context, namespace: environmentNamespace(env) };
}

export const kubernetesProvider: ProviderModule = {
  kind: 'kubernetes',

  async open(env: Environment, options: ProviderOpenOptions): Promise<OpenedEnvironment> {
    const { context, namespace } = settingsOf(env);
    let kubeconfigUser: string | undefined;
    const driver = new KubernetesDriver({
      ...options.timing,
      environment: env.name,
      namespace,
      production: env.type === 'production',
      target: `Kubernetes context ${context}, namespace ${namespace}`,
      endpoint: async () => {
        const connection = await connect({ kubeconfig: options.kubeconfig, context, env: options.env, homedir: options.homedir });
        kubeconfigUser = connection.context.user;
        return connection.client.endpoint;
      },
    });
    let state: Promise<StateBackend> | undefined;
    return {
      driver,
      state: () =>
        (state ??= kubernetesStateBackend(driver).then(
          (remote) => new MirroredBackend(new MigratingBackend(remote, LocalFileBackend.forApp(options.appRoot, env.name)), mirrorFile(options.appRoot, env.name), STATE_GONE),
        )),
      async identity(signal): Promise<ProviderIdentity> {
        try {
          const client = await driver.client();
          return { ...(await selfIdentity(client, signal, kubeconfigUser)), scope: `cluster ${client.server} (context ${context})` };
        } catch (err) {
          throw toDriverError(err);
        }
      },
      dispose: () => driver.dispose(),
      deployTarget: () => kubernetesDeployTarget(() => driver.client(), namespace, { context, serviceAccount: CI_IDENTITY.name }),
    };
  },

  offlineState(env: Environment, { appRoot }: { appRoot: string }): StateBackend {
    const { context, namespace } = settingsOf(env);
    const source = `Secret ${STATE_SECRET} in namespace ${namespace} (context "${context}")`;
    return new MirrorReader(mirrorFile(appRoot, env.name), { environment: env.name, source, legacy: LocalFileBackend.forApp(appRoot, env.name) });
  },
};
