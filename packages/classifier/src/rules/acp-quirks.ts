/**
 * Two quirks of real ACP agents that a transcript shows and a person would otherwise misread,
 * named when seen (observed with claude-agent-acp 0.23.1 / Claude Code 2.1.83, three runs each:
 * /work/shared/research/acp/README.md §3.5 and §3.6):
 * - a prompt that ends `end_turn` with nothing after a long silence: Claude Code gave up on a stream
 *   silent for ~300 s, re-sent the request without streaming, and the adapter forwards only streamed
 *   text, so the answer never reached the client. The turn "completed", but it waited on a silent
 *   model and delivered nothing: not healthy.
 * - a prompt answered `end_turn` within milliseconds with nothing, right after a cancelled one: the
 *   adapter answers a cancelled turn's successor before its model request is even sent, and that
 *   request's answer arrives as the updates of the next prompt.
 */
import { ATTR_SOURCE, ATTR_TURN_STOP_REASON, SOURCE_ACP, TURN_END_STATUS_COMPLETED, TURN_END_STATUS_INTERRUPTED, VERDICT_BACKEND_STALL } from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import type { PreviousTurn, TurnScene } from '../model/turn-scene.js';
import { clockTime, duration } from '../time-text.js';
import type { Finding } from './finding.js';

/** An empty answer this soon after the prompt was not the model's: no model request is that fast (observed 5–10 ms). */
export const QUICK_EMPTY_END_MS = 1_000;

/** A turn span an ACP observer wrote: the only turns these quirks (and the turn before them) are read for. */
export function isAcpPrompt(turnSpan: RecordedSpan | undefined): boolean {
  return turnSpan?.attributes[ATTR_SOURCE] === SOURCE_ACP;
}

/** An ACP prompt the agent answered `end_turn` with no message, thought, tool call or permission request. */
function endedEmpty(scene: TurnScene): boolean {
  return (
    scene.endStatus === TURN_END_STATUS_COMPLETED &&
    isAcpPrompt(scene.turnSpan) &&
    scene.turnSpan!.attributes[ATTR_TURN_STOP_REASON] === 'end_turn' &&
    scene.outputs.length === 0 &&
    scene.tools.length === 0 &&
    scene.approvals.length === 0
  );
}

/** The turn's whole length, silent on the agent's side: undefined unless it ended empty after at least `silentModelMs`. */
function emptyAfterSilenceMs(scene: TurnScene): number | undefined {
  if (!endedEmpty(scene)) return undefined;
  const silentMs = scene.endMs! - scene.startMs;
  return silentMs >= scene.thresholds.silentModelMs ? silentMs : undefined;
}

/**
 * backend_stall: an ACP prompt that ended `end_turn` with nothing after `silentModelMs` or more of
 * silence. What the turn waited on was the model, silent; the agent then ended it with no answer.
 */
export function emptyEndAfterSilence(scene: TurnScene): Finding | undefined {
  const silentMs = emptyAfterSilenceMs(scene);
  if (silentMs === undefined) return undefined;
  return {
    verdict: VERDICT_BACKEND_STALL,
    // Upstream spans show the silent request itself; a transcript alone shows only the silence.
    confidence: scene.seesUpstream ? 0.8 : 0.65,
    evidence: [`the model was silent: no model output for ${duration(silentMs)}, from the prompt at ${clockTime(scene.startMs)} until the agent ended it at ${clockTime(scene.endMs!)}`],
  };
}

/** Evidence lines for the quirks the turn shows; `previousTurn` says how the turn before it in its session ended (asked only when needed). */
export function acpQuirkLines(scene: TurnScene, previousTurn: () => PreviousTurn | undefined): string[] {
  const silentMs = emptyAfterSilenceMs(scene);
  if (silentMs !== undefined) {
    return [
      `the agent ended the prompt end_turn with nothing (no message, thought or tool call) after ${duration(silentMs)}: claude-agent-acp 0.23 does so when Claude Code gives up on a stream silent for ~300 s and re-sends the request without streaming, whose answer the adapter drops`,
    ];
  }
  if (!endedEmpty(scene)) return [];
  const previous = previousTurn();
  if (previous?.endStatus !== TURN_END_STATUS_INTERRUPTED) return [];
  const tookMs = scene.endMs! - scene.startMs;
  if (tookMs > QUICK_EMPTY_END_MS) return [];
  return [
    `the agent answered this prompt end_turn with nothing in ${duration(tookMs)}, right after the session's previous prompt was cancelled (at ${clockTime(previous.endMs)}): claude-agent-acp 0.23 answers a cancelled turn's successor so, before its model request is sent; the real answer arrives under the next prompt`,
  ];
}
