/**
 * An ended turn is replayed at every quiet stretch, and each replay holds only the phases the wait
 * rules can look at then (`turnScene` with `replay`). That is an optimisation, so it must never change
 * a finding: this white-box test replays every stretch of every corpus turn, and of random turns built
 * from every phase kind, both ways (the whole scene, the window) and compares what the rules say.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_ITEM_ID,
  ATTR_ITEM_TYPE,
  ATTR_THREAD_ID,
  ATTR_TOOL_KIND,
  ATTR_TURN_ID,
  ATTR_TURN_STATUS,
  ATTR_UPSTREAM_CONTINUATION,
  PHASE_APPROVAL,
  PHASE_COMPACTION,
  PHASE_CONTINUATION_REQUESTED,
  PHASE_FIRST_REASONING_ITEM,
  PHASE_ITEM,
  PHASE_TOOL_CALL,
  PHASE_TURN,
  PHASE_UPSTREAM_ATTEMPT,
  PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_RETRY,
  PHASE_UPSTREAM_STREAM_END,
  PHASE_UPSTREAM_STREAM_ERROR,
  TOOL_KIND_HOOK,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import { describe, expect, it } from 'vitest';
import { SpanClassifier } from '../src/classify-spans.js';
import { TimelineBuilder } from '../src/model/timeline-builder.js';
import { turnScene } from '../src/model/turn-scene.js';
import { JUST_BEFORE_MS, quietStretches } from '../src/rules/wait-account.js';
import { waitFinding } from '../src/rules/wait-finding.js';
import { resolveThresholds } from '../src/thresholds.js';
import { analyzeTraces } from '../src/analyze-traces.js';

const thresholds = resolveThresholds({});

/** Compares, at every stretch end of every turn, the wait the whole scene gives and the windowed one. */
function compareReplays(spans: readonly RecordedSpan[]): number {
  const builder = new TimelineBuilder();
  for (const s of spans) builder.add(s, 'test');
  const { threads, sight } = builder.build();
  let compared = 0;
  for (const thread of threads) {
    for (const turn of thread.turns.values()) {
      const end = Math.max(turn.turnSpan?.endTimeMs ?? turn.lastMs, turn.lastMs);
      const base = { now: end + 1, thresholds, sight };
      const whole = turnScene(turn, thread, [], { ...base, at: end + 1 });
      for (const stretch of quietStretches(whole)) {
        const at = stretch.to - JUST_BEFORE_MS;
        const full = waitFinding(turnScene(turn, thread, [], { ...base, at, replay: true, window: false }));
        const windowed = waitFinding(turnScene(turn, thread, [], { ...base, at, replay: true }));
        // Evidence is read, not compared as a field: findings write it when it is first read (LazyFinding).
        expect({ ...windowed, evidence: windowed.evidence }, `turn ${turn.key} at ${at}`).toEqual({ ...full, evidence: full.evidence });
        compared++;
      }
    }
  }
  return compared;
}

/** A random turn of `n` steps, each a model request (with its milestones and maybe a failure or retry), a tool, an approval, a compaction. */
function randomTurn(seed: number, n: number): RecordedSpan[] {
  let x = seed;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const spans: RecordedSpan[] = [];
  const traceId = seed.toString(16).padStart(32, '0');
  let id = 0;
  const attrs = { [ATTR_THREAD_ID]: 'th', [ATTR_TURN_ID]: `t${seed}` };
  const span = (name: string, start: number, end: number | undefined, extra: Record<string, string | boolean> = {}, parent?: string): string => {
    const spanId = (++id).toString(16).padStart(16, '0');
    spans.push({ traceId, spanId, parentSpanId: parent, name, startTimeMs: start, endTimeMs: end, attributes: { ...attrs, ...extra } });
    return spanId;
  };
  let t = 1_000_000;
  const open = (p: number): boolean => rnd() < p;
  for (let i = 0; i < n; i++) {
    const kind = rnd();
    if (kind < 0.45) {
      const start = t;
      const attempt = span(PHASE_UPSTREAM_ATTEMPT, start, undefined, rnd() < 0.3 ? { [ATTR_UPSTREAM_CONTINUATION]: true } : {});
      const attemptSpan = spans[spans.length - 1]!;
      t += Math.floor(rnd() * 3000);
      if (rnd() < 0.8) span(PHASE_UPSTREAM_HEADERS, t, t, {}, attempt);
      t += Math.floor(rnd() * 3000);
      if (rnd() < 0.7) span(PHASE_UPSTREAM_FIRST_EVENT, t, t, {}, rnd() < 0.8 ? attempt : undefined);
      t += Math.floor(rnd() * 5000);
      const outcome = rnd();
      if (outcome < 0.15) span(PHASE_UPSTREAM_STREAM_ERROR, t, t, {}, attempt);
      else if (outcome < 0.9) span(PHASE_UPSTREAM_STREAM_END, t, t, {}, attempt);
      if (!open(0.05)) (attemptSpan as { endTimeMs?: number }).endTimeMs = t;
      if (rnd() < 0.15) span(PHASE_UPSTREAM_RETRY, t + 1, t + 1);
      if (rnd() < 0.5) span(PHASE_FIRST_REASONING_ITEM, t, t);
      if (rnd() < 0.5) span(PHASE_ITEM, t - 100, t, { [ATTR_ITEM_TYPE]: rnd() < 0.5 ? 'agentMessage' : 'reasoning', [ATTR_ITEM_ID]: `i${id}` });
    } else if (kind < 0.75) {
      const call = `c${id}`;
      const hook = rnd() < 0.1;
      const end = t + Math.floor(rnd() * 20_000);
      span(PHASE_TOOL_CALL, t, open(0.05) ? undefined : end, { [ATTR_GEN_AI_TOOL_CALL_ID]: call, ...(hook ? { [ATTR_TOOL_KIND]: TOOL_KIND_HOOK } : {}) });
      if (rnd() < 0.4) span(PHASE_ITEM, t, rnd() < 0.5 ? end : end + 50, { [ATTR_ITEM_TYPE]: 'commandExecution', [ATTR_ITEM_ID]: rnd() < 0.7 ? call : `x${id}` });
      t = end + Math.floor(rnd() * 500);
      if (rnd() < 0.5) span(PHASE_CONTINUATION_REQUESTED, t, t);
    } else if (kind < 0.85) {
      const end = t + Math.floor(rnd() * 60_000);
      span(PHASE_APPROVAL, t, open(0.1) ? undefined : end);
      t = end;
    } else if (kind < 0.93) {
      const end = t + Math.floor(rnd() * 30_000);
      span(PHASE_COMPACTION, t, open(0.1) ? undefined : end);
      t = end;
    } else {
      t += Math.floor(rnd() * 90_000);
      span(PHASE_ITEM, t, t, { [ATTR_ITEM_TYPE]: 'agentMessage', [ATTR_ITEM_ID]: `m${id}` });
    }
    t += Math.floor(rnd() * 2000);
  }
  span(PHASE_TURN, 1_000_000, rnd() < 0.8 ? t : undefined, { [ATTR_TURN_STATUS]: 'completed' });
  return spans;
}

function traceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name.endsWith('.flight')) out.push(path);
    else if (statSync(path).isDirectory()) out.push(...traceFiles(path));
    else if (name.endsWith('.rollout.jsonl') || (name.endsWith('.otlp.jsonl') && !/\.(logs|metrics)\./.test(name))) out.push(path);
  }
  return out;
}

describe('replay window', () => {
  it('gives every stretch of every corpus turn the wait the whole scene gives', async () => {
    let compared = 0;
    for (const path of traceFiles(join(import.meta.dirname, '../../../test/corpus'))) {
      const { spans } = await analyzeTraces([path], { now: Date.parse('2030-01-01T00:00:00Z'), isolate: false });
      compared += compareReplays(spans);
    }
    expect(compared).toBeGreaterThan(200);
  });

  it('gives every stretch of random turns of every phase kind the wait the whole scene gives', () => {
    let compared = 0;
    for (let seed = 1; seed <= 300; seed++) compared += compareReplays(randomTurn(seed, 5 + (seed % 40)));
    expect(compared).toBeGreaterThan(5_000);
  });

  it('replays a turn of thousands of boundaries exactly: a 4-minute approval among 1 000 requests and tool calls is booked to the approval', () => {
    const spans: RecordedSpan[] = [];
    let id = 0;
    let t = 1_700_000_000_000;
    const ids = { [ATTR_THREAD_ID]: 'th', [ATTR_TURN_ID]: 'long' };
    const span = (name: string, start: number, end: number, extra: Record<string, string> = {}, parentSpanId?: string): string => {
      const spanId = (++id).toString(16).padStart(16, '0');
      spans.push({ traceId: 'b'.repeat(32), spanId, parentSpanId, name, startTimeMs: start, endTimeMs: end, attributes: { ...ids, ...extra } });
      return spanId;
    };
    for (let i = 0; i < 1_000; i++) {
      const a = span(PHASE_UPSTREAM_ATTEMPT, t, t + 3000);
      span(PHASE_UPSTREAM_HEADERS, t + 500, t + 500, {}, a);
      span(PHASE_UPSTREAM_FIRST_EVENT, t + 900, t + 900, {}, a);
      span(PHASE_UPSTREAM_STREAM_END, t + 3000, t + 3000, {}, a);
      span(PHASE_TOOL_CALL, t + 3010, t + 5000, { [ATTR_GEN_AI_TOOL_CALL_ID]: `c${i}` });
      t += 5100;
      if (i === 500) {
        span(PHASE_APPROVAL, t, t + 240_000);
        t += 240_000;
      }
    }
    span(PHASE_TURN, 1_700_000_000_000, t, { [ATTR_TURN_STATUS]: 'completed' });
    const classifier = new SpanClassifier({ now: t + 1000 });
    for (const s of spans) classifier.add(s);
    const turn = classifier.finish().report.turns[0]!;
    expect(turn).toMatchObject({ status: 'completed', verdict: 'awaiting_approval' });
    expect(turn.evidence[0]).toMatch(/^quiet for 4 min from .* until .*, waiting:$/);
  }, 60_000);
});
