import type { Verdict } from '@stall-why/conventions';
import type { TurnScene } from '../model/turn-scene.js';

/** What a rule concludes: a verdict, how sure, and the lines that decide it. */
export interface Finding {
  readonly verdict: Verdict;
  /** In [0, 1]. */
  readonly confidence: number;
  readonly evidence: readonly string[];
}

/** A rule reads a scene and returns a finding, or undefined when it does not apply. */
export type Rule = (scene: TurnScene) => Finding | undefined;
