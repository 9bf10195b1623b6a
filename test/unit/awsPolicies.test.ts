// Every IAM policy document the AWS driver writes, for both analysed apps' AWS Production graphs, parsed and checked
// here, because moto accepts any text as a policy: valid JSON with the 2012-10-17 grammar, no wildcard action or
// resource, each action of the service that owns the resource it names, IRSA trust bound to one ServiceAccount,
// queue policies open to their own topic only, the public-read policy only for public buckets, and the deploy-on-push
// role: trusted by GitHub's OIDC tokens of one repository and branch (or GitHub environment) only, judged by an
// evaluator of IAM's conditions (test/aws/webIdentityTrust.ts), and allowed only what a deploy does; and the cluster
// autoscaler's role: describe calls on *, and scaling only the Auto Scaling groups tagged as its own cluster's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredGraph, DesiredResource, JsonValue } from '../../src/model/desiredGraph';
import { resolveSettings } from '../../src/provisioning/engine';
import { AUTOSCALER, desiredGraph } from '../../src/provisioning/planner';
import { deployRoleDocuments } from '../../src/provisioning/providers/aws/driver/ciIdentity';
import { serviceRoleDocuments } from '../../src/provisioning/providers/aws/driver/iam';
import { AUTOSCALER_DESCRIBE_ACTIONS, AUTOSCALER_SCALE_ACTIONS, CLUSTER_POLICIES, NODE_POLICIES, publicReadPolicy, queuePolicy, serviceTrust, type PolicyDocument } from '../../src/provisioning/providers/aws/driver/policies';
import { stateBucketName } from '../../src/provisioning/providers/aws/stateBackend';
import { webIdentityDecision, type TrustDocument } from '../aws/webIdentityTrust';
import { env, everything, sample } from './plannerHelpers';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const CLUSTER = 'the-cluster';

