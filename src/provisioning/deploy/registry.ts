/**
 * What a deploy needs of an OCI registry: image references, the digest a tag points at (the image is then deployed
 * as `repo@sha256:…`, never by tag), whether a digest still exists (before a rollback or a promote), and the
 * registry's authentication (the Docker Registry v2 token flow and Basic), with credentials from a Docker config or
 * passed in memory. Credentials never appear in an error message or a log line.
 */

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseImage } from '../../model/imageOverride';

// ---------------------------------------------------------------------------------------------------------------
// image references

export interface ImageRef {
  /** The registry host with its port, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`, `127.0.0.1:5000`, `docker.io`. */
  registry: string;
  /** The repository path, e.g. `my-app`, `team/my-app`, `library/node` (Docker Hub's official images). */
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API answers. */
const DOCKER_HUB_API = 'registry-1.docker.io';
/** The key Docker's own tools store Docker Hub credentials under. */
const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;

export class ImageRefError extends Error {
  override readonly name = 'ImageRefError';
}

/**
 * Parses `[host[:port]/]repo[:tag][@sha256:…]` as Docker does: without a registry part (a first component with no
 * `.` or `:` and not `localhost`) the image is on Docker Hub, where a one-component name is an official image
 * (`node` → `library/node`). No tag and no digest means `latest`.
 */
export function parseImageRef(text: string): ImageRef {
  // The grammar is the model's (one reading of a reference for the environments file and the registry).
  const parsed = parseImage(text);
  if (typeof parsed === 'string') {
    throw new ImageRefError(`"${text}" is not an image reference: ${parsed}. Write it as host[:port]/repository[:tag][@sha256:digest], for example 127.0.0.1:5000/my-app:v1.`);
  }
  let registry = parsed.registry ?? DOCKER_HUB;
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  const parts = parsed.path.split('/');
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const { tag, digest } = parsed;
  return { registry, repository: parts.join('/'), ...(tag === undefined && digest === undefined ? { tag: 'latest' } : {}), ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** `registry/repository[:tag][@digest]`, the full form (Docker Hub included, so nothing is left to defaults). */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The reference a Deployment runs: `registry/repository@sha256:…`, never a tag. */
export function pinnedRef(ref: ImageRef, digest: string): string {
  if (!DIGEST.test(digest)) throw new ImageRefError(`"${digest}" is not a digest (sha256: and 64 lowercase hex digits)`);
  return formatImageRef({ registry: ref.registry, repository: ref.repository, digest });
}

// ---------------------------------------------------------------------------------------------------------------
// credentials

/** A registry credential: a user and a password (or token used as one), an OAuth2 refresh token, or a bearer token. */
export type RegistryCredential =
  | { username: string; password: string }
  | { identityToken: string; username?: string }
  | { registryToken: string };

function describe(credential: RegistryCredential | undefined): string {
  if (!credential) return 'no credentials';
  if ('registryToken' in credential) return 'a registry token';
  if ('identityToken' in credential) return 'an identity token';
  return `user "${credential.username}"`;
}

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    message: string,
    /** What kind of failure, for callers that branch on it. */
    readonly code: 'unauthorized' | 'denied' | 'not-found' | 'unreachable' | 'protocol' | 'credentials',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The keys Docker's tools may have stored a registry's credentials under. */
function configKeys(registry: string): string[] {
  if (registry === DOCKER_HUB) return [DOCKER_HUB_CONFIG_KEY, 'index.docker.io', 'docker.io', DOCKER_HUB_API, 'https://index.docker.io/v1', 'https://registry-1.docker.io'];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`, `http://${registry}/v2/`];
}

/** The key to store `registry`'s credential under in a Docker config. */
export function dockerConfigKey(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_CONFIG_KEY : registry;
}

/** The Docker config folder Docker's tools use: $DOCKER_CONFIG, else ~/.docker. */
export function defaultDockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
}

/**
 * The credential for `registry` from a Docker config folder (its config.json): an `auths` entry, or the credential
 * helper named by `credHelpers` or `credsStore` (`docker-credential-NAME get`, the protocol Docker Desktop, the ECR
 * and gcloud helpers speak). Undefined when the config has none for it (anonymous access is then tried).
 */
export async function credentialFromDockerConfig(registry: string, options: { configDir?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<RegistryCredential | undefined> {
  const file = path.join(options.configDir ?? defaultDockerConfigDir(options.env), 'config.json');
  let config: DockerConfigFile;
  try {
    config = JSON.parse(await readFile(file, 'utf8')) as DockerConfigFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RegistryError(`The Docker config ${file} cannot be read: ${(err as Error).message}. Fix or remove it, or log in again with "docker login ${registry}".`, 'credentials', { cause: err });
  }
  const keys = configKeys(registry);
  const helper = keys.map((k) => config.credHelpers?.[k]).find(Boolean) ?? config.credsStore;
  if (helper) {
    const fromHelper = await credentialFromHelper(helper, keys[0]!, options);
    if (fromHelper) return fromHelper;
  }
  for (const key of keys) {
    const entry = config.auths?.[key];
    if (!entry) continue;
    if (entry.registrytoken) return { registryToken: entry.registrytoken };
    if (entry.identitytoken) return { identityToken: entry.identitytoken, ...(entry.username ? { username: entry.username } : {}) };
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw new RegistryError(`The "auth" entry for ${key} in ${file} is not base64 of user:password: log in again with "docker login ${registry}".`, 'credentials');
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
  }
  return undefined;
}

/** `docker-credential-NAME get`: the server URL on stdin, `{"Username","Secret"}` on stdout. */
async function credentialFromHelper(name: string, server: string, options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<RegistryCredential | undefined> {
  const command = `docker-credential-${name}`;
  const { code, stdout, stderr, error } = await new Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }>((resolve) => {
    const child = spawn(command, ['get'], { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], signal: options.signal });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', (e) => resolve({ code: null, stdout: out, stderr: err, error: e }));
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    child.stdin.end(server);
  });
  if (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new RegistryError(`The Docker config names the credential helper "${name}", but ${command} is not on PATH: install it, or remove "${name}" from the config's credHelpers/credsStore.`, 'credentials', { cause: error });
    }
    throw new RegistryError(`The credential helper ${command} could not run: ${error.message}`, 'credentials', { cause: error });
  }
  // The helpers' way of saying they have nothing for this server.
  if (code !== 0 && /credentials not found/i.test(`${stdout}${stderr}`)) return undefined;
  if (code !== 0) throw new RegistryError(`The credential helper ${command} failed (exit ${code}) for ${server}: ${stderr.trim().slice(0, 300) || 'no message'}`, 'credentials');
  let parsed: { Username?: string; Secret?: string };
  try {
    parsed = JSON.parse(stdout) as { Username?: string; Secret?: string };
  } catch (err) {
    throw new RegistryError(`The credential helper ${command} answered something that is not JSON for ${server}.`, 'credentials', { cause: err });
  }
  if (!parsed.Secret) return undefined;
  // Helpers return an identity token with the user name "<token>".
  if (parsed.Username === '<token>') return { identityToken: parsed.Secret };
  return { username: parsed.Username ?? '', password: parsed.Secret };
}

// ---------------------------------------------------------------------------------------------------------------
// the registry API

/** The manifest types a registry may hold for an image: indexes (multi-platform) first, then single manifests. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `Bearer realm="…",service="…",scope="…"` (or `Basic realm="…"`): the scheme and its parameters. */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = Object.create(null);
  const re = /([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = match[2] ?? '';
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest)) !== null && m[0] !== '') params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  return { scheme: match[1]!.toLowerCase(), params };
}

