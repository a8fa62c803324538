// `stall-why collect` takes OTLP logs: what the real OpenTelemetry logs SDK exports (JSON and
// protobuf) and what the real Codex 0.169 sent (test/corpus/codex-otel) is read back from the
// directory as it was, content attribute values dropped; bad bodies, a full directory and an
// oversized body are answered as OTLP says; --forward carries the log records to the next hop's
// /v1/logs, and `buffer` counts and replays them.
import { type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as OtlpJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as OtlpProtobufLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { readFlightRecords, type RecordedLog } from '@stall-why/flight-record';
import { OtlpReceiver } from '@stall-why/instrument';
import { runCli } from './cli-runner.js';
import { startCollect } from './collect-runner.js';

const CORPUS = resolve(import.meta.dirname, '../../../test/corpus/codex-otel');
const root = mkdtempSync(join(tmpdir(), 'sw-collect-logs-'));
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

async function collect(name: string, args?: readonly string[]) {
  const dir = join(root, name);
  const started = await startCollect(dir, args);
  children.push(started.child);
  return { ...started, dir, logsUrl: started.url.replace(/\/v1\/traces$/, '/v1/logs') };
}

async function logsIn(dir: string): Promise<RecordedLog[]> {
  const out: RecordedLog[] = [];
  for await (const r of readFlightRecords(dir)) if (r.type === 'log') out.push(r.log);
  return out;
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<string> {
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise((ok) => child.on('exit', ok));
  child.kill('SIGTERM');
  await exited;
  return stderr;
}

interface CodexLogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  traceId?: string;
  spanId?: string;
  eventName?: string;
  attributes: Array<{ key: string; value: { stringValue?: string } }>;
}

/** The log records of one OTLP/JSON request body. */
function recordsOf(body: string): CodexLogRecord[] {
  return (JSON.parse(body) as { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: CodexLogRecord[] }> }> }).resourceLogs
    .flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

/** The log records of an OTLP/JSON capture file, in order (one request per line). */
function codexRecords(file: string): CodexLogRecord[] {
  return readFileSync(join(CORPUS, file), 'utf8').trim().split('\n').flatMap(recordsOf);
}

/** Exact to the nanosecond's share a double holds: the integer milliseconds and the rest apart. */
const nanosToMs = (nanos: string) => Number(nanos.slice(0, -6)) + Number(nanos.slice(-6)) / 1e6;
const attr = (r: CodexLogRecord, key: string) => r.attributes.find((a) => a.key === key)?.value.stringValue;

async function post(url: string, body: Uint8Array | string, contentType: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
}

/** Emits two records through the real logs SDK into `exporter`: one in a span's context, one bare. */
async function emitThroughSdk(exporter: LogRecordExporter): Promise<void> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'logs-test', 'host.arch': 'x64' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('scope-logs', '0.0.2');
  const spanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };
  logger.emit({
    timestamp: 1_700_000_000_123.5,
    observedTimestamp: 1_700_000_000_200,
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: 'upstream answered 503',
    eventName: 'app.upstream_error',
    attributes: { 'http.response.status_code': 503, retry: true, prompt: 'the user asked this', 'gen_ai.input.messages': '[{"role":"user"}]', 'gen_ai.prompt.0.content': 'hi' },
    context: trace.setSpanContext(context.active(), spanContext),
  });
  logger.emit({ timestamp: 1_700_000_001_000, severityNumber: SeverityNumber.INFO, body: { step: 2, ok: true } });
  await provider.forceFlush();
  await provider.shutdown();
}

