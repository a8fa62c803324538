// Crash: `stall-why collect` receives OTLP batches (JSON and protobuf, alternately) and is killed
// with SIGKILL at random moments. Every batch it answered 200 must be in the directory afterwards.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { newFlightReadStats, readFlightRecords } from '@stall-why/flight-record';

const KILLS = Number(process.env.STALL_WHY_CRASH_KILLS ?? 100);
const PARALLEL = 5;
/** Waves that share a pair of directories (reading grows with what they hold). */
const WAVES_PER_DIR = 4;
const CLI = resolve(import.meta.dirname, '../../packages/viewer-cli/bin/stall-why.js');

const memory = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('collect-crash');
function batch(run: number, first: number, size: number): ReadableSpan[] {
  memory.reset();
  for (let i = 0; i < size; i++) tracer.startSpan('phase', { attributes: { run, seq: first + i, pad: 'y.'.repeat(700).slice(0, ((first + i) * 53) % 700) } }).end();
  return memory.getFinishedSpans();
}

interface Run { run: number; answered: number; sent: number }

/** Starts collect, posts batches of 20 spans until it dies (killed 0-400 ms after it listens). */
async function killAtRandom(dir: string, run: number): Promise<Run> {
  const child = spawn(process.execPath, [CLI, 'collect', '--out', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const url = await new Promise<string | undefined>((ok) => {
    let seen = '';
    child.stdout.on('data', (d: Buffer) => {
      seen += d.toString();
      const m = /listening on (\S+),/.exec(seen);
      if (m) ok(m[1]);
    });
    child.on('exit', () => ok(undefined));
  });
  const state: Run = { run, answered: 0, sent: 0 };
  if (!url) return state;
  setTimeout(() => child.kill('SIGKILL'), Math.random() * 400);
  for (let n = 0; ; n++) {
    const spans = batch(run, state.answered, 20);
    const proto = n % 2 === 1;
    const body = proto ? ProtobufTraceSerializer.serializeRequest(spans)! : JsonTraceSerializer.serializeRequest(spans)!;
    state.sent++;
    try {
      // The timeout only ends the loop if a request to the dying process is never answered either way.
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': proto ? 'application/x-protobuf' : 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      state.answered += 20;
    } catch {
      break; // killed: this batch was not answered 200
    }
  }
  await exited;
  return state;
}

const root = mkdtempSync(join(tmpdir(), 'sw-collect-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
/** Writers of neighbouring runs share a directory, so segments of dead and live writers sit side by side. */
const dirFor = (run: number) => join(root, `dir-${Math.floor(run / (PARALLEL * WAVES_PER_DIR))}-${run % 2}`);

describe('stall-why collect under SIGKILL', () => {
  it(`keeps every batch it answered 200 through ${KILLS} kills`, async () => {
    let kills = 0;
    let answeredRuns = 0;
    let corrupt = 0;
    while (kills < KILLS) {
      const wave = Array.from({ length: Math.min(PARALLEL, KILLS - kills) }, (_, i) => kills + i);
      const runs = await Promise.all(wave.map((run) => killAtRandom(dirFor(run), run)));
      kills += runs.length;
      answeredRuns += runs.filter((r) => r.answered > 0).length;
      for (const dir of new Set(runs.map((r) => dirFor(r.run)))) {
        const stats = newFlightReadStats();
        const seen = new Map<number, Set<number>>();
        for await (const r of readFlightRecords(dir, { stats })) {
          const { run, seq, pad } = r.span.attributes as { run: number; seq: number; pad: string };
          expect(pad.length).toBe((seq * 53) % 700);
          let set = seen.get(run);
          if (!set) seen.set(run, (set = new Set()));
          set.add(seq);
        }
        corrupt += stats.corruptRecords;
        for (const r of runs.filter((x) => dirFor(x.run) === dir)) {
          const set = seen.get(r.run) ?? new Set();
          for (let s = 0; s < r.answered; s++) if (!set.has(s)) throw new Error(`run ${r.run}: ${r.answered} spans answered 200, seq ${s} missing`);
        }
      }
    }
    expect(answeredRuns).toBeGreaterThan(KILLS / 2);
    console.log(`collect crash: ${kills} kills (${answeredRuns} after at least one 200), ${corrupt} torn/corrupt stretches skipped`);
  });
});
