/**
 * A live view judged again and again (`stall-why watch`, `collect`'s verdict metrics) keeps what did
 * not change between judgements (`EndedTurnVerdicts`: the reports of ended turns, and turn timelines
 * taken whole): every report must still be the one judged afresh from the same spans. A flight
 * recorder written by TurnTracer, as a busy server writes it: turns one after another, turns of
 * several threads interleaved, a turn left open over several judgements, a turn ended later; read by
 * LiveRecording as watch reads it, and judged each round with and without what was kept, with the
 * timeline's memory bound small enough that it evicts turns in the middle of the input every round.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { classifySpans, EndedTurnVerdicts } from '@stall-why/classifier';
import { TURN_END_STATUS_COMPLETED, TURN_END_STATUS_INTERRUPTED } from '@stall-why/conventions';
import { FlightRecorderProcessor, TurnTracer, type TurnHandle } from '@stall-why/instrument';
import { LiveRecording, TraceJudge } from 'stall-why';

let dir: string;
let recorder: FlightRecorderProcessor;
let tracer: TurnTracer;
let turnNo = 0;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stall-why-live-judgement-'));
  recorder = new FlightRecorderProcessor({ directory: dir });
  tracer = new TurnTracer({ tracer: new BasicTracerProvider({ spanProcessors: [recorder] }).getTracer('live-judgement-test') });
});

afterEach(async () => {
  await recorder.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

/** A turn's first half: accepted, an attempt that answered, an item. */
function begin(thread: string): TurnHandle {
  const turn = tracer.startTurn({ threadId: thread, turnId: `turn-${turnNo++}` });
  turn.accepted();
  const attempt = turn.startAttempt();
  attempt.requestSent().headers(200).firstByte().firstEvent();
  attempt.streamEnd();
  turn.startPhase('stall_why.item', { attributes: { 'stall_why.item.type': 'agentMessage', 'stall_why.item.id': `item-${turnNo}` } }).end();
  return turn;
}

/** A turn's second half: a second attempt, silent when `silent` (left open), and the turn's end unless left open. */
function finish(turn: TurnHandle, end: typeof TURN_END_STATUS_COMPLETED | typeof TURN_END_STATUS_INTERRUPTED | undefined, silent = false): void {
  const attempt = turn.startAttempt();
  attempt.requestSent();
  if (silent) return;
  attempt.headers(200).firstByte().firstEvent();
  attempt.streamEnd();
  if (end) turn.endTurn(end);
}

function wholeTurn(thread: string): void {
  finish(begin(thread), TURN_END_STATUS_COMPLETED);
}

describe('a live view judged again and again', () => {
  it('gives the reports judged afresh, while keeping ended turns whole between judgements', async () => {
    const live = new LiveRecording(dir);
    const kept = new EndedTurnVerdicts();
    // About 14 spans a turn: some 6 turns fit, so every judgement evicts the oldest ended turns mid-input.
    const limits = { maxRetainedSpans: 90 };
    let open: TurnHandle | undefined;
    for (let round = 0; round < 12; round++) {
      if (round >= 4 && round < 7) {
        // Two threads' turns interleaved, one of them ended only in the next round.
        const a = begin('thread-a');
        const b = begin('thread-b');
        finish(a, TURN_END_STATUS_COMPLETED);
        open ??= b;
        if (open !== b) finish(b, TURN_END_STATUS_INTERRUPTED);
      } else if (open && round === 8) {
        finish(open, TURN_END_STATUS_COMPLETED);
        open = undefined;
      } else if (round === 9) {
        finish(begin('thread-a'), undefined, true);
      }
      for (let i = 0; i < 3; i++) wholeTurn(`thread-${i % 2 ? 'a' : 'b'}`);
      await recorder.forceFlush();
      const now = Date.now();
      const spans = await live.refresh(now);
      for (const at of [now, now + 10 * 60_000]) {
        expect(classifySpans(spans, { now: at, limits, endedTurns: kept })).toEqual(classifySpans(spans, { now: at, limits }));
      }
    }
    // Not vacuous: turns were taken whole, and ended turns' reports given again.
    expect(kept.timelines.adoptedTurns).toBeGreaterThan(40);
    expect(kept.reusedReports).toBeGreaterThan(40);
  });

  it('TraceJudge gives what judging the held spans afresh gives', async () => {
    const fresh = new LiveRecording(dir);
    let judge: TraceJudge | undefined;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 5; i++) wholeTurn(`thread-${i % 3}`);
      if (round === 2) finish(begin('thread-0'), undefined, true);
      await recorder.forceFlush();
      // Opened once the directory holds a recording: only then is it followed as one.
      judge ??= await TraceJudge.open(dir);
      const now = Date.now();
      const report = await judge.judge(now);
      const afresh = classifySpans(await fresh.refresh(now), { now });
      expect({ turns: report.turns, summary: report.summary }).toEqual({ turns: afresh.turns, summary: afresh.summary });
    }
  });
});
