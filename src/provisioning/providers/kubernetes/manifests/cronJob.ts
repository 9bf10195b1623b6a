/**
 * A CronJob per Encore cron job (planner/cron.ts): at the schedule (UTC), a pod calls the endpoint on its service's
 * in-cluster address, as a scheduled call (`X-Encore-Cron-Trigger: scheduled`, the header Encore's runtime checks),
 * signed with the environment's service-auth key the way Encore's runtime verifies internal calls
 * (`encore-auth`, ../shared/notes/encore-service-auth.md; deploy/serviceAuth.ts is the same scheme in TypeScript),
 * so private (`expose: false`) cron endpoints accept it.
 *
 * The pod runs Node (the image has it for SHA3-256 and fetch): the script is the same for every job, and the
 * request's pieces go in as environment variables, so the values read back exactly (drift detection) and the key
 * comes from the Secret only. When the interval cannot be one cron line (every 90 minutes from midnight), the
 * CronJob fires on a finer step and the script skips the runs in between; it rounds the current minute down to the
 * step first, so a pod that starts a little late still counts as its slot.
 */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import type { KubeObject } from '../client';
import { ANNOTATION, meta, num, obj, str, type EnvVar, type RenderContext } from './common';

/** The cron pod's program (`node -e`): the minute guard, the encore-auth signature, the call. */
export const CRON_SCRIPT = String.raw`'use strict';
const crypto = require('crypto');
const e = process.env;
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const multiple = Number(e.ONLY_AT_MINUTE_OF_DAY_MULTIPLE_OF || 0);
if (multiple > 0) {
  const step = Number(e.STEP_MINUTES);
  const minute = now.getUTCHours() * 60 + now.getUTCMinutes();
  const slot = Math.floor(minute / step) * step;
  if (slot % multiple !== 0) { console.log('not a scheduled minute (' + slot + ')'); process.exit(0); }
}
const sha3 = (d) => crypto.createHash('sha3-256').update(d).digest();
const hmac = (k, d) => crypto.createHmac('sha3-256', k).update(d).digest();
const meta = { 'x-encore-meta-caller': e.ENCORE_CALLER, 'x-encore-meta-version': '1' };
const p = crypto.createHash('sha3-256');
for (const name of Object.keys(meta).sort()) p.update(name + '=' + meta[name] + '\n');
const payload = p.digest();
const len = Buffer.alloc(4);
len.writeUInt32LE(payload.length);
const op = sha3(Buffer.concat([Buffer.from('internal-api'), Buffer.from('call'), Buffer.from([0]), len, payload]));
const day = now.toISOString().slice(0, 10).replace(/-/g, '');
const cred = day + '/' + e.ENCORE_APP_SLUG + '/' + e.ENCORE_ENV_NAME + '/' + e.ENCORE_SERVICE_AUTH_KEY_ID;
const k0 = Buffer.concat([Buffer.from('ENCORE1'), Buffer.from(e.ENCORE_SERVICE_AUTH_KEY || '', 'utf8')]);
const key = hmac(hmac(hmac(hmac(k0, day), e.ENCORE_APP_SLUG), e.ENCORE_ENV_NAME), 'encore_request');
const toSign = ['ENCORE1-HMAC-SHA3-256', now.toISOString().replace(/\.\d+Z$/, 'Z'), cred, op.toString('hex')].join('\n');
const sig = hmac(key, toSign).toString('hex');
const headers = {
  ...meta,
  'x-encore-meta-svc-auth-method': 'encore-auth',
  'x-encore-meta-date': now.toUTCString(),
  'x-encore-meta-svc-auth': 'ENCORE1-HMAC-SHA3-256 cred="' + cred + '", op=' + op.toString('hex') + ', sig=' + sig,
  'X-Encore-Cron-Trigger': 'scheduled',
  'Content-Type': 'application/json',
};
fetch(e.URL, { method: e.METHOD, headers, signal: AbortSignal.timeout(600000) })
  .then(async (res) => {
    const text = await res.text();
    console.log(e.METHOD + ' ' + e.URL + ': ' + res.status + (text ? ' ' + text.slice(0, 500) : ''));
    if (!res.ok) process.exit(22);
  })
  .catch((err) => { console.error(e.METHOD + ' ' + e.URL + ': ' + err.message); process.exit(7); });
`;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function renderCronJob(r: DesiredResource, ctx: RenderContext): KubeObject {
  const s = r.settings;
  const request = obj(s, 'request', r.id);
  const sign = obj(request, 'signWith', r.id);
  const headers = obj(request, 'headers', r.id);
  if (headers['X-Encore-Cron-Trigger'] !== 'scheduled') throw new Error(`${r.id}: the request must carry X-Encore-Cron-Trigger: scheduled`);
  const multiple = typeof s.runOnlyAtMinuteOfDayMultipleOf === 'number' ? s.runOnlyAtMinuteOfDayMultipleOf : null;
  const env: EnvVar[] = [
    { name: 'METHOD', value: str(request, 'method', r.id) },
    { name: 'URL', value: str(request, 'url', r.id) },
    ...(multiple ? [{ name: 'ONLY_AT_MINUTE_OF_DAY_MULTIPLE_OF', value: String(multiple) }, { name: 'STEP_MINUTES', value: String(gcd(multiple, 60)) }] : []),
    { name: 'ENCORE_CALLER', value: str(sign, 'caller', r.id) },
    { name: 'ENCORE_APP_SLUG', value: str(sign, 'appSlug', r.id) },
    { name: 'ENCORE_ENV_NAME', value: str(sign, 'envName', r.id) },
    { name: 'ENCORE_SERVICE_AUTH_KEY_ID', value: String(num(sign, 'keyId', r.id)) },
    { name: 'ENCORE_SERVICE_AUTH_KEY', valueFrom: { secretKeyRef: { name: str(sign, 'secret', r.id), key: str(sign, 'key', r.id) } } },
  ];
  const title = typeof s.title === 'string' ? s.title : null;
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: meta(r, ctx, { annotations: title ? { [ANNOTATION.title]: title } : {} }),
    spec: {
      schedule: str(s, 'schedule', r.id),
      timeZone: str(s, 'timeZone', r.id),
      concurrencyPolicy: str(s, 'concurrencyPolicy', r.id),
      // A run missed by more than 5 minutes (the controller was down) is skipped, as Encore skips missed runs.
      startingDeadlineSeconds: 300,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels: { ...(meta(r, ctx).labels ?? {}) } },
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: 900,
          template: {
            metadata: { labels: { ...(meta(r, ctx).labels ?? {}) } },
            spec: {
              restartPolicy: 'Never',
              automountServiceAccountToken: false,
              containers: [{ name: 'call', image: str(s, 'image', r.id), command: ['node', '-e', CRON_SCRIPT], env }],
            },
          },
        },
      },
    },
  };
}

export type { JsonObject };
