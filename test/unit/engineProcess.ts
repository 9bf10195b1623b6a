// Runs test/unit/engineChild.ts in another process and follows what it prints, line by line.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

export class EngineChild {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  readonly exited: Promise<NodeJS.Signals | number | null>;
  private buffered = '';
  private waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  stderr = '';

  constructor(mode: 'apply' | 'destroy', appRoot: string, config: object = {}) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'engineChild.ts'), mode, appRoot], {
      cwd: path.join(__dirname, '..', '..'),
      env: { ...process.env, ENGINE_CHILD: JSON.stringify(config) },
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve(signal ?? code)));
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.proc.on('exit', () => {
      for (const w of this.waiters.splice(0)) w.resolve(`exited: ${this.stderr.trim()}`);
    });
    this.proc.stdout.on('data', (d: Buffer) => {
      this.buffered += d.toString();
      let nl;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => (line.startsWith(w.prefix) ? (w.resolve(line), false) : true));
      }
    });
  }

  /** The first line (seen or coming) that starts with `prefix`; "exited: …" if the child ends first. */
  waitFor(prefix: string, timeoutMs = 30_000): Promise<string> {
    const seen = this.lines.find((l) => l.startsWith(prefix));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${prefix}" from the child; it said: ${this.lines.join(' | ')} ${this.stderr}`)), timeoutMs);
      this.waiters.push({ prefix, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }

  kill(): Promise<NodeJS.Signals | number | null> {
    this.proc.kill('SIGKILL');
    return this.exited;
  }
}
