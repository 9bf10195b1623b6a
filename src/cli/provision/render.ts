/**
 * Text for people: the plan as a diff grouped by resource (unchanged ones only counted), one progress line per
 * event, and the outcome. `--json` prints the Plan and ApplyResult objects instead (src/model/plan.ts).
 */

import type { JsonValue } from '../../model/desiredGraph';
import { WITHOUT_SNAPSHOT, type ApplyResult, type CostEstimate, type Plan, type PlanEntry, type ProgressEvent } from '../../model/plan';
import type { FieldChange } from '../../model/providerApi';

const usd = (n: number) => `$${n.toFixed(2)}`;

/** The estimated monthly cost, per resource and in total, marked as an estimate with its prices' date and source. */
export function renderCost(cost: CostEstimate): string[] {
  const unknown = cost.lines.filter((l) => l.monthlyUsd === null).length;
  const lines = [`  estimated cost: about ${usd(cost.monthlyUsd)} a month${cost.complete ? '' : ` plus ${unknown} resource${unknown === 1 ? '' : 's'} whose price is unknown`} (an estimate: on-demand prices of ${cost.pricesTakenAt}, ${cost.source}; usage not included)`];
  for (const l of cost.lines) lines.push(`    ${l.monthlyUsd === null ? 'unknown' : usd(l.monthlyUsd).padStart(9)}  ${l.id}: ${l.basis}`);
  return lines;
}

const SIGN: Record<PlanEntry['action'], string> = { create: '+', update: '~', delete: '-', keep: ' ' };

/** `who`: the identity that acts, said before anything else (the provider's principal and where). */
export function renderPlan(plan: Plan, where: string, who?: string): string {
  const { create, update, delete: del, keep } = plan.counts;
  const lines: string[] = [];
  const what = plan.operation === 'destroy' ? 'Destroy plan' : 'Plan';
  if (who) lines.push(`Acting as ${who}.`);
  lines.push(`${what} for environment "${plan.environment}" (${where}): ${create} to create, ${update} to update, ${del} to delete, ${keep} unchanged.`);
  for (const note of plan.notes) lines.push(`  note: ${note}`);
  if (plan.cost) lines.push(...renderCost(plan.cost));
  const changing = plan.entries.filter((e) => e.action !== 'keep');
  if (changing.length > 0) lines.push('');
  for (const e of changing) {
    const marks = [
      e.replace ? 'replace' : '', e.adopt ? (e.foreign ? 'adopt: made outside the tool' : 'take back') : '', e.leave ? 'adopted: left in place' : '',
      e.drifted ? 'drifted' : '', e.stateful && e.action === 'delete' && !e.leave ? 'holds data' : '',
    ].filter(Boolean);
    lines.push(`  ${SIGN[e.action]} ${e.id}  ${e.summary}${marks.length ? `  [${marks.join(', ')}]` : ''}`);
    lines.push(`      ${e.reason}`);
    for (const c of e.changes) lines.push(`      ${renderChange(c)}`);
    if (e.drifted && e.drift.length > 0) {
      lines.push('      changed outside the tool (recorded → live):');
      for (const c of e.drift) lines.push(`        ${renderChange(c)}`);
    }
  }
  if (plan.statefulDeletes.length > 0) {
    lines.push('', `Resources that hold data and would be deleted (their data is lost; this needs --confirm ${plan.environment}):`);
    for (const id of plan.statefulDeletes) {
      const e = plan.entries.find((x) => x.id === id);
      lines.push(`  ! ${id}  ${e?.summary ?? ''}`);
    }
    if (plan.finalSnapshots?.length) {
      lines.push(`  A final snapshot of ${plan.finalSnapshots.join(', ')} is kept when deleted; --confirm "${plan.environment} ${WITHOUT_SNAPSHOT}" deletes without one.`);
    }
  }
  if (plan.foreignAdoptions.length > 0) {
    lines.push('', 'Objects that exist but were not made by this tool, which apply would take over (this needs --adopt; destroy leaves them in place):');
    for (const id of plan.foreignAdoptions) {
      const e = plan.entries.find((x) => x.id === id);
      lines.push(`  ! ${id}  ${e?.summary ?? ''}`);
    }
  }
  if (changing.length === 0) lines.push('', plan.operation === 'destroy' ? 'Nothing is recorded for this environment: there is nothing to destroy.' : 'No changes: the environment matches the app.');
  return `${lines.join('\n')}\n`;
}

function renderChange(c: FieldChange): string {
  if (c.sensitive) return `${c.path}: (sensitive value changes)`;
  const after = c.knownAfterApply ? `${show(c.after)} (known after apply)` : show(c.after);
  if (c.before === undefined) return `${c.path}: + ${after}`;
  if (c.after === undefined) return `${c.path}: - ${show(c.before)}`;
  return `${c.path}: ${show(c.before)} → ${after}`;
}

function show(v: JsonValue | undefined): string {
  const text = JSON.stringify(v) ?? 'undefined';
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function renderEvent(e: ProgressEvent): string {
  const at = e.step > 0 ? `[${e.step}/${e.total}]` : `[-/${e.total}]`;
  switch (e.phase) {
    case 'start':
      return `${at} ${e.message}…`;
    case 'progress':
      return `${at}   ${e.resourceId}: ${e.message}`;
    case 'done':
      return `${at} ✓ ${e.message}`;
    case 'failed':
      return `${at} ✗ ${e.message}`;
    case 'skipped':
      return `${at} - ${e.resourceId} ${e.message}`;
  }
}

export function renderResult(r: ApplyResult): string {
  const seconds = (r.durationMs / 1000).toFixed(1);
  const parts = [`${r.done.length} done`];
  if (r.failed.length) parts.push(`${r.failed.length} ${r.outcome === 'cancelled' ? 'interrupted' : 'failed'}`);
  if (r.skipped.length) parts.push(`${r.skipped.length} not started`);
  const head =
    r.outcome === 'succeeded' ? `${capital(r.operation)} of "${r.environment}" finished in ${seconds} s: ${parts.join(', ')}.`
    : r.outcome === 'cancelled' ? `${capital(r.operation)} of "${r.environment}" was cancelled after ${seconds} s: ${parts.join(', ')}. Run it again to finish.`
    : `${capital(r.operation)} of "${r.environment}" failed after ${seconds} s: ${parts.join(', ')}.`;
  const lines = [head];
  for (const f of r.failed) lines.push(`  ✗ ${f.id}: ${f.error}`);
  if (r.error) lines.push(`  ${r.error}`);
  if (r.outcome === 'failed') lines.push('  State records what was done; fix the cause and run it again: it continues where it stopped.');
  return `${lines.join('\n')}\n`;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
