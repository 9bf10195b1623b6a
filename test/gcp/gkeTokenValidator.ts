// The GKE half of the test kube-apiserver's token webhook: GKE accepts a Google OAuth access token as a bearer
// token and authenticates its holder by email. These validators accept exactly the access tokens the test token
// server issued (to a user, a service account, the metadata server or a federated identity), so the provider's
// Kubernetes connection can be built from ADC as on GKE and checked against a real API server.
//
// Plug-in, once the generic TokenReview webhook is on startKubeServer() (test/kube/): give it
//   validate: gkeTokenValidator(tokens)               (in-process), or
//   validate: tokenInfoValidator(tokens.url)          (asks the token server over HTTP, as GKE asks Google)
// and map the returned user into TokenReview `status: { authenticated: true, user }`; null means
// `authenticated: false`. RBAC then binds the email (e.g. a ClusterRoleBinding to User dev@example.com).
import type { TokenServer } from './tokenServer';

export interface KubeUser {
  username: string;
  uid: string;
  groups: string[];
}

function userFor(email: string): KubeUser {
  // GKE names Google identities by email and puts every authenticated one in system:authenticated.
  return { username: email, uid: email, groups: ['system:authenticated'] };
}

export function gkeTokenValidator(tokens: Pick<TokenServer, 'validate'>): (token: string) => KubeUser | null {
  return (token) => {
    const owner = tokens.validate(token);
    return owner ? userFor(owner.email) : null;
  };
}

export function tokenInfoValidator(tokenServerUrl: string): (token: string) => Promise<KubeUser | null> {
  return async (token) => {
    const response = await fetch(`${tokenServerUrl}/tokeninfo?access_token=${encodeURIComponent(token)}`);
    if (!response.ok) return null;
    const info = (await response.json()) as { email?: unknown };
    return typeof info.email === 'string' ? userFor(info.email) : null;
  };
}
