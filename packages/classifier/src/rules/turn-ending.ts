/**
 * When a failed or interrupted turn's ending began: the stop request (a cancel phase), or else the
 * phases closed in the last `ENDING_WINDOW_MS` before the turn's end. An app that gives up closes what
 * was open (an approval cancelled, an item aborted, a stream cut) just before it ends the turn; what
 * those phases were waiting on is the cause, not what is left after they close.
 */
import { PHASE_CANCEL, PHASE_TURN_ERROR } from '@stall-why/conventions';
import type { TurnScene } from '../model/turn-scene.js';

/** Phases closed this close to a failed or interrupted turn's end are its ending, not its wait. */
export const ENDING_WINDOW_MS = 100;

/** When the ending began: the first stop request, else the earliest phase closed (or error raised) in the window. */
export function endingStart(scene: TurnScene): number {
  const end = scene.endMs ?? scene.at;
  let earliest = end;
  for (const p of scene.phases) {
    if (p.span.name === PHASE_CANCEL) earliest = Math.min(earliest, p.start);
    else if (p.span.name === PHASE_TURN_ERROR && p.start >= end - ENDING_WINDOW_MS) earliest = Math.min(earliest, p.start);
    else if (p.end !== undefined && p.end > p.start && p.end >= end - ENDING_WINDOW_MS) earliest = Math.min(earliest, p.end);
  }
  return Math.max(scene.startMs, earliest);
}

