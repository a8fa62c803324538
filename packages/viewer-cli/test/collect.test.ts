import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { startCollect } from './collect-runner.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { readFlightRecords, type FlightRecord } from '@stall-why/flight-record';

const CLI = resolve(import.meta.dirname, '../bin/stall-why.js');


function sampleSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'collect-test', 'host.arch': 'x64' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('scope-a', '0.0.1');
  const root = tracer.startSpan('turn', { kind: SpanKind.SERVER, startTime: 1_700_000_000_000.125, attributes: { n: 3, ok: true, list: ['a', 'b'], ratio: 0.5 } });
  const child = tracer.startSpan('attempt', { kind: SpanKind.CLIENT, startTime: 1_700_000_000_010 }, trace.setSpan(context.active(), root));
  child.addEvent('headers', { status: 200 }, 1_700_000_000_020.5);
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'reset' });
  child.end(1_700_000_000_030.75);
  root.end(1_700_000_000_050);
  return memory.getFinishedSpans();
}

async function readAll(dir: string): Promise<FlightRecord[]> {
  const out: FlightRecord[] = [];
  for await (const r of readFlightRecords(dir)) out.push(r);
  return out;
}

describe('stall-why collect', () => {
  let root: string;
  let out: string;
  let child: ChildProcessWithoutNullStreams;
  let url: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sw-collect-'));
    out = join(root, 'flight');
    ({ child, url } = await startCollect(out));
  });
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('listens on loopback and stores what a real OTLP/HTTP exporter sends, as it was', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/traces$/);
    const spans = sampleSpans();
    const exporter = new OTLPTraceExporter({ url });
    const result = await new Promise<{ code: number }>((done) => exporter.export(spans, done));
    expect(result.code).toBe(0);
    await exporter.shutdown();
    const records = await readAll(out);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    expect(records.map((r) => [r.type, r.span.name])).toEqual([['end', 'attempt'], ['end', 'turn']]);
    const [attempt, turn] = records.map((r) => r.span);
    expect(attempt).toMatchObject({
      traceId: spans[0].spanContext().traceId,
      spanId: spans[0].spanContext().spanId,
      parentSpanId: spans[1].spanContext().spanId,
      kind: SpanKind.CLIENT,
      status: { code: 2, message: 'reset' },
      scope: 'scope-a',
      scopeVersion: '0.0.1',
      resource: { 'service.name': 'collect-test', 'host.arch': 'x64' },
    });
    expect(attempt.startTimeMs).toBeCloseTo(1_700_000_000_010, 3);
    expect(attempt.endTimeMs).toBeCloseTo(1_700_000_000_030.75, 3);
    expect(attempt.events).toEqual([{ name: 'headers', timeMs: expect.closeTo(1_700_000_000_020.5, 3), attributes: { status: 200 } }]);
    expect(turn.attributes).toEqual({ n: 3, ok: true, list: ['a', 'b'], ratio: 0.5 });
    expect(turn.kind).toBe(SpanKind.SERVER);
    expect(turn.startTimeMs).toBeCloseTo(1_700_000_000_000.125, 3);
  });

  it('decodes protobuf and gzip-compressed JSON the same way', async () => {
    const spans = sampleSpans();
    const proto = ProtobufTraceSerializer.serializeRequest(spans)!;
    const r1 = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: proto });
    expect(r1.status).toBe(200);
    expect(r1.headers.get('content-type')).toBe('application/x-protobuf');
    const json = gzipSync(JsonTraceSerializer.serializeRequest(spans)!);
    const r2 = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: json });
    expect(r2.status).toBe(200);
    const records = await readAll(out);
    const byId = (id: string) => records.filter((r) => r.span.spanId === id).map((r) => r.span);
    const copies = byId(spans[0].spanContext().spanId);
    expect(copies).toHaveLength(2);
    // protobuf (bytes ids, fixed64 times) and JSON (hex ids, string times) give identical records.
    expect(copies[copies.length - 2]).toEqual(copies[copies.length - 1]);
    expect(copies[copies.length - 2].endTimeMs).toBeCloseTo(1_700_000_000_030.75, 3);
  });

  it('answers 413 to a compressed body that inflates past the 32 MiB bound (a gzip bomb), and keeps running', async () => {
    const zeros = Buffer.alloc(40 * 1024 * 1024);
    for (const [encoding, body] of [['gzip', gzipSync(zeros)], ['deflate', deflateSync(zeros)]] as const) {
      expect(body.length).toBeLessThan(100 * 1024);
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body });
      expect(r.status).toBe(413);
      expect((await r.json()).message).toBe('request body inflates to over 33554432 bytes');
    }
    const ok = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('{}') });
    expect(ok.status).toBe(200);
  });

  it('keeps a span with a 5 MB attribute, cut to the attribute bound, instead of answering 200 for a span it dropped', async () => {
    const huge = 'no such file; '.repeat(5 * 1024 * 1024 / 16).padEnd(5 * 1024 * 1024, '.');
    const body = JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' }, spans: [{
      traceId: '1'.repeat(32), spanId: '2'.repeat(16), name: 'huge-attribute', startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000001000000000',
      attributes: [{ key: 'error.detail', value: { stringValue: huge } }],
    }] }] }] });
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(r.status).toBe(200);
    const kept = (await readAll(out)).find((x) => x.type !== 'log' && x.span.name === 'huge-attribute');
    expect(kept).toBeDefined();
    const value = String((kept as { span: { attributes: Record<string, unknown> } }).span.attributes['error.detail']);
    expect(value.length).toBeLessThan(2048);
    expect(value).toMatch(/…\[truncated len=5242880\]$/);
  });

  it('answers 400 to a body that is not OTLP, 404 elsewhere, 405 to GET, and keeps running', async () => {
    const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans": [' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/invalid JSON/);
    const badProto = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array([0x0a, 0xff, 0xff, 0xff]) });
    expect(badProto.status).toBe(400);
    const type = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(type.status).toBe(400);
    expect((await fetch(url.replace('/v1/traces', '/v1/metrics'), { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(url)).status).toBe(405);
    const ok = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(ok.status).toBe(200);
  });

  it('exits 0 on SIGTERM after closing its segment', async () => {
    const done = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    child.kill('SIGTERM');
    expect(await done).toBe(0);
  });

  it('refuses a bad port with exit 2 and one line', async () => {
    const r = spawn(process.execPath, [CLI, 'collect', '--out', join(root, 'x'), '--port', 'http'], { stdio: 'pipe' });
    let err = '';
    r.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((ok) => r.on('exit', ok));
    expect(code).toBe(2);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/port/);
  });
});
