/**
 * Who the Application Default Credentials act as, shown before anything is created (form, plan header, status bar):
 * a service account's email (from the key file, the impersonation target, or the metadata server), or a user's email
 * (from the id token Google returns beside a user's access token, else from the tokeninfo endpoint). Finding a user's
 * email fetches a token, which also proves the credentials still work; a refusal is explained (errors.ts).
 */

import type { AuthClient } from 'google-auth-library';
import type { AdcDescription, LoadedAdc } from './adc';
import { explainGcpError, GcpCredentialsError, scrub } from './errors';

export interface GcpIdentity {
  /** user, a service account (by key, impersonation or the metadata server), or a federated principal. */
  kind: 'user' | 'service-account' | 'federated';
  /** The email shown, when known; a federated principal without impersonation has none. */
  email?: string;
  /** The IAM member to grant roles to: user:EMAIL, serviceAccount:EMAIL, or the principal:// of a federated identity. */
  member?: string;
  /** One line for the UI: "you@example.com (gcloud application-default login)". */
  label: string;
}

function originLabel(adc: AdcDescription): string {
  if (adc.origin === 'metadata') return 'the metadata server';
  if (adc.origin === 'gcloud') return 'gcloud application-default login';
  return `GOOGLE_APPLICATION_CREDENTIALS=${adc.file ?? ''}`;
}

/** The email claim of a JWT (an id token), without verifying it: it came straight from Google's token endpoint. */
export function emailFromIdToken(idToken: unknown): string | undefined {
  if (typeof idToken !== 'string') return undefined;
  const payload = idToken.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { email?: unknown };
    return typeof claims.email === 'string' ? claims.email : undefined;
  } catch {
    return undefined;
  }
}

async function userEmail(client: AuthClient): Promise<string | undefined> {
  const { token } = await client.getAccessToken();
  const fromIdToken = emailFromIdToken((client.credentials as { id_token?: unknown }).id_token);
  if (fromIdToken) return fromIdToken;
  if (!token) return undefined;
  const info = await (client as AuthClient & { getTokenInfo(token: string): Promise<{ email?: string }> }).getTokenInfo(token);
  return info.email;
}

async function metadataEmail(): Promise<string | undefined> {
  const { gcpMetadata } = await import('google-auth-library');
  const email: unknown = await gcpMetadata.instance('service-accounts/default/email');
  return typeof email === 'string' && email ? email : undefined;
}

/** The identity of loaded credentials. Throws GcpCredentialsError (explained) when Google refuses them. */
export async function describeIdentity({ description: adc, client }: LoadedAdc): Promise<GcpIdentity> {
  const from = originLabel(adc);
  try {
    if (adc.serviceAccountEmail) {
      const via = adc.type === 'external_account' ? `workload identity federation, impersonating it, from ${from}` : adc.type === 'impersonated_service_account' ? `impersonated, from ${from}` : from;
      return { kind: 'service-account', email: adc.serviceAccountEmail, member: `serviceAccount:${adc.serviceAccountEmail}`, label: `${adc.serviceAccountEmail} (${via})` };
    }
    if (adc.type === 'external_account' || adc.type === 'external_account_authorized_user') {
      // Federated without impersonation: IAM grants go to the pool's principal, which names the provider's pool.
      const pool = /^\/\/iam\.googleapis\.com\/(projects\/[^/]+\/locations\/[^/]+\/workloadIdentityPools\/[^/]+)/.exec(adc.audience ?? '')?.[1];
      await client.getAccessToken();
      return { kind: 'federated', ...(pool ? { member: `principalSet://iam.googleapis.com/${pool}/*` } : {}), label: `a federated identity of ${pool ?? adc.audience ?? 'a workload identity pool'} (${from})` };
    }
    if (adc.type === 'metadata') {
      const email = await metadataEmail();
      return { kind: 'service-account', ...(email ? { email, member: `serviceAccount:${email}` } : {}), label: `${email ?? 'the default service account'} (${from})` };
    }
    const email = await userEmail(client);
    return { kind: 'user', ...(email ? { email, member: `user:${email}` } : {}), label: `${email ?? 'a Google user'} (${from})` };
  } catch (err) {
    throw explainGcpError(err, { doing: 'checking who the credentials belong to', credentialType: adc.type }) ??
      new GcpCredentialsError(
        'unreachable',
        `Could not check the credentials from ${from}: ${scrub(err instanceof Error ? err.message : String(err))}. Check the network connection (or proxy) to Google, then try again.`,
        { cause: err },
      );
  }
}
