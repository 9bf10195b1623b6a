/**
 * AWS failures in words a developer can act on. Every error the AWS provider lets out is an AwsError: a DriverError
 * (so the engine branches on its code) with the problem it is, the AWS error code, and for some an action the front
 * end offers as a button (a command to run in a terminal: `aws sso login --profile X`).
 *
 * Nothing secret goes in: messages are built from error codes, ARNs, profile and region names, hosts. An SDK
 * message is quoted only for service errors (AWS writes those for the caller) and credential-provider errors (the
 * SDK's own text, which names files and profiles, never values).
 */

import { DriverError, type DriverErrorCode } from '../../../model/providerApi';
import { isOptInRegion, regionInfo } from './regions';

export type AwsProblem =
  /** IAM Identity Center: no cached login, or it expired. */
  | 'sso-login'
  /** No credentials anywhere in the chain. */
  | 'no-credentials'
  /** The environment names a profile that neither file has. */
  | 'profile-not-found'
  /** A role needs an MFA code and none was given (cancelled, or no way to ask). */
  | 'mfa-required'
  /** Temporary credentials (a session token) that have expired. */
  | 'expired-credentials'
  /** The access key is not valid where the call went (wrong key, deleted key, or a region not enabled). */
  | 'invalid-credentials'
  /** An opt-in region the account has not enabled. */
  | 'region-not-enabled'
  /** A region name that does not exist. */
  | 'unknown-region'
  /** Neither the environment nor the profile nor AWS_REGION gives a region. */
  | 'no-region'
  /** The identity lacks a permission; `denied` names it. */
  | 'access-denied'
  /** The endpoint could not be reached (DNS, refused, timeout). */
  | 'unreachable'
  /** Rate limited, after the SDK's own retries. */
  | 'throttled'
  /** The configuration itself is wrong (a bad endpoint URL, a missing services section). */
  | 'bad-config'
  | 'other';

/** Something the UI can offer to run: in VS Code a button that opens a terminal, on a terminal a line to copy. */
export interface TerminalAction {
  kind: 'run-in-terminal';
  /** The button's text, e.g. "Sign in (aws sso login)". */
  title: string;
  command: string;
  args: string[];
}

export interface AwsErrorDetails {
  problem: AwsProblem;
  /** The AWS error code (`AccessDenied`, `ExpiredToken`) or the Node error code (`ENOTFOUND`), when there is one. */
  awsCode?: string;
  action?: TerminalAction;
  /** For access-denied: the action and the resource the message names, when it names them. */
  denied?: { action?: string; resource?: string; principal?: string };
  cause?: unknown;
}

export class AwsError extends DriverError {
  readonly problem: AwsProblem;
  readonly awsCode: string | undefined;
  readonly action: TerminalAction | undefined;
  readonly denied: AwsErrorDetails['denied'];

  constructor(code: DriverErrorCode, message: string, details: AwsErrorDetails) {
    super(code, message, { cause: details.cause });
    this.problem = details.problem;
    this.awsCode = details.awsCode;
    this.action = details.action;
    this.denied = details.denied;
  }
}

export function isAwsError(err: unknown): err is AwsError {
  return err instanceof Error && err.name === 'DriverError' && typeof (err as AwsError).problem === 'string';
}

/** What the call was, so the message can name it. */
export interface ErrorContext {
  /** The profile in use, if any. */
  profile?: string;
  /** Whether that profile signs in through IAM Identity Center. */
  ssoProfile?: boolean;
  /** Its cached sign-in, when known: none, or one that has expired (the SDK's messages do not always tell). */
  ssoLogin?: 'missing' | 'expired' | 'valid';
  region: string;
  /** The service and operation called, e.g. 'EKS' and 'CreateCluster'. */
  service?: string;
  operation?: string;
  /** The endpoint configured for the service, with where it was configured. */
  endpoint?: { url: string; from: string };
}

export function ssoLoginAction(profile: string | undefined): TerminalAction {
  const args = profile ? ['sso', 'login', '--profile', profile] : ['sso', 'login'];
  return { kind: 'run-in-terminal', title: 'Sign in (aws sso login)', command: 'aws', args };
}

const commandLine = (action: TerminalAction) => [action.command, ...action.args].join(' ');

const EXPIRED_CODES = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']);
const INVALID_KEY_CODES = new Set(['InvalidClientTokenId', 'UnrecognizedClientException', 'AuthFailure', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidSignatureException']);
const DENIED_CODES = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError', 'AuthorizationErrorException', 'Forbidden', 'UnauthorizedException']);
const THROTTLE_CODES = new Set(['Throttling', 'ThrottlingException', 'ThrottledException', 'RequestLimitExceeded', 'TooManyRequestsException', 'SlowDown', 'RequestThrottled', 'RequestThrottledException', 'PriorRequestNotComplete']);
const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError']);

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  hostname?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

/** The network error inside an SDK error, if it is one: the handler rejects with Node's error, sometimes wrapped. */
function networkError(err: ErrorShape): ErrorShape | undefined {
  for (let current: ErrorShape | undefined = err, depth = 0; current && depth < 4; current = current.cause as ErrorShape | undefined, depth++) {
    if (typeof current !== 'object') return undefined;
    if ((current.code && NETWORK_CODES.has(current.code)) || (current.name && NETWORK_CODES.has(current.name))) return current;
  }
  return undefined;
}

/** "User: arn:… is not authorized to perform: eks:CreateCluster on resource: arn:… because …" */
export function parseAccessDenied(message: string): { action?: string; resource?: string; principal?: string } {
  const action = /perform: ([\w-]+:[\w*-]+)/.exec(message)?.[1];
  // S3 and SQS quote the resource; a trailing period ends some messages.
  const resource = /on resource: "?([^"\s,]+?)"?\.?(?:[\s,]|$)/.exec(message)?.[1];
  const principal = /User: (arn:\S+?)(?:[\s,]|$)/.exec(message)?.[1];
  return { action, resource, principal };
}