/** Plain HTTP only for a registry on this machine (as Docker and go-containerregistry do), HTTPS elsewhere. */
function isLocal(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const PRIVATE = new BlockList();
for (const [net, prefix] of [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['127.0.0.0', 8], ['169.254.0.0', 16], ['0.0.0.0', 8], ['100.64.0.0', 10]] as const) PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::1', 128], ['fc00::', 7], ['fe80::', 10], ['::', 128]] as const) PRIVATE.addSubnet(net, prefix, 'ipv6');

/**
 * Why a token realm must not be used, or undefined when it may: the credentials go to the realm, so a registry
 * must not be able to send them anywhere. The rules are go-containerregistry's (which Encore's CLI uses for the
 * push): https always; http only for a registry spoken to over http; no private, loopback or link-local IP literal
 * (the cloud metadata service among them) unless it is the registry's own host and port.
 */
export function realmProblem(realm: URL, registryHost: string, registryOverHttp: boolean): string | undefined {
  if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && registryOverHttp)) return `its scheme ${realm.protocol} is not allowed for this registry (https only)`;
  if (realm.host === registryHost) return undefined;
  const host = realm.hostname.replace(/^\[|\]$/g, '');
  const family = isIP(host);
  if (family !== 0 && PRIVATE.check(host, family === 4 ? 'ipv4' : 'ipv6')) return `its host ${host} is a private or link-local address`;
  return undefined;
}

