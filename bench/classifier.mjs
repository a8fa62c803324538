// Classifier import benchmark: MB/s, spans/s and peak RSS of `analyzeTraces` on
//   - a 1 GB OTLP JSON-lines file (Collector file-exporter shape),
//   - a 300 MB Codex rollout bloated with inline base64 images and long tool outputs,
//   - a flight-recorder directory of 1M spans (written by @stall-why/instrument's FlightRecorderProcessor),
// each against references on the same file in the same run: per-line JSON.parse (Buffer.indexOf line
// split) and jq (Debian package). Every measurement runs in its own child process; node children
// report process.resourceUsage().maxRSS (the whole process, worker threads included), jq is measured
// with /usr/bin/time. stall-why runs twice, with Node's default flags: as `analyzeTraces` runs by
// default (an input over 32 MiB is read in a worker thread whose old generation V8 caps at 64 MB), and
// in the calling thread (`isolate: false`), where the peak follows V8's own sizing (young generation up
// to 2 x 16 MB, old generation let grow to about 4x what is live between full collections). Each run
// also reports the heap still live after a full GC at its end in the thread that read (the window and
// the report), and the turns judged, listed and summarised.
//
//   npx tsc -b packages/classifier packages/instrument && node bench/classifier.mjs [--scale 0.1] [--only otlp|rollout|flight]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flightRecorderDirectory, otlpFile, rolloutFile } from './lib/inputs.mjs';

const self = fileURLToPath(import.meta.url);
const MB = 1024 * 1024;

// --- child modes -------------------------------------------------------------------------------
if (process.argv[2] === '--child') {
  const [, , , mode, path] = process.argv;
  // Modules load before the clock starts: the numbers are reading and judging, not Node's start-up.
  const { analyzeTraces } = await import('@stall-why/classifier');
  const { readFlightRecords } = await import('@stall-why/flight-record');
  const t0 = process.hrtime.bigint();
  let spans = 0;
  let extra = {};
  if (mode === 'ours' || mode === 'ours-thread') {
    const { report } = await analyzeTraces([path], { now: Date.parse('2030-01-01T00:00:00Z'), isolate: mode === 'ours' });
    spans = report.sources.reduce((n, s) => n + s.spans, 0);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    globalThis.gc?.();
    extra = { ms, summary: report.summary, liveHeapMb: process.memoryUsage().heapUsed / MB };
  } else if (mode === 'jsonparse') {
    const { open } = await import('node:fs/promises');
    const h = await open(path, 'r');
    const chunk = Buffer.allocUnsafe(2 * MB);
    let carry = [];
    let pos = 0;
    const line = (b) => { if (b.length) { JSON.parse(b.toString('utf8')); spans++; } };
    for (;;) {
      const { bytesRead } = await h.read(chunk, 0, chunk.length, pos);
      if (!bytesRead) break;
      pos += bytesRead;
      const v = chunk.subarray(0, bytesRead);
      let from = 0;
      for (let nl; (nl = v.indexOf(10, from)) >= 0; from = nl + 1) {
        if (carry.length) { carry.push(v.subarray(from, nl)); line(Buffer.concat(carry)); carry = []; } else line(v.subarray(from, nl));
      }
      if (from < bytesRead) carry.push(Buffer.from(v.subarray(from)));
    }
    if (carry.length) line(Buffer.concat(carry));
    await h.close();
  } else if (mode === 'rawreader') {
    for await (const _ of readFlightRecords(path)) spans++;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ ms, spans, maxRssKb: process.resourceUsage().maxRSS, ...extra }) + '\n');
  process.exit(0);
}

const scaleArg = process.argv.indexOf('--scale');
const scale = scaleArg > 0 ? Number(process.argv[scaleArg + 1]) : 1;
// --only otlp|rollout|flight: one of the three inputs (default: all).
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? process.argv[onlyArg + 1] : undefined;
const wanted = (input) => only === undefined || only === input;
const dir = mkdtempSync(join(tmpdir(), 'stall-why-bench-'));
// --- measurement ---------------------------------------------------------------------------------
function child(mode, path, nodeFlags = []) {
  const r = spawnSync(process.execPath, [...nodeFlags, self, '--child', mode, path], { encoding: 'utf8', maxBuffer: 16 * MB });
  if (r.status !== 0) return { error: (r.stderr || r.stdout).trim().split('\n').slice(-1)[0] };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

function jq(filter, path) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'jq', '-c', filter, path], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) return { error: r.stderr.trim().split('\n')[0] };
  return { ms, maxRssKb: Number(r.stderr.trim().split('\n').pop()) };
}

