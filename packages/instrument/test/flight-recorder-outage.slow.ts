// Outage: the recorder's uploader against the test's own OTLP/HTTP receiver on loopback, which is
// down, then answers 503 with Retry-After, then accepts; later it refuses a batch with 400.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { readFlightRecords } from '@stall-why/flight-record';
import { decodeOtlpTraceRequest, FlightRecorderProcessor } from '@stall-why/instrument';

type Mode = 'retry-after' | 'up' | 'reject';
interface Seen { atMs: number; status: number; seqs: number[]; contentType: string }

/** An OTLP/HTTP receiver decoding JSON and protobuf, answering as `mode` says. */
class TestReceiver {
  mode: Mode = 'up';
  readonly requests: Seen[] = [];
  private server: Server | undefined;
  constructor(readonly port: number) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const contentType = req.headers['content-type'] ?? '';
        const seqs = decodeOtlpTraceRequest(Buffer.concat(chunks), contentType).spans.map((s) => s.attributes.seq as number);
        const status = this.mode === 'up' ? 200 : this.mode === 'reject' ? 400 : 503;
        this.requests.push({ atMs: Date.now(), status, seqs: status === 200 ? seqs : [], contentType });
        if (status === 503) res.setHeader('Retry-After', '1');
        res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{}' : '{"message":"no"}');
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => (this.server ? this.server.close(r) : r(undefined)));
  }

  received(): number[] {
    return this.requests.flatMap((r) => r.seqs);
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(50);
  }
}

const root = mkdtempSync(join(tmpdir(), 'sw-outage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('flight recorder upload through an outage', () => {
  it('replays every span recorded while the endpoint was down or answering 503, in order, with at most one duplicate batch; a 400 is not retried', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/v1/traces`;
    const receiver = new TestReceiver(port);
    const batchSize = 40;
    const directory = join(root, 'flight');
    const recorder = new FlightRecorderProcessor({
      directory,
      flushIntervalMs: 50,
      otlp: { url, timeoutMillis: 1500, batchSize, intervalMs: 100, initialBackoffMs: 200, maxBackoffMs: 800 },
    });
    const provider = new BasicTracerProvider({ spanProcessors: [recorder] });
    const tracer = provider.getTracer('outage');
    let seq = 0;
    const record = async (count: number, overMs: number) => {
      for (let i = 0; i < count; i++) {
        tracer.startSpan('phase', { attributes: { seq: seq++ } }).end();
        if (i % 10 === 9) await sleep(overMs / (count / 10));
      }
    };

    // 1. Down: connection refused.
    await record(100, 1500);
    await until(() => (recorder.stats().upload?.retryableFailures ?? 0) >= 1, 10_000);
    expect(receiver.requests).toHaveLength(0);

    // 2. Up, but 503 with Retry-After: 1.
    receiver.mode = 'retry-after';
    await receiver.start();
    await record(100, 2500);
    await until(() => receiver.requests.length >= 3, 10_000);
    const refused = receiver.requests.filter((r) => r.status === 503);
    for (let i = 1; i < refused.length; i++) expect(refused[i].atMs - refused[i - 1].atMs).toBeGreaterThanOrEqual(950);

    // 3. Accepting.
    receiver.mode = 'up';
    await record(100, 500);
    await until(() => new Set(receiver.received()).size >= 300, 30_000);
    const received = receiver.received();
    const firstArrivals = received.filter((s, i) => received.indexOf(s) === i);
    expect(firstArrivals).toEqual([...Array(300).keys()]);
    const duplicates = received.length - firstArrivals.length;
    expect(duplicates).toBeLessThanOrEqual(batchSize);
    // OTLP/HTTP's default encoding, as the OpenTelemetry exporters have it.
    expect(receiver.requests.every((r) => r.contentType.startsWith('application/x-protobuf'))).toBe(true);
    console.log(`outage: ${receiver.requests.length} requests, ${refused.length} answered 503, ${duplicates} duplicate spans`);

    // 4. A permanent refusal drops that batch from the queue, once; later spans still go.
    receiver.mode = 'reject';
    await record(10, 100);
    await until(() => (recorder.stats().upload?.permanentFailures ?? 0) >= 1, 10_000);
    await sleep(1500);
    expect(receiver.requests.filter((r) => r.status === 400)).toHaveLength(1);
    receiver.mode = 'up';
    await record(10, 100);
    await until(() => receiver.received().includes(319), 10_000);
    expect(receiver.received().filter((s) => s >= 300 && s < 310)).toEqual([]);
    expect(recorder.stats().upload).toMatchObject({ permanentFailures: 1, droppedSpans: 10 });
    // The refused spans stay on disk.
    const onDisk = new Set<number>();
    for await (const r of readFlightRecords(directory)) onDisk.add(r.span.attributes.seq as number);
    expect(onDisk.size).toBe(320);

    await provider.shutdown();
    await receiver.stop();
  });
});
