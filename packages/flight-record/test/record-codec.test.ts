// Format version 2 record bodies: every RecordedSpan round-trips through the encoder, a segment file
// and the reader exactly (random spans with odd values, seeded so a failure can be replayed), and a
// body whose checksum matches but which does not decode is skipped and counted, never returned.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeRecordBody, encodeSegmentHeader, FRAME_HEADER_BYTES, MAX_RECORD_BYTES, newFlightReadStats, readFlightRecords, RecordEncoder,
  RECORD_TYPE_END, SEGMENT_FORMAT_VERSION, writeRecordedSpanBody,
  type AttributeValue, type Attributes, type CorruptRecord, type RecordedSpan,
} from '@stall-why/flight-record';
import { reframe } from './frames.js';

const root = mkdtempSync(join(tmpdir(), 'sw-codec-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = [
  '', 'a', 'upstream.attempt', 'é', 'café', '€uro', '\u{1f600}', 'ok \u{1f600} done', '\ud800', 'x\udc00y', 'a\ud83d', '\udfff\ud800',
  'say "hi"', 'C:\\tmp', 'a\nb\u0001\u0000', 'x'.repeat(63), 'x'.repeat(64), 'é'.repeat(40), '\u{1f600}'.repeat(20), '__proto__',
];
const NUMBERS = [
  0, -0, 1, -1, 200, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32, -(2 ** 31) - 1, 1.5, -2.25, 1e21, 5e-7, Number.MAX_VALUE, Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1_700_000_000_123.456,
];

function generator(seed: number) {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const chance = (p: number) => rand() < p;
  const hex = (digits: number) => Array.from({ length: digits }, () => '0123456789abcdef'[int(16)]).join('');
  const string = (): string => {
    if (chance(0.1)) return (chance(0.5) ? 'y' : 'ü\u{1f600}').repeat(50 + int(3000)); // long: past the short-string path
    if (chance(0.3)) return Array.from({ length: int(6) }, () => pick(STRINGS)).join('');
    return pick(STRINGS);
  };
  const scalar = (): string | number | boolean => (chance(0.4) ? string() : chance(0.7) ? pick(NUMBERS) : chance(0.5));
  const value = (): AttributeValue => {
    if (!chance(0.15)) return scalar();
    const n = chance(0.1) ? 1000 + int(1000) : int(6);
    return Array.from({ length: n }, () => (chance(0.15) ? null : scalar()));
  };
  const attributes = (): Attributes => {
    const out: Attributes = {};
    const n = chance(0.2) ? 0 : chance(0.05) ? 120 + int(40) : int(8); // 0, few, and counts past one varint byte
    for (let i = 0; i < n; i++) {
      // An own property even for `__proto__`, as JSON.parse makes it (assigning would set the prototype).
      Object.defineProperty(out, chance(0.5) ? string() : `k${i}`, { value: value(), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  return (): RecordedSpan => {
    const s: Record<string, unknown> = { traceId: hex(32), spanId: hex(16) };
    if (chance(0.7)) s.parentSpanId = hex(16);
    s.name = string();
    if (chance(0.8)) s.kind = int(5);
    s.startTimeMs = chance(0.9) ? 1_700_000_000_000 + rand() * 1e9 : pick(NUMBERS);
    if (chance(0.6)) s.endTimeMs = (s.startTimeMs as number) + rand() * 1e5;
    s.attributes = attributes();
    if (chance(0.3)) s.events = Array.from({ length: int(4) }, () => (chance(0.5) ? { name: string(), timeMs: rand() * 1e12 } : { name: string(), timeMs: rand() * 1e12, attributes: attributes() }));
    if (chance(0.5)) s.status = chance(0.5) ? { code: int(3) } : { code: int(3), message: string() };
    if (chance(0.15)) s.links = Array.from({ length: int(3) }, () => (chance(0.5) ? { traceId: hex(32), spanId: hex(16) } : { traceId: hex(32), spanId: hex(16), attributes: attributes() }));
    if (chance(0.3)) s.resource = attributes();
    if (chance(0.7)) s.scope = string();
    if (chance(0.5)) s.scopeVersion = string();
    return s as unknown as RecordedSpan;
  };
}

/** Writes `spans` as one version 2 segment (header without resource) and reads the directory back. */
async function roundTrip(name: string, spans: readonly RecordedSpan[]) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const encoder = new RecordEncoder(256);
  for (const s of spans) expect(encoder.appendRecord(RECORD_TYPE_END, s, writeRecordedSpanBody)).toBe(true);
  writeFileSync(join(dir, 'seg.swfr'), Buffer.concat([encodeSegmentHeader({ pid: 1, createdMs: 1, seq: 0 }), encoder.buffer.subarray(0, encoder.length)]));
  const stats = newFlightReadStats();
  const corrupt: CorruptRecord[] = [];
  const out: RecordedSpan[] = [];
  for await (const r of readFlightRecords(dir, { stats, onCorrupt: (c) => corrupt.push(c) })) out.push(r.span);
  return { out, stats, corrupt, bytes: encoder.length };
}

describe('format version 2 records', () => {
  it('round-trip 1000 random spans with odd values exactly (non-ASCII, astral, lone surrogates, NaN, -0, big arrays, empty maps)', async () => {
    const seed = Number(process.env.STALL_WHY_CODEC_SEED ?? Date.now() % 1e9);
    const next = generator(seed);
    const spans = Array.from({ length: 1000 }, next);
    const { out, stats } = await roundTrip(`random-${seed}`, spans);
    expect(stats.corruptRecords, `seed ${seed}`).toBe(0);
    // toStrictEqual compares with Object.is: NaN equals NaN, -0 differs from 0, absent keys stay absent.
    for (let i = 0; i < spans.length; i++) expect(out[i], `seed ${seed}, span ${i}`).toStrictEqual(spans[i]);
  });

  it('keeps what version 1 kept and what its JSON lost: lone surrogates, NaN, Infinity, -0, null array items', async () => {
    const attributes = { lone: 'x\ud800y', nan: Number.NaN, inf: Number.NEGATIVE_INFINITY, zero: -0, arr: ['a', null, 1.5, false], nul: null } as unknown as Attributes;
    const span: RecordedSpan = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: '\udc00', startTimeMs: 1, attributes };
    const { out } = await roundTrip('odd', [span]);
    expect(out[0].name).toBe('\udc00');
    expect(Object.is(out[0].attributes.zero, -0)).toBe(true);
    expect(out[0].attributes.nan).toBeNaN();
    expect(out).toStrictEqual([span]);
  });

  it('leaves out attribute values no OpenTelemetry attribute can be (undefined, functions, objects), and keeps the rest', async () => {
    const keys = Array.from({ length: 130 }, (_, i) => `k${i}`);
    const attributes: Record<string, unknown> = {};
    for (const [i, k] of keys.entries()) attributes[k] = i % 26 === 0 ? (i % 4 === 0 ? undefined : i % 4 === 1 ? () => 1 : { nested: i }) : i;
    const { out } = await roundTrip('unrecordable', [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'n', startTimeMs: 1, attributes: attributes as Attributes }]);
    const expected = Object.fromEntries(keys.flatMap((k, i) => (i % 26 === 0 ? [] : [[k, i]])));
    expect(Object.keys(expected)).toHaveLength(125);
    expect(out).toStrictEqual([{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'n', startTimeMs: 1, attributes: expected }]);
  });

  it('is about half the bytes of version 1 JSON on a typical span', async () => {
    const span: RecordedSpan = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', parentSpanId: 'a3ce929d0e0e4736', name: 'upstream.attempt', kind: 2,
      startTimeMs: 1_700_000_000_123.456, endTimeMs: 1_700_000_000_623.789, status: { code: 0 }, scope: 'bench', scopeVersion: '1.0.0',
      attributes: { 'stall_why.phase': 'upstream.attempt', 'stall_why.turn.id': 'turn-12', 'stall_why.thread.id': 'thread-1', 'http.response.status_code': 200, 'stall_why.attempt': 3, 'server.address': 'api.openai.com' },
    };
    const { bytes } = await roundTrip('size', [span]);
    const jsonBytes = FRAME_HEADER_BYTES + 1 + Buffer.byteLength(JSON.stringify(span));
    expect(bytes).toBeLessThan(jsonBytes * 0.6);
  });

  it('refuses ids that are not lowercase hex and records over MAX_RECORD_BYTES, leaving the buffer as it was', () => {
    const encoder = new RecordEncoder(64);
    const good: RecordedSpan = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'n', startTimeMs: 1, attributes: {} };
    expect(encoder.appendRecord(RECORD_TYPE_END, good, writeRecordedSpanBody)).toBe(true);
    const length = encoder.length;
    const before = Buffer.from(encoder.buffer.subarray(0, length));
    for (const bad of [
      { ...good, traceId: 'AB'.repeat(16) }, { ...good, spanId: 'cd'.repeat(7) }, { ...good, parentSpanId: 'zz'.repeat(8) },
      { ...good, links: [{ traceId: 'ab'.repeat(16), spanId: 'x' }] }, { ...good, attributes: { big: 'x'.repeat(MAX_RECORD_BYTES) } },
    ]) {
      expect(encoder.appendRecord(RECORD_TYPE_END, bad, writeRecordedSpanBody)).toBe(false);
      expect(encoder.length).toBe(length);
    }
    expect(encoder.buffer.subarray(0, length)).toEqual(before);
    expect(encoder.appendRecord(RECORD_TYPE_END, { ...good, attributes: { big: 'x'.repeat(MAX_RECORD_BYTES - 100) } }, writeRecordedSpanBody)).toBe(true);
    // A buffer with room for a record over the limit, so nothing needs to grow: still refused.
    const roomy = new RecordEncoder(2 * MAX_RECORD_BYTES);
    expect(roomy.appendRecord(RECORD_TYPE_END, { ...good, attributes: { big: 'x'.repeat(MAX_RECORD_BYTES - 100), more: 'y'.repeat(200) } }, writeRecordedSpanBody)).toBe(false);
    expect(roomy.length).toBe(0);
  });

  it('skips and counts a record whose checksum matches but whose body does not decode, and never throws on random bodies', async () => {
    const span: RecordedSpan = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'name', startTimeMs: 1, attributes: { a: 'b', n: [1, 'x'] }, events: [{ name: 'e', timeMs: 2 }] };
    const encoder = new RecordEncoder();
    encoder.appendRecord(RECORD_TYPE_END, span, writeRecordedSpanBody);
    const frame = Buffer.from(encoder.buffer.subarray(0, encoder.length));
    const body = frame.subarray(FRAME_HEADER_BYTES + 1);
    expect(decodeRecordBody(body, 0, body.length, SEGMENT_FORMAT_VERSION, undefined)).toStrictEqual(span);
    const reframeBody = (changed: Buffer) => reframe(RECORD_TYPE_END, changed);
    const nameAt = 2 + 16 + 8 + 8;
    const KEY_A = Buffer.from([1 << 1, 0x61]); // the string "a": length 1, UTF-8
    const malformed = [
      Buffer.concat([body, Buffer.from([0])]), // trailing byte
      body.subarray(0, body.length - 1), // cut short
      Buffer.concat([body.subarray(0, nameAt), Buffer.from([0xff]), body.subarray(nameAt + 1)]), // name longer than the record
      Buffer.concat([body.subarray(0, nameAt), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), body.subarray(nameAt + 1)]), // a 6-byte varint
      Buffer.from(body).fill(0x09, body.indexOf(KEY_A) + 2, body.indexOf(KEY_A) + 3), // unknown value tag
    ];
    const dir = join(root, 'malformed');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'seg.swfr'), Buffer.concat([encodeSegmentHeader({ pid: 1, createdMs: 1, seq: 0 }), frame, ...malformed.map(reframeBody), frame]));
    const corrupt: CorruptRecord[] = [];
    const out: RecordedSpan[] = [];
    for await (const r of readFlightRecords(dir, { onCorrupt: (c) => corrupt.push(c) })) out.push(r.span);
    expect(out).toStrictEqual([span, span]);
    expect(corrupt.map((c) => c.reason)).toEqual(malformed.map(() => 'record'));

    const rand = prng(7);
    for (let i = 0; i < 20_000; i++) {
      const junk = Buffer.from(body);
      for (let k = 0; k < 1 + (i % 5); k++) junk[Math.floor(rand() * junk.length)] = Math.floor(rand() * 256);
      const end = i % 3 === 0 ? Math.floor(rand() * junk.length) : junk.length;
      const decoded = decodeRecordBody(junk, 0, end, SEGMENT_FORMAT_VERSION, undefined);
      if (decoded !== undefined) expect(typeof decoded.name).toBe('string');
    }
  });
});
