/**
 * A trace path judged again and again, each time as of the moment given: what `stall-why watch`
 * draws and what `stall-why collect` publishes as verdict metrics. A flight-recorder directory is
 * followed record by record (`LiveRecording`: a judgement costs what was appended since the last),
 * and the reports of its ended turns that nothing changed for are kept (`EndedTurnVerdicts`), not
 * judged again; any other path is read whole each time.
 */
import { stat } from 'node:fs/promises';
import { analyzeTraces, classifySpans, EndedTurnVerdicts, type Report, type Thresholds, type TraceFormat } from '@stall-why/classifier';
import { isFlightRecorderDir } from '@stall-why/flight-record';
import { DEFAULT_LIVE_WINDOW_MS, LiveRecording } from './live-recording.js';

export interface TraceJudgeOptions {
  readonly format?: TraceFormat;
  readonly thresholds?: Partial<Thresholds>;
  /** Longest line or JSON value read from a path that is not a flight recorder (`analyzeTraces`' `maxLineBytes`). */
  readonly maxLineBytes?: number;
  /** A flight recorder: how long ended turns stay judged after their last activity (open turns always). Default 15 min. */
  readonly windowMs?: number;
}

export class TraceJudge {
  private readonly endedTurns = new EndedTurnVerdicts();

  private constructor(
    private readonly path: string,
    private readonly options: TraceJudgeOptions,
    private readonly live: LiveRecording | undefined,
  ) {}

  static async open(path: string, options: TraceJudgeOptions = {}): Promise<TraceJudge> {
    // A directory said to be a flight recorder is followed even while it is empty (`collect` judges its own from the start).
    const followed =
      options.format === 'flight-recorder'
        ? await stat(path).then((s) => s.isDirectory(), () => false)
        : options.format === undefined && (await isFlightRecorderDir(path).catch(() => false));
    return new TraceJudge(path, options, followed ? new LiveRecording(path, options.windowMs ?? DEFAULT_LIVE_WINDOW_MS) : undefined);
  }

  /** The report at `now` (epoch ms); rejects with a `TraceInputError` when the input cannot be read (a segment caught mid-write). */
  async judge(now: number): Promise<Report> {
    const { live, path, options } = this;
    if (!live) return (await analyzeTraces([path], { now, checkWriters: true, format: options.format, thresholds: options.thresholds, maxLineBytes: options.maxLineBytes })).report;
    const spans = await live.refresh(now);
    const report = classifySpans(spans, { now, thresholds: options.thresholds, endedTurns: this.endedTurns });
    const { corruptRecords } = live.stats();
    return { ...report, sources: [{ path, format: 'flight-recorder', spans: spans.length, skipped: 0, corrupt: corruptRecords }] };
  }
}
