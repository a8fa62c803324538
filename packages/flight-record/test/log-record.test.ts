// The `L` record: a RecordedLog round-trips through the encoder, a version 2 segment and the reader
// exactly, between span records; a damaged one is skipped and counted; and the recordings committed
// before it existed read with no log record and nothing skipped.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeLogRecordBody, encodeSegmentHeader, FRAME_HEADER_BYTES, inspectFlightRecorder, newFlightReadStats, readFlightRecords, RecordEncoder,
  RECORD_TYPE_END, RECORD_TYPE_LOG, writeRecordedLogBody, writeRecordedSpanBody,
  type CorruptRecord, type FlightRecord, type RecordedLog, type RecordedSpan, type SegmentHeader,
} from '@stall-why/flight-record';
import { reframe } from './frames.js';

const root = mkdtempSync(join(tmpdir(), 'sw-log-record-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SPAN: RecordedSpan = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'turn', startTimeMs: 1, endTimeMs: 2, attributes: { n: 1 } };
const FULL: RecordedLog = {
  traceId: '4636ffbe9d2044353f6dec96ea9e9cfc',
  spanId: '94581a907c488f36',
  timeMs: 1_796_207_527_602.3694,
  observedTimeMs: 1_796_207_527_602.3694,
  severityNumber: 9,
  severityText: 'INFO',
  body: 'flushing OTEL metrics \u{1f600} x\ud800',
  eventName: 'event otel/src/events/session_telemetry.rs:703',
  attributes: { 'event.name': 'codex.tool_result', success: true, duration_ms: 12.5, list: ['a', null, 3] },
  resource: { 'service.name': 'codex-app-server', 'service.version': '0.169.0' },
  scope: 'codex_otel.log_only',
  scopeVersion: '1.2',
};
const BARE: RecordedLog = { timeMs: 5, attributes: {} };

function segment(records: ReadonlyArray<RecordedSpan | RecordedLog>, header: SegmentHeader = { pid: 1, createdMs: 1, seq: 0 }): Buffer {
  const encoder = new RecordEncoder(64);
  for (const r of records) {
    const ok = 'name' in r ? encoder.appendRecord(RECORD_TYPE_END, r, writeRecordedSpanBody) : encoder.appendRecord(RECORD_TYPE_LOG, r, writeRecordedLogBody);
    expect(ok).toBe(true);
  }
  return Buffer.concat([encodeSegmentHeader(header), encoder.buffer.subarray(0, encoder.length)]);
}

async function readDir(dir: string) {
  const stats = newFlightReadStats();
  const corrupt: CorruptRecord[] = [];
  const out: FlightRecord[] = [];
  for await (const r of readFlightRecords(dir, { stats, onCorrupt: (c) => corrupt.push(c) })) out.push(r);
  return { out, stats, corrupt };
}

function freshDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('log records (L)', () => {
  it('round-trip exactly, every optional part present or absent, between span records', async () => {
    const dir = freshDir('round-trip');
    const partial: RecordedLog = { traceId: FULL.traceId, timeMs: 7.25, severityText: 'WARN', attributes: { a: 'b' } };
    writeFileSync(join(dir, 's.swfr'), segment([FULL, SPAN, BARE, partial]));
    const { out, stats } = await readDir(dir);
    expect(stats).toMatchObject({ records: 4, corruptRecords: 0 });
    expect(out).toStrictEqual([{ type: 'log', log: FULL }, { type: 'end', span: SPAN }, { type: 'log', log: BARE }, { type: 'log', log: partial }]);
    const inspected = await inspectFlightRecorder(dir);
    expect(inspected).toMatchObject({ logRecords: 3, logUploadBacklog: 3, spans: 1, endRecords: 1, uploadBacklog: 1, oldestMs: 1, newestMs: FULL.timeMs });
  });

  it("take the segment header's resource when they carry none", async () => {
    const dir = freshDir('header-resource');
    const resource = { 'service.name': 'from-header' };
    writeFileSync(join(dir, 's.swfr'), segment([BARE, FULL], { pid: 1, createdMs: 1, seq: 0, resource }));
    const { out } = await readDir(dir);
    expect(out.map((r) => (r.type === 'log' ? r.log.resource : undefined))).toEqual([resource, FULL.resource]);
  });

  it('leave out a severity number that is not a non-negative integer, and refuse ids that are not lowercase hex', () => {
    const encoder = new RecordEncoder(64);
    expect(encoder.appendRecord(RECORD_TYPE_LOG, { ...BARE, traceId: 'AB'.repeat(16) }, writeRecordedLogBody)).toBe(false);
    expect(encoder.appendRecord(RECORD_TYPE_LOG, { ...BARE, spanId: 'cd' }, writeRecordedLogBody)).toBe(false);
    expect(encoder.length).toBe(0);
    expect(encoder.appendRecord(RECORD_TYPE_LOG, { ...BARE, severityNumber: -3 }, writeRecordedLogBody)).toBe(true);
    const body = encoder.buffer.subarray(FRAME_HEADER_BYTES + 1, encoder.length);
    expect(decodeLogRecordBody(body, 0, body.length, undefined)).toStrictEqual(BARE);
  });

  it('are skipped and counted when the checksum matches but the body does not decode, and never throw on random bodies', async () => {
    const encoder = new RecordEncoder(64);
    encoder.appendRecord(RECORD_TYPE_LOG, FULL, writeRecordedLogBody);
    const frame = Buffer.from(encoder.buffer.subarray(0, encoder.length));
    const body = frame.subarray(FRAME_HEADER_BYTES + 1);
    const reframeBody = (changed: Buffer) => reframe(RECORD_TYPE_LOG, changed);
    const malformed = [Buffer.concat([body, Buffer.from([0])]), body.subarray(0, body.length - 1), Buffer.concat([Buffer.from([0x00]), body.subarray(1)])];
    const dir = freshDir('malformed');
    writeFileSync(join(dir, 's.swfr'), Buffer.concat([encodeSegmentHeader({ pid: 1, createdMs: 1, seq: 0 }), frame, ...malformed.map(reframeBody), frame]));
    const { out, corrupt } = await readDir(dir);
    expect(out).toStrictEqual([{ type: 'log', log: FULL }, { type: 'log', log: FULL }]);
    expect(corrupt.map((c) => c.reason)).toEqual(['record', 'record', 'record']);
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 20_000; i++) {
      const junk = Buffer.from(body);
      for (let k = 0; k < 1 + (i % 5); k++) junk[Math.floor(rand() * junk.length)] = Math.floor(rand() * 256);
      const decoded = decodeLogRecordBody(junk, 0, i % 3 === 0 ? Math.floor(rand() * junk.length) : junk.length, undefined);
      if (decoded !== undefined) expect(typeof decoded.timeMs).toBe('number');
    }
  });
});

describe('recordings made before log records', () => {
  it('read with no log record and nothing skipped (test/corpus/**/*.flight, test/e2e/recordings/*/recording but codex-otel-*)', async () => {
    const repo = resolve(import.meta.dirname, '../../..');
    // The codex-otel-* recordings were made by a collect that keeps log records.
    const dirs = execFileSync('find', ['test', '-type', 'd', '(', '-name', '*.flight', '-o', '-path', 'test/e2e/recordings/*/recording', ')'], { cwd: repo, encoding: 'utf8' })
      .trim().split('\n').filter((d) => !d.includes('/codex-otel-'));
    expect(dirs.length).toBeGreaterThan(20);
    for (const dir of dirs) {
      const { out, stats } = await readDir(join(repo, dir));
      expect(stats.corruptRecords, dir).toBe(0);
      expect(out.length, dir).toBeGreaterThan(0);
      expect(out.filter((r) => r.type === 'log'), dir).toEqual([]);
    }
  });
});
