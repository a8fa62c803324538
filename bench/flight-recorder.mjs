// Flight recorder throughput and per-span cost, each against a reference measured in the same run:
//  1. bandwidth: FlightRecorderProcessor writing N ended spans (encode + frame + crc32 + write) vs
//     raw fs.writeSync appends of the very bytes it wrote, in the same batch sizes;
//  2. per-span cost: create+end a span with the recorder vs with the SDK's BatchSpanProcessor and an
//     InMemorySpanExporter (both including their flush), and each over a no-processor baseline.
// Usage: node bench/flight-recorder.mjs [--scale 0.1]   (run `npm run build` first)
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { FlightRecorderProcessor } from '@stall-why/instrument';

const scaleArg = process.argv.indexOf('--scale');
const scale = scaleArg > 0 ? Number(process.argv[scaleArg + 1]) : 1;
const N = Math.max(1000, Math.round(200_000 * scale));
const BATCH = 4096;
const root = mkdtempSync(join(tmpdir(), 'sw-bench-fr-'));
const resource = resourceFromAttributes({ 'service.name': 'bench', 'service.version': '1.0.0' });
const attrs = (i) => ({ 'stall_why.phase': 'upstream.attempt', 'stall_why.turn.id': `turn-${i >> 6}`, 'stall_why.thread.id': 'thread-1', 'http.response.status_code': 200, 'stall_why.attempt': i & 7, 'server.address': 'api.openai.com' });

function makeSpans(n) {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('bench', '1.0.0');
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan('upstream.attempt', { attributes: attrs(i) });
    if (i % 4 === 0) span.addEvent('headers', { status: 200 });
    span.end();
  }
  return memory.getFinishedSpans();
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// --- 1. bandwidth ------------------------------------------------------------------------------
function recorderBandwidth(spans, round) {
  const directory = join(root, `rec-${round}`);
  const recorder = new FlightRecorderProcessor({ directory, maxBytes: 1024 * 1024 * 1024, flushBatchRecords: 1e9, maxPendingRecords: 1e9, fsyncIntervalMs: 3_600_000 });
  const t0 = performance.now();
  for (let i = 0; i < spans.length; i += BATCH) {
    const end = Math.min(spans.length, i + BATCH);
    for (let j = i; j < end; j++) recorder.onEnd(spans[j]);
    recorder.flushSync(false);
  }
  const ms = performance.now() - t0;
  const { bytesWritten, recordsWritten } = recorder.stats();
  void recorder.shutdown();
  const bytes = Buffer.concat(readdirSync(directory).sort().map((n) => readFileSync(join(directory, n))));
  rmSync(directory, { recursive: true, force: true });
  return { ms, bytesWritten, recordsWritten, bytes };
}

function rawAppend(bytes, records, round) {
  const path = join(root, `raw-${round}.bin`);
  const fd = openSync(path, 'w', 0o600);
  const chunk = Math.ceil(bytes.length / Math.ceil(records / BATCH));
  const t0 = performance.now();
  for (let off = 0; off < bytes.length; off += chunk) writeSync(fd, bytes, off, Math.min(chunk, bytes.length - off));
  const ms = performance.now() - t0;
  closeSync(fd);
  rmSync(path);
  return ms;
}

// --- 2. per-span cost -----------------------------------------------------------------------------
async function perSpan(kind, n) {
  let processor;
  if (kind === 'batch') processor = new BatchSpanProcessor(new InMemorySpanExporter(), { maxQueueSize: 1 << 20, maxExportBatchSize: 512 });
  if (kind === 'recorder') processor = new FlightRecorderProcessor({ directory: join(root, `ps-${Math.random()}`), maxBytes: 1024 * 1024 * 1024, fsyncIntervalMs: 3_600_000 });
  const provider = new BasicTracerProvider({ resource, spanProcessors: processor ? [processor] : [] });
  const tracer = provider.getTracer('bench', '1.0.0');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan('upstream.attempt', { attributes: attrs(i) });
    if (i % 4 === 0) span.addEvent('headers', { status: 200 });
    span.end();
    if ((i & 1023) === 1023) await new Promise((r) => setImmediate(r)); // let both processors' timers run, as in a server
  }
  await provider.forceFlush();
  const ms = performance.now() - t0;
  await provider.shutdown();
  return (ms * 1e3) / n; // µs per span
}

const spans = makeSpans(N);
const rec = [];
const raw = [];
const WARMUP = 2; // untimed rounds first, so both sides run optimised code
for (let round = 0; round < WARMUP + 5; round++) {
  globalThis.gc?.();
  const r = recorderBandwidth(spans, round);
  const rawMs = rawAppend(r.bytes, r.recordsWritten, round);
  if (round < WARMUP) continue;
  rec.push(r.ms);
  raw.push(rawMs);
  rec.meta = r;
}
const { bytesWritten, recordsWritten } = rec.meta;
const mb = bytesWritten / 1024 / 1024;
const recMs = median(rec);
const rawMs = median(raw);
console.log(`records: ${recordsWritten} ended spans, ${mb.toFixed(1)} MiB (${(bytesWritten / recordsWritten).toFixed(0)} B/record), median of 5 after 2 warm-up rounds`);
console.log(`recorder   ${(recordsWritten / recMs * 1e3 / 1e3).toFixed(0).padStart(7)} k records/s  ${(mb / recMs * 1e3).toFixed(0).padStart(5)} MiB/s`);
console.log(`raw append ${(recordsWritten / rawMs * 1e3 / 1e3).toFixed(0).padStart(7)} k records/s  ${(mb / rawMs * 1e3).toFixed(0).padStart(5)} MiB/s  (fs.writeSync of the same bytes, same batch sizes)`);
console.log(`ratio      recorder / raw append bandwidth = ${(rawMs / recMs).toFixed(2)}  (goal >= 0.50)`);

const PS = Math.max(1000, Math.round(100_000 * scale));
const results = { none: [], batch: [], recorder: [] };
for (let round = 0; round < 1 + 5; round++) {
  for (const kind of ['none', 'batch', 'recorder']) {
    globalThis.gc?.();
    const us = await perSpan(kind, PS);
    if (round > 0) results[kind].push(us); // round 0 warms up
  }
}
const none = median(results.none);
const batch = median(results.batch);
const recorder = median(results.recorder);
console.log(`\nper span (create, 6 attributes, 1/4 with an event, end; ${PS} spans, median of 5):`);
console.log(`no processor                          ${none.toFixed(2)} µs`);
console.log(`BatchSpanProcessor + InMemoryExporter ${batch.toFixed(2)} µs  (processor's share ${(batch - none).toFixed(2)} µs)`);
console.log(`FlightRecorderProcessor (to disk)     ${recorder.toFixed(2)} µs  (processor's share ${(recorder - none).toFixed(2)} µs)`);
console.log(`ratio      recorder / BatchSpanProcessor per-span cost = ${(recorder / batch).toFixed(2)}  (goal <= 1.5)`);
console.log(`ratio      processor's share only                      = ${((recorder - none) / Math.max(0.01, batch - none)).toFixed(2)}`);
rmSync(root, { recursive: true, force: true });
