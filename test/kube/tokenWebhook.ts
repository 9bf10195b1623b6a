// Test equipment: a token authentication webhook for the test kube-apiserver (TokenReview, authentication.k8s.io/v1),
// as a managed cluster's authenticator is one: kube-apiserver is started with
// --authentication-token-webhook-config-file pointing here (startKubeServer({ tokenWebhook })), and every bearer
// token that is not in its token file is sent here for review. What a token means is up to validators: EKS's
// `k8s-aws-v1.` tokens (eksTokenValidator.ts), and GCP's access tokens later. Tokens are never logged.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReviewedUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** What a validator says about a token: not its kind (undefined), a user, or a refusal with the reason. */
export type TokenVerdict = undefined | { user: ReviewedUser } | { refused: string };

export interface TokenValidator {
  name: string;
  validate(token: string): Promise<TokenVerdict>;
}

export interface TokenReviewLogEntry {
  validator: string | undefined;
  authenticated: boolean;
  username?: string;
  reason?: string;
}

export interface TokenWebhook {
  /** http://127.0.0.1:PORT/authenticate: the `server` of the webhook's kubeconfig. */
  url: string;
  /** One entry per review, without the token. */
  readonly reviews: TokenReviewLogEntry[];
  close(): Promise<void>;
}

interface TokenReview {
  apiVersion?: string;
  kind?: string;
  spec?: { token?: string; audiences?: string[] };
}

export async function startTokenWebhook(validators: TokenValidator[]): Promise<TokenWebhook> {
  const reviews: TokenReviewLogEntry[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let review: TokenReview;
        try {
          review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TokenReview;
        } catch {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('not a TokenReview');
          return;
        }
        const token = review.spec?.token ?? '';
        let status: Record<string, unknown> = { authenticated: false, error: 'no validator recognises this token' };
        const entry: TokenReviewLogEntry = { validator: undefined, authenticated: false, reason: 'no validator recognises this token' };
        for (const validator of validators) {
          let verdict: TokenVerdict;
          try {
            verdict = await validator.validate(token);
          } catch (err) {
            verdict = { refused: `${validator.name} failed: ${(err as Error).message}` };
          }
          if (!verdict) continue;
          entry.validator = validator.name;
          if ('user' in verdict) {
            status = { authenticated: true, user: verdict.user, audiences: review.spec?.audiences };
            Object.assign(entry, { authenticated: true, username: verdict.user.username, reason: undefined });
          } else {
            status = { authenticated: false, error: verdict.refused };
            entry.reason = verdict.refused;
          }
          break;
        }
        reviews.push(entry);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: review.apiVersion ?? 'authentication.k8s.io/v1', kind: 'TokenReview', status }));
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/authenticate`,
    reviews,
    async close() {
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}
