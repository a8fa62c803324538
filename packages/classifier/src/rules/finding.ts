import type { Verdict } from '@stall-why/conventions';
import type { TurnScene } from '../model/turn-scene.js';

/** What a rule concludes: a verdict, how sure, and the lines that decide it. */
export interface Finding {
  readonly verdict: Verdict;
  /** In [0, 1]. */
  readonly confidence: number;
  readonly evidence: readonly string[];
  /**
   * The wait may be the model at work rather than a stall: a stream that has begun, or a source that
   * cannot see model requests. Such a wait is only a stall once it has lasted `stuckAfterMs`.
   */
  readonly atWork?: boolean;
}

/** A rule reads a scene and returns a finding, or undefined when it does not apply. */
export type Rule = (scene: TurnScene) => Finding | undefined;
