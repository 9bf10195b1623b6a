// The driver conformance suite (test/conformance/driverConformance.ts) against the Kubernetes driver on the real
// kube-apiserver, through the fault proxy for the transient failures and the calls that hang.
import path from 'node:path';
import type { Environment } from '../../src/model/environment';
import type { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import { driverConformance } from '../conformance/driverConformance';
import { startFaultProxy, type FaultProxy } from '../kube/faultProxy';
import { kubeDriver, startTestKube, uniqueName, type TestKube } from '../kube/harness';

const repo = path.join(__dirname, '..', '..');
let kube: TestKube;
let proxy: FaultProxy;
let client: KubeClient;
let namespace = '';

const env = (): Environment => ({ name: 'conformance', type: 'development', deploy: { trigger: 'manual' }, provider: { kind: 'kubernetes', context: 'encore-test', namespace } });

driverConformance({
  name: 'the Kubernetes driver on the real kube-apiserver',
  setup: async () => {
    kube = await startTestKube();
    proxy = await startFaultProxy(kube);
    namespace = uniqueName('conf');
    client = await (await kubeDriver(env(), { appRoot: repo, kubeconfig: kube.kubeconfigPath })).client();
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  },
  teardown: async () => {
    await proxy?.close();
    await kube?.stop();
  },
  driver: () => kubeDriver(env(), { appRoot: repo, kubeconfig: proxy.kubeconfigPath, pollIntervalMs: 50, deleteTimeoutMs: 10_000, requestTimeoutMs: 60_000 }),
  resource: async () => {
    // A ServiceAccount as the planner makes one for a service, under a name of its own.
    const name = uniqueName('sa');
    const resource = {
      id: `k8s:serviceaccount:${name}`, kind: 'serviceAccount' as const, providerType: 'k8s/v1/ServiceAccount', name, source: null,
      settings: { annotations: { 'encore.dev/owner': 'orders' } }, dependsOn: [], stateful: false, summary: `ServiceAccount ${name}`,
    };
    return { resource, changed: { ...resource, settings: { annotations: { 'encore.dev/owner': 'billing' } } } };
  },
  createOutside: async (r) => {
    await client.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: r.name, namespace, annotations: { 'encore.dev/owner': 'someone else' } } });
  },
  failTransiently: (times) => {
    const fault = proxy.addFault({ path: new RegExp(`/namespaces/${namespace}/serviceaccounts/`), fault: '500', nth: Array.from({ length: times }, (_, i) => i + 1) });
    return () => fault.remove();
  },
  hang: () => {
    const fault = proxy.addFault({ path: new RegExp(`/namespaces/${namespace}/serviceaccounts/`), fault: 'timeout' });
    return () => fault.remove();
  },
});
