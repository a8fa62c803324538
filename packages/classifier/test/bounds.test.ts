/**
 * Memory bounds and the fast OTLP path, through `analyzeTraces`:
 * - the JSON-lines fast path gives exactly the spans the generic path (one pretty document, parsed
 *   value by value) gives, on every OTLP recording of the example app-server and on lines in the odd
 *   shapes OTLP JSON comes in;
 * - a report lists at most `maxReportedTurns` turns and counts the rest, with the same verdicts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeTraces, DEFAULT_TIMELINE_LIMITS, TraceInputError } from '@stall-why/classifier';
import type { RecordedSpan } from '@stall-why/flight-record';
import { afterAll, describe, expect, it } from 'vitest';

const example = join(import.meta.dirname, '../../../test/corpus/example');
const dir = mkdtempSync(join(tmpdir(), 'stall-why-bounds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Json = Record<string, any>;
const byId = (a: RecordedSpan, b: RecordedSpan) => `${a.traceId}/${a.spanId}/${a.endTimeMs ?? ''}`.localeCompare(`${b.traceId}/${b.spanId}/${b.endTimeMs ?? ''}`);
const now = Date.parse('2030-01-01T00:00:00Z');

async function spansOf(file: string): Promise<RecordedSpan[]> {
  return [...(await analyzeTraces([file], { now })).spans].sort(byId);
}

/** The same requests as one pretty-printed document: read by the generic scanner, value by value. */
function asDocument(lines: Json[], name: string): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ resourceSpans: lines.flatMap((l) => l.resourceSpans) }, null, 2));
  return path;
}

