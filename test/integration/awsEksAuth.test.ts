// EKS authentication end to end, with no aws CLI: the product's `k8s-aws-v1.` token (eksToken.ts) made from the
// connection's SDK credentials, the cluster's endpoint and CA from DescribeCluster (the shim answers the test
// kube-apiserver's), and the real kube-apiserver authenticating the token through a TokenReview webhook whose EKS
// validator checks it as EKS does and replays it against STS (moto, behind the shim).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { after, afterEach, before, test } from 'node:test';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateClusterCommand, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { openAwsConnection, type AwsConnection } from '../../src/provisioning/providers/aws/connection';
import { eksToken } from '../../src/provisioning/providers/aws/eksToken';
import { MOTO_ACCOUNT, TEST_REGION, startAwsTestbed, type AwsTestbed } from '../aws/harness';
import { eksTokenValidator } from '../kube/eksTokenValidator';
import { startTestKube, type TestKube } from '../kube/harness';
import { startTokenWebhook, type TokenWebhook } from '../kube/tokenWebhook';

const CLUSTER = 'encore-prod';
let bed: AwsTestbed;
let kube: TestKube;
let webhook: TokenWebhook;
/** Access keys handed out by moto's IAM in this file: the validator checks signatures with them. */
const secrets = new Map<string, { secretAccessKey: string; sessionToken?: string }>();
const bootstrap = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

before(async () => {
  bed = await startAwsTestbed();
  webhook = await startTokenWebhook([
    eksTokenValidator({ clusterName: CLUSTER, stsEndpoint: bed.endpoint, secretFor: (id) => secrets.get(id) }),
  ]);
  kube = await startTestKube({ tokenWebhook: { url: webhook.url } });
});
afterEach(async () => bed.afterEach());
after(async () => {
  await kube?.stop();
  await webhook?.close();
  await bed?.stop();
});

/** An IAM user with an access key in moto, a profile for it, and the connection the product opens from that profile. */
async function deployer(name: string): Promise<{ connection: AwsConnection; arn: string }> {
  const iam = new IAMClient({ region: TEST_REGION, endpoint: bed.endpoint, credentials: bootstrap });
  const user = await iam.send(new CreateUserCommand({ UserName: name }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  secrets.set(key.AccessKeyId!, { secretAccessKey: key.SecretAccessKey! });
  bed.awsHome({
    config: `[profile ${name}]\nregion = ${TEST_REGION}\nendpoint_url = ${bed.endpoint}\n`,
    credentials: `[${name}]\naws_access_key_id = ${key.AccessKeyId}\naws_secret_access_key = ${key.SecretAccessKey}\n`,
  }).use();
  return { connection: await openAwsConnection({ profile: name }), arn: user.User!.Arn! };
}

/** An EKS cluster in moto whose DescribeCluster answers the test kube-apiserver, as the product reads it. */
async function eksCluster(connection: AwsConnection): Promise<{ endpoint: string; ca: Buffer }> {
  const ec2 = new EC2Client(connection.clientConfig('EC2'));
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.2.0.0/16' }));
  const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: '10.2.1.0/24' }));
  const eks = new EKSClient(connection.clientConfig('EKS'));
  await eks.send(new CreateClusterCommand({ name: CLUSTER, roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/eks`, resourcesVpcConfig: { subnetIds: [subnet.Subnet!.SubnetId!] } }));
  bed.shim.eks.connect(CLUSTER, { endpoint: kube.server, caPem: readFileSync(kube.caFile, 'utf8') });
  const described = (await eks.send(new DescribeClusterCommand({ name: CLUSTER }))).cluster!;
  return { endpoint: described.endpoint!, ca: Buffer.from(described.certificateAuthority!.data!, 'base64') };
}

/** GET with a bearer token, verified against the CA DescribeCluster gave: the status code. */
function get(endpoint: string, ca: Buffer, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${endpoint}${path}`, { ca, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A Role that reads ConfigMaps, bound to `username` (the built-in `view` is empty: no controller aggregates it here). */
async function bindView(username: string, namespace: string) {
  const rbac = kube.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  const name = `read-configmaps-${Math.random().toString(16).slice(2, 10)}`;
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: username }],
    },
  });
}

test('a token from eksToken() authenticates against the real kube-apiserver, and RBAC allows what is bound to that user', async () => {
  const { connection, arn } = await deployer('alice');
  assert.equal(arn, `arn:aws:iam::${MOTO_ACCOUNT}:user/alice`);
  const cluster = await eksCluster(connection);
  assert.equal(cluster.endpoint, kube.server);
  await bindView(arn, 'default');
  const { token, expiresAt } = await eksToken({ clusterName: CLUSTER, region: connection.region, credentials: connection.credentials, stsEndpoint: connection.endpoint('STS')?.url });
  assert.ok(token.startsWith('k8s-aws-v1.'));
  assert.ok(expiresAt.getTime() - Date.now() > 13 * 60_000);
  assert.equal(await get(cluster.endpoint, cluster.ca, '/api/v1/namespaces/default/configmaps', token), 200);
  // Authenticated as alice, but nothing is bound to her in kube-system: a 403, not a 401.
  assert.equal(await get(cluster.endpoint, cluster.ca, '/api/v1/namespaces/kube-system/secrets', token), 403);
  assert.deepEqual(webhook.reviews.at(-1), { validator: `eks:${CLUSTER}`, authenticated: true, username: arn, reason: undefined });
  // The cluster's authenticator replayed the presigned call against STS, as EKS does.
  assert.ok(bed.shim.callsTo('sts', 'GetCallerIdentity').some((c) => c.method === 'GET' && c.answeredBy === 'shim'));
});

test('expired, garbled, wrong-cluster and wrong-host tokens are refused with 401', async () => {
  const { connection } = await deployer('bob');
  const cluster = await eksCluster(connection);
  const base = { region: connection.region, credentials: connection.credentials, stsEndpoint: connection.endpoint('STS')?.url };
  const expired = (await eksToken({ ...base, clusterName: CLUSTER, now: new Date(Date.now() - 16 * 60_000) })).token;
  const otherCluster = (await eksToken({ ...base, clusterName: 'someone-elses-cluster' })).token;
  const otherHost = (await eksToken({ ...base, clusterName: CLUSTER, stsEndpoint: 'https://sts.eu-west-1.amazonaws.com' })).token;
  const good = (await eksToken({ ...base, clusterName: CLUSTER })).token;
  const url = new URL(Buffer.from(good.slice('k8s-aws-v1.'.length), 'base64url').toString());
  url.searchParams.set('Action', 'ListRoles');
  const otherAction = `k8s-aws-v1.${Buffer.from(url.toString()).toString('base64url')}`;
  const cases: [string, string, RegExp][] = [
    ['expired', expired, /expired: signed 16 minutes ago/],
    ['garbled', 'k8s-aws-v1.not*base64', /not base64url/],
    ['another cluster', otherCluster, /signature does not match \(not signed for cluster encore-prod/],
    ['another STS host', otherHost, /presigned for https:\/\/sts\.eu-west-1\.amazonaws\.com, not the STS endpoint/],
    ['another action', otherAction, /action ListRoles, not GetCallerIdentity/],
  ];
  for (const [what, token, reason] of cases) {
    assert.equal(await get(cluster.endpoint, cluster.ca, '/api/v1/namespaces/default/configmaps', token), 401, what);
    assert.match(webhook.reviews.at(-1)?.reason ?? '', reason, what);
  }
});
