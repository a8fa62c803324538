// Crash: a child process records spans continuously and is killed with SIGKILL at random moments.
// After each kill the directory must read without error, hold every record the child had
// acknowledged as written, and return no corrupt record.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newFlightReadStats, readFlightRecords } from '@stall-why/flight-record';

const KILLS = Number(process.env.STALL_WHY_CRASH_KILLS ?? 100);
const PARALLEL = 5;
/** Waves that share a pair of directories (reading grows with what they hold). */
const WAVES_PER_DIR = 4;
const PACKAGE_DIR = resolve(import.meta.dirname, '..');

// The child: spans of varied sizes, a turn span left open, a write (flushSync) then an ack on stdout
// every 100 spans, and the 20 ms timer flushing in between; small segments so kills land in rotations too.
const CHILD = `
import { writeSync } from 'node:fs';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { FlightRecorderProcessor } from '@stall-why/instrument';
const [dir, run] = process.argv.slice(1);
const recorder = new FlightRecorderProcessor({ directory: dir, flushIntervalMs: 20, segmentBytes: 64 * 1024, maxBytes: 512 * 1024 * 1024, fsyncIntervalMs: 50 });
const tracer = new BasicTracerProvider({ spanProcessors: [recorder] }).getTracer('crash');
tracer.startSpan('open-turn', { attributes: { run: Number(run), seq: -1 } });
let seq = 0;
writeSync(1, 'ready\\n');
function burst() {
  for (let i = 0; i < 25; i++) {
    const s = tracer.startSpan('phase', { attributes: { run: Number(run), seq, pad: 'x'.repeat((seq * 37) % 900) } });
    s.addEvent('e', { seq });
    s.end();
    seq++;
  }
  if (seq % 100 === 0) {
    recorder.flushSync(false);
    writeSync(1, 'ack ' + seq + '\\n');
  }
  setImmediate(burst);
}
burst();
`;

interface Run { run: number; acked: number; ready: boolean }

function killAtRandom(dir: string, run: number): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, dir, String(run)], { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'inherit'] });
    const state: Run = { run, acked: 0, ready: false };
    let buffered = '';
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready' && !state.ready) {
          state.ready = true;
          // 0 to 400 ms after start: during the first flush, mid-burst, mid-rotation, mid-ack.
          setTimeout(() => child.kill('SIGKILL'), Math.random() * 400);
        } else if (line.startsWith('ack ')) state.acked = Number(line.slice(4));
      }
    });
    child.on('exit', () => done(state));
  });
}

const root = mkdtempSync(join(tmpdir(), 'sw-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
/** Writers of neighbouring runs share a directory, so segments of dead and live writers sit side by side. */
const dirFor = (run: number) => join(root, `dir-${Math.floor(run / (PARALLEL * WAVES_PER_DIR))}-${run % 2}`);

describe('flight recorder under SIGKILL', () => {
  it(`keeps every acknowledged record through ${KILLS} kills and never returns a corrupt one`, async () => {
    let kills = 0;
    let corrupt = 0;
    let records = 0;
    let ackedRuns = 0;
    while (kills < KILLS) {
      const wave = Array.from({ length: Math.min(PARALLEL, KILLS - kills) }, (_, i) => kills + i);
      const runs = await Promise.all(wave.map((run) => killAtRandom(dirFor(run), run)));
      kills += runs.length;
      ackedRuns += runs.filter((r) => r.acked > 0).length;
      for (const dir of new Set(runs.map((r) => dirFor(r.run)))) {
        // Every writer of the directory killed before its first write: nothing was acknowledged, and
        // there is no directory yet (a loaded machine gets there before the first 20 ms flush).
        if (!existsSync(dir)) {
          expect(runs.filter((r) => dirFor(r.run) === dir).every((r) => r.acked === 0)).toBe(true);
          continue;
        }
        const stats = newFlightReadStats();
        const seen = new Map<number, Set<number>>();
        const open = new Set<number>();
        for await (const r of readFlightRecords(dir, { stats })) {
          const { run, seq } = r.span.attributes as { run: number; seq: number };
          expect(typeof run).toBe('number');
          expect(typeof seq).toBe('number');
          if (seq === -1) {
            expect(r.type).toBe('start');
            open.add(run);
            continue;
          }
          // A returned record is whole: its event and padding match its sequence number.
          expect(r.type).toBe('end');
          expect(r.span.events?.[0]?.attributes?.seq).toBe(seq);
          expect(String(r.span.attributes.pad).length).toBe((seq * 37) % 900);
          let set = seen.get(run);
          if (!set) seen.set(run, (set = new Set()));
          expect(set.has(seq)).toBe(false);
          set.add(seq);
        }
        records += stats.records;
        for (const r of runs.filter((x) => dirFor(x.run) === dir)) {
          const set = seen.get(r.run) ?? new Set();
          for (let s = 0; s < r.acked; s++) if (!set.has(s)) throw new Error(`run ${r.run}: acked ${r.acked} but seq ${s} is missing`);
          if (r.acked > 0) expect(open.has(r.run)).toBe(true);
        }
        corrupt += stats.corruptRecords;
      }
    }
    expect(ackedRuns).toBeGreaterThan(KILLS / 2);
    console.log(`crash: ${kills} kills (${ackedRuns} after at least one ack), ${records} records read back (cumulative), ${corrupt} torn/corrupt stretches skipped`);
  });
});