export interface RegistryClientOptions {
  credential?: RegistryCredential;
  /** Speak plain HTTP to a registry that is not on this machine (a test cluster's). */
  insecure?: boolean;
  /** Per request (default 30 s). */
  timeoutMs?: number;
}

export class RegistryClient {
  private readonly base: string;
  /** Bearer tokens by scope, reused until the registry refuses one. */
  private readonly tokens = new Map<string, string>();
  private basic = false;

  constructor(
    /** The registry host of an ImageRef. */
    readonly registry: string,
    private readonly options: RegistryClientOptions = {},
  ) {
    const host = registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
    this.base = `${options.insecure || isLocal(registry) ? 'http' : 'https'}://${host}`;
  }

  /** The digest `ref`'s tag points at now, from `HEAD /v2/<repo>/manifests/<tag>`; a digest reference is checked. */
  async digestOf(ref: ImageRef, signal?: AbortSignal): Promise<string> {
    this.ownRegistry(ref);
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const what = ref.digest ? formatImageRef({ registry: ref.registry, repository: ref.repository, digest: ref.digest }) : formatImageRef({ registry: ref.registry, repository: ref.repository, tag: reference });
    const res = await this.send('HEAD', ref.repository, `/v2/${ref.repository}/manifests/${reference}`, signal);
    if (res.status === 404) throw new RegistryError(`${what} is not in the registry ${this.registry} (404): check the repository and the tag, and that the push succeeded.`, 'not-found');
    this.check(res, what);
    const digest = res.headers.get('docker-content-digest');
    if (digest && /^sha(256|512):[a-f0-9]+$/.test(digest)) return digest;
    // Some registries leave the header off HEAD answers: the digest is then the hash of the manifest's bytes.
    const get = await this.send('GET', ref.repository, `/v2/${ref.repository}/manifests/${reference}`, signal);
    this.check(get, what);
    return `sha256:${createHash('sha256').update(Buffer.from(await get.arrayBuffer())).digest('hex')}`;
  }

  /** Whether the registry still holds the image `digest` of `repository` (garbage collection or a lifecycle rule may have removed it). */
  async hasDigest(repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    if (!DIGEST.test(digest)) throw new ImageRefError(`"${digest}" is not a digest (sha256: and 64 lowercase hex digits)`);
    const res = await this.send('HEAD', repository, `/v2/${repository}/manifests/${digest}`, signal);
    if (res.status === 404) return false;
    this.check(res, `${this.registry}/${repository}@${digest}`);
    return true;
  }

  private ownRegistry(ref: ImageRef): void {
    if (ref.registry !== this.registry) throw new Error(`the client for ${this.registry} was asked about ${formatImageRef(ref)}`);
  }

  private check(res: Response, what: string): void {
    if (res.ok) return;
    if (res.status === 401) {
      throw new RegistryError(
        `The registry ${this.registry} refused ${describe(this.options.credential)} for ${what} (401 Unauthorized): ` +
          (this.options.credential ? 'check the user name and password (or token), and that it has not expired.' : 'it needs credentials: log in with "docker login" or set them in the environment\'s registry settings.'),
        'unauthorized',
      );
    }
    if (res.status === 403) throw new RegistryError(`The registry ${this.registry} denied ${describe(this.options.credential)} access to ${what} (403 Forbidden): the account needs pull rights on the repository.`, 'denied');
    throw new RegistryError(`The registry ${this.registry} answered ${res.status} ${res.statusText} for ${what}.`, 'protocol');
  }

  private async send(method: string, repository: string, pathname: string, signal?: AbortSignal): Promise<Response> {
    const scope = `repository:${repository}:pull`;
    let res = await this.fetch(method, pathname, this.authorization(scope), signal);
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
    await res.body?.cancel();
    if (!challenge) return res;
    const auth = await this.authenticate(challenge, scope, signal);
    if (!auth) return res;
    res = await this.fetch(method, pathname, auth, signal);
    return res;
  }

