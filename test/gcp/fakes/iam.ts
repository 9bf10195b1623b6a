// IAM service accounts (iam.googleapis.com v1) over REST, with routes written from Google's REST reference, since no
// GAPIC client for Node covers them (@google-cloud/iam has only the v2/v3 policy APIs): service accounts created,
// read, deleted, and their own IAM policy (the Workload Identity binding of a Kubernetes service account, the CI
// identity's token-creator binding). A roles/iam.workloadIdentityUser binding for PROJECT.svc.id.goog is refused
// until that pool exists (a cluster with Workload Identity), as IAM refuses it. Workload Identity Federation pools
// and providers (the CI identity of deploy on push) in workloadIdentityPools.ts. Everything else is 501.
import { createHash } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { alreadyExists, FakeError, invalidArgument, notFound } from '../googleErrors';
import type { Message } from '../grpcFake';
import { RestFake, type RestFakeOptions } from '../restFake';
import { IamPolicies, type Binding } from './iamPolicies';
import { WORKLOAD_IDENTITY_ROUTES, WorkloadIdentityPools } from './workloadIdentityPools';

const SERVICE = 'google.iam.admin.v1.IAM';

export interface IamFakeOptions {
  authorize?: RestFakeOptions['authorize'];
  /** Whether PROJECT.svc.id.goog exists; wire it to the GKE fake's clusters. Default: it always does. */
  workloadPoolExists?: (project: string) => boolean;
  /** Project id → number, which pools are named by; default encore-test → 123456789012. */
  projectNumbers?: Record<string, string>;
}

export class IamFake extends RestFake {
  /** Service accounts by email. */
  readonly accounts = new Map<string, Message>();
  readonly policies = new IamPolicies();
  readonly pools: WorkloadIdentityPools;

  constructor(private readonly iamOptions: IamFakeOptions = {}) {
    // eslint-disable-next-line prefer-const -- made after super() (it needs the fake's faults), used by handlers that run later
    let pools!: WorkloadIdentityPools;
    const route = (method: string, verb: string, template: string, body?: string) => ({ service: SERVICE, method, verb, template, body });
    super({
      name: 'IAM fake',
      api: { service: 'iam.googleapis.com', title: 'Identity and Access Management (IAM) API' },
      authorize: iamOptions.authorize,
      manualRoutes: [
        route('CreateServiceAccount', 'POST', '/v1/projects/{project}/serviceAccounts', '*'),
        route('ListServiceAccounts', 'GET', '/v1/projects/{project}/serviceAccounts'),
        route('GetServiceAccount', 'GET', '/v1/projects/{project}/serviceAccounts/{account}'),
        route('PatchServiceAccount', 'PATCH', '/v1/projects/{project}/serviceAccounts/{account}', '*'),
        route('DeleteServiceAccount', 'DELETE', '/v1/projects/{project}/serviceAccounts/{account}'),
        route('GetIamPolicy', 'POST', '/v1/projects/{project}/serviceAccounts/{account}:getIamPolicy', '*'),
        route('SetIamPolicy', 'POST', '/v1/projects/{project}/serviceAccounts/{account}:setIamPolicy', '*'),
        route('TestIamPermissions', 'POST', '/v1/projects/{project}/serviceAccounts/{account}:testIamPermissions', '*'),
        route('CreateServiceAccountKey', 'POST', '/v1/projects/{project}/serviceAccounts/{account}/keys', '*'),
        ...WORKLOAD_IDENTITY_ROUTES,
      ],
      handlers: {
        CreateServiceAccount: (req) => this.create(req),
        GetServiceAccount: (req) => this.account(req.account),
        DeleteServiceAccount: (req) => {
          const account = this.account(req.account);
          this.accounts.delete(String(account.email));
          this.policies.delete(String(account.email));
          return {};
        },
        GetIamPolicy: (req) => this.wire(this.policies.get(String(this.account(req.account).email))),
        SetIamPolicy: (req) => this.setPolicy(req),
        ...Object.fromEntries(WORKLOAD_IDENTITY_ROUTES.map((r) => [r.method, (req: Message) => pools.handlers()[r.method]!(req)])),
      },
    });
    const numbers = iamOptions.projectNumbers ?? { 'encore-test': '123456789012' };
    pools = new WorkloadIdentityPools(this.faults, (project) => {
      if (/^\d+$/.test(project)) return project;
      const number = numbers[project];
      if (!number) throw notFound(`Project ${project} not found`);
      return number;
    });
    this.pools = pools;
  }

  private account(id: unknown): Message {
    const text = String(id ?? '');
    const account = this.accounts.get(text) ?? [...this.accounts.values()].find((a) => a.uniqueId === text);
    if (!account) throw notFound(`Service account ${text} does not exist`);
    return account;
  }

  private create(req: Message): Message {
    const project = String(req.project);
    const accountId = String(req.accountId ?? '');
    if (!/^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$/.test(accountId)) {
      throw invalidArgument(`Invalid account ID "${accountId}": it must be 6 to 30 lowercase letters, digits or hyphens, start with a letter and not end with a hyphen.`);
    }
    const email = `${accountId}@${project}.iam.gserviceaccount.com`;
    if (this.accounts.has(email)) throw alreadyExists(`Service account ${accountId} already exists within project projects/${project}.`);
    const uniqueId = BigInt(`0x${createHash('sha256').update(email).digest('hex').slice(0, 15)}`).toString().padStart(21, '1').slice(0, 21);
    const spec = (req.serviceAccount ?? {}) as Message;
    const account: Message = {
      name: `projects/${project}/serviceAccounts/${email}`,
      projectId: project,
      uniqueId,
      email,
      displayName: spec.displayName ?? '',
      description: spec.description ?? '',
      etag: Buffer.from(uniqueId).toString('base64'),
      oauth2ClientId: uniqueId,
    };
    this.accounts.set(email, account);
    return account;
  }

  private wire(policy: ReturnType<IamPolicies['get']>): Message {
    return { version: policy.version, bindings: policy.bindings, etag: policy.etag.toString('base64') };
  }

  private setPolicy(req: Message): Message {
    const account = this.account(req.account);
    const policy = (req.policy ?? {}) as { version?: number; bindings?: Binding[]; etag?: string };
    for (const binding of policy.bindings ?? []) {
      if (binding.role !== 'roles/iam.workloadIdentityUser') continue;
      for (const member of binding.members ?? []) {
        const pool = /^serviceAccount:([^[]+\.svc\.id\.goog)\[[^/\]]+\/[^\]]+\]$/.exec(member)?.[1];
        if (member.includes('.svc.id.goog') && !pool) throw invalidArgument(`Invalid member ${member}: a Workload Identity member is serviceAccount:PROJECT.svc.id.goog[NAMESPACE/KSA]`);
        const project = pool?.replace(/\.svc\.id\.goog$/, '');
        if (project && !(this.iamOptions.workloadPoolExists ?? (() => true))(project)) {
          throw new FakeError(GrpcStatus.INVALID_ARGUMENT, `Identity Pool does not exist (${pool}). Please check that you specified a valid resource name as returned in the \`name\` attribute in the configuration API.`);
        }
      }
    }
    return this.wire(this.policies.set(String(account.email), { ...policy, etag: policy.etag ? Buffer.from(policy.etag, 'base64') : undefined }));
  }

  protected override settle(): void {
    this.pools?.settle();
  }

  /** Members holding `role` on the service account `email`, for independent checks. */
  membersOf(email: string, role: string): string[] {
    return this.policies.membersOf(email, role);
  }
}
