/**
 * A Kubernetes environment's part of a deploy (providerApi.ts `DeployTarget`): the deploy history in a Secret beside
 * the state's (its resourceVersion gives the optimistic concurrency), the deploy annotations on a Deployment under
 * the deploy's own field manager, and the rollout watch (deploy/rollout.ts, kubectl's rules).
 */

import type { DeployTarget } from '../../../model/providerApi';
import { watchRollout } from '../../deploy/rollout';
import { ciKubeconfig } from './ciKubeconfig';
import type { KubeClient, KubeObject } from './client';
import { KubeApiError } from './errors';

export const HISTORY_SECRET = 'encore-environments-deploys';
const HISTORY_KEY = 'history.json';
/** A field manager of its own, so an apply of infrastructure (manager encore-environments) leaves these alone. */
export const DEPLOY_FIELD_MANAGER = 'encore-environments-deploy';

type SecretObject = KubeObject & { data?: Record<string, string>; type?: string };

export function kubernetesDeployTarget(client: () => Promise<KubeClient>, namespace: string, ci?: { context: string; serviceAccount: string }): DeployTarget {
  return {
    ...(ci
      ? {
          async ciKubeconfig(signal: AbortSignal) {
            const c = await client();
            if (!(await c.find('v1', 'ServiceAccount', namespace, ci.serviceAccount, signal))) {
              throw new Error(`namespace ${namespace} has no ServiceAccount ${ci.serviceAccount} yet: apply the environment first (its plan creates the CI identity for a push trigger), then run setup-ci again`);
            }
            return ciKubeconfig(c, namespace, ci.serviceAccount, ci.context, signal);
          },
        }
      : {}),
    historyLocation: `Secret ${HISTORY_SECRET} in namespace ${namespace}`,

    async loadHistory(signal) {
      const secret = await (await client()).find<SecretObject>('v1', 'Secret', namespace, HISTORY_SECRET, signal);
      if (!secret) return { doc: undefined, version: null };
      const text = secret.data?.[HISTORY_KEY];
      let doc: unknown;
      try {
        doc = text === undefined ? undefined : JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
      } catch {
        // Not JSON: storedHistory() refuses it, and nothing is written over it.
        doc = { corrupt: true };
      }
      return { doc, version: secret.metadata.resourceVersion ?? null };
    },

    async saveHistory(doc, expected, signal) {
      const c = await client();
      const body: SecretObject = {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: {
          name: HISTORY_SECRET,
          namespace,
          labels: { 'app.kubernetes.io/managed-by': 'encore-environments' },
          ...(expected !== null ? { resourceVersion: expected } : {}),
        },
        data: { [HISTORY_KEY]: Buffer.from(`${JSON.stringify(doc)}\n`).toString('base64') },
      };
      try {
        if (expected === null) await c.create(body, signal);
        else await c.replace(body, signal);
        return true;
      } catch (err) {
        if (err instanceof KubeApiError && err.code === 409) return false;
        throw err;
      }
    },

    async workloadAnnotations(names, signal) {
      const c = await client();
      const out: Record<string, Record<string, string>> = {};
      for (const name of names) {
        const d = await c.find('apps/v1', 'Deployment', namespace, name, signal);
        if (d) out[name] = { ...(d.metadata.annotations ?? {}) };
      }
      return out;
    },

    async annotate(name, annotations, signal) {
      signal.throwIfAborted();
      await (await client()).apply(
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace, annotations } },
        { force: true, signal, fieldManager: DEPLOY_FIELD_MANAGER },
      );
    },

    async watchRollout(names, options) {
      const report = await watchRollout(await client(), namespace, names, {
        timeoutMs: options.timeoutMs,
        pollMs: options.pollMs,
        signal: options.signal,
        expectImages: options.expectImages,
        onProgress: (s) => options.onProgress?.(s.name, s.message),
      });
      return {
        ok: report.ok,
        summary: report.summary,
        deployments: report.deployments.map((d) => ({ name: d.name, result: d.result, message: `${d.message}${d.podReasons.length > 0 ? ` (pods: ${d.podReasons.join('; ')})` : ''}` })),
      };
    },
  };
}
