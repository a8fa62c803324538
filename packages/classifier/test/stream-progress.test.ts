/**
 * A long answer streaming through `stall-why record --upstream`: the proxy records a
 * `stall_why.upstream.stream_progress` point every few seconds while the stream's events come
 * (test/viewer-cli's record-upstream test checks that it does). A turn is not stuck while they come,
 * and once they stop, the silence is counted from the last one, not from the first event. Codex's
 * own log export, which logs every event of an HTTP stream, is read the same way.
 */
import {
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_ITEM_ID,
  ATTR_ITEM_TYPE,
  ATTR_PHASE_KIND,
  ATTR_THREAD_ID,
  ATTR_TURN_ID,
  ATTR_TURN_STATUS,
  ATTR_UPSTREAM_EVENTS,
  PHASE_ITEM,
  PHASE_ITEM_PROGRESS,
  PHASE_TURN,
  PHASE_UPSTREAM_ATTEMPT,
  PHASE_UPSTREAM_FIRST_BYTE,
  PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_REQUEST_SENT,
  PHASE_UPSTREAM_STREAM_END,
  PHASE_UPSTREAM_STREAM_PROGRESS,
} from '@stall-why/conventions';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedSpan } from '@stall-why/flight-record';
import { analyzeTraces, classifySpans } from '@stall-why/classifier';
import { afterAll, describe, expect, it } from 'vitest';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const ids = { [ATTR_THREAD_ID]: 'th', [ATTR_TURN_ID]: 't' };
const trace = 'e'.repeat(32);
let n = 0;
const id = (): string => (++n).toString(16).padStart(16, '0');
const turn: RecordedSpan = { traceId: trace, spanId: id(), name: PHASE_TURN, startTimeMs: T0, attributes: { ...ids, [ATTR_PHASE_KIND]: 'span' } };
const attempt: RecordedSpan = { traceId: trace, spanId: id(), parentSpanId: turn.spanId, name: PHASE_UPSTREAM_ATTEMPT, startTimeMs: T0 + 100, attributes: { ...ids, [ATTR_PHASE_KIND]: 'span' } };
const point = (name: string, ms: number, attributes = {}): RecordedSpan => ({
  traceId: trace, spanId: id(), parentSpanId: attempt.spanId, name, startTimeMs: T0 + ms, endTimeMs: T0 + ms, attributes: { ...ids, [ATTR_PHASE_KIND]: 'point', ...attributes },
});
const opened = [
  turn, attempt, point(PHASE_UPSTREAM_REQUEST_SENT, 100), point(PHASE_UPSTREAM_HEADERS, 500, { [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200 }),
  point(PHASE_UPSTREAM_FIRST_BYTE, 600), point(PHASE_UPSTREAM_FIRST_EVENT, 700),
];
/** A progress point every 3 s from 3.7 s up to `untilMs`, with 12 events a point. */
const progressUntil = (untilMs: number): RecordedSpan[] => {
  const out: RecordedSpan[] = [];
  for (let ms = 3_700, events = 12; ms <= untilMs; ms += 3_000, events += 12) out.push(point(PHASE_UPSTREAM_STREAM_PROGRESS, ms, { [ATTR_UPSTREAM_EVENTS]: events }));
  return out;
};

describe('a long answer streaming through the upstream proxy', () => {
  it('is not stuck while its events come: the last progress point is the last activity', () => {
    const [t] = classifySpans([...opened, ...progressUntil(39_700)], { now: T0 + 41_000 }).turns;
    expect(t).toMatchObject({ status: 'in_progress', stuckForMs: 1_300 });
    expect(t!.confidence).toBeLessThanOrEqual(0.5);
    expect(t!.evidence[0]).toMatch(/first event at 10:00:00\.700, events still coming at 10:00:39\.700 \(156 so far\); the stream has not ended, nothing of it recorded for 1\.3 s since/);
    // One bar for the attempt and its milestones; the points every 3 s are not drawn.
    expect(t!.phases.filter((p) => p.name === PHASE_UPSTREAM_STREAM_PROGRESS)).toEqual([]);
  });

  it('once its events stop, the silence counts from the last of them', () => {
    const [t] = classifySpans([...opened, ...progressUntil(9_700)], { now: T0 + 45_000 }).turns;
    expect(t).toMatchObject({ status: 'stuck', verdict: 'backend_stall', stuckForMs: 35_300 });
    expect(t!.evidence[0]).toMatch(/events still coming at 10:00:09\.700 \(36 so far\); the stream has not ended, nothing of it recorded for 35 s since/);
  });

  it('stuck, the silence may still be a model thinking until silentModelMs (2 min): said, and in the confidence', () => {
    const [early] = classifySpans([...opened, ...progressUntil(9_700)], { now: T0 + 45_000 }).turns;
    expect(early!.confidence).toBe(0.6);
    expect(early!.evidence).toContain('a model at high effort can think for minutes without a word: until 2 min of silence this may still be the model at work');
    const [late] = classifySpans([...opened, ...progressUntil(9_700)], { now: T0 + 140_000 }).turns;
    expect(late).toMatchObject({ status: 'stuck', verdict: 'backend_stall', confidence: 0.9 });
    expect(late!.evidence.join('\n')).not.toMatch(/can think for minutes/);
  });

  it('a stream open for hours keeps its latest progress point, its older ones bounded like any span', () => {
    // 15 min of points every 3 s: 300, against a bound of 50 spans a turn.
    const report = classifySpans([...opened, ...progressUntil(900_000)], { now: T0 + 901_000, limits: { maxSpansPerTurn: 50 } });
    const [t] = report.turns;
    expect(t).toMatchObject({ status: 'in_progress' });
    expect(t!.evidence[0]).toMatch(/events still coming at 10:14:57\.700/);
    expect(t!.evidence.join('\n')).toMatch(/older item and point spans of this turn were dropped to bound memory/);
  });

  it('ended, it was the model at work, however long', () => {
    const end = T0 + 60_000;
    const spans = [
      ...opened, ...progressUntil(57_700), point(PHASE_UPSTREAM_STREAM_END, 59_000),
      { ...attempt, endTimeMs: T0 + 59_000 }, { ...turn, endTimeMs: end, attributes: { ...turn.attributes, [ATTR_TURN_STATUS]: 'completed' } },
    ];
    const [t] = classifySpans(spans, { now: end + 1_000 }).turns;
    expect(t).toMatchObject({ status: 'completed', verdict: 'healthy' });
    // Its quiet stretches are the gaps between progress points, all of them the model writing.
    expect(t!.evidence[0]).toMatch(/longest quiet stretch 3\.0 s/);
    expect(t!.evidence.join('\n')).toMatch(/model working 58 s of the turn/);
  });
});

interface LogRecord {
  observedTimeUnixNano: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}
type Batch = { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: LogRecord[] }> }> };

