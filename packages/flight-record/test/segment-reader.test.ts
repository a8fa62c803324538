// The format and reader on their own (no OpenTelemetry SDK): segments written by hand with the
// exported format functions, then damaged at random.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  encodeSegmentHeader, inspectFlightRecorder, isFlightRecorderDir, looksLikeFlightSegment, newFlightReadStats, readFlightRecords,
  RECORD_TYPE_END, RECORD_TYPE_START, writeFrame, type RecordedSpan,
} from '@stall-why/flight-record';

const root = mkdtempSync(join(tmpdir(), 'sw-fmt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function span(i: number): RecordedSpan {
  return {
    traceId: i.toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, 'a'), name: `s${i}`, startTimeMs: 1_700_000_000_000 + i,
    endTimeMs: i % 3 === 0 ? undefined : 1_700_000_000_500 + i, attributes: { i, text: 'é€'.repeat(i % 5) },
  };
}

function segmentBytes(count: number): { bytes: Buffer; spans: RecordedSpan[] } {
  const spans = Array.from({ length: count }, (_, i) => span(i));
  const body = Buffer.alloc(64 * 1024);
  let off = 0;
  for (const s of spans) off = writeFrame(body, off, s.endTimeMs === undefined ? RECORD_TYPE_START : RECORD_TYPE_END, JSON.stringify(s));
  const header = encodeSegmentHeader({ pid: 42, createdMs: 1_700_000_000_000, seq: 0, resource: { 'service.name': 'fmt' } });
  return { bytes: Buffer.concat([header, body.subarray(0, off)]), spans };
}

async function readDir(dir: string) {
  const stats = newFlightReadStats();
  const out: { type: string; span: RecordedSpan }[] = [];
  for await (const r of readFlightRecords(dir, { stats })) out.push(r);
  return { out, stats };
}

describe('segment format and reader', () => {
  it('reads back what was framed, with the header resource, and recognises segments by content', async () => {
    const dir = join(root, 'plain');
    const { bytes, spans } = segmentBytes(30);
    rmSync(dir, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(dir);
    writeFileSync(join(dir, 'any-name.bin'), bytes);
    writeFileSync(join(dir, 'notes.txt'), 'not a segment');
    expect(looksLikeFlightSegment(bytes.subarray(0, 10))).toBe(true);
    expect(looksLikeFlightSegment(bytes.subarray(0, 9))).toBe(false);
    expect(await isFlightRecorderDir(dir)).toBe(true);
    const { out, stats } = await readDir(dir);
    expect(stats.corruptRecords).toBe(0);
    expect(out.map((r) => r.span)).toEqual(spans.map((s) => ({ ...s, resource: { 'service.name': 'fmt' } })));
    expect(out.map((r) => r.type)).toEqual(spans.map((s) => (s.endTimeMs === undefined ? 'start' : 'end')));
    expect(await inspectFlightRecorder(dir)).toMatchObject({ spans: 30, openSpans: 10, segments: 1, writerPids: [42], bytes: bytes.length });
  });

  it('never returns a damaged record: 300 random byte flips, truncations and splices', async () => {
    const { bytes, spans } = segmentBytes(40);
    const originals = new Set(spans.map((s) => JSON.stringify({ ...s, resource: { 'service.name': 'fmt' } })));
    const dir = join(root, 'fuzz');
    (await import('node:fs')).mkdirSync(dir, { recursive: true });
    let skipped = 0;
    for (let trial = 0; trial < 300; trial++) {
      const damaged = Buffer.from(bytes);
      const headerEnd = bytes.indexOf('}') + 1;
      const kind = trial % 3;
      let data: Buffer = damaged;
      const flips = 1 + (trial % 4);
      if (kind === 0) {
        for (let k = 0; k < flips; k++) {
          const at = headerEnd + Math.floor(Math.random() * (bytes.length - headerEnd));
          damaged[at] ^= 1 << Math.floor(Math.random() * 8);
        }
      } else if (kind === 1) {
        data = damaged.subarray(0, headerEnd + Math.floor(Math.random() * (bytes.length - headerEnd)));
      } else {
        const a = headerEnd + Math.floor(Math.random() * (bytes.length - headerEnd));
        const len = 1 + Math.floor(Math.random() * 200);
        data = Buffer.concat([damaged.subarray(0, a), damaged.subarray(Math.min(bytes.length, a + len))]);
      }
      writeFileSync(join(dir, 'seg.swfr'), data);
      const { out, stats } = await readDir(dir);
      for (const r of out) expect(originals.has(JSON.stringify(r.span))).toBe(true);
      // A flipped byte costs at most the record it is in: the reader resynchronises on the next frame.
      if (kind === 0) expect(out.length).toBeGreaterThanOrEqual(spans.length - flips);
      skipped += stats.corruptRecords;
    }
    expect(skipped).toBeGreaterThan(150);
  });

  it('skips a segment whose header is damaged and counts it', async () => {
    const dir = join(root, 'header');
    (await import('node:fs')).mkdirSync(dir, { recursive: true });
    const { bytes } = segmentBytes(3);
    bytes[25] ^= 0xff; // inside the header JSON
    writeFileSync(join(dir, 'seg.swfr'), bytes);
    const { out, stats } = await readDir(dir);
    expect(out).toEqual([]);
    expect(stats.corruptRecords).toBe(1);
  });
});
