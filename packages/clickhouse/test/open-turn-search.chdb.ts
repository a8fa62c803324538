/**
 * The open-turn search through pending-span markers, on embedded ClickHouse with the exporter's DDL:
 * a marker stands for an open span until its real span arrives. A turn whose markers were all
 * superseded by their ended spans is no candidate; one with a marker whose span never arrived is
 * found and judged stuck; a turn's spans are fetched even when they started long before its marker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ATTR_THREAD_ID, ATTR_TURN_ID, PHASE_TURN, PHASE_UPSTREAM_ATTEMPT } from '@stall-why/conventions';
import { pendingSpanMarker, type RecordedSpan } from '@stall-why/flight-record';
import { analyzeClickHouse, ClickHouseRecordSink, connectClickHouse, createExporterSchema, parseClickHouseAddress } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sw-open-search-'));
const address = parseClickHouseAddress(`chdb:${join(dir, 'store')}`);
const now = Date.UTC(2026, 11, 2, 12, 0, 0);
const MINUTE = 60_000;

/** A turn of two spans: the turn and one model attempt under it, each ended or not. */
function turn(n: number, startMs: number, ends: { turn?: number; attempt?: number }): RecordedSpan[] {
  const traceId = n.toString(16).padStart(32, '0');
  const resource = { 'service.name': 'agent' };
  const root: RecordedSpan = {
    traceId, spanId: `a${n}`.padStart(16, '0'), name: PHASE_TURN, startTimeMs: startMs, endTimeMs: ends.turn,
    attributes: { [ATTR_THREAD_ID]: `thread-${n}`, [ATTR_TURN_ID]: `turn-${n}` }, resource,
  };
  const attempt: RecordedSpan = {
    traceId, spanId: `b${n}`.padStart(16, '0'), parentSpanId: root.spanId, name: PHASE_UPSTREAM_ATTEMPT, startTimeMs: startMs + 100, endTimeMs: ends.attempt,
    attributes: { [ATTR_THREAD_ID]: `thread-${n}`, [ATTR_TURN_ID]: `turn-${n}` }, resource,
  };
  return [root, attempt];
}

/** What an uploader sends: ended spans as they are, open ones as markers (seen a second before `now`). */
const sent = (spans: RecordedSpan[]) => spans.map((s) => (s.endTimeMs === undefined ? pendingSpanMarker(s, now - 1_000) : s));

beforeAll(async () => {
  const connection = await connectClickHouse(address);
  await createExporterSchema(connection);
  const sink = new ClickHouseRecordSink(connection);
  // 1: was open when the uploader sent markers, has ended since (in a second, no long wait): markers and real spans both stored.
  const ended = turn(1, now - 10 * MINUTE, { turn: now - 10 * MINUTE + 1_000, attempt: now - 10 * MINUTE + 900 });
  await sink.storeSpans([...sent(turn(1, now - 10 * MINUTE, {})), ...ended]);
  // 2: the model attempt never ended: its marker and the turn's are all there is of them.
  await sink.storeSpans(sent(turn(2, now - 20 * MINUTE, {})));
  // 3: a turn that started five hours ago, still open: its attempt (ended) is older than the window.
  await sink.storeSpans(sent(turn(3, now - 5 * 60 * MINUTE, { attempt: now - 5 * 60 * MINUTE + 2_000 })));
  await sink.close();
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a marker whose span arrived is no open turn; one whose span never did is found, judged with all its spans', async () => {
  const { report, fleet } = await analyzeClickHouse(address, { now });
  const byTurn = new Map(report.turns.map((t) => [t.turnId, t]));
  // The superseded turn went well: the search does not make it a candidate.
  expect(byTurn.has('turn-1')).toBe(false);
  expect(byTurn.get('turn-2')).toMatchObject({ status: 'stuck', verdict: 'backend_stall' });
  // Turn 3 waits with nothing open under it since its attempt ended; that attempt is fetched though it started 5 h ago.
  expect(byTurn.get('turn-3')?.status).toBe('stuck');
  expect(byTurn.get('turn-3')?.verdict).not.toBe('backend_stall');
  expect(fleet.candidateTraces).toBe(2);
  expect(fleet.spansRead).toBe(4);
});

it('asked for by id, the superseded turn is judged ended from its real spans', async () => {
  const { report, fleet } = await analyzeClickHouse(address, { now, turn: 'turn-1' });
  expect(report.turns.map((t) => [t.turnId, t.status])).toEqual([['turn-1', 'completed']]);
  // Its traces are looked up by id: no pass over the window.
  expect(fleet.windowPass).toBeNull();
});
