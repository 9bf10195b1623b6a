/**
 * A CronJob per Encore cron job (planner/cron.ts): at the schedule (UTC), a pod calls the endpoint on its service's
 * in-cluster address, as a scheduled call (`X-Encore-Cron-Trigger: scheduled`, the header Encore's runtime checks).
 *
 * The request's pieces go in as environment variables rather than into the script, so the script is the same for
 * every job and the values read back exactly (drift detection). When the interval cannot be one cron line (every
 * 90 minutes from midnight), the CronJob fires on a finer step and the script skips the runs in between; it rounds
 * the current minute down to the step first, so a pod that starts a little late still counts as its slot.
 *
 * The service-to-service key is given to the pod (ENCORE_SERVICE_AUTH_KEY) for the request signature that private
 * endpoints require. Encore's signature scheme is not in our notes, so no signature header is computed yet: a
 * private cron endpoint will refuse the call until it is (see the provider's README section).
 */

import type { DesiredResource, JsonObject } from '../../../../model/desiredGraph';
import type { KubeObject } from '../client';
import { ANNOTATION, meta, obj, str, type EnvVar, type RenderContext } from './common';

export const CRON_SCRIPT = [
  'set -eu',
  'if [ -n "${ONLY_AT_MINUTE_OF_DAY_MULTIPLE_OF:-}" ]; then',
  // "1" before a two-digit hour or minute keeps "08" from reading as octal (108 - 100 = 8), with no expr (whose
  // exit status is 1 for a result of 0, which `set -e` would take for a failure at midnight).
  '  m=$(( ($(date -u +1%H) - 100) * 60 + $(date -u +1%M) - 100 ))',
  '  slot=$(( m / STEP_MINUTES * STEP_MINUTES ))',
  '  if [ $(( slot % ONLY_AT_MINUTE_OF_DAY_MULTIPLE_OF )) -ne 0 ]; then echo "not a scheduled minute ($slot)"; exit 0; fi',
  'fi',
  'exec curl -fsS --max-time 600 -X "$METHOD" -H "X-Encore-Cron-Trigger: scheduled" -H "Content-Type: application/json" "$URL"',
].join('\n');

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
              containers: [{ name: 'call', image: str(s, 'image', r.id), command: ['sh', '-c', CRON_SCRIPT], env }],
            },
          },
        },
      },
    },
  };
}

export type { JsonObject };
