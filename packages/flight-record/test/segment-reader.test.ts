// The format and reader on their own (no OpenTelemetry SDK): segments written by hand with the
// exported encoder (format version 2) or framed as JSON (version 1, which the reader still reads),
// then damaged at random.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  encodeSegmentHeader, inspectFlightRecorder, isFlightRecorderDir, listSegments, looksLikeFlightSegment, newFlightReadStats,
  readFlightRecords, RecordEncoder, RECORD_TYPE_END, RECORD_TYPE_START, SEGMENT_FORMAT_VERSION, writeRecordedSpanBody,
  type CorruptRecord, type RecordedSpan, type SegmentHeader,
} from '@stall-why/flight-record';

const root = mkdtempSync(join(tmpdir(), 'sw-fmt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function span(i: number): RecordedSpan {
  return {
    traceId: i.toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, 'a'), name: `s${i}`, startTimeMs: 1_700_000_000_000 + i,
    ...(i % 3 === 0 ? {} : { endTimeMs: 1_700_000_000_500 + i }), attributes: { i, text: 'é€'.repeat(i % 5) },
  };
}

const HEADER: SegmentHeader = { pid: 42, createdMs: 1_700_000_000_000, seq: 0, resource: { 'service.name': 'fmt' } };
const typeOf = (s: RecordedSpan) => (s.endTimeMs === undefined ? RECORD_TYPE_START : RECORD_TYPE_END);

/** A version 2 segment, as the writers make it. */
function binarySegment(spans: RecordedSpan[], header = HEADER): Buffer {
  const encoder = new RecordEncoder();
  for (const s of spans) expect(encoder.appendRecord(typeOf(s), s, writeRecordedSpanBody)).toBe(true);
  return Buffer.concat([encodeSegmentHeader(header), encoder.buffer.subarray(0, encoder.length)]);
}

/** A version 1 segment, framed as writers before format version 2 did: the span as JSON. */
function jsonSegment(spans: RecordedSpan[]): Buffer {
  const header = encodeSegmentHeader(HEADER);
  header.writeUInt16LE(1, 8); // the header checksum covers its JSON only
  const frames = spans.map((s) => {
    const payload = Buffer.concat([Buffer.from([typeOf(s)]), Buffer.from(JSON.stringify(s), 'utf8')]);
    const frame = Buffer.alloc(8);
    frame.writeUInt32LE(payload.length, 0);
    frame.writeUInt32LE(crc32(payload), 4);
    return Buffer.concat([frame, payload]);
  });
  return Buffer.concat([header, ...frames]);
}

async function readDir(dir: string) {
  const stats = newFlightReadStats();
  const corrupt: CorruptRecord[] = [];
  const out: { type: string; span: RecordedSpan }[] = [];
  for await (const r of readFlightRecords(dir, { stats, onCorrupt: (c) => corrupt.push(c) })) out.push(r);
  return { out, stats, corrupt };
}