describe('stall-why collect: logs from the OpenTelemetry logs SDK', () => {
  for (const [protocol, Exporter] of [['JSON', OtlpJsonLogExporter], ['protobuf', OtlpProtobufLogExporter]] as const) {
    it(`keeps time, severity, body, attributes, ids, resource and scope of what the OTLP/HTTP ${protocol} exporter sends; content values are dropped`, async () => {
      const { dir, logsUrl, child } = await collect(`sdk-${protocol}`);
      await emitThroughSdk(new Exporter({ url: logsUrl }));
      const [first, second] = await logsIn(dir);
      expect(first).toMatchObject({
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        severityNumber: SeverityNumber.WARN,
        severityText: 'WARN',
        body: 'upstream answered 503',
        eventName: 'app.upstream_error',
        resource: { 'service.name': 'logs-test', 'host.arch': 'x64' },
        scope: 'scope-logs',
        scopeVersion: '0.0.2',
      });
      expect(first!.timeMs).toBeCloseTo(1_700_000_000_123.5, 3);
      expect(first!.observedTimeMs).toBeCloseTo(1_700_000_000_200, 3);
      // The content keys lose their values and keep their length; nothing else changes.
      expect(first!.attributes).toEqual({
        'http.response.status_code': 503, retry: true, prompt_length: 19, 'gen_ai.input.messages_length': 17, 'gen_ai.prompt.0.content_length': 2,
      });
      expect(second).toMatchObject({ severityNumber: SeverityNumber.INFO, body: '{"step":2,"ok":true}', attributes: {} });
      expect(second!.traceId).toBeUndefined();
      expect(second!.timeMs).toBeCloseTo(1_700_000_001_000, 3);
      expect(await stop(child)).toMatch(/0 spans and 2 log records in 2 requests/);
    });
  }

  it('keeps content values with --record-content', async () => {
    const { dir, logsUrl } = await collect('sdk-content', ['--port', '0', '--record-content']);
    await emitThroughSdk(new OtlpJsonLogExporter({ url: logsUrl }));
    const [first] = await logsIn(dir);
    expect(first!.attributes).toMatchObject({ prompt: 'the user asked this', 'gen_ai.prompt.0.content': 'hi' });
  });
});

describe('stall-why collect: the real Codex 0.169 log export', () => {
  it('stores every record of the OTLP/JSON capture, event names intact, timed by the observed time (Codex sends time 0)', async () => {
    const { dir, logsUrl } = await collect('codex-json');
    for (const line of readFileSync(join(CORPUS, 'healthy.logs.otlp.jsonl'), 'utf8').trim().split('\n')) {
      const r = await post(logsUrl, line, 'application/json');
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({});
    }
    const sent = codexRecords('healthy.logs.otlp.jsonl');
    const stored = await logsIn(dir);
    expect(sent.length).toBeGreaterThan(5);
    expect(stored.map((l) => l.attributes['event.name'])).toEqual(sent.map((r) => attr(r, 'event.name')));
    expect(stored.map((l) => l.eventName)).toEqual(sent.map((r) => r.eventName));
    expect(sent.every((r) => r.timeUnixNano === '0')).toBe(true);
    for (const [i, l] of stored.entries()) {
      expect(l.timeMs).toBeCloseTo(nanosToMs(sent[i]!.observedTimeUnixNano), 3);
      expect(l.observedTimeMs).toBe(l.timeMs);
      expect(l.traceId).toBe(sent[i]!.traceId || undefined);
      expect(l.resource?.['service.name']).toBe('codex-app-server');
    }
    // codex.user_prompt's `prompt` is dropped; Codex's own prompt_length stays as it was.
    const prompt = stored.find((l) => l.attributes['event.name'] === 'codex.user_prompt')!;
    expect(prompt.attributes.prompt).toBeUndefined();
    expect(prompt.attributes.prompt_length).toBe(attr(sent.find((r) => attr(r, 'event.name') === 'codex.user_prompt')!, 'prompt_length'));
  });

  it('stores every record of the protobuf capture the same way', async () => {
    const { dir, logsUrl } = await collect('codex-protobuf');
    for (const line of readFileSync(join(CORPUS, 'healthy_binary.logs.otlp.pb.b64'), 'utf8').trim().split('\n')) {
      const r = await post(logsUrl, Buffer.from(line, 'base64'), 'application/x-protobuf');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/x-protobuf');
    }
    // The capture's .jsonl holds the same bodies decoded.
    const sent = codexRecords('healthy_binary.logs.otlp.jsonl');
    const stored = await logsIn(dir);
    expect(stored.map((l) => l.attributes['event.name'])).toEqual(sent.map((r) => attr(r, 'event.name')));
    expect(stored.map((l) => [l.traceId, l.spanId])).toEqual(sent.map((r) => [r.traceId || undefined, r.spanId || undefined]));
    for (const [i, l] of stored.entries()) expect(l.timeMs).toBeCloseTo(nanosToMs(sent[i]!.observedTimeUnixNano), 3);
  });

  it("drops codex.tool_result's tool arguments and output, keeping their lengths", async () => {
    const { dir, logsUrl } = await collect('codex-tool');
    for (const line of readFileSync(join(CORPUS, 'tool.logs.otlp.jsonl'), 'utf8').trim().split('\n')) expect((await post(logsUrl, line, 'application/json')).status).toBe(200);
    const sent = codexRecords('tool.logs.otlp.jsonl').filter((r) => attr(r, 'event.name') === 'codex.tool_result');
    const stored = (await logsIn(dir)).filter((l) => l.attributes['event.name'] === 'codex.tool_result');
    expect(sent.length).toBeGreaterThan(0);
    expect(stored).toHaveLength(sent.length);
    for (const [i, l] of stored.entries()) {
      expect(l.attributes).not.toHaveProperty('arguments');
      expect(l.attributes).not.toHaveProperty('output');
      expect(l.attributes.arguments_length).toBe(attr(sent[i]!, 'arguments')!.length);
      expect(l.attributes.output_length).toBe(attr(sent[i]!, 'output')!.length);
      expect(l.attributes.tool_name).toBe(attr(sent[i]!, 'tool_name'));
    }
  });
});

