// What an extraction read from the file system beyond the file's own text (a static assets folder, a file an
// endpoint names), with what it found: a cached extraction holds only while every probe still finds the same.
import { existsSync, statSync } from 'node:fs';

export type ProbeKind = 'exists' | 'directory';

export interface Probe {
  kind: ProbeKind;
  path: string;
  /** What the probe found: "yes"/"no" for exists, "directory" or the error's message for directory. */
  found: string;
}

/** Runs one probe now. */
export function probe(kind: ProbeKind, target: string): string {
  if (kind === 'exists') return existsSync(target) ? 'yes' : 'no';
  try {
    if (!statSync(target).isDirectory()) throw new Error('not a directory');
    return 'directory';
  } catch (err) {
    return (err as Error).message;
  }
}

/** Whether every probe finds today what it found when it was recorded. */
export function probesHold(probes: readonly Probe[]): boolean {
  return probes.every((p) => probe(p.kind, p.path) === p.found);
}
