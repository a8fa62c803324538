// What one refresh of `stall-why watch` costs on a busy flight recorder (about 200 k records in a
// 64 MiB ring, 1 000 new ones a refresh), against, in the same run: reading the new records alone
// (`LiveRecording.refresh`: the floor, the goal is 1.5x it), judging every held turn afresh after
// that read (what a refresh was before ended turns' reports were kept), and reading and judging the
// whole directory (`analyzeTraces`, before watch read incrementally). Each round runs them in turn,
// each after a full collection. Writer and watcher share this process, so the heap is larger than
// a watch process's and the collections slower for both.
// Usage: npm run build && node --expose-gc bench/watch-refresh.mjs [--scale 0.1] [--rounds 9]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { analyzeTraces, classifySpans } from '@stall-why/classifier';
import { FlightRecorderProcessor, TurnTracer } from '@stall-why/instrument';
import { LiveRecording, TraceJudge } from 'stall-why';

const scaleArg = process.argv.indexOf('--scale');
const scale = scaleArg > 0 ? Number(process.argv[scaleArg + 1]) : 1;
const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 9;
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

const readOnly = new LiveRecording(dir);
const live = new LiveRecording(dir);
const judge = await TraceJudge.open(dir);
const t0 = performance.now();
await judge.judge(Date.now());
const catchUpMs = performance.now() - t0;
await readOnly.refresh(Date.now());
await live.refresh(Date.now());

const full = [];
const afresh = [];
const reading = [];
const refresh = [];
const load = [loadavg()[0]];
// Also the process's CPU time (user + system, all threads) of each: a busy neighbour on a shared
// machine stretches the wall clock far more than it.
const cpu = new Map([full, afresh, reading, refresh].map((xs) => [xs, []]));
/** Runs `work` after a full collection (so that one measurement's garbage is not collected in the next's), timed into `into`. */
async function timed(into, work) {
  globalThis.gc?.();
  const start = performance.now();
  const startCpu = process.cpuUsage();
  const result = await work();
  into.push(performance.now() - start);
  const used = process.cpuUsage(startCpu);
  cpu.get(into).push((used.user + used.system) / 1000);
  return result;
}
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < 25; i++) turn(); // about a second of a busy server: 25 turns, 1 000 spans
  await recorder.forceFlush();
  await timed(reading, () => readOnly.refresh(Date.now()));
  const report = await timed(refresh, () => judge.judge(Date.now()));
  await timed(afresh, async () => classifySpans(await live.refresh(Date.now()), { now: Date.now() }));
  if (round === 0) console.log(`ring: ${readOnly.stats().recordsRead} records read so far; the live view judges ${report.summary?.judged} turns`);
}
// The whole directory last: its seconds of garbage would land in the refreshes' measurements.
for (let round = 0; round < 3; round++) await timed(full, () => analyzeTraces([dir], { now: Date.now() }));
load.push(loadavg()[0]);
await recorder.shutdown();
rmSync(dir, { recursive: true, force: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(1).padStart(7)} ms`;
console.log(`load average ${load.map((l) => l.toFixed(1)).join(' -> ')}; median of ${rounds} refreshes, each after 1 000 new spans (whole directory: 3)`);
const cpuMs = (xs) => `CPU ${ms(median(cpu.get(xs)))}`;
console.log(`  reading the new records alone (LiveRecording.refresh)  ${ms(median(reading))}   ${cpuMs(reading)}`);
console.log(`  a watch refresh (TraceJudge.judge)                       ${ms(median(refresh))}   ${cpuMs(refresh)}   ${(median(refresh) / median(reading)).toFixed(2)}x reading alone, CPU ${(median(cpu.get(refresh)) / median(cpu.get(reading))).toFixed(2)}x (first catch-up: ${catchUpMs.toFixed(0)} ms)`);
console.log(`  reading + judging every held turn afresh                 ${ms(median(afresh))}   ${cpuMs(afresh)}   ${(median(afresh) / median(reading)).toFixed(2)}x reading alone, CPU ${(median(cpu.get(afresh)) / median(cpu.get(reading))).toFixed(2)}x`);
console.log(`  whole directory (analyzeTraces)                          ${ms(median(full))}   ${(median(full) / median(refresh)).toFixed(0)}x a watch refresh`);
console.log('Goal: a refresh <= 1.5x reading the new records alone.');