describe('stall-why collect: bad log requests', () => {
  it('answers 400 with a one-line reason to an undecodable body and writes nothing', async () => {
    const { dir, logsUrl } = await collect('bad');
    for (const [body, type, reason] of [
      ['{"resourceLogs": [', 'application/json', /invalid JSON/],
      [new Uint8Array([0x0a, 0xff, 0xff, 0xff]), 'application/x-protobuf', /invalid protobuf/],
      ['[]', 'application/json', /not an ExportLogsServiceRequest/],
      ['x', 'text/plain', /unsupported content type/],
    ] as const) {
      const r = await post(logsUrl, body, type);
      expect(r.status).toBe(400);
      const { message } = (await r.json()) as { message: string };
      expect(message).toMatch(reason);
      expect(message).not.toContain('\n');
    }
    expect(await logsIn(dir)).toEqual([]);
  });

  it('answers 503 with Retry-After when the directory cannot be written, and 413 over the body bound (library OtlpReceiver)', async () => {
    const dir = join(root, 'unwritable');
    const receiver = new OtlpReceiver({ directory: dir, port: 0, maxBodyBytes: 64 * 1024 });
    const logsUrl = (await receiver.listen()).replace(/\/v1\/traces$/, '/v1/logs');
    try {
      const line = readFileSync(join(CORPUS, 'healthy.logs.otlp.jsonl'), 'utf8').split('\n')[0]!;
      // A file where the directory should be: no segment can be created, whoever runs the test (root too).
      writeFileSync(dir, 'not a directory');
      const full = await post(logsUrl, line, 'application/json');
      expect(full.status).toBe(503);
      expect(full.headers.get('retry-after')).toBe('1');
      const big = await post(logsUrl, 'x'.repeat(64 * 1024 + 1), 'application/json');
      expect(big.status).toBe(413);
      expect(receiver.stats()).toMatchObject({ unavailable: 1, tooLarge: 1, logRecords: 0 });
      rmSync(dir);
      // The writer tries again after its fault pause (1 s); the sender's retry then lands.
      await new Promise((r) => setTimeout(r, 1100));
      expect((await post(logsUrl, line, 'application/json')).status).toBe(200);
      expect((await logsIn(dir)).length).toBe(recordsOf(line).length);
      expect(receiver.stats().logRecords).toBe(recordsOf(line).length);
    } finally {
      await receiver.close();
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('stall-why collect --forward and buffer: log records travel on', () => {
  it('forwards log records to the next hop /v1/logs, also when the next hop starts only after they were received', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const first = await collect('forward-from', ['--port', '0', '--forward', `http://127.0.0.1:${port}/v1/traces`]);
    expect(first.banner).toContain(`forwarding traces to http://127.0.0.1:${port}/v1/traces and logs to http://127.0.0.1:${port}/v1/logs`);
    for (const line of readFileSync(join(CORPUS, 'healthy.logs.otlp.jsonl'), 'utf8').trim().split('\n')) expect((await post(first.logsUrl, line, 'application/json')).status).toBe(200);
    const line = readFileSync(join(CORPUS, 'healthy.traces.otlp.jsonl'), 'utf8').split('\n')[0]!;
    expect((await post(first.url, line, 'application/json')).status).toBe(200);
    const received = await logsIn(first.dir);
    expect(received.length).toBe(codexRecords('healthy.logs.otlp.jsonl').length);
    // The next hop is down past the forwarder's first attempt (its interval is 1 s): it fails and backs off first.
    await new Promise((r) => setTimeout(r, 1500));
    const second = await collect('forward-to', ['--port', String(port)]);
    const forwarded = await waitFor('the forwarded log records', () => logsIn(second.dir), (logs) => logs.length >= received.length, 45_000);
    expect(forwarded.map((l) => l.attributes['event.name'])).toEqual(received.map((l) => l.attributes['event.name']));
    expect(forwarded.map((l) => [l.traceId, l.spanId, l.severityText, l.eventName, l.resource])).toEqual(received.map((l) => [l.traceId, l.spanId, l.severityText, l.eventName, l.resource]));
    for (const [i, l] of forwarded.entries()) expect(l.timeMs).toBeCloseTo(received[i]!.timeMs, 3);
    const spans = await waitFor('the forwarded spans', async () => {
      let n = 0;
      for await (const r of readFlightRecords(second.dir)) if (r.type === 'end') n++;
      return n;
    }, (n) => n > 0, 20_000);
    expect(spans).toBeGreaterThan(0);
    const stderr = await stop(first.child);
    expect(stderr).toMatch(new RegExp(`forwarded \\d+ spans, ${received.length} log records`));
    const buffered = await runCli(['buffer', first.dir, '--json']);
    expect(JSON.parse(buffered.stdout)).toMatchObject({ logRecords: received.length, logUploadBacklog: 0 });
  });

  it('says at start that only traces are forwarded when the URL does not end in /v1/traces and --forward-logs is not given', async () => {
    const { banner } = await collect('forward-traces-only', ['--port', '0', '--forward', 'http://127.0.0.1:9/otlp/spans']);
    expect(banner).toMatch(/forwarding traces to http:\/\/127\.0\.0\.1:9\/otlp\/spans \(traces only: .*log records stay on disk\)/);
    const both = await collect('forward-logs-given', ['--port', '0', '--forward', 'http://127.0.0.1:9/otlp/spans', '--forward-logs', 'http://127.0.0.1:9/otlp/logs']);
    expect(both.banner).toMatch(/forwarding traces to http:\/\/127\.0\.0\.1:9\/otlp\/spans and logs to http:\/\/127\.0\.0\.1:9\/otlp\/logs$/);
    const help = await runCli(['collect', '--help']);
    expect(help.stdout).toMatch(/receive OTLP\/HTTP traces and logs/);
    expect(help.stdout).toMatch(/--forward-logs <url>/);
  });

  it('buffer counts log records and --replay sends them to the logs endpoint beside the traces one', { timeout: 40_000 }, async () => {
    const { dir, logsUrl, child } = await collect('replay-from');
    for (const line of readFileSync(join(CORPUS, 'healthy.logs.otlp.jsonl'), 'utf8').trim().split('\n')) expect((await post(logsUrl, line, 'application/json')).status).toBe(200);
    await stop(child);
    const count = codexRecords('healthy.logs.otlp.jsonl').length;
    const before = await runCli(['buffer', dir]);
    expect(before.stdout).toContain(`logs      ${count} records`);
    expect(before.stdout).toContain(`backlog   0 ended spans and ${count} log records not yet uploaded`);
    const target = await collect('replay-to');
    const replay = await runCli(['buffer', dir, '--replay', target.url, '--json']);
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ logRecords: count, logUploadBacklog: 0, replay: { uploadedLogRecords: count, caughtUp: true } });
    expect((await logsIn(target.dir)).map((l) => l.attributes['event.name'])).toEqual((await logsIn(dir)).map((l) => l.attributes['event.name']));
  });
});