describe("a long answer in Codex's log export (every event of an HTTP stream is a codex.sse_event)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'stall-why-progress-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is not stuck while its events are logged', async () => {
    // The real capture of a turn interrupted mid-answer (Codex 0.169), its stream made to go on: a text delta every second for 40 s.
    const batches = readFileSync(join(import.meta.dirname, '../../../test/corpus/codex-otel/interrupt.logs.otlp.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Batch);
    const records = batches[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    const kind = (r: LogRecord): unknown => r.attributes.find((a) => a.key === 'event.kind')?.value.stringValue;
    const delta = records.find((r) => kind(r) === 'response.output_text.delta')!;
    const more = Array.from({ length: 40 }, (_, i) => ({ ...delta, observedTimeUnixNano: (BigInt(delta.observedTimeUnixNano) + BigInt(i + 1) * 1_000_000_000n).toString() }));
    records.splice(records.indexOf(delta) + 1, 0, ...more);
    const path = join(dir, 'streaming.logs.otlp.jsonl');
    writeFileSync(path, batches.map((b) => `${JSON.stringify(b)}\n`).join(''));
    const lastMs = Number(BigInt(more.at(-1)!.observedTimeUnixNano) / 1_000_000n);
    const [t] = (await analyzeTraces([path], { now: lastMs + 2_000 })).report.turns;
    expect(t!.status).toBe('in_progress');
    expect(t!.stuckForMs).toBeLessThan(4_000);
    expect(t!.evidence[0]).toMatch(/events still coming at .* \((3[6-9]|4[0-3]) so far\)/);
  });
});

describe('a long answer seen by the JSON-RPC observer alone (its deltas sampled into item progress points)', () => {
  const item: RecordedSpan = { traceId: trace, spanId: id(), parentSpanId: turn.spanId, name: PHASE_ITEM, startTimeMs: T0 + 1_000, attributes: { ...ids, [ATTR_PHASE_KIND]: 'span', [ATTR_ITEM_TYPE]: 'agentMessage', [ATTR_ITEM_ID]: 'msg_1' } };
  const written = (untilMs: number): RecordedSpan[] => {
    const out: RecordedSpan[] = [];
    for (let ms = 4_000; ms <= untilMs; ms += 3_000) out.push({ traceId: trace, spanId: id(), parentSpanId: item.spanId, name: PHASE_ITEM_PROGRESS, startTimeMs: T0 + ms, endTimeMs: T0 + ms, attributes: { ...ids, [ATTR_PHASE_KIND]: 'point', [ATTR_ITEM_ID]: 'msg_1' } });
    return out;
  };

  it('is not stuck while the item is written, and says when its deltas stopped', () => {
    const [going] = classifySpans([turn, item, ...written(40_000)], { now: T0 + 41_000 }).turns;
    expect(going).toMatchObject({ status: 'in_progress', stuckForMs: 1_000 });
    expect(going!.evidence[0]).toMatch(/agentMessage.* not completed; still being written at 10:00:40\.000, nothing of it since for 1\.0 s/);
    const [stopped] = classifySpans([turn, item, ...written(10_000)], { now: T0 + 50_000 }).turns;
    expect(stopped).toMatchObject({ status: 'stuck', verdict: 'backend_stall', stuckForMs: 40_000 });
    expect(stopped!.evidence[0]).toMatch(/still being written at 10:00:10\.000, nothing of it since for 40 s/);
  });
});
