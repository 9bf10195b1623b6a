// Shared by the EnvStore tests: sample environments, scratch app folders, and a child process that runs a store.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import type { Environment } from '../../src/model/environment';

export const staging: Environment = {
  name: 'staging',
  type: 'development',
  deploy: { trigger: 'push', branch: 'main' },
  provider: { kind: 'kubernetes', context: 'kind-dev', namespace: 'shop-staging' },
};

export const prod: Environment = {
  name: 'prod',
  type: 'production',
  deploy: { trigger: 'manual' },
  provider: { kind: 'aws', region: 'eu-west-1', profile: 'shop' },
  sizing: { databases: { users: { cpu: 2, memoryGiB: 8, diskGiB: 50 } }, services: { orders: { minInstances: 2, maxInstances: 10 } } },
};

export const eu: Environment = {
  name: 'eu',
  type: 'production',
  deploy: { trigger: 'push', branch: 'release' },
  provider: { kind: 'gcp', project: 'shop-prod-123', region: 'europe-west1' },
};

export const fileText = (environments: Environment[]) => `${JSON.stringify({ environments }, null, 2)}\n`;

/** A fresh folder standing in for an app root; removed when the test file ends. */
export function scratchApp(prefix = 'env-store-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What else lies in the app folder besides the environments file: lock and temp files must not linger. */
export function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((n) => n !== 'encore.environments.json');
}

/** A store in another process (test/unit/envStoreChild.ts), talking in lines over stdin and stdout. */
export class StoreChild {
  readonly proc: ChildProcessWithoutNullStreams;
  private buffered = '';
  private waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  readonly lines: string[] = [];
  readonly exited: Promise<NodeJS.Signals | number | null>;

  constructor(...args: string[]) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'envStoreChild.ts'), ...args], {
      cwd: path.join(__dirname, '..', '..'),
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve(signal ?? code)));
    let stderr = '';
    this.proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    this.proc.on('exit', () => {
      if (stderr.trim()) this.lines.push(`stderr: ${stderr.trim()}`);
      for (const w of this.waiters.splice(0)) w.resolve(`exited: ${stderr.trim()}`);
    });
    this.proc.stdout.on('data', (d: Buffer) => {
      this.buffered += d.toString();
      let nl;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
      }
    });
  }

  /** Resolves with the first line (already seen or coming) that starts with `prefix`. */
  waitFor(prefix: string, timeoutMs = 20_000): Promise<string> {
    const seen = this.lines.find((l) => l.startsWith(prefix));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${prefix}" from the child; it said: ${this.lines.join(' | ')}`)), timeoutMs);
      this.waiters.push({
        match: (l) => l.startsWith(prefix),
        resolve: (l) => {
          clearTimeout(timer);
          if (l.startsWith('exited:')) reject(new Error(`the child exited before "${prefix}": ${l} ${this.lines.join(' | ')}`));
          else resolve(l);
        },
      });
    });
  }

  send(line: string): void {
    this.proc.stdin.write(`${line}\n`);
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }
}
