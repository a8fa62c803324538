/**
 * The numbers the rules judge by. Every one has a default; `classifySpans` and `analyzeTraces`
 * take a partial override.
 */
export interface Thresholds {
  /**
   * An open turn quiet (no phase boundary) for this long at the judged moment is `stuck`; an ended
   * turn whose longest quiet stretch reached it is judged by what it waited on then. Default 30 000 ms.
   */
  readonly stuckAfterMs: number;
  /**
   * A wait (any kind: its quiet stretches replayed) "dominated" an ended turn when it took at least
   * this share of the turn's duration and at least `slowPhaseMs`. A failed or interrupted turn is
   * also explained by the wait it ended in when that wait took this share or `slowPhaseMs`. Default 0.5.
   */
  readonly dominantShare: number;
  /** The least time a wait must take to be named the cause of an ended turn's delay. Default 5 000 ms. */
  readonly slowPhaseMs: number;
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
