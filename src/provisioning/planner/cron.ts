/**
 * Cron jobs. Encore Cloud calls cron endpoints from its control plane, so a self-hosted environment needs its own
 * scheduler (notes §1.3, §3.10): a Kubernetes CronJob per job that calls the endpoint on the service's in-cluster
 * address, marked as a scheduled call with Encore's `X-Encore-Cron-Trigger: scheduled` header and signed with the
 * environment's service-auth key as Encore's runtime verifies an internal call (`encore-auth`, caller
 * `app:cron-<job>`), so private endpoints accept it. Schedules run in UTC, as Encore's do.
 */

import type { CronJob } from '../../model/appModel';
import { CRON_IMAGE, PORT, SERVICE_AUTH, serviceAuthKey } from './constants';
import type { PlanContext } from './context';
import { dnsLabel } from './names';
import { workloadName } from './workloads';

export { CRON_IMAGE };

export interface CronSchedule {
  /** A 5-field cron expression. */
  expression: string;
  /**
   * When set, the job runs only at minutes of the day (UTC) that are multiples of this interval, and the
   * expression fires more often than that. Encore's `every` is aligned to midnight and must divide 24 hours, but
   * an interval such as 90 minutes starts at a different minute each hour, which one cron line cannot express:
   * the CronJob fires every 30 minutes (the largest step both the interval and an hour divide) and skips the runs
   * in between.
   */
  minuteOfDayMultipleOf: number | null;
}

/** Encore's schedule (`every:<minutes>` or `schedule:<expr>`) for a CronJob, or null when Encore would reject it. */
export function cronSchedule(schedule: string): CronSchedule | null {
  if (schedule.startsWith('schedule:')) {
    const expression = schedule.slice('schedule:'.length).trim();
    return expression ? { expression, minuteOfDayMultipleOf: null } : null;
  }
  const m = /^every:(\d+)$/.exec(schedule);
  if (!m) return null;
  const minutes = Number(m[1]);
  if (minutes <= 0 || DAY_MINUTES % minutes !== 0) return null;
  const exact = (expression: string): CronSchedule => ({ expression, minuteOfDayMultipleOf: null });
  if (minutes === 1) return exact('* * * * *');
  if (minutes < 60 && 60 % minutes === 0) return exact(`*/${minutes} * * * *`);
  if (minutes % 60 === 0) {
    const hours = minutes / 60;
    return exact(hours === 1 ? '0 * * * *' : hours === 24 ? '0 0 * * *' : `0 */${hours} * * *`);
  }
  const step = gcd(minutes, 60);
  return { expression: step === 1 ? '* * * * *' : `*/${step} * * * *`, minuteOfDayMultipleOf: minutes };
}

const DAY_MINUTES = 24 * 60;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function planCronJobs(ctx: PlanContext, appId: string): void {
  for (const job of ctx.model.cronJobs) {
    if (job.endpoint === null) ctx.warnings.push(`Cron job ${job.name} calls no endpoint Encore can resolve, so it is not scheduled.`);
  }
  for (const job of ctx.needs.cronJobs) planCronJob(ctx, job, appId);
}

function planCronJob(ctx: PlanContext, job: CronJob, appId: string): void {
  const target = job.endpoint as { service: string; name: string };
  const endpoint = ctx.model.endpoints.find((e) => e.service === target.service && e.name === target.name);
  if (!endpoint) {
    ctx.warnings.push(`Cron job ${job.name} calls ${target.service}.${target.name}, which is not an endpoint of the app, so it is not scheduled.`);
    return;
  }
  const schedule = cronSchedule(job.schedule);
  if (schedule === null) {
    ctx.warnings.push(`Cron job ${job.name} has the schedule "${job.schedule}", which Encore does not accept ("every" must divide 24 hours), so it is not scheduled.`);
    return;
  }
  const workload = workloadName(target.service);
  const method = endpoint.methods.includes('POST') ? 'POST' : endpoint.methods[0];
  const name = dnsLabel('', job.name, 52); // CronJob names are at most 52 characters (Job names add 11)
  // The newest key signs: during a rotation every service already verifies it (they get both keys first).
  const signingId = Math.max(...ctx.serviceAuthKeyIds);
  ctx.add({
    id: `k8s:cronjob:${name}`,
    kind: 'cronJob',
    providerType: 'k8s/batch/v1/CronJob',
    name,
    source: { kind: 'cronJob', name: job.name },
    settings: {
      schedule: schedule.expression,
      runOnlyAtMinuteOfDayMultipleOf: schedule.minuteOfDayMultipleOf,
      timeZone: 'Etc/UTC',
      title: job.title,
      concurrencyPolicy: 'Forbid',
      image: ctx.image(CRON_IMAGE),
      request: {
        method,
        url: `http://${ctx.names.serviceHost(workload)}:${PORT}${endpoint.path}`,
        headers: { 'X-Encore-Cron-Trigger': 'scheduled' },
        signWith: { secret: SERVICE_AUTH.name, key: serviceAuthKey(signingId).key, keyId: signingId, appSlug: appId, envName: ctx.env.name, caller: `app:cron-${name}` },
      },
    },
    dependsOn: [...ctx.k8sBase, `k8s:deployment:${workload}`, `k8s:service:${workload}`, SERVICE_AUTH.id],
    summary: `${job.name} cron → CronJob "${schedule.expression}"${schedule.minuteOfDayMultipleOf ? ` (every ${schedule.minuteOfDayMultipleOf} minutes from midnight UTC)` : ''} calling ${target.service}.${target.name}`,
  });
}
