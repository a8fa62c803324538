import { PHASE_ITEM_PROGRESS, VERDICT_BACKEND_STALL } from '@stall-why/conventions';
import type { AttemptView, PhaseView, TurnScene } from '../model/turn-scene.js';
import { clockTime, duration } from '../time-text.js';
import type { Finding } from './finding.js';
import { AT_WORK, LazyFinding, NOT_AT_WORK } from './lazy-finding.js';
import { agoText, attemptText, itemText, sinceText } from './phase-text.js';
import { currentChain } from './request-chain.js';

/** An open attempt whose stream the source does not record: as sure as a rollout's silent model (it cannot tell thinking from silence). */
const UNSEEN_STREAM_CONFIDENCE = 0.6;

/** When the last tool result came back (a hook's end is none). */
function lastToolEnd(scene: TurnScene): number | undefined {
  let last: number | undefined;
  for (const t of scene.tools) if (!t.hook && t.end !== undefined && (last === undefined || t.end > last)) last = t.end;
  return last;
}

function attemptLines(a: AttemptView, scene: TurnScene): string[] {
  const isContinuation = a.continuation || (lastToolEnd(scene) ?? Infinity) <= a.start;
  const what = isContinuation ? `continuation request (${attemptText(a)})` : `model request (${attemptText(a)})`;
  const sent = a.requestSent ?? a.start;
  const quiet = sinceText(a.lastMilestone.at, scene);
  if (a.streamUnseen && a.firstEvent === undefined) {
    return [
      `${what} sent ${agoText(sent, scene)}, not completed${scene.replay ? ` ${sinceText(sent, scene)}` : ''}`,
      'this source logs the request when sent and its response when complete, none of the events between (as Codex does over its WebSocket transport): the model may be thinking or writing, or the backend silent',
    ];
  }
  // A request over a WebSocket has no response headers of its own.
  if (a.headers === undefined && !a.streamUnseen) return [`${what} sent ${agoText(sent, scene)}, no response headers${scene.replay ? ` ${sinceText(sent, scene)}` : ''}`];
  const headers = a.headers === undefined ? '' : `, headers at ${clockTime(a.headers)}${a.statusCode !== undefined ? ` (HTTP ${a.statusCode})` : ''}`;
  if (a.firstByte === undefined && a.firstEvent === undefined) {
    return [`${what} sent ${agoText(sent, scene)}${headers}, no body byte ${quiet}`];
  }
  if (a.firstEvent === undefined) {
    return [`${what} sent at ${clockTime(sent)}${headers}, first byte at ${clockTime(a.firstByte!)}, no streamed event ${quiet}`];
  }
  const later = duration(scene.at - a.lastMilestone.at);
  if (a.lastProgress !== undefined) {
    const count = a.progressEvents !== undefined ? ` (${a.progressEvents} so far)` : '';
    return [
      `${what} sent at ${clockTime(sent)}${headers}, first event at ${clockTime(a.firstEvent)}, events still coming at ${clockTime(a.lastProgress)}${count}; the stream ${scene.replay ? 'had' : 'has'} not ended, nothing of it recorded for ${later} since`,
    ];
  }
  return [
    `${what} sent at ${clockTime(sent)}${headers}, first event at ${clockTime(a.firstEvent)}; the stream ${scene.replay ? 'had' : 'has'} not ended ${later} later`,
    'events after the first are not recorded one by one: the stream may have gone silent any time since',
  ];
}

/**
 * backend_stall: a model request is in flight and nothing arrives: an open upstream attempt; a
 * continuation requested with no answer; an output item begun and not finished.
 */
export function upstreamSilent(scene: TurnScene): Finding | undefined {
  const chain = currentChain(scene);
  const open = chain.open;
  if (open) {
    const evidence = (): string[] => {
      const lines = attemptLines(open, scene);
      if (chain.failures.length) lines.push(`after ${chain.failures.length} failed attempts or retries since ${clockTime(chain.failures[0]!.startedAt)}`);
      return lines;
    };
    // Once events flow, a stream still open may be the model writing: not a stall until it is long.
    // A stream the source cannot see may be flowing: the model may be at work, and the doubt is in the confidence.
    // (Codex logs the first token over a WebSocket, and nothing after it until the response completes.)
    if (open.streamUnseen) return new LazyFinding(VERDICT_BACKEND_STALL, UNSEEN_STREAM_CONFIDENCE, evidence, AT_WORK);
    return new LazyFinding(VERDICT_BACKEND_STALL, 0.9, evidence, open.firstEvent !== undefined ? AT_WORK : NOT_AT_WORK);
  }
  const toolEnd = lastToolEnd(scene);
  const continuation = scene.continuations.filter((c) => c.start >= (toolEnd ?? -Infinity)).pop();
  if (continuation && !scene.attempts.some((a) => a.start >= continuation.start) && !scene.outputs.some((o) => o.start >= continuation.start)) {
    return new LazyFinding(
      VERDICT_BACKEND_STALL,
      scene.seesUpstream ? 0.6 : 0.7,
      () => [
        `continuation request sent ${agoText(continuation.start, scene)}, no model output ${scene.replay ? sinceText(continuation.start, scene) : 'since'}`,
        ...(scene.seesUpstream ? ['no upstream attempt was recorded for it'] : []),
      ],
      scene.seesUpstream ? NOT_AT_WORK : AT_WORK,
    );
  }
  if (scene.seesUpstream) return undefined;
  const openOutput = scene.outputs.filter((o) => o.end === undefined && o.span.endTimeMs !== o.span.startTimeMs).pop();
  if (openOutput && openOutput.start >= (toolEnd ?? -Infinity)) {
    return new LazyFinding(
      VERDICT_BACKEND_STALL,
      0.65,
      () => [`${itemText(openOutput)} started ${agoText(openOutput.start, scene)}, not completed${scene.replay ? ` ${sinceText(openOutput.start, scene)}` : ''}; ${writtenSince(openOutput, scene)}`],
      AT_WORK,
    );
  }
  return undefined;
}

/** What came of an open item since it started: its last progress point (its deltas still came), or nothing. */
function writtenSince(item: PhaseView, scene: TurnScene): string {
  let last: number | undefined;
  for (const p of scene.phases) if (p.span.name === PHASE_ITEM_PROGRESS && p.span.parentSpanId === item.span.spanId) last = Math.max(last ?? -Infinity, p.start);
  return last === undefined ? 'no phase since' : `still being written at ${clockTime(last)}, nothing of it since for ${duration(scene.at - last)}`;
}

/**
 * backend_stall, inferred: a source with no upstream spans shows no model output since the turn's
 * last step (its start, a retry, an item that completed), and nothing else is open.
 */
export function modelSilent(scene: TurnScene): Finding | undefined {
  if (scene.seesUpstream) return undefined;
  if (scene.phases.some((p) => p.end === undefined)) return undefined;
  const last = scene.lastActivityMs;
  const noOutput = scene.firstOutputMs === undefined || scene.firstOutputMs > last;
  const what = (): string => (noOutput ? `no model output since the turn started at ${clockTime(scene.startMs)}` : `no model output since ${clockTime(last)}`);
  return new LazyFinding(VERDICT_BACKEND_STALL, noOutput ? 0.55 : 0.45, () => [`${what()} (${duration(scene.at - last)})`], AT_WORK);
}
