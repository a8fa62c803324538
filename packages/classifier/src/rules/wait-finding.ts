/** What a turn waits on at a scene's moment: the wait rules, most specific first. */
import { VERDICT_UNKNOWN } from '@stall-why/conventions';
import type { TurnScene } from '../model/turn-scene.js';
import { clockTime } from '../time-text.js';
import { awaitingApproval } from './awaiting-approval.js';
import { modelSilent, upstreamSilent } from './backend-stall.js';
import { compactionInProgress } from './compaction.js';
import type { Finding, Rule } from './finding.js';
import { AT_WORK, LazyFinding } from './lazy-finding.js';
import { hydrationInProgress } from './hydration.js';
import { postToolContinuationLost } from './post-tool-continuation-lost.js';
import { toolRunning } from './tool-running.js';
import { transportRetrying } from './transport-retry.js';
import { turnEndUnseen } from './turn-end-unseen.js';

/**
 * What an open turn waits on, most specific first: a person, then a compaction or a history load the
 * turn sits inside, then a tool, then the model request (failing, silent), then a lost continuation,
 * then a turn whose end its source cannot show, then a model silent as far as a source without
 * upstream spans can tell.
 */
export const WAIT_RULES: readonly Rule[] = [
  awaitingApproval,
  compactionInProgress,
  hydrationInProgress,
  toolRunning,
  transportRetrying,
  upstreamSilent,
  postToolContinuationLost,
  turnEndUnseen,
  modelSilent,
];

/** The first wait rule that applies to the scene, or unknown. */
export function waitFinding(scene: TurnScene): Finding {
  for (const rule of WAIT_RULES) {
    const finding = rule(scene);
    if (finding) return finding;
  }
  return new LazyFinding(VERDICT_UNKNOWN, 0.2, () => [`nothing open and no rule matches; last phase at ${clockTime(scene.lastActivityMs)}`], AT_WORK);
}
