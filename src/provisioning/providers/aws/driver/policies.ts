/**
 * Every IAM policy document the AWS driver writes, made here and nowhere else, so one test can parse and check them
 * all (moto accepts any text as a policy: the product checks its own). Pure: settings in, documents out.
 */

import type { JsonObject } from '../../../../model/desiredGraph';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Record<string, string | string[]>;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });

/** A role an AWS service takes on (EKS for the cluster, EC2 for the nodes). */
export function serviceTrust(service: 'eks.amazonaws.com' | 'ec2.amazonaws.com'): PolicyDocument {
  return doc({ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' });
}

/** IRSA: only this ServiceAccount of this namespace, through the cluster's OIDC provider, for STS. */
export function irsaTrust(irsa: { oidcProviderArn: string; oidcIssuer: string; namespace: string; serviceAccount: string }): PolicyDocument {
  const host = irsa.oidcIssuer.replace(/^https:\/\//, '');
  return doc({
    Effect: 'Allow',
    Principal: { Federated: irsa.oidcProviderArn },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { [`${host}:sub`]: `system:serviceaccount:${irsa.namespace}:${irsa.serviceAccount}`, [`${host}:aud`]: 'sts.amazonaws.com' } },
  });
}

/** GitHub Actions' OIDC issuer, and the audience configure-aws-credentials asks its tokens for. */
export const GITHUB_OIDC = { host: 'token.actions.githubusercontent.com', url: 'https://token.actions.githubusercontent.com', audience: 'sts.amazonaws.com' } as const;

/**
 * The `sub` claims GitHub gives a job of `repository` (owner/name): a run on `branch`, and a job that runs in the
 * GitHub environment `environment` (the deploy workflow's job does; GitHub then names the environment, not the ref).
 */
export function githubSubjects(ci: { repository: string; branch: string; environment: string }): string[] {
  return [`repo:${ci.repository}:ref:refs/heads/${ci.branch}`, `repo:${ci.repository}:environment:${ci.environment}`];
}

/** Deploy on push: only GitHub's OIDC tokens for this repository and branch (or GitHub environment), for STS. */
export function githubTrust(ci: { oidcProviderArn: string; repository: string; branch: string; environment: string }): PolicyDocument {
  return doc({
    Sid: 'GitHubDeployOnly',
    Effect: 'Allow',
    Principal: { Federated: ci.oidcProviderArn },
    Action: 'sts:AssumeRoleWithWebIdentity',
    // StringEquals, never StringLike: no wildcard can widen the repository or the branch.
    Condition: { StringEquals: { [`${GITHUB_OIDC.host}:aud`]: GITHUB_OIDC.audience, [`${GITHUB_OIDC.host}:sub`]: githubSubjects(ci) } },
  });
}

/** The objects of an environment's folder in the state bucket that a deploy reads and writes (stateBackend.ts). */
export const CI_STATE_OBJECTS = { readWrite: ['state.json', 'journal.jsonl', 'deploys.json'], lock: 'lock.json' } as const;

/**
 * What `encore-env deploy --ci` does and nothing more: push to the app's ECR repository (the registry's token is
 * account-wide by AWS's design, so `*`), describe its EKS cluster, and read and write its state, journal, deploy
 * history and lock in the state bucket (HeadBucket, and a 404 rather than a 403 for an object not yet written, need ListBucket on the bucket itself, with no prefix).
 */
export function ciAccessPolicy(ci: { repositoryArn: string; clusterArn: string; stateBucket: string; environment: string; partition?: string }): PolicyDocument {
  const bucketArn = `arn:${ci.partition ?? 'aws'}:s3:::${ci.stateBucket}`;
  const folder = `${bucketArn}/environments/${ci.environment}/`;
  return doc(
    { Sid: 'RegistryToken', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    {
      Sid: 'PushAppImage', Effect: 'Allow', Resource: ci.repositoryArn,
      Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:CompleteLayerUpload', 'ecr:DescribeImages', 'ecr:GetDownloadUrlForLayer', 'ecr:InitiateLayerUpload', 'ecr:PutImage', 'ecr:UploadLayerPart'],
    },
    { Sid: 'DescribeCluster', Effect: 'Allow', Action: 'eks:DescribeCluster', Resource: ci.clusterArn },
    { Sid: 'StateBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn },
    { Sid: 'StateAndHistory', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: CI_STATE_OBJECTS.readWrite.map((o) => `${folder}${o}`) },
    { Sid: 'Lock', Effect: 'Allow', Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'], Resource: `${folder}${CI_STATE_OBJECTS.lock}` },
  );
}

/** A service's access: each grant's actions on that one resource; S3 object actions on the bucket's objects. */
export function accessPolicy(statements: { actions: string[]; resourceArn: string }[]): PolicyDocument {
  return doc(
    ...statements.map((s, i): PolicyStatement => {
      const s3 = s.resourceArn.startsWith('arn:aws:s3:::') || /^arn:[\w-]+:s3:::/.test(s.resourceArn);
      return { Sid: `Grant${i}`, Effect: 'Allow', Action: [...s.actions].sort(), Resource: s3 ? [s.resourceArn, `${s.resourceArn}/*`] : s.resourceArn };
    }),
  );
}

/** What the cluster autoscaler reads to find and model its node groups: describe calls, which take no resource. */
export const AUTOSCALER_DESCRIBE_ACTIONS = [
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeAutoScalingInstances',
  'autoscaling:DescribeLaunchConfigurations',
  'autoscaling:DescribeScalingActivities',
  'autoscaling:DescribeTags',
  'ec2:DescribeImages',
  'ec2:DescribeInstanceTypes',
  'ec2:DescribeLaunchTemplateVersions',
  'ec2:GetInstanceTypesFromInstanceRequirements',
];

/** What it changes: only on Auto Scaling groups that carry the cluster's autoscaler tags (EKS puts them on a managed node group's group). */
export const AUTOSCALER_SCALE_ACTIONS = ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'];

/**
 * The cluster autoscaler's access (the upstream AWS guide's least-privilege policy): describe calls on `*` (they
 * accept no narrower resource), the node group's own description, and scaling only groups of this account and
 * region tagged as this cluster's and enabled.
 */
export function clusterAutoscalerPolicy(p: { clusterName: string; nodegroupArn: string }): PolicyDocument {
  const [, partition, , region, account] = p.nodegroupArn.split(':');
  if (!partition || !region || !account) throw new Error(`"${p.nodegroupArn}" is not a node group ARN`);
  return doc(
    { Sid: 'Discover', Effect: 'Allow', Action: [...AUTOSCALER_DESCRIBE_ACTIONS], Resource: '*' },
    { Sid: 'OwnNodegroup', Effect: 'Allow', Action: 'eks:DescribeNodegroup', Resource: p.nodegroupArn },
    {
      Sid: 'ScaleOwnGroups',
      Effect: 'Allow',
      Action: [...AUTOSCALER_SCALE_ACTIONS],
      Resource: `arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/*`,
      Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${p.clusterName}`]: 'owned', 'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled': 'true' } },
    },
  );
}

/** An SQS queue's policy: only its topic may send to it. */
export function queuePolicy(queueArn: string, topicArn: string): PolicyDocument {
  return doc({
    Sid: 'TopicSendsOnly',
    Effect: 'Allow',
    Principal: { Service: 'sns.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: queueArn,
    Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
  });
}

/** A public bucket's policy: anyone may read its objects, nothing else. */
export function publicReadPolicy(bucketArn: string): PolicyDocument {
  return doc({ Sid: 'PublicRead', Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: `${bucketArn}/*` });
}

/** The AWS managed policies (with their IAM path) attached to the cluster's and the nodes' roles: AWS's documented minimum for EKS. */
export const CLUSTER_POLICIES = ['AmazonEKSClusterPolicy'];
export const NODE_POLICIES = ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly', 'service-role/AmazonEBSCSIDriverPolicy'];

/** A policy document as AWS returns it (URL-encoded JSON for IAM), parsed. */
export function parsePolicy(text: string | undefined): JsonObject | null {
  if (!text) return null;
  for (const candidate of [text, safeDecode(text)]) {
    try {
      return JSON.parse(candidate) as JsonObject;
    } catch {
      // try the decoded form
    }
  }
  return null;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
