/**
 * A source of reports judged on a timer, each report handed on (to `VerdictMetrics`): how
 * `stall-why collect` keeps its verdict metrics current, and how any other source (a database)
 * can. One judgement at a time: a slow one delays the next rather than piling up.
 */
import type { Report } from '@stall-why/classifier';

export interface PeriodicJudgementOptions {
  /** Judges as of `now` (epoch ms). A rejection keeps the last report: the next tick tries again. */
  readonly judge: (now: number) => Promise<Report>;
  /** Receives each report. */
  readonly onReport: (report: Report) => void;
  /** Time from the end of one judgement to the start of the next, ms. */
  readonly everyMs: number;
  /** Told when a judgement fails, once until one succeeds again. */
  readonly onProblem?: (message: string) => void;
}

export class PeriodicJudgement {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failing = false;

  constructor(private readonly options: PeriodicJudgementOptions) {}

  /** Judges now, then every `everyMs`. */
  start(): void {
    this.tick();
  }

  /** Stops the timer and judges one last time, so that what was received last is in the last report. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.once();
  }

  private tick(): void {
    this.running = this.once().then(() => {
      if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.options.everyMs).unref();
    });
  }

  private async once(): Promise<void> {
    try {
      this.options.onReport(await this.options.judge(Date.now()));
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.options.onProblem?.(`cannot judge: ${(err as Error).message.split('\n')[0]} (said once until a judgement succeeds)`);
      this.failing = true;
    }
  }
}
