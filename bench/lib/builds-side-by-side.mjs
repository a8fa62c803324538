// Runs one step of the pipeline (a decoder, an importer) of this build and of another (`--before`)
// over the same lines held in memory, in interleaved rounds, and prints each one's MB/s as the median
// of its rounds, with its span count and the load average.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { median } from './load-options.mjs';

/**
 * `builds`: name → a function that runs that build's step over the input once and returns the spans
 * it gave. `title` names the step and the input, `bytes` its size.
 */
export function printSideBySide(title, bytes, builds, rounds) {
  const times = Object.fromEntries(Object.keys(builds).map((k) => [k, []]));
  const spans = {};
  const load = [loadavg()[0]];
  for (let r = 0; r < rounds; r++) {
    for (const [name, runOnce] of Object.entries(builds)) {
      const t0 = performance.now();
      spans[name] = runOnce();
      times[name].push(performance.now() - t0);
    }
  }
  load.push(loadavg()[0]);
  console.log(`${title}, ${(bytes / 1048576).toFixed(0)} MB: medians of ${rounds} interleaved rounds; load average ${load.map((l) => l.toFixed(1)).join(' -> ')}`);
  for (const [name, xs] of Object.entries(times)) console.log(`  ${name.padEnd(12)} ${(bytes / 1048576 / (median(xs) / 1000)).toFixed(0).padStart(5)} MB/s  ${spans[name]} spans`);
}

/** Whole lines of the file's first `mb` megabytes (views into one buffer), and their bytes. */
export function firstLines(path, mb) {
  const buf = readFileSync(path).subarray(0, mb * 1024 * 1024);
  const lines = [];
  for (let start = 0; ; ) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) return { lines, bytes: start };
    lines.push(buf.subarray(start, nl));
    start = nl + 1;
  }
}