describe('OTLP JSON lines: the fast path reads what the generic path reads', () => {
  const files = readdirSync(example).filter((f) => f.endsWith('.otlp.jsonl'));

  it.each(files)('%s', async (file) => {
    const source = join(example, file);
    const lines = readFileSync(source, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Json);
    const fast = await spansOf(source);
    expect(fast.length).toBeGreaterThan(0);
    expect(fast).toEqual(await spansOf(asDocument(lines, `${file}.json`)));
  });

  it('odd shapes: escapes, unicode, base64 ids, number nanos, enum names, arrays, status messages, foreign attributes', async () => {
    const attr = (key: string, value: Json) => ({ key, value });
    const span = (n: number, extra: Json) => ({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: `b7ad6b71692033${String(n).padStart(2, '0')}`,
      name: 'stall_why.upstream.attempt',
      startTimeUnixNano: '1795582200540000000',
      endTimeUnixNano: '1795582201540123456',
      attributes: [attr('stall_why.turn.id', { stringValue: 'turn-1' }), attr('gen_ai.conversation.id', { stringValue: 'thr-1' })],
      ...extra,
    });
    const request = {
      resourceSpans: [
        {
          resource: { attributes: [attr('service.name', { stringValue: 'odd "one"' })] },
          schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
          scopeSpans: [
            {
              scope: { name: 'scope\u00e9', version: '1' },
              spans: [
                span(1, { kind: 'SPAN_KIND_CLIENT', status: { code: 'STATUS_CODE_ERROR', message: 'upstream \\ "broke"' } }),
                span(2, {
                  traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex').toString('base64'),
                  parentSpanId: 'B7AD6B7169203301',
                  startTimeUnixNano: 1795582200540000000,
                  endTimeUnixNano: 1795582200940000000,
                  kind: 3,
                  status: { code: 2 },
                  attributes: [
                    attr('stall_why.turn.id', { stringValue: 'turn-\u00fc\u2603' }),
                    attr('http.response.status_code', { intValue: 503 }),
                    attr('stall_why.upstream.attempt', { intValue: '2' }),
                    attr('stall_why.upstream.continuation', { boolValue: true }),
                    attr('stall_why.retry.delay_ms', { doubleValue: 1.5 }),
                    attr('error.type', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }] } }),
                    attr('http.request.method', { stringValue: 'POST', intValue: 1 }),
                    attr('custom.payload', { stringValue: 'x'.repeat(10_000) }),
                    attr('custom.nested', { kvlistValue: { values: [attr('a', { stringValue: '}]' })] } }),
                  ],
                  events: [{ name: 'exception', timeUnixNano: '1795582200600000000', attributes: [attr('exception.message', { stringValue: 'no' })] }],
                  links: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' }],
                }),
                span(3, { name: 'http.client.request', attributes: [] }),
                span(4, { name: 'stall_why.upstream.headers', endTimeUnixNano: '0', parentSpanId: '', status: null, kind: null }),
              ],
            },
          ],
        },
      ],
    };
    const lines = join(dir, 'odd.jsonl');
    writeFileSync(lines, `${JSON.stringify(request)}\n\n${JSON.stringify({ resourceSpans: [] })}\n`);
    const fast = await spansOf(lines);
    expect(fast.map((s) => s.spanId)).toEqual(['b7ad6b7169203301', 'b7ad6b7169203302', 'b7ad6b7169203304']);
    expect(fast[1]).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      parentSpanId: 'b7ad6b7169203301',
      kind: 2,
      status: { code: 2 },
      attributes: {
        'stall_why.turn.id': 'turn-\u00fc\u2603',
        'http.response.status_code': 503,
        'stall_why.upstream.attempt': 2,
        'stall_why.upstream.continuation': true,
        'stall_why.retry.delay_ms': 1.5,
        'error.type': ['a', 1],
        'http.request.method': 'POST',
      },
    });
    // Not in the vocabulary, not read.
    expect(Object.keys(fast[1]!.attributes)).not.toContain('custom.payload');
    expect(fast[0]).toMatchObject({ kind: 2, status: { code: 2, message: 'upstream \\ "broke"' }, resource: { 'service.name': 'odd "one"' }, scope: 'scope\u00e9' });
    expect(fast).toEqual(await spansOf(asDocument([request], 'odd.json')));
  });

  // The fast path matches keys as the literals writers usually put next, jumps over long strings with
  // indexOf and reads attribute values where they stand: shapes each of those could get wrong.
  it('odd shapes for the jumps: escaped quotes in long strings, key names inside values, other orders, whitespace, nesting', async () => {
    const attr = (key: string, value: Json) => ({ key, value });
    const trace = '0af7651916cd43dd8448eb211c80319c';
    const tricky = `"traceId":"${'f'.repeat(32)}","name":"stall_why.turn" \\" \\\\ ${'x'.repeat(60)}\\`;
    const attributes = [
      attr('stall_why.turn.id', { stringValue: 'turn-9' }),
      attr('custom.long', { stringValue: `${'y'.repeat(70)}\\"},{"key":"stall_why.turn.id","value":{"stringValue":"evil"}}]\\` }),
      { value: { stringValue: 'thr-9' }, key: 'gen_ai.conversation.id' },
      attr('custom.nested', { kvlistValue: { values: [attr('a', { kvlistValue: { values: [attr('b', { stringValue: tricky })] } })] } }),
      attr('stall_why.upstream.attempt', { intValue: '3', stringValue: '4' }),
      attr('http.request.method', { stringValue: tricky }),
    ];
    const spans = [
      // The members in reverse order.
      Object.fromEntries(Object.entries({ traceId: trace, spanId: 'b7ad6b7169203311', name: 'stall_why.upstream.attempt', kind: 1, startTimeUnixNano: '1795582200540000000', endTimeUnixNano: '1795582201540000000', attributes, status: { code: 0 } }).reverse()),
      { traceId: trace, spanId: 'b7ad6b7169203312', parentSpanId: 'b7ad6b7169203311', name: 'stall_why.item', startTimeUnixNano: '1795582200600000000', events: [{ name: tricky, attributes }], attributes: attributes.slice(0, 3), status: { code: 1, message: tricky } },
      // Not wanted by its first name, wanted by its second (JSON.parse keeps the last).
      { traceId: trace, spanId: 'b7ad6b7169203313', name: 'http.client.request', startTimeUnixNano: '1795582200700000000', attributes: attributes.slice(0, 1), name2: 'x' },
      { traceId: trace, spanId: 'b7ad6b7169203314', name: 'http.client.request', startTimeUnixNano: '1795582200700000000', attributes },
      // A status code past 2 is no status (as otlpStatusCode reads it).
      { traceId: trace, spanId: 'b7ad6b7169203315', name: 'stall_why.item', startTimeUnixNano: '1795582200800000000', status: { code: 5 } },
    ];
    const request = { resourceSpans: [{ resource: { attributes: [attr('service.name', { stringValue: tricky })] }, scopeSpans: [{ scope: { name: 'odd' }, spans }] }] };
    const json = JSON.stringify(request);
    const duplicateName = json.replace('"name2":"x"', '"name":"stall_why.tool.call"');
    const spaced = JSON.stringify(request, null, 1).replace(/\n/g, ' ');
    const lines = join(dir, 'jumps.jsonl');
    writeFileSync(lines, `${json}\n${duplicateName.replaceAll('b7ad6b71692033', 'c7ad6b71692033')}\n${spaced.replaceAll('b7ad6b71692033', 'd7ad6b71692033')}\n`);
    const fast = await spansOf(lines);
    expect(fast.map((s) => s.spanId)).toEqual(['b7ad6b7169203311', 'b7ad6b7169203312', 'b7ad6b7169203315', 'c7ad6b7169203311', 'c7ad6b7169203312', 'c7ad6b7169203313', 'c7ad6b7169203315', 'd7ad6b7169203311', 'd7ad6b7169203312', 'd7ad6b7169203315']);
    expect(fast[2]!.status).toBeUndefined();
    expect(fast[0]).toMatchObject({
      name: 'stall_why.upstream.attempt',
      kind: 0,
      attributes: { 'stall_why.turn.id': 'turn-9', 'gen_ai.conversation.id': 'thr-9', 'stall_why.upstream.attempt': '4', 'http.request.method': JSON.parse(JSON.stringify(tricky)) },
    });
    expect(fast[5]).toMatchObject({ name: 'stall_why.tool.call', attributes: { 'stall_why.turn.id': 'turn-9' } });
    expect(fast[1]!.status).toEqual({ code: 1, message: tricky });
    const generic = asDocument([request, JSON.parse(duplicateName.replaceAll('b7ad6b71692033', 'c7ad6b71692033')), JSON.parse(spaced.replaceAll('b7ad6b71692033', 'd7ad6b71692033'))], 'jumps.json');
    expect(fast).toEqual(await spansOf(generic));
  });
});