  private authorization(scope: string): string | undefined {
    const token = this.tokens.get(scope);
    if (token) return `Bearer ${token}`;
    const c = this.options.credential;
    if (this.basic && c && 'password' in c) return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    return undefined;
  }

  /** The Authorization header a challenge asks for, or undefined when there is nothing to answer it with. */
  private async authenticate(challenge: Challenge, scope: string, signal?: AbortSignal): Promise<string | undefined> {
    const c = this.options.credential;
    if (challenge.scheme === 'basic') {
      if (!c || !('password' in c)) return undefined;
      this.basic = true;
      return this.authorization(scope);
    }
    if (challenge.scheme !== 'bearer') throw new RegistryError(`The registry ${this.registry} asks for "${challenge.scheme}" authentication, which is not supported (only Bearer and Basic are).`, 'protocol');
    if (c && 'registryToken' in c) return `Bearer ${c.registryToken}`;
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`The registry ${this.registry} sent a Bearer challenge without a realm.`, 'protocol');
    let url: URL;
    try {
      url = new URL(realm);
    } catch (err) {
      throw new RegistryError(`The registry ${this.registry} sent a token realm that is not a URL.`, 'protocol', { cause: err });
    }
    const refused = realmProblem(url, this.registry === DOCKER_HUB ? DOCKER_HUB_API : this.registry, this.base.startsWith('http:'));
    if (refused) throw new RegistryError(`The registry ${this.registry} sent its clients for a token to ${url.origin}, which is refused: ${refused}. The credentials were not sent.`, 'protocol');
    const service = challenge.params.service;
    let res: Response;
    try {
      if (c && 'identityToken' in c) {
        // Docker's OAuth2 flow for identity tokens: a refresh-token grant.
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, client_id: 'encore-environments', scope });
        if (service) form.set('service', service);
        res = await fetch(url, { method: 'POST', body: form, signal: this.signal(signal) });
      } else {
        if (service) url.searchParams.set('service', service);
        url.searchParams.set('scope', scope);
        const headers: Record<string, string> = {};
        if (c && 'password' in c) headers.Authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
        res = await fetch(url, { headers, signal: this.signal(signal) });
      }
    } catch (err) {
      throw this.unreachable(err, `its token service ${url.origin}`);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new RegistryError(
        `The token service ${url.origin} of the registry ${this.registry} refused ${describe(c)} (${res.status}): ` +
          (c ? 'check the user name and password (or token), and that it has not expired.' : 'it needs credentials: log in with "docker login" or set them in the environment\'s registry settings.'),
        'unauthorized',
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryError(`The token service ${url.origin} of the registry ${this.registry} answered ${res.status} ${res.statusText}.`, 'protocol');
    }
    let body: { token?: string; access_token?: string };
    try {
      body = (await res.json()) as { token?: string; access_token?: string };
    } catch (err) {
      throw new RegistryError(`The token service ${url.origin} of the registry ${this.registry} answered something that is not JSON.`, 'protocol', { cause: err });
    }
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`The token service ${url.origin} of the registry ${this.registry} answered without a token.`, 'protocol');
    this.tokens.set(scope, token);
    return `Bearer ${token}`;
  }

  private signal(signal?: AbortSignal): AbortSignal {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
  }

  private async fetch(method: string, pathname: string, authorization: string | undefined, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT };
    if (authorization) headers.Authorization = authorization;
    try {
      return await fetch(`${this.base}${pathname}`, { method, headers, signal: this.signal(signal), redirect: 'follow' });
    } catch (err) {
      throw this.unreachable(err, this.base);
    }
  }

  private unreachable(err: unknown, what: string): Error {
    if (err instanceof Error && err.name === 'AbortError') return err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (err instanceof Error && err.name === 'TimeoutError') return new RegistryError(`The registry ${this.registry} (${what}) gave no answer within ${(this.options.timeoutMs ?? 30_000) / 1000} s.`, 'unreachable', { cause: err });
    return new RegistryError(`Cannot reach the registry ${this.registry} (${what}): ${cause?.code ?? cause?.message ?? (err as Error).message}. Check the address and your network.`, 'unreachable', { cause: err });
  }
}
