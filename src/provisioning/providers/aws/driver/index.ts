/**
 * The AWS ProviderDriver (providerApi.ts): every AWS resource type the planner emits, each by its handler (one
 * file per service family), over one connection's SDK clients. Its `clusterEndpoint` is what composition
 * (compose.ts) asks to reach the EKS cluster the same graph creates, so the in-cluster half goes there.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import { DriverError, type DriverTiming, type FieldChange, type LiveObject, type Outputs, type ProviderDriver, type ResolvedResource, type StepContext } from '../../../../model/providerApi';
import type { ClusterHost } from '../../compose';
import type { KubeEndpoint } from '../../kubernetes/client';
import { diffSettings } from '../../kubernetes/diff';
import type { AwsConnection } from '../connection';
import { callerIdentity, type CallerIdentity } from '../identity';
import { AwsClients, at, marked, pick, type AwsContext, type Handler } from './common';
import { clusterConnection, clusterHandler, describeCluster, nodegroupHandler } from './eks';
import { accessEntryHandler, deployRoleHandler, githubOidcHandler } from './ciIdentity';
import { ecrHandler } from './ecr';
import { existingClusterHandler, storageGroupsHandler } from './existingCluster';
import { elastiCacheHandler } from './elasticache';
import { serviceRoleHandler } from './iam';
import { queueHandler, topicHandler } from './messaging';
import { vpcHandler } from './network';
import { rdsHandler } from './rds';
import { bucketHandler } from './s3';
import { secretHandler, secretValueStatus, setSecretValue } from './secrets';

export const HANDLERS: Record<string, Handler> = {
  'AWS::EC2::VPC': vpcHandler,
  'AWS::EKS::Cluster': clusterHandler,
  'AWS::EKS::Nodegroup': nodegroupHandler,
  'AWS::EKS::ExistingCluster': existingClusterHandler,
  'AWS::EC2::StorageSecurityGroups': storageGroupsHandler,
  'AWS::ECR::Repository': ecrHandler,
  'AWS::IAM::Role': serviceRoleHandler,
  'AWS::IAM::OIDCProvider': githubOidcHandler,
  'AWS::IAM::GitHubDeployRole': deployRoleHandler,
  'AWS::EKS::AccessEntry': accessEntryHandler,
  'AWS::RDS::DBInstance': rdsHandler,
  'AWS::ElastiCache::ReplicationGroup': elastiCacheHandler,
  'AWS::SNS::Topic': topicHandler,
  'AWS::SQS::Queue': queueHandler,
  'AWS::S3::Bucket': bucketHandler,
  'AWS::SecretsManager::Secret': secretHandler,
};

export interface AwsDriverOptions extends DriverTiming {
  environment: string;
  connection: AwsConnection;
  /** The existing EKS cluster the environment runs on (provider.cluster.name), when it has none of its own. */
  existingCluster?: string;
}

export class AwsDriver implements ProviderDriver, ClusterHost {
  readonly kind = 'aws' as const;
  readonly target: string;
  private readonly clients: AwsClients;
  private readonly context: AwsContext;
  private identity: Promise<CallerIdentity> | null = null;

  constructor(private readonly options: AwsDriverOptions) {
    const { connection } = options;
    this.target = `AWS ${connection.region}${connection.profile ? `, profile ${connection.profile}` : ''}`;
    this.clients = new AwsClients(connection);
    this.context = {
      connection,
      clients: this.clients,
      environment: options.environment,
      region: connection.region,
      timing: { readyTimeoutMs: options.readyTimeoutMs, deleteTimeoutMs: options.deleteTimeoutMs, pollIntervalMs: options.pollIntervalMs },
      account: async (signal) => (await this.whoAmI(signal)).account,
      callerArn: async (signal) => (await this.whoAmI(signal)).arn,
      names: new Map(options.existingCluster ? [['aws:eks', options.existingCluster]] : []),
    };
  }

  /** STS GetCallerIdentity, once (again after a failure). */
  whoAmI(signal: AbortSignal): Promise<CallerIdentity> {
    this.identity ??= callerIdentity(this.options.connection, signal).catch((err) => {
      this.identity = null;
      throw err;
    });
    return this.identity;
  }

