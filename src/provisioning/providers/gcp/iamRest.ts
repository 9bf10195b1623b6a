/**
 * IAM service accounts through their documented REST API (iam.googleapis.com/v1), since no GAPIC client for Node
 * covers them: calls go through google-auth-library's authenticated request (the same AuthClient every other client
 * uses, so the same token, quota project and retries). Errors stay gaxios errors, which errors.ts explains.
 */

import type { AuthClient } from 'google-auth-library';

export const IAM_ENDPOINT = 'https://iam.googleapis.com';

export interface ServiceAccount {
  name: string;
  projectId: string;
  uniqueId: string;
  email: string;
  displayName?: string;
  description?: string;
  etag?: string;
}

export interface IamPolicy {
  version?: number;
  bindings?: { role: string; members: string[]; condition?: { expression: string; title?: string } }[];
  etag?: string;
}

export class IamServiceAccounts {
  constructor(
    private readonly auth: AuthClient,
    private readonly endpoint: string = IAM_ENDPOINT,
  ) {}

  private async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, data?: unknown): Promise<T> {
    const response = await this.auth.request<T>({ url: `${this.endpoint}/v1/${path}`, method, ...(data === undefined ? {} : { data }), responseType: 'json' });
    return response.data;
  }

  private static path(project: string, email: string): string {
    return `projects/${encodeURIComponent(project)}/serviceAccounts/${encodeURIComponent(email)}`;
  }

  create(project: string, accountId: string, details: { displayName?: string; description?: string } = {}): Promise<ServiceAccount> {
    return this.call('POST', `projects/${encodeURIComponent(project)}/serviceAccounts`, { accountId, serviceAccount: details });
  }

  get(project: string, email: string): Promise<ServiceAccount> {
    return this.call('GET', IamServiceAccounts.path(project, email));
  }

  async delete(project: string, email: string): Promise<void> {
    await this.call('DELETE', IamServiceAccounts.path(project, email));
  }

  getIamPolicy(project: string, email: string): Promise<IamPolicy> {
    return this.call('POST', `${IamServiceAccounts.path(project, email)}:getIamPolicy`, { options: { requestedPolicyVersion: 3 } });
  }

  setIamPolicy(project: string, email: string, policy: IamPolicy): Promise<IamPolicy> {
    return this.call('POST', `${IamServiceAccounts.path(project, email)}:setIamPolicy`, { policy });
  }
}
