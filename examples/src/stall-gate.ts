/**
 * Where a scenario stalls: `hold()` marks the stall as reached and waits `stallMs`, or less if
 * the stall is released. Tests release it themselves after looking at the spans, so they never
 * depend on how fast the machine is.
 */
export class StallGate {
  readonly reached: Promise<void>;
  private markReached!: () => void;
  private releasers = new Set<() => void>();
  private released = false;

  constructor(readonly stallMs: number) {
    this.reached = new Promise((resolve) => { this.markReached = resolve; });
  }

  /** Marks the stall as reached without waiting (a stall made of many small waits, like retries). */
  touch(): void {
    this.markReached();
  }

  hold(): Promise<void> {
    this.markReached();
    if (this.released) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.releasers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.stallMs);
      this.releasers.add(done);
    });
  }

  /** Ends every hold now, and makes later holds return at once. */
  release(): void {
    this.released = true;
    for (const done of [...this.releasers]) done();
  }
}

/** Waits `ms`; an `unref`ed wait does not keep the process alive on its own. */
export function delay(ms: number, options: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (options.unref) timer.unref();
  });
}
