/** What happened to a file since the app was last analysed. */
export type FileChange =
  /** The document is open in the editor with this (possibly unsaved) text. */
  | { kind: 'overlay'; text: string }
  /** The document was closed: back to the content on disk. */
  | { kind: 'closed' }
  /** The file was created, changed or deleted on disk. */
  | { kind: 'disk' };

/**
 * The changes waiting for the next (debounced) analysis of one app, one per file. Later events replace earlier ones,
 * except that a disk event never hides an open document's text: the analyzer ignores disk changes under an overlay,
 * and a close already rereads the disk.
 */
export class PendingChanges {
  private readonly changes = new Map<string, FileChange>();

  get size(): number {
    return this.changes.size;
  }

  add(file: string, change: FileChange): void {
    const before = this.changes.get(file);
    if (change.kind === 'disk' && before !== undefined) return;
    this.changes.set(file, change);
  }

  /** The changes in the order their files were first touched, and empties the queue. */
  drain(): [string, FileChange][] {
    const out = [...this.changes];
    this.changes.clear();
    return out;
  }

  clear(): void {
    this.changes.clear();
  }
}