function freshDir(name: string): string {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

const FORMATS = [
  { version: 2, encode: binarySegment },
  { version: 1, encode: jsonSegment },
];

describe.each(FORMATS)('segment format version $version and reader', ({ version, encode }) => {
  it('reads back what was framed, with the header resource, and recognises segments by content', async () => {
    const dir = freshDir(`plain-${version}`);
    const spans = Array.from({ length: 30 }, (_, i) => span(i));
    const bytes = encode(spans);
    writeFileSync(join(dir, 'any-name.bin'), bytes);
    writeFileSync(join(dir, 'notes.txt'), 'not a segment');
    expect(bytes.readUInt16LE(8)).toBe(version);
    expect(looksLikeFlightSegment(bytes.subarray(0, 10))).toBe(true);
    expect(looksLikeFlightSegment(bytes.subarray(0, 9))).toBe(false);
    expect(await isFlightRecorderDir(dir)).toBe(true);
    expect((await listSegments(dir)).segments.map((s) => s.version)).toEqual([version]);
    const { out, stats } = await readDir(dir);
    expect(stats.corruptRecords).toBe(0);
    expect(out.map((r) => r.span)).toStrictEqual(spans.map((s) => ({ ...s, resource: { 'service.name': 'fmt' } })));
    expect(out.map((r) => r.type)).toEqual(spans.map((s) => (s.endTimeMs === undefined ? 'start' : 'end')));
    expect(await inspectFlightRecorder(dir)).toMatchObject({ spans: 30, openSpans: 10, segments: 1, writerPids: [42], bytes: bytes.length });
  });

  it('never returns a damaged record: 300 random byte flips, truncations and splices', async () => {
    const spans = Array.from({ length: 40 }, (_, i) => span(i));
    const bytes = encode(spans);
    const originals = new Map(spans.map((s) => [s.spanId, { ...s, resource: { 'service.name': 'fmt' } }]));
    const dir = freshDir(`fuzz-${version}`);
    writeFileSync(join(dir, 'seg.swfr'), bytes);
    const headerEnd = (await listSegments(dir)).segments[0].recordsOffset;
    let skipped = 0;
    for (let trial = 0; trial < 300; trial++) {
      const damaged = Buffer.from(bytes);
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
      for (const r of out) expect(r.span).toStrictEqual(originals.get(r.span.spanId));
      // A flipped byte costs at most the record it is in: the reader resynchronises on the next frame.
      // With several, a length flipped to run past the end is read as a torn tail unless records follow
      // it to the end (a frame inside a torn tail may be a forged one): the records up to the next
      // damage may go too, never a damaged or forged one.
      if (kind === 0 && flips === 1) expect(out.length).toBeGreaterThanOrEqual(spans.length - 1);
      skipped += stats.corruptRecords;
    }
    expect(skipped).toBeGreaterThan(150);
  });

  it('a flipped bit in a record\'s length loses nothing: the length its checksum matches is found (a wrong one could land on a later frame and take the records between)', async () => {
    const spans = Array.from({ length: 40 }, (_, i) => span(i));
    const bytes = encode(spans);
    const dir = freshDir(`length-${version}`);
    writeFileSync(join(dir, 'seg.swfr'), bytes);
    const headerEnd = (await listSegments(dir)).segments[0].recordsOffset;
    const frames: number[] = [];
    for (let at = headerEnd; at < bytes.length; at += 8 + bytes.readUInt32LE(at)) frames.push(at);
    // The frames 20 and 35 of version 2 are those where bit 6 of the length's low byte lands on the frame after next.
    for (const at of [frames[20]!, frames[35]!, frames[39]!]) {
      for (let bit = 0; bit < 32; bit++) {
        const damaged = Buffer.from(bytes);
        damaged.writeUInt32LE((damaged.readUInt32LE(at) ^ (1 << bit)) >>> 0, at);
        writeFileSync(join(dir, 'seg.swfr'), damaged);
        const { out } = await readDir(dir);
        expect(out.map((r) => r.span.spanId), `frame at ${at}, bit ${bit}`).toEqual(spans.map((s) => s.spanId));
      }
    }
  });

  it('counts a segment whose header JSON is damaged, and still reads its records (the preamble says where they start)', async () => {
    const dir = freshDir(`header-${version}`);
    const bytes = encode([span(1), span(2), span(3)]);
    bytes[25] ^= 0xff; // inside the header JSON
    writeFileSync(join(dir, 'seg.swfr'), bytes);
    const { out, stats } = await readDir(dir);
    expect(out.map((r) => r.span.name)).toEqual(['s1', 's2', 's3']);
    expect(stats.corruptRecords).toBe(1);
  });

  it('counts a segment whose magic has a flipped byte, and reads its records (it used to vanish unseen)', async () => {
    const dir = freshDir(`magic-${version}`);
    const bytes = encode([span(1), span(2)]);
    bytes[3] ^= 0x04;
    writeFileSync(join(dir, '001700000000000-42-000000-abcd.swfr'), bytes);
    const { out, stats } = await readDir(dir);
    expect(out.map((r) => r.span.name)).toEqual(['s1', 's2']);
    expect(stats.corruptRecords).toBe(1);
  });
});

describe('format versions side by side', () => {
  it('writes version 2', () => {
    expect(SEGMENT_FORMAT_VERSION).toBe(2);
    expect(encodeSegmentHeader(HEADER).readUInt16LE(8)).toBe(2);
  });

  it('reads a directory holding a version 1 and a version 2 segment, in creation order', async () => {
    const dir = freshDir('mixed');
    // Named so that name order is the reverse of creation order: the reader goes by the headers.
    writeFileSync(join(dir, 'a.swfr'), binarySegment([span(3), span(4)], { ...HEADER, createdMs: HEADER.createdMs + 1 }));
    writeFileSync(join(dir, 'b.swfr'), jsonSegment([span(1), span(2)]));
    const { out, stats } = await readDir(dir);
    expect(stats).toMatchObject({ segments: 2, records: 4, corruptRecords: 0 });
    expect(out.map((r) => r.span.name)).toEqual(['s1', 's2', 's3', 's4']);
  });

  it('reads a committed version 1 recording exactly as its JSON says', async () => {
    const dir = resolve(import.meta.dirname, '../../../test/corpus/ended/backend-silent.flight');
    const [file] = readdirSync(dir).filter((n) => n.endsWith('.swfr'));
    const bytes = readFileSync(join(dir, file));
    expect(bytes.readUInt16LE(8)).toBe(1);
    // The version 1 layout walked by hand: JSON.parse of each frame's body, plus the header's resource.
    const headerLength = bytes.readUInt32LE(12);
    const { resource } = JSON.parse(bytes.toString('utf8', 20, 20 + headerLength)) as SegmentHeader;
    const expected: { type: string; span: RecordedSpan }[] = [];
    for (let pos = 20 + headerLength; pos < bytes.length;) {
      const length = bytes.readUInt32LE(pos);
      const parsed = JSON.parse(bytes.toString('utf8', pos + 9, pos + 8 + length)) as RecordedSpan;
      expected.push({ type: bytes[pos + 8] === RECORD_TYPE_START ? 'start' : 'end', span: parsed.resource ? parsed : { ...parsed, resource } });
      pos += 8 + length;
    }
    const { out, stats } = await readDir(dir);
    expect(stats.corruptRecords).toBe(0);
    expect(out.length).toBeGreaterThan(10);
    expect(out).toStrictEqual(expected);
  });
});

/**
 * A record whose string attribute holds the bytes of a whole frame (a string with a lone surrogate is
 * stored as UTF-16LE, so any bytes can be put there: a tool name, a provider's error text, anything
 * posted to collect). When that record is damaged, the frame inside it must not be read as a record.
 */
describe('a forged frame inside a damaged record', () => {
  const forged: RecordedSpan = { traceId: 'ee'.repeat(16), spanId: 'ff'.repeat(8), name: 'FORGED', startTimeMs: 1, attributes: {} };
  function carrier(): RecordedSpan {
    const inner = new RecordEncoder(64);
    inner.appendRecord(RECORD_TYPE_START, forged, writeRecordedSpanBody);
    const frame = Buffer.concat([inner.buffer.subarray(0, inner.length), Buffer.alloc(inner.length % 2)]);
    let text = '';
    for (let i = 0; i < frame.length; i += 2) text += String.fromCharCode(frame.readUInt16LE(i));
    return { traceId: 'aa'.repeat(16), spanId: '0'.repeat(15) + '2', name: 'carrier', startTimeMs: 2, endTimeMs: 3, attributes: { 'gen_ai.tool.name': `${text}\ud800` } };
  }
  const plain = (n: number): RecordedSpan => ({ traceId: 'aa'.repeat(16), spanId: '0'.repeat(15) + String(n), name: `plain-${n}`, startTimeMs: n, endTimeMs: n, attributes: {} });

  function segmentBytes(): { bytes: Buffer; carrierStart: number; carrierEnd: number } {
    const encoder = new RecordEncoder(64);
    encoder.appendRecord(RECORD_TYPE_END, plain(1), writeRecordedSpanBody);
    const carrierStart = encoder.length;
    encoder.appendRecord(RECORD_TYPE_END, carrier(), writeRecordedSpanBody);
    const carrierEnd = encoder.length;
    encoder.appendRecord(RECORD_TYPE_END, plain(3), writeRecordedSpanBody);
    const header = encodeSegmentHeader({ pid: 1, createdMs: 1, seq: 0 });
    return { bytes: Buffer.concat([header, encoder.buffer.subarray(0, encoder.length)]), carrierStart: header.length + carrierStart, carrierEnd: header.length + carrierEnd };
  }

  async function namesRead(bytes: Buffer, name: string): Promise<string[]> {
    const dir = freshDir(name);
    writeFileSync(join(dir, 'seg.swfr'), bytes);
    const names: string[] = [];
    for await (const r of readFlightRecords(dir)) if (r.type !== 'log') names.push(r.span.name);
    return names;
  }

  it('is not read when the record holding it is cut short (a torn tail)', async () => {
    const { bytes, carrierEnd } = segmentBytes();
    // Cut after the forged frame, as a crash would, not exactly at its end (no writer can choose that).
    expect(await namesRead(bytes.subarray(0, carrierEnd - 1), 'forged-torn')).toEqual(['plain-1']);
  });

  it('is not read when a byte of the record holding it flipped; the record after it is', async () => {
    const { bytes, carrierStart } = segmentBytes();
    const damaged = Buffer.from(bytes);
    damaged[carrierStart + 12] ^= 0x10; // in the carrier's payload, before the forged bytes
    expect(await namesRead(damaged, 'forged-flip')).toEqual(['plain-1', 'plain-3']);
  });
});