const where = (ctx: ErrorContext) => `${ctx.profile ? `profile ${ctx.profile}` : 'the default credential chain'}, region ${ctx.region}`;
const call = (ctx: ErrorContext) => (ctx.service ? `${ctx.service}${ctx.operation ? ` ${ctx.operation}` : ''}` : 'the AWS call');

/** Turns anything an SDK call threw into an AwsError (an AwsError passes through unchanged). */
export async function explainAwsError(err: unknown, ctx: ErrorContext): Promise<AwsError> {
  if (isAwsError(err)) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as ErrorShape;
  const code = e.name && e.name !== 'Error' ? e.name : e.code;
  const message = e.message ?? String(err);

  if (e.name === 'CredentialsProviderError' || e.name === 'TokenProviderError') {
    if (/sso/i.test(message) && /(sso login|expired|not found or is invalid|invalid)/i.test(message)) {
      const action = ssoLoginAction(ctx.profile);
      const expired = ctx.ssoLogin ? ctx.ssoLogin === 'expired' : /expired/i.test(message);
      const state = expired ? 'has expired' : ctx.ssoLogin === 'valid' ? 'was refused' : 'was not found';
      return new AwsError(
        'unavailable',
        `The IAM Identity Center (SSO) sign-in for ${where(ctx)} ${state}, so there are no AWS credentials to use. ` +
        `Sign in again with: ${commandLine(action)}`,
        { problem: 'sso-login', awsCode: e.name, action, cause: err },
      );
    }
    if (/multi-factor|mfa/i.test(message)) {
      return new AwsError('unavailable', `${where(ctx)}: the role needs an MFA code and none was given. Run it again and enter the code when asked.`, {
        problem: 'mfa-required', awsCode: e.name, cause: err,
      });
    }
    return new AwsError('unavailable', `No AWS credentials could be loaded for ${where(ctx)}: ${message}`, {
      problem: 'no-credentials', awsCode: e.name, cause: err,
    });
  }

  const net = networkError(e);
  if (net) {
    const host = net.hostname;
    if ((net.code === 'ENOTFOUND' || net.code === 'EAI_AGAIN') && !ctx.endpoint) {
      const info = await regionInfo(ctx.region);
      if (!info.known) {
        return new AwsError('invalid', `"${ctx.region}" is not an AWS region (DNS has no ${host ?? 'endpoint'} for it). Check the region in the environment and the profile; region names look like eu-west-1.`, {
          problem: 'unknown-region', awsCode: net.code, cause: err,
        });
      }
    }
    const target = ctx.endpoint ? `${ctx.endpoint.url} (from ${ctx.endpoint.from})` : (host ?? 'the AWS endpoint');
    const why = net.code === 'ENOTFOUND' || net.code === 'EAI_AGAIN' ? 'its host name does not resolve' : net.code === 'ECONNREFUSED' ? 'nothing listens there' : `the connection failed (${net.code ?? net.name})`;
    return new AwsError('unavailable', `${call(ctx)} could not reach ${target}: ${why}. Check the network (offline, a VPN, a proxy), and the endpoint if one is configured.`, {
      problem: 'unreachable', awsCode: net.code ?? net.name, cause: err,
    });
  }

  if (code && EXPIRED_CODES.has(code)) {
    const action = ctx.ssoProfile ? ssoLoginAction(ctx.profile) : undefined;
    const next = action ? `Sign in again with: ${commandLine(action)}` : 'Get new temporary credentials (the session token has expired) and try again.';
    return new AwsError('unavailable', `The AWS credentials of ${where(ctx)} have expired (${code}). ${next}`, {
      problem: 'expired-credentials', awsCode: code, action, cause: err,
    });
  }
  if (code && INVALID_KEY_CODES.has(code)) {
    if (isOptInRegion(ctx.region)) {
      return new AwsError('unavailable', `${call(ctx)} in ${ctx.region} refused the credentials (${code}). ${ctx.region} is an opt-in region: it works only once enabled for the account (AWS console → Account → AWS Regions). Enable it, or choose another region.`, {
        problem: 'region-not-enabled', awsCode: code, cause: err,
      });
    }
    return new AwsError('unavailable', `AWS refused the credentials of ${where(ctx)} (${code}): the access key is not valid (deleted, deactivated, or mistyped). Check the profile's keys or sign in again.`, {
      problem: 'invalid-credentials', awsCode: code, cause: err,
    });
  }
  if (code && DENIED_CODES.has(code)) {
    const denied = parseAccessDenied(message);
    const what = denied.action ? `${denied.action}${denied.resource ? ` on ${denied.resource}` : ''}` : call(ctx);
    return new AwsError('forbidden', `${denied.principal ?? `The identity of ${where(ctx)}`} is not allowed to do ${what} (${code}). Ask for that permission, or use a profile that has it. AWS said: ${message}`, {
      problem: 'access-denied', awsCode: code, denied, cause: err,
    });
  }
  if (code && THROTTLE_CODES.has(code)) {
    return new AwsError('transient', `${call(ctx)} was rate limited by AWS (${code}) after the SDK's retries; it is safe to run again.`, {
      problem: 'throttled', awsCode: code, cause: err,
    });
  }
  const status = e.$metadata?.httpStatusCode;
  const transient = status !== undefined && status >= 500;
  return new AwsError(transient ? 'transient' : 'invalid', `${call(ctx)} failed for ${where(ctx)}${code ? ` (${code})` : ''}: ${message}`, {
    problem: 'other', awsCode: code, cause: err,
  });
}
