/**
 * When a failed or interrupted turn's ending began: the stop request (a cancel phase), or else the
 * phases closed in the last `ENDING_WINDOW_MS` before the turn's end, or in the last
 * `ENDING_CASCADE_MS` with nothing begun after them. An app that gives up closes what was open (an
 * approval cancelled, an item aborted, a stream cut) just before it ends the turn; what those phases
 * were waiting on is the cause, not what is left after they close.
 */
import { PHASE_CANCEL, PHASE_TURN_ERROR, PHASE_UPSTREAM_STREAM_END, PHASE_UPSTREAM_STREAM_ERROR } from '@stall-why/conventions';
import type { TurnScene } from '../model/turn-scene.js';

/** Phases closed this close to a failed or interrupted turn's end are its ending, not its wait. */
export const ENDING_WINDOW_MS = 100;

/**
 * Phases closed this close to the end, with no work begun after them, are its ending too: a loaded
 * app takes longer to close what was open (Codex shutting down on a busy machine closed an approval
 * 125 ms before its turn, with only the stream's break between).
 */
export const ENDING_CASCADE_MS = 500;

/** Points that mark something ending, not work begun. */
const ENDING_MARKS: ReadonlySet<string> = new Set([PHASE_CANCEL, PHASE_TURN_ERROR, PHASE_UPSTREAM_STREAM_END, PHASE_UPSTREAM_STREAM_ERROR]);

/** When the ending began: the first stop request, else the earliest phase closed (or error raised) in the ending. */
export function endingStart(scene: TurnScene): number {
  const end = scene.endMs ?? scene.at;
  const lastBegun = lastWorkBegun(scene, end);
  const inEnding = (closedAt: number) => closedAt >= end - ENDING_WINDOW_MS || (closedAt >= end - ENDING_CASCADE_MS && closedAt >= lastBegun);
  let earliest = end;
  for (const p of scene.phases) {
    if (p.span.name === PHASE_CANCEL) earliest = Math.min(earliest, p.start);
    else if (p.span.name === PHASE_TURN_ERROR && p.start >= end - ENDING_WINDOW_MS) earliest = Math.min(earliest, p.start);
    else if (p.end !== undefined && p.end > p.start && inEnding(p.end)) earliest = Math.min(earliest, p.end);
  }
  return Math.max(scene.startMs, earliest);
}

/** When the last phase that is no mark of an ending began, up to `end`. */
function lastWorkBegun(scene: TurnScene, end: number): number {
  let last = -Infinity;
  for (const p of scene.phases) if (!ENDING_MARKS.has(p.span.name) && p.start <= end && p.start > last) last = p.start;
  return last;
}

