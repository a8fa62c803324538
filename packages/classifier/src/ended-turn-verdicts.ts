/**
 * Reports of ended turns kept from one judgement of a growing input to the next (`stall-why watch`
 * judges a flight recorder every second, and without this re-judged each of the up to 200 ended
 * turns it keeps in view every time: 70 % of a refresh, issue 14).
 *
 * A kept report is given again only when the judgement would be the same: the turn ended, and
 * everything it is judged from is the same objects as before (its spans, its thread's hydrations,
 * what the input can show, the thresholds), each of them ended by the moment it was judged at, and
 * the new moment is not earlier. An ended turn's scene reads the moment only to compare it with those
 * times, so a later moment reads them alike; except for renderer points, whose rule counts the time
 * since a detach up to the moment (and waits out a grace period): a turn whose thread has renderer
 * points, or with renderer points of no thread, is always judged afresh. Spans are compared by
 * identity: a source that hands the same span objects again (`LiveRecording`) gets the reuse; one
 * that makes new objects each time is judged afresh, as without this. Judging every ended turn of
 * the corpus at two moments ten minutes apart gives the same report for all but the renderer ones
 * (test/ended-turn-verdicts.test.ts checks the reuse against judging afresh).
 *
 * The report kept is the one `judgeTurn` gives; a turn the timeline's memory bound evicted is listed
 * without its phases, made from that same report (`classify-spans.ts`): in a live view the bound cuts
 * at a different turn each time, and a turn on either side of the cut is not judged again for it.
 * Whether the turn before it in its thread was interrupted, and when, is among the inputs (the ACP quirk lines read it), and
 * so are the turn timelines (`KeptTurnTimelines`), kept here too: a turn nothing changed for is the same
 * `TurnTimeline` object as last time.
 */
import { TURN_END_STATUS_INTERRUPTED } from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import type { JudgeContext } from './classify-turn.js';
import { KeptTurnTimelines } from './model/kept-turn-timelines.js';
import type { ThreadTimeline, TurnTimeline } from './model/timeline.js';
import { previousTurnOf } from './model/turn-scene.js';
import { isAcpPrompt } from './rules/acp-quirks.js';
import type { TurnReport } from './report.js';
import type { Thresholds } from './thresholds.js';

interface Kept {
  readonly report: TurnReport;
  readonly atMs: number;
  /** The timeline judged, at its version then: while both are the same, so are `ofTurn`'s inputs. */
  readonly turn: TurnTimeline;
  readonly version: number;
  readonly ofTurn: readonly unknown[];
  readonly around: readonly unknown[];
  round: number;
}

export class EndedTurnVerdicts {
  private readonly kept = new Map<string, Kept>();
  /** The turns' timelines, kept for the next judgement of the same input. */
  readonly timelines = new KeptTurnTimelines();
  private round = 0;
  private reused = 0;

  /** Reports given again rather than judged, since the start. */
  get reusedReports(): number {
    return this.reused;
  }

  /** Turns whose reports are kept. */
  get size(): number {
    return this.kept.size;
  }

  /** Starts a judgement: reports of turns not asked for until `endRound` are forgotten then. */
  beginRound(): void {
    this.round++;
  }

  /** Forgets the reports of turns the judgement since `beginRound` did not ask for (they left the input). */
  endRound(): void {
    for (const [key, kept] of this.kept) if (kept.round !== this.round) this.kept.delete(key);
  }

  /** The turn's report: the kept one when nothing it is judged from changed, else `judge()`'s, kept when it cannot change. */
  reportOf(turn: TurnTimeline, thread: ThreadTimeline, context: JudgeContext, judge: () => TurnReport): TurnReport {
    const key = turn.key;
    const kept = this.kept.get(key);
    const around = inputsAround(turn, thread, context);
    // A timeline taken whole from the last judgement (KeptTurnTimelines) is the same object at the same version.
    const sameTurn = kept !== undefined && kept.turn === turn && kept.version === turn.version;
    const ofTurn = sameTurn ? kept.ofTurn : inputsOfTurn(turn);
    if (kept !== undefined && context.now >= kept.atMs && sameInputs(kept.around, around) && (sameTurn || sameInputs(kept.ofTurn, ofTurn))) {
      kept.round = this.round;
      this.reused++;
      return kept.report;
    }
    const report = judge();
    const keepable = report.endedAt !== null && thread.renderer.size === 0 && context.globalRenderer.length === 0;
    if (keepable && allEndedBy(ofTurn, context.now) && allEndedBy(around, context.now)) {
      this.kept.set(key, { report, atMs: context.now, turn, version: turn.version, ofTurn, around, round: this.round });
    } else {
      this.kept.delete(key);
    }
    return report;
  }
}

/** What an ended turn's report is worked out from of the turn itself, flat: spans by identity, the rest by value. */
function inputsOfTurn(turn: TurnTimeline): unknown[] {
  const out: unknown[] = [turn.threadId, turn.turnId, turn.turnSpan, turn.droppedSpans, turn.recordsOpen, turn.firstMs, turn.lastMs];
  out.push(turn.spans.size, ...turn.spans.values());
  out.push(turn.sources.size, ...turn.sources, turn.sourceNames.size, ...turn.sourceNames);
  return out;
}

/** What an ended turn's report is worked out from besides the turn: its thread, what the input can show, the thresholds. */
function inputsAround(turn: TurnTimeline, thread: ThreadTimeline, context: JudgeContext): unknown[] {
  const out: unknown[] = [thread.hydrations.size, ...thread.hydrations.values(), thread.renderer.size, context.globalRenderer.length];
  // Of the turn before it, the ACP quirk lines read only whether it was interrupted, and when it ended,
  // and only of a turn whose turn span is an ACP prompt's (the turn span is an input itself).
  const previous = isAcpPrompt(turn.turnSpan) ? previousTurnOf(thread, turn, Math.min(turn.turnSpan?.startTimeMs ?? Infinity, turn.firstMs)) : undefined;
  out.push(previous?.endStatus === TURN_END_STATUS_INTERRUPTED ? previous.endMs : undefined);
  out.push(context.sight.upstream, context.sight.renderer, context.sight.approvals, ...thresholdInputs(context.thresholds));
  return out;
}

const thresholdsFlat = new WeakMap<Thresholds, readonly unknown[]>();

/** The thresholds as keys and values in key order: worked out once per thresholds object (one per judgement). */
function thresholdInputs(thresholds: Thresholds): readonly unknown[] {
  let flat = thresholdsFlat.get(thresholds);
  if (flat === undefined) {
    flat = Object.keys(thresholds)
      .sort()
      .flatMap((key) => [key, thresholds[key as keyof Thresholds]]);
    thresholdsFlat.set(thresholds, flat);
  }
  return flat;
}

function sameInputs(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Every span among the inputs ended by `now` (an open one is drawn to the moment, so it changes with it). */
function allEndedBy(inputs: readonly unknown[], now: number): boolean {
  for (const x of inputs) {
    if (typeof x !== 'object' || x === null) continue;
    const span = x as RecordedSpan;
    if (span.endTimeMs === undefined || span.endTimeMs > now || span.startTimeMs > now) return false;
  }
  return true;
}