describe('bounded report', () => {
  // 300 short healthy turns and, among them, 5 that failed: more than the listed bound.
  function recording(): string {
    const lines: string[] = [];
    const t0 = Date.parse('2026-11-24T00:00:00Z') * 1e6;
    for (let turn = 0; turn < 300; turn++) {
      const traceId = (turn + 1).toString(16).padStart(32, '0');
      const start = t0 + turn * 10e9;
      const attrs = (extra: Json[] = []) => [
        { key: 'gen_ai.conversation.id', value: { stringValue: `thread-${turn % 7}` } },
        { key: 'stall_why.turn.id', value: { stringValue: `turn-${turn}` } },
        ...extra,
      ];
      const failed = turn % 60 === 7;
      const spans = [
        {
          traceId, spanId: `${traceId.slice(16)}`, name: 'stall_why.turn', startTimeUnixNano: String(start), endTimeUnixNano: String(start + 3e9),
          attributes: attrs([{ key: 'stall_why.turn.status', value: { stringValue: failed ? 'failed' : 'completed' } }]),
        },
        {
          traceId, spanId: `${traceId.slice(16, 31)}a`, parentSpanId: traceId.slice(16), name: 'stall_why.upstream.attempt',
          startTimeUnixNano: String(start + 1e8), endTimeUnixNano: String(start + 2.9e9), attributes: attrs([{ key: 'http.response.status_code', value: { intValue: '200' } }]),
        },
      ];
      lines.push(JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 't' }, spans }] }] }));
    }
    const path = join(dir, 'many-turns.otlp.jsonl');
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  }

  it('lists at most maxReportedTurns turns, healthy ones summarised first, and counts the rest', async () => {
    const file = recording();
    const full = await analyzeTraces([file], { now });
    expect(DEFAULT_TIMELINE_LIMITS.maxReportedTurns).toBeGreaterThanOrEqual(300);
    expect(full.report.turns).toHaveLength(300);
    expect(full.report.summary).toMatchObject({ judged: 300, listed: 300, summarised: 0 });

    const bounded = await analyzeTraces([file], { now, limits: { maxRetainedSpans: 50, maxReportedTurns: 20 } });
    const { report } = bounded;
    expect(report.turns).toHaveLength(20);
    expect(report.summary).toMatchObject({ judged: 300, listed: 20, summarised: 280, summarisedByVerdict: { healthy: 280 }, summarisedByStatus: { completed: 280 } });
    expect(report.summary!.line).toMatch(/300 turns judged: 20 listed, 280 summarised/);
    expect(report.sources[0]).toMatchObject({ path: file, turnsSummarised: 280 });
    // Every failed turn is still listed, judged as without the bound.
    const failed = (r: typeof report) => r.turns.filter((t) => t.status === 'failed').map((t) => ({ turnId: t.turnId, verdict: t.verdict }));
    expect(failed(report)).toHaveLength(5);
    expect(failed(report)).toEqual(failed(full.report));
    // The window held at most maxRetainedSpans spans: the spans behind the window's turns only.
    expect(bounded.spans.length).toBeLessThanOrEqual(50);
  });
});

