// Test equipment for applying an AWS environment end to end: the developer (an IAM user with a key in moto and the
// profile `shop` pointing at the emulator), the cluster-admin access its EKS access entry stands for on the test
// kube-apiserver, and the AWS load balancer controller's part (an address for the gateway's LoadBalancer Service).
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { KubeClient } from '../../src/provisioning/providers/kubernetes/client';
import type { TestKube } from '../kube/harness';
import { TEST_REGION, type AwsTestbed } from './harness';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

/** The developer: an IAM user with a key in moto, profile `shop` pointing at the emulator. */
export async function deployer(bed: AwsTestbed, secrets: Map<string, { secretAccessKey: string }>): Promise<{ arn: string; credentials: { accessKeyId: string; secretAccessKey: string } }> {
  const iam = new IAMClient({ region: TEST_REGION, endpoint: bed.endpoint, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'bootstrap' } });
  const user = await iam.send(new CreateUserCommand({ UserName: 'alice' }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }))).AccessKey!;
  iam.destroy();
  secrets.set(key.AccessKeyId!, { secretAccessKey: key.SecretAccessKey! });
  bed.awsHome({
    config: `[profile shop]\nregion = ${TEST_REGION}\nendpoint_url = ${bed.endpoint}\n`,
    credentials: `[shop]\naws_access_key_id = ${key.AccessKeyId}\naws_secret_access_key = ${key.SecretAccessKey}\n`,
  }).use();
  return { arn: user.User!.Arn!, credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } };
}

/** What EKS's AmazonEKSClusterAdminPolicy access entry gives the creator, played by a ClusterRoleBinding. */
export async function bindClusterAdmin(kube: TestKube, username: string): Promise<void> {
  const rbac = kube.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: 'eks-access-entry-alice' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: username }],
    },
  });
}

/** The AWS load balancer controller's part: the gateway's LoadBalancer Service gets an address. */
export function playLoadBalancers(admin: KubeClient, namespace: string): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const svc = (await admin.find('v1', 'Service', namespace, 'encore-gateway').catch(() => null)) as Any | null;
      if (svc && svc.spec?.type === 'LoadBalancer' && !svc.status?.loadBalancer?.ingress?.length) {
        await admin.mergePatch('v1', 'Service', namespace, 'encore-gateway', { status: { loadBalancer: { ingress: [{ hostname: 'k8s-prod-gateway-0123456789.elb.eu-west-1.amazonaws.com' }] } } }, 'status').catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return { stop: async () => { stopped = true; await loop; } };
}
