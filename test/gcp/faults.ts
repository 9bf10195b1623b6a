// Fault injection for the GCP fakes, controlled by the test: an error on a method (once, N times or always), a
// disabled API, a missing permission, and how many polls a long-running operation takes. Methods are named as in the
// proto (`CreateCluster`) or qualified by their service (`ClusterManager.CreateCluster`).
import { status as GrpcStatus } from '@grpc/grpc-js';
import { FakeError, permissionDenied, serviceDisabled, type ErrorDetail } from './googleErrors';

interface Rule {
  matches: (service: string, method: string) => boolean;
  error: () => FakeError;
  /** Calls left that fail; Infinity until cleared. */
  remaining: number;
}

function methodMatcher(name: string): (service: string, method: string) => boolean {
  if (name === '*') return () => true;
  const dot = name.lastIndexOf('.');
  if (dot < 0) return (_service, method) => method === name;
  const [service, method] = [name.slice(0, dot), name.slice(dot + 1)];
  return (s, m) => m === method && (s === service || s.endsWith(`.${service}`));
}

export class Faults {
  private rules: Rule[] = [];
  private polls = new Map<string, number>();
  /** How many GetOperation polls an operation takes before it is done, unless a method has its own number. */
  defaultPolls = 2;
  /**
   * When set, an operation is also done this long after it started, polled or not, as Google's operations run on
   * their own (a crash test's killed process never polls the operation it started). Unset: polls alone.
   */
  operationDeadlineMs: number | undefined;

  private durations = new Map<string, number>();

  /** Whether an operation started at `started` has run past its deadline (its method's own, else the default). */
  overdue(started: number, deadlineMs = this.operationDeadlineMs): boolean {
    return deadlineMs !== undefined && Date.now() - started >= deadlineMs;
  }

  /**
   * Operations started by `method` are done `ms` after they start and not before, however often they are polled
   * (as a benchmark's creation times need). Cleared by `clear()`.
   */
  operationTakes(method: string, ms: number): this {
    this.durations.set(method, ms);
    this.polls.set(method, Infinity);
    return this;
  }

  /** The deadline of an operation `method` starts now: its own duration, else the default deadline. */
  deadlineFor(service: string, method: string): number | undefined {
    for (const [name, ms] of this.durations) if (methodMatcher(name)(service, method)) return ms;
    return this.operationDeadlineMs;
  }

  constructor(private readonly api: { service: string; title: string; projectNumber: string }) {}

  /** The next `times` calls of `method` fail with `code` (a gRPC status; REST fakes send its HTTP equivalent). */
  fail(method: string, code: GrpcStatus, message = `injected ${GrpcStatus[code]}`, { times = 1, details = [] as ErrorDetail[] } = {}): this {
    this.rules.push({ matches: methodMatcher(method), error: () => new FakeError(code, message, details), remaining: times });
    return this;
  }

  /** Every call answers as Google does when the API is not enabled in the project, until `clear()`. */
  disableApi(): this {
    this.rules.push({ matches: () => true, error: () => serviceDisabled(this.api), remaining: Infinity });
    return this;
  }

  /** Calls of `method` are refused for want of `permission` on `resource`, until `clear()`. */
  denyPermission(method: string, permission: string, resource: string): this {
    this.rules.push({ matches: methodMatcher(method), error: () => permissionDenied({ permission, resource }), remaining: Infinity });
    return this;
  }

  /** Operations started by `method` (or by every method, with '*') take `n` polls. */
  operationPolls(method: string, n: number): this {
    if (method === '*') this.defaultPolls = n;
    else this.polls.set(method, n);
    return this;
  }

  pollsFor(service: string, method: string): number {
    for (const [name, n] of this.polls) if (methodMatcher(name)(service, method)) return n;
    return this.defaultPolls;
  }

  private hangs: { matches: (service: string, method: string) => boolean; release: Promise<void> }[] = [];

  /** Calls of `method` ('*': every call) get no answer until the returned function is called. */
  hang(method = '*'): () => void {
    let release!: () => void;
    const entry = { matches: methodMatcher(method), release: new Promise<void>((resolve) => (release = resolve)) };
    this.hangs.push(entry);
    return () => {
      this.hangs = this.hangs.filter((h) => h !== entry);
      release();
    };
  }

  /** Resolves when this call may be answered (at once unless a hang holds it). */
  async held(service: string, method: string): Promise<void> {
    for (const h of this.hangs) if (h.matches(service, method)) await h.release;
  }

  clear(): void {
    this.rules = [];
    this.polls.clear();
    this.durations.clear();
  }

  /** The error this call must fail with, if a rule says so (consuming one of its times). */
  check(service: string, method: string): FakeError | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && r.matches(service, method));
    if (!rule) return undefined;
    rule.remaining -= 1;
    return rule.error();
  }
}
