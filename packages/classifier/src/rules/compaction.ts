import { VERDICT_COMPACTION } from '@stall-why/conventions';
import { lastOpen, type TurnScene } from '../model/turn-scene.js';
import { clockTime, duration } from '../time-text.js';
import type { Finding } from './finding.js';
import { LazyFinding } from './lazy-finding.js';
import { openText, outcomeText } from './phase-text.js';
import { dominates, overlapMs } from './dominance.js';

/** compaction: context compaction started and has not completed. */
export function compactionInProgress(scene: TurnScene): Finding | undefined {
  const open = lastOpen(scene.compactions);
  if (!open) return undefined;
  // Replayed in an ended turn, it completed at the boundary that ended the stretch, or with the turn.
  return new LazyFinding(VERDICT_COMPACTION, 0.9, () => [`context compaction ${openText(open, scene)}${outcomeText(open, scene, ', not completed', 'it completed at')}`]);
}

/** compaction: context compaction took the dominant share of an ended turn. */
export function compactionDominated(scene: TurnScene): Finding | undefined {
  const spent = overlapMs(scene.compactions, scene.startMs, scene.endMs ?? scene.at);
  if (!dominates(scene, spent)) return undefined;
  const first = scene.compactions[0]!;
  return {
    verdict: VERDICT_COMPACTION,
    confidence: 0.8,
    evidence: [`context compaction took ${duration(spent)} of the turn's ${duration((scene.endMs ?? scene.at) - scene.startMs)} (from ${clockTime(first.start)})`],
  };
}
