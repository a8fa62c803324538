/**
 * The request chain a turn is in: the upstream attempts and announced retries since the last step
 * that completed (turn start, a model response that ended well, a tool result, model output after a
 * retry). Failures in it are what transport_retry weighs against the silence of the attempt still open.
 */
import { ATTR_RETRY_ATTEMPT, ATTR_RETRY_MAX, ATTR_RETRY_REASON, ATTR_ERROR_TYPE } from '@stall-why/conventions';
import type { AttemptView, PhaseView, TurnScene } from '../model/turn-scene.js';
import { clockTime, duration } from '../time-text.js';
import { attemptText } from './phase-text.js';

export interface RequestChain {
  /** When the chain began. */
  readonly since: number;
  readonly attempts: readonly AttemptView[];
  readonly retries: readonly PhaseView[];
  /** The attempt still open at the moment, if any (the latest). */
  readonly open: AttemptView | undefined;
  /** Failures, in time order: failed attempts and announced retries. */
  readonly failures: ReadonlyArray<{ readonly at: number; readonly startedAt: number; readonly text: string }>;
}

export function retryText(r: PhaseView): string {
  const a = r.span.attributes;
  const n = a[ATTR_RETRY_ATTEMPT];
  const m = a[ATTR_RETRY_MAX];
  const why = a[ATTR_RETRY_REASON] ?? a[ATTR_ERROR_TYPE];
  return `retry${typeof n === 'number' ? ` ${n}${typeof m === 'number' ? `/${m}` : ''}` : ''} announced at ${clockTime(r.start)}${typeof why === 'string' ? ` (${why})` : ''}`;
}

export function failureText(a: AttemptView): string {
  const at = a.streamError ?? a.end ?? a.start;
  if (a.statusCode !== undefined && a.statusCode >= 400) {
    const wait = a.retryAfterMs !== undefined ? `, Retry-After ${duration(a.retryAfterMs)}` : '';
    return `${attemptText(a)} sent at ${clockTime(a.start)} answered HTTP ${a.statusCode} at ${clockTime(a.headers ?? at)}${wait}`;
  }
  const where =
    a.headers === undefined
      ? 'before response headers'
      : a.firstEvent === undefined && a.firstByte === undefined
        ? `after headers (${a.statusCode ?? '?'})`
        : a.streamEnd !== undefined && a.streamError === undefined
          ? 'in its stream (it ended, then a retry was announced)'
          : 'mid-stream';
  return `${attemptText(a)} sent at ${clockTime(a.start)} failed ${where} at ${clockTime(at)}${a.errorType ? ` (${a.errorType})` : ''}`;
}

const NO_FAILURES: RequestChain['failures'] = Object.freeze([]);

let lastScene: TurnScene | undefined;
let lastChain: RequestChain | undefined;

/**
 * The chain of the turn at the scene's moment. Three rules read it of the same scene in a row (a
 * retry, a silent request, that request in hindsight), so the last scene's chain is kept: scenes
 * never change.
 */
export function currentChain(scene: TurnScene): RequestChain {
  if (scene !== lastScene) {
    lastChain = chainOf(scene);
    lastScene = scene;
  }
  return lastChain!;
}

function chainOf(scene: TurnScene): RequestChain {
  let since = scene.startMs;
  for (const a of scene.attempts) if (a.end !== undefined && !a.failed) since = Math.max(since, a.end);
  for (const t of scene.tools) if (t.end !== undefined) since = Math.max(since, t.end);
  for (const c of scene.compactions) if (c.end !== undefined) since = Math.max(since, c.end);
  // Without attempt spans, model output after a retry shows the retry worked.
  const lastRetry = scene.retries[scene.retries.length - 1];
  if (lastRetry && scene.attempts.length === 0) {
    for (const o of scene.outputs) if (o.start > lastRetry.start) since = Math.max(since, o.start);
  }
  const attempts = scene.attempts.filter((a) => a.start >= since || a.end === undefined);
  const retries = scene.retries.filter((r) => r.start >= since);
  let open: AttemptView | undefined;
  for (const a of attempts) if (a.end === undefined) open = a;
  // Most chains hold no failure: no list is made for them (a chain per replayed stretch, issue 14).
  const failures =
    retries.length === 0 && !attempts.some((a) => a.failed)
      ? NO_FAILURES
      : [
          ...attempts.filter((a) => a.failed).map((a) => ({ at: a.streamError ?? a.end ?? a.start, startedAt: a.start, text: failureText(a) })),
          ...retries.map((r) => ({ at: r.start, startedAt: r.start, text: retryText(r) })),
        ].sort((x, y) => x.at - y.at);
  return { since, attempts, retries, open, failures };
}

/**
 * Time an ended turn spent in failed attempts and the backoff after each: from a failed attempt's
 * start to the next attempt's start (or the turn's end); from a retry announced with no attempt
 * spans to the next model output.
 */
export function retrySpentMs(scene: TurnScene): number {
  const end = scene.endMs ?? scene.at;
  let spent = 0;
  scene.attempts.forEach((a, i) => {
    if (!a.failed) return;
    const next = scene.attempts[i + 1]?.start ?? end;
    spent += Math.max(0, next - a.start);
  });
  if (scene.attempts.length === 0 && scene.retries.length > 0) {
    const first = scene.retries[0]!.start;
    const last = scene.retries[scene.retries.length - 1]!.start;
    const recovered = scene.outputs.find((o) => o.start > last)?.start ?? end;
    spent += recovered - first;
  }
  return spent;
}
