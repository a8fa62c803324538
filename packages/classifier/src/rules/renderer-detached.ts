import { VERDICT_RENDERER_DETACHED } from '@stall-why/conventions';
import type { TurnScene } from '../model/turn-scene.js';
import { clockTime, duration } from '../time-text.js';
import type { Finding } from './finding.js';
import { detachText } from './phase-text.js';

/**
 * renderer_detached: the backend turn is alive (open) or ended, but no renderer is attached to
 * receive it: the last renderer detached before the moment (for an ended turn, before it ended) and
 * none has attached since.
 */
export function rendererDetached(scene: TurnScene): Finding | undefined {
  const { renderer } = scene;
  if (!renderer.seen || renderer.attached > 0 || !renderer.lastDetach || renderer.nextAttachMs !== undefined) return undefined;
  const detach = renderer.lastDetach;
  if (scene.at - detach.start < scene.thresholds.rendererGraceMs) return undefined;
  const evidence = [`${detachText(detach)}, no renderer attached since (${duration(scene.now - detach.start)})`];
  if (scene.endMs !== undefined) {
    evidence.push(`the backend turn went on and ended ${scene.endStatus} at ${clockTime(scene.endMs)}, ${duration(scene.endMs - detach.start)} after the renderer left: nobody received it`);
  } else {
    evidence.push(`the backend turn is still open (last phase at ${clockTime(scene.lastActivityMs)}, ${duration(scene.at - scene.lastActivityMs)} ago)`);
  }
  return { verdict: VERDICT_RENDERER_DETACHED, confidence: 0.85, evidence };
}
