/**
 * Where an ended turn's time went. The turn is cut at every phase boundary into quiet stretches; each
 * stretch is replayed (the scene just before the boundary that ended it) and its time is booked to the
 * wait the rules see then. So any wait the rules know (a person, a tool, a compaction, a history load,
 * retries, a silent request, a lost continuation) can be what held the turn up, measured the same
 * way. A wait that may be the model at work (`Finding.atWork`: a stream that has begun, a request or
 * continuation a source cannot see, the time before an item that a source writes only when it
 * finishes) is booked as model work, never as a wait: in a turn that ended, that time was the model
 * thinking and writing, however long.
 *
 * Every stretch is replayed, however many (no merging: a 4-minute approval in a turn of thousands of
 * boundaries is booked to the approval); each replay holds only the phases the rules can look at then
 * (`turnScene` with `replay`), so a turn costs about linear time in its boundaries.
 */
import { TURN_END_STATUS_COMPLETED, TURN_END_STATUS_INTERRUPTED, VERDICT_BACKEND_STALL, VERDICT_TRANSPORT_RETRY, VERDICT_UNKNOWN, type Verdict } from '@stall-why/conventions';
import type { AttemptView, TurnScene } from '../model/turn-scene.js';
import { ENDING_WINDOW_MS, endingStart } from './turn-ending.js';
import type { Finding } from './finding.js';
import { currentChain, failureText } from './request-chain.js';
import { waitFinding } from './wait-finding.js';
import { LazyFinding, NOT_AT_WORK } from './lazy-finding.js';

export interface QuietStretch {
  readonly from: number;
  readonly to: number;
}

/** Time booked to one wait. */
export interface WaitShare {
  readonly verdict: Verdict;
  readonly spentMs: number;
  readonly stretches: number;
  readonly firstMs: number;
  /** The longest stretch booked to it, and what the rules said then. */
  readonly longest: QuietStretch & { readonly finding: Finding };
}

export interface WaitAccount {
  /** Waits by time booked, most first; the model at work and unknown stretches are not waits. */
  readonly waits: readonly WaitShare[];
  readonly totalMs: number;
  /** The longest stretch of the turn, whatever it waited on. */
  readonly longestStretch: QuietStretch;
  /** Time the model was at work (thinking, writing, or a request the source cannot see), and its longest stretch. */
  readonly modelWorkMs: number;
  /** In a turn that completed: time its tools ran (work, not a wait). */
  readonly toolWorkMs: number;
  readonly longestModelWork: (QuietStretch & { readonly finding: Finding }) | undefined;
}

/** The stretches of [start, end] between phase boundaries (and history-load boundaries), in time order. */
export function quietStretches(scene: TurnScene): QuietStretch[] {
  const end = scene.endMs ?? scene.at;
  const marks = [scene.startMs, end];
  for (const p of scene.phases) {
    marks.push(p.start);
    if (p.end !== undefined) marks.push(p.end);
  }
  for (const h of scene.hydrations) {
    marks.push(h.start);
    if (h.end !== undefined) marks.push(h.end);
  }
  marks.sort((a, b) => a - b);
  const out: QuietStretch[] = [];
  let prev: number | undefined;
  for (const m of marks) {
    if (m < scene.startMs || m > end || m === prev) continue;
    if (prev !== undefined) out.push({ from: prev, to: m });
    prev = m;
  }
  return out;
}

/**
 * An attempt of an interrupted turn that broke in the turn's ending was cut by the interrupt (the
 * client closed the stream), not failed by the transport: the wait in it was the silence before.
 */
export function abortedByInterrupt(attempt: AttemptView, whole: TurnScene): boolean {
  if (whole.endStatus !== TURN_END_STATUS_INTERRUPTED || whole.endMs === undefined) return false;
  const brokeAt = attempt.streamError ?? attempt.end;
  return brokeAt !== undefined && brokeAt >= endingStart(whole) - ENDING_WINDOW_MS && attempt.statusCode === undefined;
}

/** The scene just before `at`: phases that ended at `at` are still open in it. */
export const JUST_BEFORE_MS = 0.001;

interface Booking {
  spentMs: number;
  stretches: number;
  firstMs: number;
  longest: WaitShare['longest'];
}

/** Books the ended turn's stretches to the waits the rules see in them. */
export function accountWaits(scene: TurnScene, sceneAt: (at: number) => TurnScene): WaitAccount {
  const stretches = quietStretches(scene);
  const totalMs = (scene.endMs ?? scene.at) - scene.startMs;
  let longestStretch: QuietStretch = { from: scene.startMs, to: scene.startMs };
  const booked = new Map<Verdict, Booking>();
  let modelWorkMs = 0;
  let toolWorkMs = 0;
  let longestModelWork: WaitAccount['longestModelWork'];
  // A turn that completed used its tools' time: they ran, returned, and the turn went on.
  const toolsWork = scene.endStatus === TURN_END_STATUS_COMPLETED;
  for (const stretch of stretches) {
    const length = stretch.to - stretch.from;
    if (length > longestStretch.to - longestStretch.from) longestStretch = stretch;
    const then = sceneAt(stretch.to - JUST_BEFORE_MS);
    const finding = inHindsight(waitFinding(then), then, scene);
    if (finding.verdict === VERDICT_UNKNOWN) continue;
    if (toolsWork && finding.toolWork) {
      toolWorkMs += length;
      continue;
    }
    if (finding.atWork) {
      modelWorkMs += length;
      if (!longestModelWork || length > longestModelWork.to - longestModelWork.from) longestModelWork = { ...stretch, finding };
      continue;
    }
    const entry = booked.get(finding.verdict);
    if (!entry) {
      booked.set(finding.verdict, { spentMs: length, stretches: 1, firstMs: stretch.from, longest: { ...stretch, finding } });
      continue;
    }
    entry.spentMs += length;
    entry.stretches++;
    if (length > entry.longest.to - entry.longest.from) entry.longest = { ...stretch, finding };
  }
  const waits = [...booked.entries()].map(([verdict, e]) => ({ verdict, ...e })).sort((a, b) => b.spentMs - a.spentMs);
  return { waits, totalMs, longestStretch, modelWorkMs, longestModelWork, toolWorkMs };
}

/**
 * A silent attempt is a backend stall while it lasts; once the turn has ended, an attempt that
 * went on to fail (an HTTP error after a long wait for headers, a stream that broke) was time spent
 * in a failed attempt: transport_retry, as the verdict is defined.
 */
function inHindsight(finding: Finding, then: TurnScene, whole: TurnScene): Finding {
  if (finding.verdict !== VERDICT_BACKEND_STALL) return finding;
  const open = currentChain(then).open;
  const final = open && whole.attempts.find((a) => a.span === open.span);
  if (!final?.failed || abortedByInterrupt(final, whole)) return finding;
  return new LazyFinding(VERDICT_TRANSPORT_RETRY, finding.confidence, () => [failureText(final)], NOT_AT_WORK);
}