/** The ARN each kind of resource has on AWS, standing in for the outputs an apply gives. */
function arnOf(r: DesiredResource): string {
  switch (r.providerType) {
    case 'AWS::SNS::Topic': return `arn:aws:sns:${REGION}:${ACCOUNT}:${r.name}`;
    case 'AWS::SQS::Queue': return `arn:aws:sqs:${REGION}:${ACCOUNT}:${r.name}`;
    case 'AWS::S3::Bucket': return `arn:aws:s3:::${r.name}`;
    case 'AWS::SecretsManager::Secret': return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${r.name}-AbCdEf`;
    case 'AWS::ECR::Repository': return `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${r.name}`;
    case 'AWS::EKS::Cluster': return `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${r.name}`;
    case 'AWS::IAM::OIDCProvider': return `arn:aws:iam::${ACCOUNT}:oidc-provider/${r.name}`;
    case 'AWS::IAM::GitHubDeployRole': return `arn:aws:iam::${ACCOUNT}:role/${r.name}`;
    case 'AWS::EKS::Nodegroup': return `arn:aws:eks:${REGION}:${ACCOUNT}:nodegroup/${CLUSTER}/${r.name}/0ec6c1a4-1d3e-4b6a-9d5e-2c3e4f5a6b7c`;
    default: return `arn:aws:iam::${ACCOUNT}:thing/${r.name}`;
  }
}

function resolved(graph: DesiredGraph, r: DesiredResource) {
  const lookup = (id: string, attribute: string): { value: JsonValue; secret: boolean } | undefined => {
    const target = graph.resources.find((x) => x.id === id);
    if (!target) return undefined;
    if (attribute === 'arn') return { value: arnOf(target), secret: false };
    if (attribute === 'oidcIssuer') return { value: `https://oidc.eks.${REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`, secret: false };
    if (attribute === 'oidcProviderArn') return { value: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.${REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`, secret: false };
    return { value: `${id}.${attribute}`, secret: false };
  };
  const resolution = resolveSettings(r.settings, lookup);
  assert.deepEqual(resolution.missing, [], `${r.id} resolves`);
  return { ...r, resolved: resolution.resolved };
}

/** Parses the document as AWS would receive it and checks the grammar every policy here follows. */
function parse(doc: PolicyDocument, what: string): PolicyDocument {
  const parsed = JSON.parse(JSON.stringify(doc)) as PolicyDocument;
  assert.equal(parsed.Version, '2012-10-17', what);
  assert.ok(Array.isArray(parsed.Statement) && parsed.Statement.length > 0, `${what}: statements`);
  for (const s of parsed.Statement) {
    assert.ok(s.Effect === 'Allow', `${what}: only Allow statements`);
    for (const action of [s.Action].flat()) {
      assert.match(action, /^[a-z0-9-]+:[A-Za-z]+$/, `${what}: action ${action} is service:Operation, no wildcard`);
    }
  }
  return parsed;
}

const SERVICE_OF_ARN: [RegExp, string][] = [[/^arn:aws:sns:/, 'sns'], [/^arn:aws:sqs:/, 'sqs'], [/^arn:aws:s3:::/, 's3'], [/^arn:aws:secretsmanager:/, 'secretsmanager']];

for (const [name, model] of [['sample app', sample], ['everything fixture', everything]] as const) {
  test(`${name}: every service role's trust and access policy is well formed and least privilege`, () => {
    const graph = desiredGraph(model, env('aws', 'production'));
    // The cluster autoscaler's role has its own policy, checked below.
    const roles = graph.resources.filter((r) => r.providerType === 'AWS::IAM::Role' && r.id !== AUTOSCALER.roleId);
    assert.ok(roles.length > 0);
    for (const role of roles) {
      assert.ok(role.name.length <= 64, `${role.id}: an IAM role name has at most 64 characters`);
      const r = resolved(graph, role);
      const { trust, access } = serviceRoleDocuments(r);
      const t = parse(trust, `${role.id} trust`);
      assert.equal(t.Statement.length, 1);
      const [s] = t.Statement;
      assert.equal(s!.Action, 'sts:AssumeRoleWithWebIdentity');
      assert.match(String(s!.Principal?.Federated), /^arn:aws:iam::\d{12}:oidc-provider\/oidc\.eks\./);
      const irsa = (role.settings.trust as { irsa: { namespace: string; serviceAccount: string } }).irsa;
      assert.deepEqual(s!.Condition, {
        StringEquals: {
          [`oidc.eks.${REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub`]: `system:serviceaccount:${irsa.namespace}:${irsa.serviceAccount}`,
          [`oidc.eks.${REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:aud`]: 'sts.amazonaws.com',
        },
      }, `${role.id}: only its own ServiceAccount may take the role`);

      const a = parse(access, `${role.id} access`);
      const grants = role.settings.statements as { actions: string[]; resource: string }[];
      assert.equal(a.Statement.length, grants.length, 'one statement per resource the service uses');
      a.Statement.forEach((st, i) => {
        const target = graph.resources.find((x) => x.id === grants[i]!.resource)!;
        const resources = [st.Resource].flat() as string[];
        assert.ok(resources.every((x) => x !== '*' && x.startsWith(arnOf(target))), `${role.id}: statement ${i} names only ${target.id}`);
        const service = SERVICE_OF_ARN.find(([re]) => re.test(arnOf(target)))?.[1];
        assert.ok(service, `${target.providerType} is a resource a service role may name`);
        for (const action of [st.Action].flat()) assert.ok(action.startsWith(`${service}:`), `${role.id}: ${action} belongs to ${service}`);
        assert.deepEqual([st.Action].flat(), [...grants[i]!.actions].sort(), `${role.id}: exactly the operations the model says`);
      });
    }
  });

  test(`${name}: queue policies allow their own topic only, and a public-read policy only where the code makes a bucket public`, () => {
    const graph = desiredGraph(model, env('aws', 'production'));
    for (const q of graph.resources.filter((r) => r.providerType === 'AWS::SQS::Queue' && r.settings.subscribesTo !== undefined)) {
      const r = resolved(graph, q);
      const doc = parse(queuePolicy(arnOf(q), String(r.resolved.topicArn)), `${q.id} queue policy`);
      const topic = graph.resources.find((x) => x.id === q.settings.subscribesTo)!;
      assert.deepEqual(doc.Statement.map((s) => [s.Principal, s.Action, s.Resource, s.Condition]), [
        [{ Service: 'sns.amazonaws.com' }, 'sqs:SendMessage', arnOf(q), { ArnEquals: { 'aws:SourceArn': arnOf(topic) } }],
      ]);
    }
    for (const b of graph.resources.filter((r) => r.providerType === 'AWS::S3::Bucket')) {
      if (b.settings.publicRead === true) {
        const doc = parse(publicReadPolicy(arnOf(b)), `${b.id} public read`);
        assert.deepEqual(doc.Statement.map((s) => [s.Action, s.Resource]), [['s3:GetObject', `${arnOf(b)}/*`]], 'read of objects, nothing else');
        assert.equal(b.settings.blockPublicAccess, false);
      } else {
        assert.equal(b.settings.blockPublicAccess, true, `${b.id}: a bucket the code does not make public has its public access blocked`);
      }
    }
  });
}

test('the cluster and node roles: trusted by their AWS service only, with the managed policies EKS documents', () => {
  for (const [service, doc] of [['eks.amazonaws.com', serviceTrust('eks.amazonaws.com')], ['ec2.amazonaws.com', serviceTrust('ec2.amazonaws.com')]] as const) {
    const parsed = parse(doc, `${service} trust`);
    assert.deepEqual(parsed.Statement.map((s) => [s.Principal, s.Action]), [[{ Service: service }, 'sts:AssumeRole']]);
  }
  assert.deepEqual(CLUSTER_POLICIES, ['AmazonEKSClusterPolicy']);
  assert.deepEqual(NODE_POLICIES, ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly', 'service-role/AmazonEBSCSIDriverPolicy']);
});

// --- deploy on push ---

const GITHUB = 'token.actions.githubusercontent.com';
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${GITHUB}`;
const push = (type: 'production' | 'development') => env('aws', type, { deploy: { trigger: 'push', branch: 'main' } });

for (const [name, model] of [['sample app', sample], ['everything fixture', everything]] as const) {
  for (const type of ['production', 'development'] as const) {
    test(`${name}, ${type}: the deploy role is trusted by GitHub's tokens of acme/shop on main (or its GitHub environment) only`, () => {
      const graph = desiredGraph(model, push(type), { ciRepository: 'acme/shop' });
      const role = graph.resources.find((r) => r.providerType === 'AWS::IAM::GitHubDeployRole');
      assert.ok(role, 'a push-triggered AWS environment plans the deploy role');
      assert.ok(role.name.length <= 64);
      const { trust } = deployRoleDocuments(resolved(graph, role), ACCOUNT);
      const t = parse(trust, 'deploy role trust');
      assert.equal(t.Statement.length, 1);
      const [s] = t.Statement;
      assert.deepEqual(s!.Principal, { Federated: PROVIDER_ARN });
      assert.equal(s!.Action, 'sts:AssumeRoleWithWebIdentity');
      // Exact values only: a StringLike (or any wildcard) could widen the repository or the branch.
      assert.deepEqual(Object.keys(s!.Condition ?? {}), ['StringEquals']);
      assert.ok(!JSON.stringify(s!.Condition).includes('*'), 'no wildcard in the condition');

      const env = role.settings.githubEnvironment as string;
      const decide = (claims: Record<string, unknown>, providerArn = PROVIDER_ARN) => webIdentityDecision(t as unknown as TrustDocument, { providerArn, claims }).allowed;
      const aud = 'sts.amazonaws.com';
      assert.equal(decide({ aud, sub: `repo:acme/shop:environment:${env}` }), true, "the deploy workflow's job (it runs in the GitHub environment)");
      assert.equal(decide({ aud, sub: 'repo:acme/shop:ref:refs/heads/main' }), true, 'a job on main without an environment');
      assert.equal(decide({ aud: [aud, 'https://github.com/acme'], sub: 'repo:acme/shop:ref:refs/heads/main' }), true, 'a token with several audiences, one of them STS');
      for (const [why, claims] of [
        ["a fork's run", { aud, sub: 'repo:mallory/shop:ref:refs/heads/main' }],
        ['a repository whose name starts the same', { aud, sub: 'repo:acme/shop-fork:ref:refs/heads/main' }],
        ['another branch', { aud, sub: 'repo:acme/shop:ref:refs/heads/feature' }],
        ['a branch whose name starts the same', { aud, sub: 'repo:acme/shop:ref:refs/heads/main-old' }],
        ['a tag', { aud, sub: 'repo:acme/shop:ref:refs/tags/v1.0.0' }],
        ['a pull request', { aud, sub: 'repo:acme/shop:pull_request' }],
        ['another GitHub environment', { aud, sub: 'repo:acme/shop:environment:staging-of-someone' }],
        ['the wrong audience', { aud: 'https://github.com/acme', sub: `repo:acme/shop:environment:${env}` }],
        ['no audience', { sub: `repo:acme/shop:environment:${env}` }],
        ['no subject', { aud }],
      ] as const) {
        assert.equal(decide(claims), false, `refused: ${why}`);
      }
      assert.equal(decide({ aud, sub: `repo:acme/shop:environment:${env}` }, `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.example.com`), false, 'another OIDC provider');
    });
  }

  test(`${name}: the deploy role may push to the app's ECR repository, describe its cluster and use its state, nothing more`, () => {
    const graph = desiredGraph(model, push('production'), { ciRepository: 'acme/shop' });
    const role = graph.resources.find((r) => r.providerType === 'AWS::IAM::GitHubDeployRole')!;
    const ecr = graph.resources.find((r) => r.providerType === 'AWS::ECR::Repository')!;
    const eks = graph.resources.find((r) => r.providerType === 'AWS::EKS::Cluster')!;
    const a = parse(deployRoleDocuments(resolved(graph, role), ACCOUNT).access, 'deploy role access');
    const bucket = `arn:aws:s3:::${stateBucketName(ACCOUNT, REGION)}`;
    const folder = `${bucket}/environments/${graph.environment}/`;
    const table = a.Statement.map((st) => [[st.Action].flat().join(','), [st.Resource].flat().join(',')]);
    assert.deepEqual(table, [
      ['ecr:GetAuthorizationToken', '*'],
      ['ecr:BatchCheckLayerAvailability,ecr:BatchGetImage,ecr:CompleteLayerUpload,ecr:DescribeImages,ecr:GetDownloadUrlForLayer,ecr:InitiateLayerUpload,ecr:PutImage,ecr:UploadLayerPart', arnOf(ecr)],
      ['eks:DescribeCluster', arnOf(eks)],
      ['s3:ListBucket', bucket],
      ['s3:GetObject,s3:PutObject', `${folder}state.json,${folder}journal.jsonl,${folder}deploys.json`],
      ['s3:DeleteObject,s3:GetObject,s3:PutObject', `${folder}lock.json`],
    ]);
    for (const st of a.Statement) {
      const resources = [st.Resource].flat() as string[];
      // GetAuthorizationToken has no resource-level permission (AWS's design): the one `*`.
      if (resources.includes('*')) assert.deepEqual(st.Action, 'ecr:GetAuthorizationToken');
      assert.ok(resources.every((r) => !r.includes('*') || r === '*'), `no wildcard in ${resources.join(', ')}`);
      assert.equal(st.Condition, undefined);
      assert.equal(st.Principal, undefined);
    }
    assert.ok(!JSON.stringify(a).match(/iam:|sts:|s3:DeleteBucket|ecr:Delete|eks:(Create|Delete|Update)/), 'no IAM, STS or destructive action');
  });
}

