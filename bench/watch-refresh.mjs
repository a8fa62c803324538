// What one refresh of `stall-why watch` costs on a busy flight recorder (about 200 k records in a
// 64 MiB ring), against the reference it replaced in the same run: reading and judging the whole
// directory (`analyzeTraces`, what watch did on every refresh before it read incrementally).
// Usage: npm run build && node --expose-gc bench/watch-refresh.mjs [--scale 0.1]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { analyzeTraces, classifySpans } from '@stall-why/classifier';
import { FlightRecorderProcessor, TurnTracer } from '@stall-why/instrument';
import { LiveRecording } from 'stall-why';

const scaleArg = process.argv.indexOf('--scale');
const scale = scaleArg > 0 ? Number(process.argv[scaleArg + 1]) : 1;
const dir = mkdtempSync(join(tmpdir(), 'sw-bench-watch-'));
const recorder = new FlightRecorderProcessor({ directory: dir, maxPendingRecords: 1_000_000 });
const tracer = new TurnTracer({ tracer: new BasicTracerProvider({ spanProcessors: [recorder] }).getTracer('bench') });
let turnNo = 0;

/** One turn of 40 spans: accepted, three attempts with their milestones, six items each. */
function turn() {
  const t = tracer.startTurn({ threadId: `thread-${turnNo % 50}`, turnId: `turn-${turnNo++}` });
  t.accepted();
  for (let a = 0; a < 3; a++) {
    const attempt = t.startAttempt();
    attempt.requestSent().headers(200).firstByte().firstEvent();
    attempt.streamEnd();
    for (let i = 0; i < 6; i++) t.startPhase('stall_why.item', { attributes: { 'stall_why.item.type': 'agentMessage', 'stall_why.item.id': `i${turnNo}_${a}_${i}` } }).end();
  }
  t.endTurn('completed');
}

for (let i = 0; i < Math.round(6000 * scale); i++) {
  turn();
  if (i % 200 === 0) await new Promise((r) => setImmediate(r));
}
await recorder.forceFlush();

const live = new LiveRecording(dir);
let t0 = performance.now();
await live.refresh(Date.now());
const catchUpMs = performance.now() - t0;

const full = [];
const incremental = [];
for (let round = 0; round < 5; round++) {
  for (let i = 0; i < 25; i++) turn(); // about a second of a busy server: 25 turns, 1 000 spans
  await recorder.forceFlush();
  globalThis.gc?.();
  t0 = performance.now();
  const { report } = await analyzeTraces([dir], { now: Date.now() });
  full.push(performance.now() - t0);
  t0 = performance.now();
  const spans = await live.refresh(Date.now());
  const judged = classifySpans(spans, { now: Date.now() });
  incremental.push(performance.now() - t0);
  if (round === 0) console.log(`ring: ${live.stats().recordsRead} records read so far; whole-directory report judges ${report.summary?.judged} turns, the live view ${judged.summary?.judged}`);
}
await recorder.shutdown();
rmSync(dir, { recursive: true, force: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; median of 5 refreshes, each after 1 000 new spans`);
console.log(`  whole directory (analyzeTraces)       ${median(full).toFixed(0).padStart(6)} ms`);
console.log(`  incremental (LiveRecording + classify) ${median(incremental).toFixed(1).padStart(6)} ms   (first catch-up: ${catchUpMs.toFixed(0)} ms)`);
console.log(`  ratio whole / incremental = ${(median(full) / median(incremental)).toFixed(0)}x`);