describe('analysis in a worker with a capped heap', () => {
  const source = join(example, 'dropped-connections.otlp.jsonl');

  it('gives what the calling thread gives, relays progress, and never reads again uncapped when the cap is too small', async () => {
    const inThread = await analyzeTraces([source], { now, isolate: false });
    const progress: number[] = [];
    const inWorker = await analyzeTraces([source], { now, isolateAboveBytes: 0, onProgress: (p) => progress.push(p.bytesRead) });
    expect(inWorker).toEqual(inThread);
    expect(progress.length).toBeGreaterThan(0);
    // 1 MB of old generation cannot even load the modules: the worker dies of it, and that is said.
    const error = await analyzeTraces([source], { now, isolateAboveBytes: 0, heapLimitMb: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TraceInputError);
    expect((error as Error).message).toMatch(/needs more than the 1 MB heap cap to read .*--max-heap raises it/);
  });

  it('a rollout of many short lines is read in the worker, one as large of a few bloated lines in the calling thread', async () => {
    const MB = 1024 * 1024;
    const line = (n: number, payload: string): string =>
      `{"timestamp":"2029-12-31T23:00:00.${String(n % 1000).padStart(3, '0')}Z","type":"event_msg","payload":{"type":"agent_message","message":"${payload}"}}\n`;
    const write = (name: string, lines: string[]): string => {
      const path = join(dir, `rollout-2029-12-31T23-00-00-0199a213-81c0-7800-8aa1-bbab2a035a5${name}.jsonl`);
      writeFileSync(path, lines.join(''));
      return path;
    };
    // 4 MB each: 20 k lines of 200 bytes (a working session), or 8 lines of half a MB (inline images).
    const ordinary = write('1', Array.from({ length: 20_000 }, (_, n) => line(n, 'x'.repeat(80))));
    const bloated = write('2', Array.from({ length: 8 }, (_, n) => line(n, 'i'.repeat(MB / 2))));
    // 1 MB of old generation cannot even load the modules: only a read in the worker fails.
    const capped = { now, isolateAboveBytes: 2 * MB, heapLimitMb: 1 };
    await expect(analyzeTraces([ordinary], capped)).rejects.toThrow(/needs more than the 1 MB heap cap/);
    const { report } = await analyzeTraces([bloated], capped);
    expect(report.sources[0]).toMatchObject({ format: 'codex-rollout', spans: 0, skipped: 0 });
  });

  it('bad input from the worker is the same one-line TraceInputError', async () => {
    const bad = join(dir, 'truncated.otlp.jsonl');
    writeFileSync(bad, '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":');
    const inThread = await analyzeTraces([bad], { now, isolate: false }).catch((e: Error) => e);
    const inWorker = await analyzeTraces([bad], { now, isolateAboveBytes: 0 }).catch((e: Error) => e);
    expect(inWorker).toBeInstanceOf(TraceInputError);
    expect((inWorker as Error).message).toBe((inThread as Error).message);
    expect((inWorker as Error).message).toMatch(/truncated\.otlp\.jsonl:@?\d+: /);
  });
});

describe('strings of megabytes (issue 10: a 629 MB file with 10 MB ids took 2.85 GB)', () => {
  const MB = 1024 * 1024;
  /** One OTLP line: a turn and its open model attempt, carrying these ids and a status message. */
  const line = (n: number, turnId: string, threadId: string, message: string): string => {
    const attributes = [{ key: 'stall_why.turn.id', value: { stringValue: turnId } }, { key: 'gen_ai.conversation.id', value: { stringValue: threadId } }];
    const traceId = (n + 1).toString(16).padStart(32, '0');
    const start = String(BigInt(now - 60_000) * 1_000_000n);
    const spans = [
      { traceId, spanId: 'a'.repeat(16), name: 'stall_why.turn', startTimeUnixNano: start, attributes },
      { traceId, spanId: 'b'.repeat(16), parentSpanId: 'a'.repeat(16), name: 'stall_why.upstream.attempt', startTimeUnixNano: start, endTimeUnixNano: String(BigInt(now - 59_000) * 1_000_000n), status: { code: 2, message }, attributes },
    ];
    return JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }) + '\n';
  };

  it('are cut at import to their start, length and fingerprint: ids that share a start stay distinct', async () => {
    const file = join(dir, 'long-ids.otlp.jsonl');
    const shared = 'x'.repeat(2 * MB);
    writeFileSync(file, line(0, `${shared}-first`, `${shared}-thread`, 'e'.repeat(MB)) + line(1, `${shared}-second`, `${shared}-thread`, 'short'));
    const { report, spans } = await analyzeTraces([file], { now, isolate: false });
    const max = DEFAULT_TIMELINE_LIMITS.maxValueLength;
    expect(report.turns).toHaveLength(2);
    const ids = report.turns.map((t) => t.turnId!);
    expect(new Set(ids).size).toBe(2);
    expect(ids.sort()).toEqual([expect.stringMatching(new RegExp(`^x{${max}}…\\[${2 * MB + 6} chars, [0-9a-f]{16}\\]$`)), expect.stringMatching(new RegExp(`^x{${max}}…\\[${2 * MB + 7} chars, [0-9a-f]{16}\\]$`))]);
    expect(new Set(report.turns.map((t) => t.threadId)).size).toBe(1);
    const longest = Math.max(...spans.flatMap((s) => [...Object.values(s.attributes), s.status?.message ?? ''].map((v) => String(v).length)));
    expect(longest).toBeLessThan(max + 40);
  });

  it('a 30 MB file of megabyte ids is judged within a 24 MB worker heap, not refused', async () => {
    const file = join(dir, 'many-long-ids.otlp.jsonl');
    const lines = Array.from({ length: 7 }, (_, n) => line(n, `${n}`.repeat(MB), `${n}-thread-`.repeat(MB / 9), 'failed'));
    writeFileSync(file, lines.join(''));
    const { report } = await analyzeTraces([file], { now, isolateAboveBytes: 0, heapLimitMb: 24 });
    expect(report.turns).toHaveLength(7);
    expect(report.turns.every((t) => t.turnId!.length < DEFAULT_TIMELINE_LIMITS.maxValueLength + 40)).toBe(true);
  });
});
