// What the controllers of a real cluster would do, for a bare kube-apiserver that runs none (notes §5.3): bind
// claims, report StatefulSets, Deployments (the namespace's, and the tool's add-ons in kube-system) and Jobs ready, and finish deletions (remove the finalizers the PVC
// protection, garbage collector and namespace controllers would). It only writes /status, finalizers and /finalize, as they do.
import type { KubeClient } from '../../src/provisioning/providers/kubernetes/client';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

export interface Controllers {
  stop(): Promise<void>;
  /**
   * Resolves once a whole round, begun after the call, found nothing to write: everything made so far has the status
   * the controllers give it (a test that stops right after its last create may otherwise leave the newest claim unbound).
   */
  settle(timeoutMs?: number): Promise<void>;
}

export function simulateControllers(client: KubeClient, namespace: string, options: { leavePending?: string[]; intervalMs?: number } = {}): Controllers {
  let stopped = false;
  const leave = new Set(options.leavePending ?? []);
  // Writes of the round under way, and the rounds finished (for settle).
  let writes = 0;
  let rounds = 0;
  const quietRounds: number[] = [];
  const status = (o: Any, plural: [string, string], body: unknown) => {
    writes++;
    return client.mergePatch(plural[0], plural[1], o.metadata.namespace ?? namespace, o.metadata.name, { status: body }, 'status');
  };
  const tick = async () => {
    for (const pvc of (await client.list('v1', 'PersistentVolumeClaim', namespace)).items as Any[]) {
      if (pvc.metadata.deletionTimestamp) {
        writes++;
        await client.mergePatch('v1', 'PersistentVolumeClaim', namespace, pvc.metadata.name, { metadata: { finalizers: null } });
      }
      else if (!leave.has(pvc.metadata.name)) {
        // Bound with the capacity asked for, which an expansion then grows (the resize controller and kubelet's part).
        const storage = pvc.spec?.resources?.requests?.storage;
        if (pvc.status?.phase !== 'Bound' || pvc.status?.capacity?.storage !== storage) await status(pvc, ['v1', 'PersistentVolumeClaim'], { phase: 'Bound', capacity: { storage } });
      }
    }
    for (const s of (await client.list('apps/v1', 'StatefulSet', namespace)).items as Any[]) {
      // The garbage collector's part of an orphaning delete: it removes the finalizer once dependents are released.
      if (s.metadata.deletionTimestamp) {
        if (s.metadata.finalizers?.includes('orphan')) {
          writes++;
          await client.mergePatch('apps/v1', 'StatefulSet', namespace, s.metadata.name, { metadata: { finalizers: null } });
        }
        continue;
      }
      const n = s.spec.replicas ?? 1;
      if (s.status?.observedGeneration !== s.metadata.generation || s.status?.readyReplicas !== n) {
        await status(s, ['apps/v1', 'StatefulSet'], { observedGeneration: s.metadata.generation, replicas: n, readyReplicas: n, currentReplicas: n, updatedReplicas: n, availableReplicas: n });
      }
    }
    // The environment's cluster add-ons (an EKS cluster's autoscaler) run in kube-system.
    const addons = (await client.list('apps/v1', 'Deployment', 'kube-system', { labelSelector: 'app.kubernetes.io/managed-by=encore-environments' })).items;
    for (const d of [...(await client.list('apps/v1', 'Deployment', namespace)).items, ...addons] as Any[]) {
      const n = d.spec.replicas ?? 1;
      if (d.status?.observedGeneration !== d.metadata.generation || d.status?.availableReplicas !== n) {
        await status(d, ['apps/v1', 'Deployment'], { observedGeneration: d.metadata.generation, replicas: n, readyReplicas: n, updatedReplicas: n, availableReplicas: n });
      }
    }
    for (const j of (await client.list('batch/v1', 'Job', namespace)).items as Any[]) {
      if (!j.status?.succeeded) await status(j, ['batch/v1', 'Job'], jobSucceeded());
    }
    const ns = (await client.find('v1', 'Namespace', undefined, namespace)) as Any | null;
    if (ns?.metadata.deletionTimestamp && ns.spec?.finalizers?.length) {
      writes++;
      await client.request('PUT', `/api/v1/namespaces/${namespace}/finalize`, { body: { ...ns, spec: { finalizers: [] } } });
    }
  };
  const loop = (async () => {
    while (!stopped) {
      writes = 0;
      try {
        await tick();
        if (writes === 0) quietRounds.push(rounds);
      } catch (err) {
        // An object deleted between list and patch: the next round sees the new picture.
        if ((err as { code?: number }).code !== 404 && (err as { code?: number }).code !== 409) throw err;
      }
      rounds++;
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 150));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
    async settle(timeoutMs = 20_000) {
      const from = rounds + 1;
      const deadline = Date.now() + timeoutMs;
      while (!quietRounds.some((r) => r >= from)) {
        if (stopped) throw new Error('the controller stand-in was stopped before it settled');
        if (Date.now() > deadline) throw new Error(`the controller stand-in still had status to write after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** A Job's status once its pod succeeded, as the Job controller writes it (1.35 validates the pairing). */
export function jobSucceeded(): unknown {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    startTime: now,
    completionTime: now,
    succeeded: 1,
    conditions: [
      { type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: now, lastTransitionTime: now },
      { type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now },
    ],
  };
}