test("the CI identity is planned only for a push trigger with a GitHub repository: the OIDC provider, the role, the role's access entry in the namespace only", () => {
  const graph = desiredGraph(sample, push('production'), { ciRepository: 'acme/shop' });
  const provider = graph.resources.find((r) => r.providerType === 'AWS::IAM::OIDCProvider')!;
  assert.deepEqual(provider.settings, { url: `https://${GITHUB}`, clientIds: ['sts.amazonaws.com'] });
  const entry = resolved(graph, graph.resources.find((r) => r.providerType === 'AWS::EKS::AccessEntry')!);
  assert.deepEqual(entry.resolved.namespaces, [graph.namespace]);
  assert.equal(entry.resolved.policyArn, 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy', 'edit, never cluster admin');
  assert.equal(entry.resolved.principalArn, `arn:aws:iam::${ACCOUNT}:role/${graph.resources.find((r) => r.providerType === 'AWS::IAM::GitHubDeployRole')!.name}`);

  const ci = (g: DesiredGraph) => g.resources.filter((r) => ['AWS::IAM::OIDCProvider', 'AWS::IAM::GitHubDeployRole', 'AWS::EKS::AccessEntry'].includes(r.providerType));
  assert.deepEqual(ci(desiredGraph(sample, env('aws', 'production'), { ciRepository: 'acme/shop' })), [], 'a manual trigger has no CI identity');
  for (const repository of [undefined, 'acme', 'acme/shop.git', 'acme/shop/extra', 'ac me/shop']) {
    const g = desiredGraph(sample, push('production'), { ciRepository: repository });
    assert.deepEqual(ci(g), [], `no CI identity without a GitHub repository (${repository})`);
    assert.ok(g.warnings.some((w) => /names no GitHub repository.*git remote add origin/.test(w)), g.warnings.join('\n'));
  }
});

test('the trust evaluator bites: a StringLike wildcard would let any branch in, an explicit Deny wins, an unknown operator refuses', () => {
  const statement = (condition: Record<string, Record<string, string | string[]>>, effect: 'Allow' | 'Deny' = 'Allow') => ({
    Effect: effect, Action: 'sts:AssumeRoleWithWebIdentity', Principal: { Federated: PROVIDER_ARN }, Condition: condition,
  });
  const claims = { aud: 'sts.amazonaws.com', sub: 'repo:acme/shop:ref:refs/heads/attacker' };
  const decide = (...Statement: ReturnType<typeof statement>[]) => webIdentityDecision({ Statement }, { providerArn: PROVIDER_ARN, claims });
  assert.equal(decide(statement({ StringLike: { [`${GITHUB}:sub`]: 'repo:acme/shop:*' } })).allowed, true, 'why the product never writes StringLike');
  assert.equal(decide(statement({ StringEquals: { [`${GITHUB}:sub`]: 'repo:acme/shop:ref:refs/heads/main' } })).allowed, false);
  assert.equal(decide(statement({ StringLike: { [`${GITHUB}:sub`]: 'repo:acme/shop:*' } }), statement({ StringLike: { [`${GITHUB}:sub`]: '*/attacker' } }, 'Deny')).allowed, false, 'Deny wins');
  assert.equal(decide(statement({ StringEqualsIgnoreCase: { [`${GITHUB}:sub`]: claims.sub } })).allowed, false, 'an operator it does not know refuses');
  assert.equal(decide(statement({})).allowed, true, 'no condition: any token of the provider (so the product always writes one)');
});
for (const [name, model] of [['sample app', sample], ['everything fixture', everything]] as const) {
  test(`${name}: the cluster autoscaler's role may only describe, and scale the Auto Scaling groups tagged for its own cluster`, () => {
    const graph = desiredGraph(model, env('aws', 'production'));
    const role = graph.resources.find((r) => r.id === AUTOSCALER.roleId);
    assert.ok(role, 'an AWS Production environment has the autoscaler role');
    assert.ok(role.name.length <= 64);
    const cluster = graph.resources.find((r) => r.id === 'aws:eks')!.name;
    const nodegroup = graph.resources.find((r) => r.id === 'aws:eks-nodegroup')!;
    const { trust, access } = serviceRoleDocuments(resolved(graph, role));
    const t = parse(trust, 'autoscaler trust');
    assert.deepEqual(Object.values(t.Statement[0]!.Condition!.StringEquals!).sort(), ['sts.amazonaws.com', 'system:serviceaccount:kube-system:cluster-autoscaler'], 'only the kube-system/cluster-autoscaler ServiceAccount may take it');
    assert.equal(t.Statement[0]!.Action, 'sts:AssumeRoleWithWebIdentity');
    const a = parse(access, 'autoscaler access');
    const byAction = new Map(a.Statement.flatMap((st) => [st.Action].flat().map((action) => [action, st] as const)));
    // Every write is conditioned on the cluster's tags; only describe calls reach every resource.
    for (const st of a.Statement) {
      const actions = [st.Action].flat();
      if ([st.Resource].flat().includes('*')) {
        assert.ok(actions.every((x) => AUTOSCALER_DESCRIBE_ACTIONS.includes(x) && /^[a-z0-9]+:(Describe|Get)/.test(x)), `${st.Sid}: only describe calls on *: ${actions.join(', ')}`);
        assert.equal(st.Condition, undefined);
      }
    }
    for (const action of AUTOSCALER_SCALE_ACTIONS) {
      const st = byAction.get(action)!;
      assert.ok(st, `${action} is allowed`);
      assert.equal(st.Resource, `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*`, 'Auto Scaling groups of this account and region only');
      assert.deepEqual(st.Condition, { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${cluster}`]: 'owned', 'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled': 'true' } }, `${action}: only the groups tagged for ${cluster}`);
    }
    assert.equal(byAction.get('eks:DescribeNodegroup')!.Resource, arnOf(nodegroup), 'its own node group only');
    const allowed = a.Statement.flatMap((st) => [st.Action].flat()).sort();
    assert.deepEqual(allowed, [...AUTOSCALER_DESCRIBE_ACTIONS, ...AUTOSCALER_SCALE_ACTIONS, 'eks:DescribeNodegroup'].sort(), 'nothing but what the autoscaler calls');
  });
}

test('no autoscaler role where the nodes do not autoscale: AWS Development, GCP, Kubernetes', () => {
  for (const [kind, type] of [['aws', 'development'], ['gcp', 'production'], ['kubernetes', 'production']] as const) {
    const graph = desiredGraph(sample, env(kind, type));
    assert.deepEqual(graph.resources.filter((r) => r.id.includes('cluster-autoscaler')).map((r) => r.id), [], `${kind} ${type}`);
  }
});
