// A fuzz target in a child process (as analyzerFuzz.test.ts runs the analyzer): one request at a time, answered by
// `{ id, ... }`, and killed when it does not answer within `hangMs`, so a hang fails the test instead of blocking
// the run. Used by envFileFuzz.test.ts and webviewFuzz.test.ts.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export class FuzzProcess<Request extends object, Reply extends { id: number }> {
  private child: ChildProcess | null = null;
  private nextId = 0;

  constructor(
    private readonly script: string,
    private readonly hangMs: number,
  ) {}

  call(request: Request): Promise<{ reply: Reply; wallMs: number }> {
    const child = this.child ?? this.start();
    const id = this.nextId++;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const onMessage = (reply: Reply): void => {
        if (reply.id !== id) return;
        done();
        resolve({ reply, wallMs: performance.now() - started });
      };
      const onExit = (code: number | null, signal: string | null): void => {
        done();
        this.child = null;
        reject(new Error(`the fuzz target died (exit code ${code}, signal ${signal})`));
      };
      const timer = setTimeout(() => {
        done();
        child.kill('SIGKILL');
        this.child = null;
        reject(new Error(`the fuzz target did not answer within ${this.hangMs} ms (a hang); its process was killed`));
      }, this.hangMs);
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send({ ...request, id });
    });
  }

  close(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }

  private start(): ChildProcess {
    this.child = fork(this.script, [], {
      cwd: path.join(__dirname, '..', '..'),
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return this.child;
  }
}
