/**
 * `stall-why watch chdb:<dir>` (embedded ClickHouse, installed by `npm run test:clickhouse`): the
 * turn recorded stuck on a silent backend (test/corpus/example/backend-silent, live), moved so that
 * it started 90 s ago, is sent to `collect --clickhouse` as an OpenTelemetry SDK and the flight
 * recorder's uploader send it (ended spans, open spans as pending-span markers). watch then searches
 * the store at each refresh: the stuck turn is in its JSON report and in its verdict metrics, and
 * its stuck duration grows from one refresh to the next (each is judged at its own moment).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingSpanMarker, readFlightRecords, type RecordedSpan } from '@stall-why/flight-record';
import { CLI } from './cli-runner.js';
import { startCollectWith } from './collect-runner.js';
import { eventually, scrape, valueOf } from './metrics-endpoints.js';

const recording = join(import.meta.dirname, '..', '..', '..', 'test', 'corpus', 'example', 'backend-silent.live.flight');
const root = mkdtempSync(join(tmpdir(), 'sw-chdb-watch-'));
const store = `chdb:${join(root, 'store')}`;
const children: ChildProcess[] = [];

/** The recording's spans, open ones without an end, moved so that its first span started `agoMs` before now. */
async function recordedNow(agoMs: number): Promise<{ ended: RecordedSpan[]; open: RecordedSpan[] }> {
  const spans = new Map<string, RecordedSpan>();
  for await (const record of readFlightRecords(recording)) {
    if (record.type === 'log') continue;
    if (record.type === 'end' || !spans.has(record.span.spanId)) spans.set(record.span.spanId, record.type === 'end' ? record.span : { ...record.span, endTimeMs: undefined });
  }
  const shift = Date.now() - agoMs - Math.min(...[...spans.values()].map((s) => s.startTimeMs));
  const moved = [...spans.values()].map((s) => ({ ...s, startTimeMs: s.startTimeMs + shift, endTimeMs: s.endTimeMs === undefined ? undefined : s.endTimeMs + shift }));
  return { ended: moved.filter((s) => s.endTimeMs !== undefined), open: moved.filter((s) => s.endTimeMs === undefined) };
}

const anyValue = (v: unknown) => (typeof v === 'boolean' ? { boolValue: v } : typeof v === 'number' ? (Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }) : { stringValue: String(v) });
const nanos = (ms: number) => `${BigInt(Math.round(ms * 1000)) * 1000n}`;

/** One OTLP/JSON ExportTraceServiceRequest of the spans, grouped by resource as an SDK sends them. */
function otlpJson(spans: readonly RecordedSpan[]): string {
  return JSON.stringify({
    resourceSpans: [{
      resource: { attributes: Object.entries(spans[0]?.resource ?? {}).map(([key, value]) => ({ key, value: anyValue(value) })) },
      scopeSpans: [{
        scope: { name: 'stall-why-test' },
        spans: spans.map((s) => ({
          traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, kind: s.kind ?? 1,
          startTimeUnixNano: nanos(s.startTimeMs), endTimeUnixNano: nanos(s.endTimeMs ?? s.startTimeMs),
          attributes: Object.entries(s.attributes).map(([key, value]) => ({ key, value: anyValue(value) })),
          status: s.status ?? { code: 0 },
        })),
      }],
    }],
  });
}

let turnId: string;

beforeAll(async () => {
  const { ended, open } = await recordedNow(90_000);
  turnId = String(open.find((s) => s.name === 'stall_why.turn')!.attributes['stall_why.turn.id']);
  const { child, url } = await startCollectWith(['--clickhouse', store, '--create-schema', '--port', '0']);
  try {
    for (const body of [otlpJson(ended), otlpJson(open.map((s) => pendingSpanMarker(s, Date.now())))]) {
      const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(answer.status).toBe(200);
    }
  } finally {
    const exited = new Promise((ok) => child.on('exit', ok));
    child.kill('SIGTERM');
    await exited;
  }
}, 120_000);

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('stall-why watch on a ClickHouse source', () => {
  it('reports the stuck turn at each refresh, serves it as verdict metrics, and judges each refresh at its own moment', async () => {
    const child = spawn(process.execPath, [CLI, 'watch', store, '--interval', '300ms', '--json', '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));

    const first = await eventually(() => stdout, (s) => s.includes('\n'), 'a JSON report on stdout', 60_000);
    const report = JSON.parse(first.split('\n')[0]!) as { turns: { turnId: string; status: string; verdict: string }[] };
    expect(report.turns).toEqual([expect.objectContaining({ turnId, status: 'stuck', verdict: 'backend_stall' })]);

    const url = /served at (\S+)/.exec(await eventually(() => stderr, (s) => /served at \S+/.test(s), 'the metrics line on stderr'))![1]!;
    const stuckFor = (s: Awaited<ReturnType<typeof scrape>>) => valueOf(s, 'stall_why_turn_stuck_duration', { stall_why_turn_state: 'stuck', stall_why_turn_verdict: 'backend_stall' });
    const before = await eventually(() => scrape(url), (s) => (stuckFor(s) ?? 0) > 0, 'the stuck turn in a scrape', 60_000);
    expect(valueOf(before, 'stall_why_turns', { stall_why_turn_state: 'stuck', stall_why_turn_verdict: 'backend_stall', service_name: 'stall-why-example-app-server' })).toBe(1);
    // Quiet since about 88 s (its last span before the silence) when it was first judged; later refreshes say longer.
    expect(stuckFor(before)).toBeGreaterThan(60);
    await eventually(() => scrape(url), (s) => stuckFor(s)! >= stuckFor(before)! + 1, 'a later refresh judged later', 60_000);

    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
    expect(stderr).not.toContain('cannot read');
  });
});
