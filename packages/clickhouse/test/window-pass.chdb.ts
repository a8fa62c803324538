/**
 * What the window pass does not see, on embedded ClickHouse with the exporter's DDL: the store holds
 * two parts (merges stopped, as a live store holds an older merged part beside recent inserts), the
 * older one all before the judged hour. Then the pass reads the hour, and what lies before it is
 * looked up: a stuck turn's spans from before the window, markers of turns stuck for hours (or
 * superseded by their span since), and the thread-level phases of a candidate's thread recorded in
 * traces of their own, before the window or in it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ATTR_RENDERER_ID, ATTR_THREAD_ID, ATTR_TURN_ID, PHASE_RENDERER_ATTACHED, PHASE_RENDERER_DETACHED, PHASE_TURN, PHASE_UPSTREAM_ATTEMPT,
  VERDICT_RENDERER_DETACHED,
} from '@stall-why/conventions';
import { pendingSpanMarker, type RecordedSpan } from '@stall-why/flight-record';
import { analyzeClickHouse, ClickHouseRecordSink, connectClickHouse, createExporterSchema, parseClickHouseAddress, type ClickHouseAnalysis } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sw-window-pass-'));
const address = parseClickHouseAddress(`chdb:${join(dir, 'store')}`);
const now = Date.UTC(2026, 11, 2, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const resource = { 'service.name': 'agent' };

const idOf = (name: string, digits: number) => createHash('sha256').update(name).digest('hex').slice(0, digits);
const traceOf = (name: string) => idOf(name, 32);
const spanOf = (name: string) => idOf(name, 16);

/** A turn's root span and its model attempt, each ended at `ends` or open. */
function turn(name: string, startMs: number, attemptMs: number, ends: { turn?: number; attempt?: number } = {}): [RecordedSpan, RecordedSpan] {
  const traceId = traceOf(name);
  const attributes = { [ATTR_THREAD_ID]: `thread-${name}`, [ATTR_TURN_ID]: `turn-${name}` };
  const root: RecordedSpan = { traceId, spanId: spanOf(`${name}/t`), name: PHASE_TURN, startTimeMs: startMs, endTimeMs: ends.turn, attributes, resource };
  const attempt: RecordedSpan = {
    traceId, spanId: spanOf(`${name}/a`), parentSpanId: root.spanId, name: PHASE_UPSTREAM_ATTEMPT, startTimeMs: attemptMs, endTimeMs: ends.attempt, attributes, resource,
  };
  return [root, attempt];
}

/** A renderer attaching to or detaching from a thread, in a trace of its own (a point: it ends as it starts). */
function renderer(thread: string, phase: string, atMs: number): RecordedSpan {
  const name = `${thread}/${phase}/${atMs}`;
  return {
    traceId: traceOf(name), spanId: spanOf(name), name: phase, startTimeMs: atMs, endTimeMs: atMs,
    attributes: { [ATTR_THREAD_ID]: `thread-${thread}`, [ATTR_RENDERER_ID]: 'r1' }, resource,
  };
}

/** What an uploader sends: ended spans as they are, open ones as markers. */
const sent = (spans: RecordedSpan[]) => spans.map((s) => (s.endTimeMs === undefined ? pendingSpanMarker(s, now - 1_000) : s));

let judged: ClickHouseAnalysis;
const turnOf = (name: string) => judged.report.turns.find((t) => t.turnId === `turn-${name}`);

