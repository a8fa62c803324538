import { VERDICT_UNKNOWN } from '@stall-why/conventions';
import type { TurnScene } from '../model/turn-scene.js';
import { clockTime } from '../time-text.js';
import type { Finding } from './finding.js';
import { AT_WORK, LazyFinding } from './lazy-finding.js';

/**
 * unknown, said why: a turn seen only in Codex's telemetry whose last model response completed, with
 * nothing after it. Codex logs no turn end, and exports the turn's span only once it ended (seconds
 * later, or never with the logs alone): the turn has most likely ended, or waits on a person for an
 * approval its logs do not show. Naming a stall here would cry wolf on every finished turn.
 */
export function turnEndUnseen(scene: TurnScene): Finding | undefined {
  if (!scene.codexTelemetryOnly || scene.endStatus !== undefined) return undefined;
  if (scene.phases.some((p) => p.end === undefined)) return undefined;
  const last = scene.attempts[scene.attempts.length - 1];
  if (last?.streamEnd === undefined || last.failed) return undefined;
  if (scene.phases.some((p) => p.start > last.streamEnd!)) return undefined;
  const streamEnd = last.streamEnd;
  return new LazyFinding(
    VERDICT_UNKNOWN,
    0.3,
    () => [
      `the model's last response completed at ${clockTime(streamEnd)} and nothing followed`,
      "Codex's telemetry marks no turn end until it exports the turn's span (seconds after the end, and never with only its logs): the turn has most likely ended, or waits on an approval, which its logs do not show",
    ],
    AT_WORK,
  );
}
