/**
 * The numbers the rules judge by. Every one has a default; `classifySpans` and `analyzeTraces`
 * take a partial override.
 */
export interface Thresholds {
  /**
   * Open turns only: an open turn quiet (no phase boundary) for this long at the judged moment is
   * `stuck`; below it, `in_progress`. Either way its verdict names what it waits on. Ended turns are
   * judged by `slowPhaseMs`, `dominantShare` and `slowStretchMs`, never by this. Default 30 000 ms.
   */
  readonly stuckAfterMs: number;
  /**
   * Ended turns: a wait (any kind but the model at work: its quiet stretches replayed) "dominated"
   * the turn when it took at least this share of the turn's duration and at least `slowPhaseMs`. A
   * failed or interrupted turn is also explained by the wait it ended in when that wait took this
   * share or `slowPhaseMs`. Default 0.5.
   */
  readonly dominantShare: number;
  /** Ended turns: the least time a wait must take to be named the cause of the turn's delay. Default 5 000 ms. */
  readonly slowPhaseMs: number;
  /**
   * Ended turns: a single quiet stretch this long spent in a wait other than the model at work (a
   * silent request the upstream side shows, a tool, a person, a compaction, retries) names the turn
   * even when that wait did not dominate it. Default 30 000 ms.
   */
  readonly slowStretchMs: number;
  /**
   * Ended turns: a wait that may be the model at work (no output the source can see) names an
   * interrupted turn's cause once it lasted this long before the interruption: longer than a model at
   * high effort takes before it writes anything, so the person gave up on a request that had stalled
   * (or on a model thinking for longer than that: the confidence says so). Open turns: a stuck turn
   * whose wait may be the model at work is named at most 0.6 sure until it has been silent this long.
   * Default 120 000 ms.
   */
  readonly silentModelMs: number;
  /**
   * An open turn whose source has not been written for this long at the judged moment is
   * `abandoned`: its writer is presumed gone (a killed session's rollout, a recorder that stopped
   * without a word). A recorded stop (the recorder's shutdown, the wrapped server's exit) abandons
   * it at once. Default 21 600 000 ms (6 h: longer than any turn's quiet wait, approval left
   * over a lunch break included).
   */
  readonly abandonedAfterMs: number;
  /**
   * A hydration outside any turn (a thread start or resume) is reported as its own entry
   * (`turnId` null) when it is still open or took at least this long. Default 2 000 ms.
   */
  readonly slowHydrationMs: number;
  /**
   * A renderer that detached less than this long before the judged moment may still come back:
   * below it an open turn is not called `renderer_detached` unless it is otherwise healthy. Default 0 ms.
   */
  readonly rendererGraceMs: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({
  stuckAfterMs: 30_000,
  dominantShare: 0.5,
  slowPhaseMs: 5_000,
  slowStretchMs: 30_000,
  silentModelMs: 120_000,
  abandonedAfterMs: 6 * 3_600_000,
  slowHydrationMs: 2_000,
  rendererGraceMs: 0,
});

/** The defaults with the given overrides; non-finite or negative values are ignored. */
export function resolveThresholds(overrides: Partial<Thresholds> | undefined): Thresholds {
  const out: Record<string, number> = { ...DEFAULT_THRESHOLDS };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (key in out && typeof value === 'number' && Number.isFinite(value) && value >= 0) out[key] = value;
  }
  return Object.freeze(out) as unknown as Thresholds;
}