beforeAll(async () => {
  const connection = await connectClickHouse(address);
  await createExporterSchema(connection);
  await connection.client.command({ query: 'SYSTEM STOP MERGES `otel_traces`' });
  const sink = new ClickHouseRecordSink(connection);
  // The older part: everything before the judged hour.
  await sink.storeSpans([
    // began: its turn opened 3 h ago (only its marker there); its attempt, still open, in the window.
    ...sent([turn('began', now - 3 * HOUR, now - 20 * MINUTE)[0]]),
    // hours: stuck for 4 h, nothing of it in the window.
    ...sent(turn('hours', now - 4 * HOUR, now - 4 * HOUR + 100, { attempt: now - 4 * HOUR + 2_000 })),
    // superseded: markers sent 3 h ago, then the spans ended (no long wait).
    ...sent(turn('superseded', now - 3 * HOUR, now - 3 * HOUR + 100)),
    ...turn('superseded', now - 3 * HOUR, now - 3 * HOUR + 100, { turn: now - 3 * HOUR + 1_000, attempt: now - 3 * HOUR + 900 }),
    // left-early: stuck for 3 h with nothing open, its renderer gone 2 h ago: nothing of its thread in the window.
    ...sent(turn('left-early', now - 3 * HOUR, now - 3 * HOUR + 100, { attempt: now - 3 * HOUR + 2_000 })),
    renderer('left-early', PHASE_RENDERER_ATTACHED, now - 3 * HOUR - MINUTE),
    renderer('left-early', PHASE_RENDERER_DETACHED, now - 2 * HOUR),
    // left-late's renderer attached before the window (it detaches in it); a thread judged nowhere.
    renderer('left-late', PHASE_RENDERER_ATTACHED, now - 2 * HOUR),
    renderer('elsewhere', PHASE_RENDERER_ATTACHED, now - 2 * HOUR),
  ]);
  // The newer part: the judged hour. The turns of the renderers' threads wait with nothing open (their attempts ended).
  await sink.storeSpans([
    ...sent([turn('began', now - 3 * HOUR, now - 20 * MINUTE)[1]]),
    ...sent(turn('left-late', now - 30 * MINUTE, now - 30 * MINUTE + 100, { attempt: now - 30 * MINUTE + 2_000 })),
    renderer('left-late', PHASE_RENDERER_DETACHED, now - 20 * MINUTE),
    renderer('elsewhere', PHASE_RENDERER_DETACHED, now - 40 * MINUTE),
    ...sent(turn('attached', now - 30 * MINUTE, now - 30 * MINUTE + 100, { attempt: now - 30 * MINUTE + 2_000 })),
  ]);
  await sink.close();
  judged = await analyzeClickHouse(address, { now });
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('judges a stuck turn whose trace began before the window with the spans it has there', () => {
  expect(turnOf('began')).toMatchObject({ status: 'stuck', startedAt: new Date(now - 3 * HOUR).toISOString() });
});

it('finds a turn stuck for hours from its markers before the window, and not one whose markers its spans superseded', () => {
  expect(turnOf('hours')?.status).toBe('stuck');
  expect(turnOf('hours')?.startedAt).toBe(new Date(now - 4 * HOUR).toISOString());
  expect(turnOf('superseded')).toBeUndefined();
});

it("reads a candidate's thread phases from traces of their own, before the window and in it, and no other thread's, also for a thread seen only before the window", () => {
  expect(turnOf('left-early')?.verdict).toBe(VERDICT_RENDERER_DETACHED);
  expect(turnOf('left-late')?.verdict).toBe(VERDICT_RENDERER_DETACHED);
  expect(turnOf('attached')?.verdict).not.toBe(VERDICT_RENDERER_DETACHED);
  expect(judged.report.turns.map((t) => t.turnId).sort()).toEqual(['turn-attached', 'turn-began', 'turn-hours', 'turn-left-early', 'turn-left-late']);
  // began 2, hours 2, left-early 2 + 2 renderer points, left-late 2 + 2, attached 2: the thread judged nowhere is not read.
  expect(judged.fleet.spansRead).toBe(14);
  expect(judged.fleet.candidateTraces).toBe(5);
});

it("with a service asked for, the same turns and verdicts (its threads' phases looked up after the pass), and none of another service", async () => {
  const verdicts = (analysis: ClickHouseAnalysis) => analysis.report.turns.map((t) => `${t.turnId} ${t.status} ${t.verdict}`).sort();
  const ofService = await analyzeClickHouse(address, { now, service: 'agent' });
  expect(verdicts(ofService)).toEqual(verdicts(judged));
  expect(ofService.fleet.spansRead).toBe(judged.fleet.spansRead);
  expect((await analyzeClickHouse(address, { now, service: 'other' })).report.turns).toEqual([]);
});

it('with the pass returning ids alone (a window estimated above `onePassRows`, or no estimate), the same turns, verdicts and spans', async () => {
  const verdicts = (analysis: ClickHouseAnalysis) => analysis.report.turns.map((t) => `${t.turnId} ${t.status} ${t.verdict} ${t.startedAt}`).sort();
  const idsAlone = await analyzeClickHouse(address, { now, onePassRows: 0 });
  expect(verdicts(idsAlone)).toEqual(verdicts(judged));
  expect(idsAlone.fleet.spansRead).toBe(judged.fleet.spansRead);
  // And the passes were the ones asked for: spans with the default bound, ids alone above it.
  expect(judged.fleet.windowPass).toEqual({ estimatedRows: expect.any(Number), returnedSpans: true });
  expect(idsAlone.fleet.windowPass).toEqual({ estimatedRows: judged.fleet.windowPass!.estimatedRows, returnedSpans: false });
});
