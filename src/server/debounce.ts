/**
 * Runs `fn` once `ms` milliseconds have passed without another `schedule()`: a burst of keystrokes costs one analysis.
 * `flush()` runs a scheduled call now (a request needs the current model); `cancel()` drops it.
 */
export class Debouncer {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly fn: () => void,
    private readonly delayMs: () => number,
  ) {}

  get scheduled(): boolean {
    return this.timer !== undefined;
  }

  schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fn();
    }, this.delayMs());
  }

  flush(): void {
    if (this.timer === undefined) return;
    this.cancel();
    this.fn();
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
