/**
 * Cron jobs. Encore Cloud calls cron endpoints from its control plane, so a self-hosted environment needs its own
 * scheduler (notes §1.3, §3.10): a Kubernetes CronJob per job that calls the endpoint on the service's in-cluster
 * address, marked as a scheduled call with Encore's `X-Encore-Cron-Trigger: scheduled` header and signed with the
 * service-to-service key (private endpoints accept only signed calls). Schedules run in UTC, as Encore's do.
 */

import type { CronJob } from '../../model/appModel';
import { PORT, SERVICE_AUTH } from './constants';
import type { PlanContext } from './context';
import { dnsLabel } from './names';
import { workloadName } from './workloads';

export const CRON_IMAGE = 'curlimages/curl:8.14.1';

/**
 * Encore's schedule (`every:<minutes>` or `schedule:<expr>`) as a 5-field cron expression, or null when cron cannot
 * say it. An interval is exact only when it divides an hour (`*\/15 * * * *`) or is whole hours dividing a day
 * (`0 *\/6 * * *`). Encore requires `every` to divide 24 hours, but an interval such as 90 minutes still starts
 * at a different minute each hour, which one cron line cannot express.
 */
export function cronExpression(schedule: string): string | null {
  if (schedule.startsWith('schedule:')) return schedule.slice('schedule:'.length).trim() || null;
  const m = /^every:(\d+)$/.exec(schedule);
  if (!m) return null;
  const minutes = Number(m[1]);
  if (minutes <= 0) return null;
  if (minutes < 60 && 60 % minutes === 0) return minutes === 1 ? '* * * * *' : `*/${minutes} * * * *`;
  if (minutes % 60 === 0 && 24 % (minutes / 60) === 0) {
    const hours = minutes / 60;
    return hours === 1 ? '0 * * * *' : hours === 24 ? '0 0 * * *' : `0 */${hours} * * *`;
  }
  return null;
}

export function planCronJobs(ctx: PlanContext): void {
  for (const job of ctx.model.cronJobs) {
    if (job.endpoint === null) ctx.warnings.push(`Cron job ${job.name} calls no endpoint Encore can resolve, so it is not scheduled.`);
  }
  for (const job of ctx.needs.cronJobs) planCronJob(ctx, job);
}

function planCronJob(ctx: PlanContext, job: CronJob): void {
  const target = job.endpoint as { service: string; name: string };
  const endpoint = ctx.model.endpoints.find((e) => e.service === target.service && e.name === target.name);
  if (!endpoint) {
    ctx.warnings.push(`Cron job ${job.name} calls ${target.service}.${target.name}, which is not an endpoint of the app, so it is not scheduled.`);
    return;
  }
  const schedule = cronExpression(job.schedule);
  if (schedule === null) {
    ctx.warnings.push(`Cron job ${job.name} runs ${job.schedule.replace(':', ' ')}${job.schedule.startsWith('every:') ? ' minutes' : ''}, which a Kubernetes CronJob cannot express exactly, so it is not scheduled. Use an interval that divides an hour, or whole hours that divide a day.`);
    return;
  }
  const workload = workloadName(target.service);
  const method = endpoint.methods.includes('POST') ? 'POST' : endpoint.methods[0];
  const name = dnsLabel('', job.name, 52); // CronJob names are at most 52 characters (Job names add 11)
  ctx.add({
    id: `k8s:cronjob:${name}`,
    kind: 'cronJob',
    providerType: 'k8s/batch/v1/CronJob',
    name,
    source: { kind: 'cronJob', name: job.name },
    settings: {
      schedule,
      timeZone: 'Etc/UTC',
      title: job.title,
      concurrencyPolicy: 'Forbid',
      image: CRON_IMAGE,
      request: {
        method,
        url: `http://${ctx.names.serviceHost(workload)}:${PORT}${endpoint.path}`,
        headers: { 'X-Encore-Cron-Trigger': 'scheduled' },
        signWith: { secret: SERVICE_AUTH.name, key: SERVICE_AUTH.key },
      },
    },
    dependsOn: [...ctx.k8sBase, `k8s:deployment:${workload}`, `k8s:service:${workload}`, SERVICE_AUTH.id],
    summary: `${job.name} cron → CronJob "${schedule}" calling ${target.service}.${target.name}`,
  });
}
