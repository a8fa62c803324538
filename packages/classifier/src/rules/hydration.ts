import { ATTR_HYDRATION_BYTES, ATTR_HYDRATION_ITEMS, VERDICT_HYDRATION } from '@stall-why/conventions';
import { lastOpen, type PhaseView, type TurnScene } from '../model/turn-scene.js';
import { clockTime, duration } from '../time-text.js';
import { dominates, overlapMs } from './dominance.js';
import type { Finding } from './finding.js';
import { LazyFinding } from './lazy-finding.js';
import { hydrationText, openText } from './phase-text.js';

function sizeText(h: PhaseView): string {
  const bytes = h.span.attributes[ATTR_HYDRATION_BYTES];
  const items = h.span.attributes[ATTR_HYDRATION_ITEMS];
  const parts = [
    typeof bytes === 'number' ? `${(bytes / 1048576).toFixed(1)} MiB` : undefined,
    typeof items === 'number' ? `${items} items` : undefined,
  ].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** hydration: loading or resuming the thread's history is under way. */
export function hydrationInProgress(scene: TurnScene): Finding | undefined {
  const open = lastOpen(scene.hydrations);
  if (!open) return undefined;
  return new LazyFinding(VERDICT_HYDRATION, 0.9, () => [`${hydrationText(open)}${sizeText(open)} ${openText(open, scene)}, not finished`]);
}

/** hydration: loading the thread's history took the dominant share of an ended turn. */
export function hydrationDominated(scene: TurnScene): Finding | undefined {
  const spent = overlapMs(scene.hydrations, scene.startMs, scene.endMs ?? scene.at);
  if (!dominates(scene, spent)) return undefined;
  const h = scene.hydrations[0]!;
  return {
    verdict: VERDICT_HYDRATION,
    confidence: 0.8,
    evidence: [`${hydrationText(h)}${sizeText(h)} from ${clockTime(h.start)} took ${duration(spent)} of the turn's ${duration((scene.endMs ?? scene.at) - scene.startMs)}`],
  };
}

/** A hydration outside any turn (a thread start or resume), judged on its own. */
export function hydrationEntry(h: PhaseView, at: number): Finding {
  const took = (h.end ?? at) - h.start;
  return {
    verdict: VERDICT_HYDRATION,
    confidence: 0.9,
    evidence: [
      h.end === undefined
        ? `${hydrationText(h)}${sizeText(h)} started at ${clockTime(h.start)}, loading for ${duration(took)}; no turn has started`
        : `${hydrationText(h)}${sizeText(h)} from ${clockTime(h.start)} to ${clockTime(h.end)} took ${duration(took)} before any turn`,
    ],
  };
}
