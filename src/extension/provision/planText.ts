// Pure (no vscode): a Plan as the text of a read-only `diff` document. The diff language is what every theme already
// colours, so creates read green and deletions red in light, dark and high-contrast themes without any styling of ours.
// Creates, updates (field old → new) and deletes each get a section; unchanged resources are only counted; the
// resources whose deletion loses data get a section of their own, in red, above everything else.
import type { JsonValue } from '../../model/desiredGraph';
import { WITHOUT_SNAPSHOT, type CostEstimate, type Plan, type PlanEntry } from '../../model/plan';
import type { FieldChange } from '../../model/providerApi';

/** `who`: the identity that acts (the provider's principal and where), said first. */
export function planText(plan: Plan, where: string, who?: string): string {
  const { create, update, delete: del, keep } = plan.counts;
  const title = plan.operation === 'destroy' ? 'Destroy plan' : 'Plan';
  const lines: string[] = [
    ...(who ? [`# Acting as ${who}`] : []),
    `# ${title} for environment "${plan.environment}" (${where})`,
    `# ${create} to create, ${update} to update, ${del} to delete, ${keep} unchanged${plan.offline ? ' (offline: planned against recorded state, drift not checked)' : ''}`,
  ];
  for (const note of plan.notes) lines.push(`# note: ${note}`);
  if (plan.cost && plan.operation === 'apply') lines.push(...costLines(plan.cost));
  const byAction = (a: PlanEntry['action']) => plan.entries.filter((e) => e.action === a);
  if (plan.statefulDeletes.length > 0) {
    lines.push('', `@@ Holds data and would be deleted: the data is lost (confirm with the name "${plan.environment}") @@`);
    for (const id of plan.statefulDeletes) {
      const e = plan.entries.find((x) => x.id === id);
      lines.push(`- ${id}  ${e?.summary ?? ''}${e?.replace ? '  [replaced]' : ''}`);
    }
    if (plan.finalSnapshots?.length) {
      lines.push(`# A final snapshot of ${plan.finalSnapshots.join(', ')} is kept when deleted, unless the confirmation is "${plan.environment} ${WITHOUT_SNAPSHOT}".`);
    }
  }
  if (plan.foreignAdoptions.length > 0) {
    lines.push('', '@@ Exists but was not made by this tool: Apply takes it over only when you confirm (Adopt), and Destroy leaves it in place @@');
    for (const id of plan.foreignAdoptions) lines.push(`! ${id}  ${plan.entries.find((x) => x.id === id)?.summary ?? ''}`);
  }
  section(lines, 'Create', byAction('create'), (e) => [`+ ${head(e)}`, `    ${e.reason}`]);
  section(lines, 'Update', byAction('update'), (e) => [
    `! ${head(e)}`,
    `    ${e.reason}`,
    ...e.changes.flatMap(change),
  ]);
  section(lines, 'Delete', byAction('delete'), (e) => [`- ${head(e)}`, `    ${e.reason}`]);
  const drifted = plan.entries.filter((e) => e.drifted);
  section(lines, 'Drifted (changed outside the tool; recorded → live)', drifted, (e) => [`! ${e.id}  ${e.summary}`, ...e.drift.flatMap(change)]);
  if (keep > 0) lines.push('', `@@ Unchanged: ${keep} @@`, `  ${byAction('keep').map((e) => e.id).join(', ')}`);
  if (create + update + del === 0) {
    lines.push('', plan.operation === 'destroy' ? '# Nothing is recorded for this environment: there is nothing to destroy.' : '# No changes: the environment matches the app.');
  }
  return `${lines.join('\n')}\n`;
}

function section(lines: string[], title: string, entries: PlanEntry[], render: (e: PlanEntry) => string[]): void {
  if (entries.length === 0) return;
  lines.push('', `@@ ${title}: ${entries.length} @@`);
  for (const e of entries) lines.push(...render(e));
}

function head(e: PlanEntry): string {
  const marks = [
    e.replace && 'replace', e.adopt && (e.foreign ? 'adopt: made outside the tool' : 'take back'), e.leave && 'adopted: left in place',
    e.drifted && 'drifted', e.stateful && !e.leave && 'holds data',
  ].filter(Boolean);
  return `${e.id}  ${e.summary}${marks.length ? `  [${marks.join(', ')}]` : ''}`;
}

/** One change as a removed and an added line, so the old value reads red and the new one green. */
function change(c: FieldChange): string[] {
  if (c.sensitive) return [`    ${c.path}: (sensitive value changes)`];
  const out: string[] = [];
  if (c.before !== undefined) out.push(`-   ${c.path}: ${show(c.before)}`);
  if (c.after !== undefined) out.push(`+   ${c.path}: ${show(c.after)}${c.knownAfterApply ? ' (known after apply)' : ''}`);
  return out;
}

function show(v: JsonValue): string {
  const text = JSON.stringify(v) ?? 'null';
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

const usd = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** The estimated monthly cost, per resource and in total, marked as an estimate; unknown prices are said. */
export function costLines(cost: CostEstimate): string[] {
  const unknown = cost.lines.filter((l) => l.monthlyUsd === null).length;
  const out = [
    `# Estimated cost: about ${usd(cost.monthlyUsd)} a month${cost.complete ? '' : ` plus ${unknown} resource${unknown === 1 ? '' : 's'} whose price is unknown`}`,
    `#   (an estimate: on-demand prices of ${cost.pricesTakenAt}, ${cost.source}; usage not included)`,
  ];
  for (const l of cost.lines) out.push(`#   ${(l.monthlyUsd === null ? 'unknown' : usd(l.monthlyUsd)).padStart(10)}  ${l.id}: ${l.basis}`);
  return out;
}
