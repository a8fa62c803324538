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
  /**
   * The wait is a tool doing its work (or an approval a source only infers from an open tool, which it
   * cannot tell from the tool running): in a turn that completed, that time was work, not a stall.
   */
  readonly toolWork?: boolean;
  /**
   * Read from indirect signs (an approval a rollout shows only by how a call was written): it names an
   * ended turn when it dominated it, or ended it after `slowStretchMs`, never from one long stretch.
   */
  readonly inferred?: boolean;
}

/** A rule reads a scene and returns a finding, or undefined when it does not apply. */
export type Rule = (scene: TurnScene) => Finding | undefined;
