/**
 * Encore's service-to-service signature (auth method `encore-auth`), which a caller such as a CronJob must send for
 * Encore's runtime to let it reach a private (`expose: false`) endpoint; and the verifier, written from how the
 * runtime checks it, so tests can prove a signed call is accepted and a tampered one refused.
 * ../shared/notes/encore-service-auth.md has the scheme and Encore's own test vector.
 *
 * A key is the string of the infra config's `auth` entry (`{type: "key", id, key}`); its UTF-8 bytes are the HMAC
 * key material. Keys are secrets: nothing here logs them or puts them in an error message.
 */

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const AUTH_METHOD = 'encore-auth';
export const SCHEME = 'ENCORE1-HMAC-SHA3-256';
/** How far the date of a call may be from the verifier's clock, either way (the runtime's limit). */
export const MAX_CLOCK_SKEW_MS = 120_000;

export const HEADER = {
  method: 'x-encore-meta-svc-auth-method',
  date: 'x-encore-meta-date',
  auth: 'x-encore-meta-svc-auth',
  caller: 'x-encore-meta-caller',
  version: 'x-encore-meta-version',
} as const;

/**
 * The meta headers the operation hash covers, in order of name. The three auth headers and traceparent/tracestate
 * are Encore meta keys too but are skipped; any other header of the request is not part of the signature.
 */
const SIGNED_META = ['x-correlation-id', 'x-encore-meta-authdata', 'x-encore-meta-callee', 'x-encore-meta-caller', 'x-encore-meta-userid', 'x-encore-meta-version'] as const;

export interface ServiceAuthKey {
  /** The key id (a non-negative integer): the verifier picks the key by it. */
  id: number;
  /** The key string; its UTF-8 bytes are the key. */
  key: string;
}

/** Request headers, as Node gives them (names in any case; a repeated header as an array). */
export type Headers = Record<string, string | string[] | undefined>;

/** The values of a header, by lowercase name, with every repetition. */
function values(headers: Headers, name: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name || v === undefined) continue;
    out.push(...(Array.isArray(v) ? v : [v]));
  }
  return out;
}

const sha3 = (data: Buffer | string) => createHash('sha3-256').update(data).digest();
const hmac = (key: Buffer, data: Buffer | string) => createHmac('sha3-256', key).update(data).digest();

/** The operation hash of an internal API call: what the signature binds the request's meta headers with. */
export function operationHash(headers: Headers): Buffer {
  const payload = createHash('sha3-256');
  for (const name of SIGNED_META) {
    for (const value of values(headers, name).sort()) payload.update(`${name}=${value}\n`);
  }
  const p = payload.digest();
  const length = Buffer.alloc(4);
  length.writeUInt32LE(p.length);
  return sha3(Buffer.concat([Buffer.from('internal-api'), Buffer.from('call'), Buffer.from([0]), length, p]));
}

/** YYYYMMDD of a time, in UTC. */
export function credDate(time: Date): string {
  return time.toISOString().slice(0, 10).replace(/-/g, '');
}

/** The key that signs on one day for one app and environment, derived from the key string. */
export function signingKey(key: string, date: string, appSlug: string, envName: string): Buffer {
  const k0 = Buffer.concat([Buffer.from('ENCORE1'), Buffer.from(key, 'utf8')]);
  return hmac(hmac(hmac(hmac(k0, date), appSlug), envName), 'encore_request');
}

/** RFC 3339 in UTC with whole seconds and `Z`. */
function rfc3339(time: Date): string {
  return time.toISOString().replace(/\.\d+Z$/, 'Z');
}

export function stringToSign(time: Date, cred: string, opHash: Buffer): string {
  return [SCHEME, rfc3339(time), cred, opHash.toString('hex')].join('\n');
}

export interface SignTarget {
  /** The app's slug (the infra config's `metadata.app_id`). */
  appSlug: string;
  /** The environment's name (`metadata.env_name`). */
  envName: string;
}

function authHeader(key: ServiceAuthKey, target: SignTarget, time: Date, opHash: Buffer): string {
  const cred = `${credDate(time)}/${target.appSlug}/${target.envName}/${key.id}`;
  const sig = hmac(signingKey(key.key, credDate(time), target.appSlug, target.envName), stringToSign(time, cred, opHash)).toString('hex');
  return `${SCHEME} cred="${cred}", op=${opHash.toString('hex')}, sig=${sig}`;
}

/** The key that signs: the newest (highest id) of the configured ones. */
export function signingKeyOf(keys: readonly ServiceAuthKey[]): ServiceAuthKey {
  if (keys.length === 0) throw new Error('no service-auth key is configured: the environment needs one to sign calls to private endpoints (apply the environment to create it)');
  return keys.reduce((a, b) => (b.id > a.id ? b : a));
}

/**
 * The three auth headers for a call carrying `headers` (its other meta headers, such as the caller), signed at
 * `now` (whole seconds) with the newest of `keys`. Add them to the request along with `headers`.
 */
export function signCall(keys: readonly ServiceAuthKey[], target: SignTarget, headers: Headers = {}, now: Date = new Date()): Record<string, string> {
  const time = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return {
    [HEADER.method]: AUTH_METHOD,
    [HEADER.date]: time.toUTCString(),
    [HEADER.auth]: authHeader(signingKeyOf(keys), target, time, operationHash(headers)),
  };
}

