import { mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import {
  inspectFlightRecorder, isFlightRecorderDir, listSegments, looksLikeFlightSegment, newFlightReadStats, readFlightRecords, readSegment,
  type CorruptRecord, type FlightRecord,
} from '@stall-why/flight-record';
import { FlightRecorderProcessor, type FlightRecorderOptions } from '@stall-why/instrument';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sw-fr-'));
  dirs.push(dir);
  return join(dir, 'rec');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(options: Partial<FlightRecorderOptions> & { directory?: string } = {}) {
  const directory = options.directory ?? tempDir();
  const recorder = new FlightRecorderProcessor({ ...options, directory });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'fr-test' }),
    spanProcessors: [recorder],
  });
  return { directory, recorder, provider, tracer: provider.getTracer('fr-scope', '1.2.3') };
}

async function readAll(dir: string, onCorrupt?: (c: CorruptRecord) => void): Promise<FlightRecord[]> {
  const out: FlightRecord[] = [];
  for await (const r of readFlightRecords(dir, { onCorrupt })) out.push(r);
  return out;
}

describe('FlightRecorderProcessor', () => {
  it('records a span at start and at end, with times, attributes, events, status, parent and resource', async () => {
    const { directory, recorder, tracer, provider } = setup();
    const parent = tracer.startSpan('turn', { startTime: 1_700_000_000_123.456, attributes: { 'stall_why.turn.id': 't1' } });
    await recorder.forceFlush();
    // The open turn is on disk while it is open.
    let records = await readAll(directory);
    expect(records.map((r) => [r.type, r.span.name])).toEqual([['start', 'turn']]);
    expect(records[0].span.endTimeMs).toBeUndefined();
    expect(records[0].span.startTimeMs).toBeCloseTo(1_700_000_000_123.456, 3);
    expect(records[0].span.resource).toEqual({ 'service.name': 'fr-test' });
    expect(records[0].span.scope).toBe('fr-scope');

    const { trace, context } = await import('@opentelemetry/api');
    const child = tracer.startSpan('attempt', { startTime: 1_700_000_000_150 }, trace.setSpan(context.active(), parent));
    child.addEvent('headers', { 'http.status': 200 }, 1_700_000_000_200.5);
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    child.end(1_700_000_000_300.25);
    parent.setAttribute('late', true);
    parent.end(1_700_000_001_000);
    await recorder.forceFlush();
    records = await readAll(directory);
    // `attempt` started and ended within one flush interval: only its end record is written.
    expect(records.map((r) => [r.type, r.span.name])).toEqual([['start', 'turn'], ['end', 'attempt'], ['end', 'turn']]);
    const attempt = records[1].span;
    expect(attempt.parentSpanId).toBe(parent.spanContext().spanId);
    expect(attempt.traceId).toBe(parent.spanContext().traceId);
    expect(attempt.endTimeMs).toBeCloseTo(1_700_000_000_300.25, 3);
    expect(attempt.events).toEqual([{ name: 'headers', timeMs: expect.closeTo(1_700_000_000_200.5, 3), attributes: { 'http.status': 200 } }]);
    expect(attempt.status).toEqual({ code: 2, message: 'boom' });
    expect(records[2].span.attributes).toEqual({ 'stall_why.turn.id': 't1', late: true });
    expect(records[2].span.endTimeMs).toBe(1_700_000_001_000);
    await provider.shutdown();
  });

  it('records attribute values as the span holds them: escapes, lone surrogates, non-finite numbers, -0, arrays with nulls', async () => {
    const { directory, recorder, tracer, provider } = setup();
    const attributes = {
      plain: 'upstream.attempt', quote: 'say "hi"', backslash: 'C:\\tmp', control: 'a\nb\u0001', lone: 'x\ud800y', emoji: 'ok \u{1f600}',
      accents: 'café', '"quoted key"': 1, 'ctl\tkey': 2, zero: -0, big: 1e21, small: 5e-7, nan: Number.NaN, inf: Number.POSITIVE_INFINITY,
      yes: true, no: false, strings: ['a', '"b"'], numbers: [1, 2.5], bools: [true, false], withNull: ['a', null, 'b'], empty: '', int: -(2 ** 31),
    };
    const span = tracer.startSpan('s', { attributes });
    span.addEvent('e', attributes);
    span.end();
    await provider.shutdown();
    const [record] = await readAll(directory);
    expect(record.span.attributes).toStrictEqual(span.attributes);
    expect(Object.keys(record.span.attributes)).toEqual(Object.keys(attributes));
    expect(Object.is(record.span.attributes.zero, -0)).toBe(true);
    expect(record.span.attributes.lone).toBe('x\ud800y');
    expect(record.span.events?.[0].attributes).toStrictEqual(span.events[0].attributes);
    expect(recorder.stats().recordsDropped).toBe(0);
  });

  it('drops and counts a span it cannot record (over 4 MiB) and records the others', async () => {
    const { directory, recorder, tracer, provider } = setup();
    tracer.startSpan('before').end();
    tracer.startSpan('huge', { attributes: { blob: 'x'.repeat(5 * 1024 * 1024) } }).end();
    tracer.startSpan('after').end();
    await recorder.forceFlush();
    expect(recorder.stats()).toMatchObject({ recordsDropped: 1, recordsWritten: 2 });
    expect((await readAll(directory)).map((r) => r.span.name)).toEqual(['before', 'after']);
    await provider.shutdown();
  });

  it('reaches the file within flushIntervalMs without forceFlush, readable while being written', async () => {
    const { directory, tracer, provider } = setup({ flushIntervalMs: 50 });
    const span = tracer.startSpan('stuck');
    let records: FlightRecord[] = [];
    for (let i = 0; i < 100 && records.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      if (await isFlightRecorderDir(directory)) records = await readAll(directory);
    }
    expect(records.map((r) => [r.type, r.span.name])).toEqual([['start', 'stuck']]);
    const stats = await inspectFlightRecorder(directory);
    expect(stats).toMatchObject({ spans: 1, openSpans: 1, segments: 1, corruptRecords: 0, uploadBacklog: 0 });
    span.end();
    await provider.shutdown();
    expect(await inspectFlightRecorder(directory)).toMatchObject({ spans: 1, openSpans: 0, uploadBacklog: 1 });
  });

  it('writes the first records at once, so a new recording is readable before the first flush interval', async () => {
    const { directory, tracer, provider } = setup({ flushIntervalMs: 60_000 });
    const span = tracer.startSpan('first');
    await new Promise((r) => setImmediate(r));
    expect(await isFlightRecorderDir(directory)).toBe(true);
    expect((await readAll(directory)).map((r) => [r.type, r.span.name])).toEqual([['start', 'first']]);
    // Later records wait for the timer (or a full batch) as before.
    tracer.startSpan('second');
    await new Promise((r) => setImmediate(r));
    expect((await readAll(directory)).map((r) => r.span.name)).toEqual(['first']);
    span.end();
    await provider.shutdown();
  });

  it('between writes, encodes ended spans without changing what is written or its order: an open span still holds its place', async () => {
    const { directory, recorder, tracer, provider } = setup({ flushIntervalMs: 60_000 });
    tracer.startSpan('first').end();
    await new Promise((r) => setImmediate(r)); // the first write, at once
    const turn = tracer.startSpan('turn');
    tracer.startSpan('point-1').end();
    await new Promise((r) => setImmediate(r)); // encoding stops at the open turn's start record
    tracer.startSpan('point-2').end();
    await new Promise((r) => setImmediate(r));
    // Encoded or not, nothing is written before the timer, a full batch or a flush.
    expect((await readAll(directory)).map((r) => r.span.name)).toEqual(['first']);
    expect(recorder.stats().recordsWritten).toBe(1);
    await recorder.forceFlush();
    // The turn, open at the write, is recorded as started before the points that ended after it started.
    expect((await readAll(directory)).map((r) => [r.type, r.span.name])).toEqual([
      ['end', 'first'], ['start', 'turn'], ['end', 'point-1'], ['end', 'point-2'],
    ]);
    const after = tracer.startSpan('after-turn');
    tracer.startSpan('point-3').end();
    turn.end();
    after.end();
    await new Promise((r) => setImmediate(r)); // all ended: encoded, their start records skipped
    await recorder.forceFlush();
    expect((await readAll(directory)).slice(4).map((r) => [r.type, r.span.name])).toEqual([
      ['end', 'point-3'], ['end', 'turn'], ['end', 'after-turn'],
    ]);
    await provider.shutdown();
  });

  it('creates the directory 0700 and segments 0600, recognised by content', async () => {
    const { directory, tracer, provider } = setup();
    tracer.startSpan('a').end();
    await provider.shutdown();
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    const [name] = readdirSync(directory);
    expect(statSync(join(directory, name)).mode & 0o777).toBe(0o600);
    const head = Buffer.alloc(32);
    const fd = openSync(join(directory, name), 'r');
    readSync(fd, head, 0, 32, 0);
    closeSync(fd);
    expect(looksLikeFlightSegment(head)).toBe(true);
    expect(looksLikeFlightSegment(Buffer.from('{"resourceSpans":[]}'))).toBe(false);
    expect(await isFlightRecorderDir(directory)).toBe(true);
    expect(await isFlightRecorderDir(join(directory, name))).toBe(false);
    expect(await isFlightRecorderDir(tmpdir())).toBe(false);
  });

  it('skips and counts a flipped byte and a torn tail, and returns every other record', async () => {
    const { directory, tracer, provider } = setup();
    for (let i = 0; i < 20; i++) tracer.startSpan(`s${i}`, { attributes: { i } }).end();
    await provider.shutdown();
    const { segments } = await listSegments(directory);
    const path = segments[0].path;
    const size = statSync(path).size;
    // Flip a byte inside the 5th record, then tear the last record in half.
    const offsets: number[] = [];
    const frames: { offset: number; end: number }[] = [];
    for await (const r of readSegment(segments[0])) {
      offsets.push(r.span.attributes.i as number);
      frames.push({ offset: r.offset, end: r.end });
    }
    expect(offsets).toEqual([...Array(20).keys()]);
    expect(frames[19].end).toBe(size);
    const fifth = frames[4];
    const at = fifth.offset + Math.floor((fifth.end - fifth.offset) / 2);
    const bytes = Buffer.alloc(1);
    const fd = openSync(path, 'r+');
    readSync(fd, bytes, 0, 1, at);
    bytes[0] ^= 0x01;
    writeSync(fd, bytes, 0, 1, at);
    closeSync(fd);
    const { truncateSync } = await import('node:fs');
    truncateSync(path, frames[19].offset + Math.floor((frames[19].end - frames[19].offset) / 2));
    const corrupt: CorruptRecord[] = [];
    const after = newFlightReadStats();
    const names: string[] = [];
    for await (const r of readFlightRecords(directory, { stats: after, onCorrupt: (c) => corrupt.push(c) })) names.push(r.span.name);
    expect(names).toEqual([...Array(19).keys()].filter((i) => i !== 4).map((i) => `s${i}`));
    expect(corrupt.map((c) => c.reason)).toEqual(['checksum', 'torn']);
    expect(after.corruptRecords).toBe(2);
    expect((await inspectFlightRecorder(directory)).corruptRecords).toBe(2);
  });

  it('keeps the directory within budget plus one segment while recording 10x the budget, evicting oldest first', async () => {
    const maxBytes = 256 * 1024;
    const segmentBytes = 32 * 1024;
    const { directory, recorder, tracer, provider } = setup({ maxBytes, segmentBytes });
    const payload = 'x'.repeat(200);
    let seq = 0;
    let written = 0;
    let maxSeen = 0;
    while (written < 10 * maxBytes) {
      for (let i = 0; i < 100; i++) tracer.startSpan('s', { attributes: { seq: seq++, payload } }).end();
      await recorder.forceFlush();
      written = recorder.stats().bytesWritten;
      const total = readdirSync(directory).reduce((sum, n) => sum + statSync(join(directory, n)).size, 0);
      maxSeen = Math.max(maxSeen, total);
    }
    await provider.shutdown();
    expect(maxSeen).toBeLessThanOrEqual(maxBytes + segmentBytes);
    expect(recorder.stats().segmentsEvicted).toBeGreaterThan(0);
    const seqs: number[] = [];
    for await (const r of readFlightRecords(directory)) seqs.push(r.span.attributes.seq as number);
    // What is left is the newest records, contiguous up to the last one: the oldest went first.
    expect(seqs[seqs.length - 1]).toBe(seq - 1);
    expect(seqs).toEqual([...Array(seqs.length).keys()].map((k) => seqs[0] + k));
    expect(seqs[0]).toBeGreaterThan(0);
  });

  it('fills each segment before the next: a rotation leaves no one-record segment behind', async () => {
    const { directory, recorder, tracer, provider } = setup({ segmentBytes: 64 * 1024, maxBytes: 64 * 1024 * 1024 });
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 100; i++) tracer.startSpan('p', { attributes: { pad: 'x'.repeat(200) } }).end();
      await recorder.forceFlush();
    }
    await provider.shutdown();
    const { segments } = await listSegments(directory);
    expect(segments.length).toBeGreaterThan(3);
    for (const s of segments.slice(0, -1)) expect(s.size, s.name).toBeGreaterThan(32 * 1024);
  });

  it('never shares a segment between two writers of one directory', async () => {
    const a = setup();
    const b = setup({ directory: a.directory });
    a.tracer.startSpan('from-a').end();
    b.tracer.startSpan('from-b').end();
    await a.provider.shutdown();
    await b.provider.shutdown();
    const { segments } = await listSegments(a.directory);
    expect(segments).toHaveLength(2);
    const names = (await readAll(a.directory)).map((r) => r.span.name).sort();
    expect(names).toEqual(['from-a', 'from-b']);
  });

  it("never evicts the segment another live writer is appending to: a slow writer's open turn survives a busy one", async () => {
    const slow = setup({ maxBytes: 256 * 1024, segmentBytes: 64 * 1024 });
    const busy = setup({ directory: slow.directory, maxBytes: 256 * 1024, segmentBytes: 64 * 1024 });
    const open = slow.tracer.startSpan('slow-turn');
    await slow.recorder.forceFlush();
    for (let i = 0; i < 4000; i++) busy.tracer.startSpan(`busy-${i}`, { attributes: { pad: 'x'.repeat(100) } }).end();
    await busy.recorder.forceFlush();
    slow.tracer.startSpan('slow-step').end();
    await slow.recorder.forceFlush();
    const names = new Set((await readAll(slow.directory)).map((r) => r.span.name));
    expect(names.has('slow-turn')).toBe(true);
    expect(names.has('slow-step')).toBe(true);
    expect(busy.recorder.stats().segmentsEvicted).toBeGreaterThan(0);
    open.end();
    await slow.provider.shutdown();
    await busy.provider.shutdown();
  });

  it('degrades when its directory is deleted or read-only, reports once, and recovers', async () => {
    const { diag, DiagLogLevel } = await import('@opentelemetry/api');
    const warnings: string[] = [];
    diag.setLogger({ warn: (m: string) => warnings.push(m), error: () => {}, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
    try {
      const { directory, recorder, tracer, provider } = setup();
      tracer.startSpan('before').end();
      await recorder.forceFlush();
      rmSync(directory, { recursive: true });
      // Make re-creating it fail: a file where the directory was.
      closeSync(openSync(directory, 'w'));
      await new Promise((r) => setTimeout(r, 1100)); // the writer notices a lost segment at most once a second
      for (let i = 0; i < 3; i++) {
        tracer.startSpan('lost').end();
        await recorder.forceFlush();
      }
      expect(recorder.stats().degraded).toBe(true);
      expect(recorder.stats().recordsDropped).toBeGreaterThan(0);
      expect(warnings.filter((w) => w.includes('cannot write'))).toHaveLength(1);
      rmSync(directory);
      await new Promise((r) => setTimeout(r, 1100)); // faultRetryMs
      tracer.startSpan('after').end();
      await recorder.forceFlush();
      expect(recorder.stats().degraded).toBe(false);
      expect((await readAll(directory)).map((r) => r.span.name)).toEqual(['after']);
      await provider.shutdown();
    } finally {
      diag.disable();
    }
  });

  it('refuses a directory everyone can write (others could plant segments or swap files): warns once, writes nothing there', async () => {
    const { chmodSync, mkdirSync } = await import('node:fs');
    const { diag, DiagLogLevel } = await import('@opentelemetry/api');
    const warnings: string[] = [];
    diag.setLogger({ warn: (m: string) => warnings.push(m), error: () => {}, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
    try {
      const directory = tempDir();
      mkdirSync(directory);
      chmodSync(directory, 0o777);
      const { recorder, tracer, provider } = setup({ directory });
      tracer.startSpan('planted-here?').end();
      await recorder.forceFlush();
      expect(recorder.stats().degraded).toBe(true);
      expect(readdirSync(directory)).toEqual([]);
      expect(warnings.join('\n')).toMatch(/untrusted directory: writable by every user \(mode 777\)/);
      await provider.shutdown();
    } finally {
      diag.disable();
    }
  });

  it('writes what is queued when the host exits normally, even without shutdown()', async () => {
    const directory = tempDir();
    const { spawnSync } = await import('node:child_process');
    const script = `
      import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
      import { FlightRecorderProcessor } from '@stall-why/instrument';
      const recorder = new FlightRecorderProcessor({ directory: process.argv[1], flushIntervalMs: 60000 });
      const tracer = new BasicTracerProvider({ spanProcessors: [recorder] }).getTracer('exit');
      tracer.startSpan('left-open');
      tracer.startSpan('ended').end();
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, directory], { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect((await readAll(directory)).map((x) => [x.type, x.span.name])).toEqual([['start', 'left-open'], ['end', 'ended']]);
  });

  it('gives a one-line error for a missing directory', async () => {
    await expect(readAll('/nonexistent/sw')).rejects.toThrow('/nonexistent/sw: no such directory');
    await expect(inspectFlightRecorder('/nonexistent/sw')).rejects.toThrow('/nonexistent/sw: no such directory');
  });
});