  private handler(r: Pick<DesiredResource, 'id' | 'providerType'>): Handler {
    const h = HANDLERS[r.providerType];
    if (!h) throw new DriverError('unsupported', `${r.id}: the AWS provider does not handle ${r.providerType}`, { resourceId: r.id });
    return h;
  }

  async preflight(signal: AbortSignal): Promise<void> {
    await this.whoAmI(signal);
  }

  supports(providerType: string): boolean {
    return providerType in HANDLERS;
  }

  read(r: DesiredResource, signal: AbortSignal): Promise<LiveObject | null> {
    return this.handler(r).read(r, this.context, signal);
  }

  create(r: ResolvedResource, ctx: StepContext): Promise<Outputs> {
    return this.handler(r).create(r, this.context, ctx);
  }

  update(r: ResolvedResource, ctx: StepContext): Promise<Outputs> {
    return this.handler(r).update(r, this.context, ctx);
  }

  delete(r: DesiredResource, ctx: StepContext): Promise<void> {
    return this.handler(r).delete(r, this.context, ctx);
  }

  waitReady(r: ResolvedResource, ctx: StepContext): Promise<void> {
    return this.handler(r).waitReady(r, this.context, ctx);
  }

  diff(desired: ResolvedResource, live: LiveObject): FieldChange[] {
    const h = this.handler(desired);
    // Only the managed fields the planner set are compared: a dead-letter queue sets no visibility timeout.
    const paths = h.managed.filter((p) => at(desired.resolved, p) !== undefined);
    return [...diffSettings(pick(desired.resolved, paths), pick(live.observed, paths)), ...(h.diff?.(desired, live) ?? [])];
  }

  secretValueStatus(r: DesiredResource, signal: AbortSignal): Promise<'set' | 'unset' | 'missing'> {
    if (r.providerType !== 'AWS::SecretsManager::Secret') throw new DriverError('unsupported', `${r.id} holds no value a person sets`, { resourceId: r.id });
    return secretValueStatus(r, this.context, signal);
  }

  setSecretValue(r: DesiredResource, value: string, signal: AbortSignal): Promise<void> {
    if (r.providerType !== 'AWS::SecretsManager::Secret') throw new DriverError('unsupported', `${r.id} holds no value a person sets`, { resourceId: r.id });
    return setSecretValue(r, this.context, value, signal);
  }

  /**
   * The environment's EKS cluster, once it is active: the existing cluster it was given, else by the name a read or
   * create of the cluster resource saw, else found by its tags. Null while there is none.
   */
  async clusterEndpoint(signal: AbortSignal): Promise<KubeEndpoint | null> {
    let name = this.context.names.get('aws:eks') ?? null;
    if (!name) name = await this.findTaggedCluster(signal);
    return name ? clusterConnection(this.context, name, signal) : null;
  }

  /** Whether a read, a create or the recorded state has told the cluster's name yet. */
  knowsCluster(): boolean {
    return this.context.names.has('aws:eks');
  }

  /** The cluster's name as the last apply recorded it, when no read has told it (a deploy reads no resource). */
  rememberCluster(name: string): void {
    if (!this.context.names.has('aws:eks')) this.context.names.set('aws:eks', name);
  }

  private async findTaggedCluster(signal: AbortSignal): Promise<string | null> {
    const { ListClustersCommand } = await import('@aws-sdk/client-eks');
    let nextToken: string | undefined;
    do {
      const page = await this.clients.send('EKS', new ListClustersCommand({ nextToken }), signal);
      for (const name of page.clusters ?? []) {
        const cluster = await describeCluster(this.context, name, signal);
        if (cluster && marked(cluster.tags, { id: 'aws:eks' }, this.context)) return name;
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return null;
  }

  /** The context the state backend shares (same clients, same identity). */
  get awsContext(): AwsContext {
    return this.context;
  }

  async dispose(): Promise<void> {
    this.clients.destroy();
  }
}