export type Verdict = { ok: true; keyId: number } | { ok: false; reason: string };

/** `cred="…", op=…, sig=…` with exactly those parameters, in that form. */
function parseAuthHeader(header: string): { cred: string; op: string; sig: string } | string {
  if (!header.startsWith(`${SCHEME} `)) return `the scheme is not ${SCHEME}`;
  const params = new Map<string, string>();
  for (const part of header.slice(SCHEME.length + 1).split(', ')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return `malformed parameter "${part.slice(0, 40)}"`;
    const name = part.slice(0, eq);
    let value = part.slice(eq + 1);
    if (!['cred', 'op', 'sig'].includes(name)) return `unknown parameter "${name}"`;
    if (params.has(name)) return `parameter "${name}" given twice`;
    if (name === 'cred') {
      if (!/^".*"$/.test(value)) return 'cred is not quoted';
      value = value.slice(1, -1);
    }
    params.set(name, value);
  }
  const [cred, op, sig] = [params.get('cred'), params.get('op'), params.get('sig')];
  if (cred === undefined || op === undefined || sig === undefined) return 'cred, op and sig are all required';
  return { cred, op, sig };
}

/**
 * Verifies an internal call's signature as Encore's runtime does: the method must be `encore-auth`; the key id in
 * the cred picks one of `keys` (all of them verify, for rotation); the cred must name this app and environment and
 * the date header's day; the date must be within 120 s of `now`; and the whole auth header, recomputed from the
 * request received (so its meta headers) must equal the one sent, compared in constant time.
 */
export function verifyCall(keys: readonly ServiceAuthKey[], target: SignTarget, headers: Headers, now: Date = new Date()): Verdict {
  const one = (name: string): string | undefined => {
    const v = values(headers, name);
    return v.length === 1 ? v[0] : undefined;
  };
  const method = one(HEADER.method);
  if (method !== AUTH_METHOD) return { ok: false, reason: method === undefined ? 'no auth method header' : `unknown auth method "${method.slice(0, 40)}"` };
  const version = values(headers, HEADER.version);
  if (version.length > 0 && (version.length > 1 || version[0] !== '1')) return { ok: false, reason: 'unsupported meta version' };
  const dateHeader = one(HEADER.date);
  const authValue = one(HEADER.auth);
  if (dateHeader === undefined || authValue === undefined) return { ok: false, reason: 'the date or the auth header is missing' };
  const time = new Date(dateHeader);
  if (Number.isNaN(time.getTime())) return { ok: false, reason: 'the date header is not an HTTP date' };
  if (Math.abs(now.getTime() - time.getTime()) > MAX_CLOCK_SKEW_MS) return { ok: false, reason: 'the date is more than 120 s away from this clock' };
  const parsed = parseAuthHeader(authValue);
  if (typeof parsed === 'string') return { ok: false, reason: parsed };
  const [date, appSlug, envName, keyIdText, ...extra] = parsed.cred.split('/');
  if (extra.length > 0 || keyIdText === undefined || !/^\d+$/.test(keyIdText)) return { ok: false, reason: 'malformed cred' };
  if (date !== credDate(time)) return { ok: false, reason: "the cred's date is not the date header's day" };
  if (appSlug !== target.appSlug || envName !== target.envName) return { ok: false, reason: 'the cred names another app or environment' };
  const key = keys.find((k) => k.id === Number(keyIdText));
  if (!key) return { ok: false, reason: `unknown key id ${keyIdText}` };
  const expected = Buffer.from(authHeader(key, target, time, operationHash(headers)));
  const received = Buffer.from(authValue);
  if (expected.length !== received.length || !timingSafeEqual(expected, received)) return { ok: false, reason: 'the signature does not match' };
  return { ok: true, keyId: key.id };
}

// ---------------------------------------------------------------------------------------------------------------
// keys and rotation

/** A new key: 32 random bytes, base64url-encoded (the string is the key; 256 bits, safe in JSON and env vars). */
export function generateKey(id: number): ServiceAuthKey {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) throw new RangeError(`a service-auth key id is an integer from 0 to 4294967295, not ${id}`);
  return { id, key: randomBytes(32).toString('base64url') };
}

/** An entry of the infra config's `auth` list; `fromEnv` names the variable the pod gets the key from (a Secret). */
export function infraConfigAuthEntry(key: ServiceAuthKey, fromEnv?: string): { type: 'key'; id: number; key: string | { $env: string } } {
  return { type: 'key', id: key.id, key: fromEnv ? { $env: fromEnv } : key.key };
}

/**
 * Starts a rotation: adds a key with the next id, which signs from now on, while the old one still verifies calls
 * signed before every caller had the new one. Refused while a rotation is in progress (two keys).
 */
export function startRotation(keys: readonly ServiceAuthKey[]): ServiceAuthKey[] {
  if (keys.length >= 2) throw new Error(`a service-auth key rotation is already in progress (keys ${keys.map((k) => k.id).join(' and ')}): finish it before starting another`);
  const next = keys.length === 0 ? 1 : signingKeyOf(keys).id + 1;
  return [...keys, generateKey(next)];
}

/** Ends a rotation: only the newest key is kept, so calls signed with the old one are refused from then on. */
export function finishRotation(keys: readonly ServiceAuthKey[]): ServiceAuthKey[] {
  return [signingKeyOf(keys)];
}
