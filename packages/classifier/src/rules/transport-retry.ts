import { ATTR_ERROR_TYPE, ATTR_RETRY_REASON, TURN_END_STATUS_FAILED, VERDICT_TRANSPORT_RETRY } from '@stall-why/conventions';
import type { TurnScene } from '../model/turn-scene.js';
import { clockTime, duration } from '../time-text.js';
import { dominates } from './dominance.js';
import type { Finding } from './finding.js';
import { LazyFinding } from './lazy-finding.js';
import { currentChain, failureText, retrySpentMs, retryText } from './request-chain.js';
import { attemptText } from './phase-text.js';

const MAX_LISTED = 4;

function listed(failures: ReadonlyArray<{ text: string }>): string[] {
  const lines = failures.slice(-MAX_LISTED).map((f) => f.text);
  if (failures.length > MAX_LISTED) lines.unshift(`${failures.length - MAX_LISTED} earlier failures`);
  return lines;
}

/**
 * transport_retry: the current request chain holds failed attempts or announced retries, and the
 * time spent failing and backing off outweighs the silence of the attempt still open (if any).
 */
export function transportRetrying(scene: TurnScene): Finding | undefined {
  const chain = currentChain(scene);
  if (chain.failures.length === 0) return undefined;
  const firstFailure = chain.failures[0]!;
  const retryMs = (chain.open?.start ?? scene.at) - firstFailure.startedAt;
  if (chain.open) {
    const silentMs = scene.at - chain.open.lastMilestone.at;
    if (silentMs > retryMs) return undefined;
  }
  const evidence = (): string[] => [
    `${chain.failures.length} failed attempt${chain.failures.length > 1 ? 's' : ''} or retries since ${clockTime(firstFailure.startedAt)} (${duration(retryMs)})`,
    ...listed(chain.failures),
    chain.open
      ? `${attemptText(chain.open)} sent at ${clockTime(chain.open.start)}, open for ${duration(scene.at - chain.open.start)}`
      : `no attempt open since ${clockTime(chain.failures[chain.failures.length - 1]!.at)}: waiting to reconnect (backoff)`,
  ];
  return new LazyFinding(VERDICT_TRANSPORT_RETRY, scene.seesUpstream ? 0.85 : 0.65, evidence);
}

/** transport_retry for an ended turn: it failed after failed attempts, or retries took the dominant share. */
export function retriesDominated(scene: TurnScene): Finding | undefined {
  const failed = scene.attempts.filter((a) => a.failed);
  if (failed.length === 0 && scene.retries.length === 0) return gaveUpRetrying(scene);
  const spent = retrySpentMs(scene);
  const failedTurn = scene.endStatus === TURN_END_STATUS_FAILED;
  if (!failedTurn && !dominates(scene, spent)) return undefined;
  // A failed attempt and the retry announced for it are one failure: count attempts where they were seen.
  const counted = failed.length > 0 ? `${failed.length} failed attempt${failed.length > 1 ? 's' : ''}` : `${scene.retries.length} retr${scene.retries.length > 1 ? 'ies' : 'y'} announced`;
  const events = [
    ...failed.map((a) => ({ at: a.start, text: failureText(a) })),
    ...scene.retries.map((r) => ({ at: r.start, text: retryText(r) })),
  ].sort((x, y) => x.at - y.at);
  const evidence = [`${counted} and their backoff took ${duration(spent)} of the turn's ${duration((scene.endMs ?? scene.at) - scene.startMs)}`, ...listed(events)];
  if (failedTurn) evidence.unshift(`the turn failed at ${clockTime(scene.endMs!)} after its retries ran out`);
  return { verdict: VERDICT_TRANSPORT_RETRY, confidence: scene.seesUpstream ? 0.85 : 0.7, evidence };
}

/**
 * transport_retry for a failed turn whose source shows no attempts, only the server's last word: an
 * error it raised after it stopped retrying a transport failure (a Codex rollout records no attempts).
 */
function gaveUpRetrying(scene: TurnScene): Finding | undefined {
  if (scene.endStatus !== TURN_END_STATUS_FAILED) return undefined;
  const error = scene.errors.find((e) => typeof e.span.attributes[ATTR_RETRY_REASON] === 'string');
  if (!error) return undefined;
  const reason = error.span.attributes[ATTR_RETRY_REASON] as string;
  const kind = error.span.attributes[ATTR_ERROR_TYPE];
  return {
    verdict: VERDICT_TRANSPORT_RETRY,
    confidence: scene.seesUpstream ? 0.7 : 0.6,
    evidence: [
      `the turn failed at ${clockTime(scene.endMs!)} when the server gave up retrying the model request (${reason}${typeof kind === 'string' && kind !== reason ? `, ${kind}` : ''})`,
      scene.seesUpstream ? 'no failed attempt was recorded for it' : 'this source does not record the attempts: how many, or how long each took',
    ],
  };
}