const rows = [];
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
/** The run with the median time of `reps` (short measurements are noisy: a 0.2 s run against a 2 s one). */
function medianOf(reps, run) {
  const results = Array.from({ length: reps }, run);
  const ok = results.filter((r) => !r.error).sort((a, b) => a.ms - b.ms);
  return ok.length ? ok[Math.floor(ok.length / 2)] : results[0];
}

function ours(path, reps = 1) {
  return [medianOf(reps, () => child('ours', path, ['--expose-gc'])), medianOf(reps, () => child('ours-thread', path, ['--expose-gc']))];
}

function report(name, bytes, [ours, oursThread], refs) {
  if (ours.error) { rows.push(`${name}: ours failed: ${ours.error}`); return; }
  const mbs = bytes / MB / (ours.ms / 1000);
  rows.push(`${name}: ${(bytes / MB).toFixed(0)} MB, ${ours.spans} spans/records; ${ours.summary?.line ?? ''}`);
  const line = (label, r, live) =>
    `  ${label.padEnd(24)} ${fmt(r.ms / 1000)} s  ${fmt(bytes / MB / (r.ms / 1000))} MB/s  ${fmt(r.spans / (r.ms / 1000))} spans/s  peak RSS ${fmt(r.maxRssKb / 1024)} MB${live ? `  (live heap after the run ${fmt(r.liveHeapMb)} MB)` : ''}`;
  rows.push(line('stall-why analyzeTraces', ours, false));
  if (oursThread?.error) rows.push(`    isolate: false: failed: ${oursThread.error}`);
  else if (oursThread) rows.push(line('    isolate: false', oursThread, true));
  for (const [label, ref] of refs) {
    if (!ref) continue;
    if (ref.error) { rows.push(`  ${label.padEnd(24)} failed: ${ref.error}`); continue; }
    rows.push(`  ${label.padEnd(24)} ${fmt(ref.ms / 1000)} s  ${fmt(bytes / MB / (ref.ms / 1000))} MB/s  peak RSS ${fmt(ref.maxRssKb / 1024)} MB  -> stall-why is ${(ref.ms / ours.ms).toFixed(1)}x its speed`);
  }
}

const dirSize = (d) => readdirSync(d).reduce((n, f) => n + statSync(join(d, f)).size, 0);
try {
  process.stdout.write(`scale ${scale}; files in ${dir}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores\n`);
  if (wanted('otlp')) {
    const otlp = join(dir, 'spans.otlp.jsonl');
    const otlpBytes = otlpFile(otlp, 1024 * MB * scale);
    report('OTLP JSON lines', otlpBytes, ours(otlp), [['per-line JSON.parse', child('jsonparse', otlp)], ['jq', jq('.resourceSpans|length', otlp)]]);
    rmSync(otlp);
  }

  if (wanted('rollout')) {
    const rollout = join(dir, 'rollout-2026-11-24T00-00-00-01a20e18-aeae-7061-9f5c-2b1b8a03f3e6.jsonl');
    const rolloutBytes = rolloutFile(rollout, 300 * MB * scale);
    // Median of 5 runs each: stall-why reads this file in about 0.2 s, so one run's noise moves the ratio by several x.
    report('bloated Codex rollout (median of 5 runs each)', rolloutBytes, ours(rollout, 5), [
      ['per-line JSON.parse', medianOf(5, () => child('jsonparse', rollout))],
      ['jq', medianOf(5, () => jq('.type', rollout))],
    ]);
    rmSync(rollout);
  }

  if (wanted('flight')) {
    const flight = join(dir, 'flight');
    const made = await flightRecorderDirectory(flight, Math.round(1_000_000 * scale));
    if (made.skipped) rows.push(`flight recorder: skipped: ${made.skipped}`);
    else if (existsSync(flight)) report('flight-recorder directory', dirSize(flight), ours(flight), [['raw record reader', child('rawreader', flight)]]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(rows.join('\n') + '\n');
process.stdout.write(`load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
process.stdout.write('Goal: >= 10x jq on the bloated rollout; peak RSS < 150 MB.\n');
