/**
 * What a failed or interrupted turn was waiting on when it ended: the scene just before the ending,
 * replayed, and how long that wait had lasted. The ending is the stop request (a cancel phase), or
 * else the phases closed in the last `ENDING_WINDOW_MS` before the turn's end: an app that gives up
 * closes what was open (an approval cancelled, an item aborted) just before it ends the turn, and
 * what those phases were waiting on is the cause, not what is left after they close.
 */
import { TURN_END_STATUS_FAILED, TURN_END_STATUS_INTERRUPTED, VERDICT_UNKNOWN } from '@stall-why/conventions';
import { endingStart } from './turn-ending.js';
import type { TurnScene } from '../model/turn-scene.js';
import { clockTime, duration } from '../time-text.js';
import type { Finding } from './finding.js';
import { JUST_BEFORE_MS, quietStretches } from './wait-account.js';
import { waitFinding } from './wait-finding.js';

/**
 * A failed or interrupted turn explained by its last wait, when that wait took `dominantShare` of the
 * turn or lasted `slowPhaseMs` (either: the turn ended in it). An interruption of a turn at work (the
 * model writing, as far as can be told) is a person's choice: no cause.
 */
export function waitAtEnd(scene: TurnScene, sceneAt: (at: number) => TurnScene): Finding | undefined {
  const status = scene.endStatus;
  if (status !== TURN_END_STATUS_FAILED && status !== TURN_END_STATUS_INTERRUPTED) return undefined;
  const endMs = scene.endMs!;
  const at = endingStart(scene);
  const last = waitFinding(sceneAt(at - JUST_BEFORE_MS));
  if (last.verdict === VERDICT_UNKNOWN) return undefined;
  // Walk back over the stretches that waited on the same thing: how long the turn had waited on it.
  let from = at;
  const before = quietStretches(scene).filter((s) => s.to <= at).reverse();
  for (const s of before) {
    if (s.to < from || waitFinding(sceneAt(s.to - JUST_BEFORE_MS)).verdict !== last.verdict) break;
    from = s.from;
  }
  const waitedMs = at - from;
  const totalMs = endMs - scene.startMs;
  const { slowPhaseMs, dominantShare, silentModelMs } = scene.thresholds;
  // Interrupting a model at work is a person's choice, and a failure after it is not explained by it,
  // unless it had produced nothing for longer than a model thinks.
  if (last.atWork && waitedMs < silentModelMs) return undefined;
  // A wait read from indirect signs holds the model's own work too: it explains the ending only when long.
  if (last.inferred && waitedMs < scene.thresholds.slowStretchMs) return undefined;
  // A wait that may be the model at work names a cause only once it was slow: a turn that failed
  // 200 ms in, with the server's own error, did not stall.
  if (waitedMs <= 0 || (waitedMs < slowPhaseMs && (last.atWork || waitedMs < dominantShare * totalMs))) return undefined;
  // Inferred from how the turn ended, not from a wait that dominated it: less sure.
  const factor = last.atWork ? 0.5 : status === TURN_END_STATUS_FAILED ? 0.7 : 0.8;
  const doubt = last.atWork ? [`nothing came from the model for ${duration(waitedMs)}: a stalled request, or a model still at work (this source cannot tell)`] : [];
  const stop = at < endMs ? ` (its ending began at ${clockTime(at)})` : '';
  return {
    verdict: last.verdict,
    confidence: Math.round(last.confidence * factor * 100) / 100,
    evidence: [
      `the turn ended ${status} at ${clockTime(endMs)}${stop} after waiting ${duration(waitedMs)} from ${clockTime(from)} (${Math.round((100 * waitedMs) / Math.max(1, totalMs))} % of its ${duration(totalMs)}) on:`,
      ...last.evidence,
      ...doubt,
    ],
  };
}
