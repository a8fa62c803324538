// The timeline's bound on what it remembers (InsertionBoundedMap: forget the earliest key added)
// against the idiom it replaced, in the same run: a Map that deletes `map.keys().next().value` once
// over its bound. V8 keeps a deleted key as a hole until the table is rebuilt, and each new iterator
// walks the holes before the first live key, so the idiom costs more the longer the map stays full.
// Medians of interleaved rounds, with the load average. Usage:
//   npm run build && node bench/bounded-map.mjs [--inserts 1000000] [--max 10000] [--rounds 5]
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

const { InsertionBoundedMap } = await import(new URL('../packages/classifier/dist/model/insertion-bounded-map.js', import.meta.url).href);
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const inserts = arg('--inserts', 1_000_000);
const max = arg('--max', 10_000);
const rounds = arg('--rounds', 5);
const keys = Array.from({ length: inserts }, (_, i) => `trace-${i}/span-${i}`);

function deleteFirst() {
  const map = new Map();
  for (const key of keys) {
    map.set(key, 1);
    if (map.size > max) map.delete(map.keys().next().value);
  }
  return map.size;
}

function insertionBounded() {
  const map = new InsertionBoundedMap(max);
  for (const key of keys) map.set(key, 1);
  return map.size;
}

const timed = (run) => {
  const start = performance.now();
  run();
  return performance.now() - start;
};
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const loadBefore = loadavg()[0];
const times = { ours: [], idiom: [] };
for (let r = 0; r < rounds; r++) {
  times.ours.push(timed(insertionBounded));
  times.idiom.push(timed(deleteFirst));
}
console.log(`${inserts} inserts into a map bounded at ${max}; median of ${rounds} interleaved rounds; load average ${loadBefore.toFixed(1)} -> ${loadavg()[0].toFixed(1)}`);
console.log(`  InsertionBoundedMap                       ${median(times.ours).toFixed(0).padStart(7)} ms`);
console.log(`  Map + delete(keys().next().value)         ${median(times.idiom).toFixed(0).padStart(7)} ms  -> ${(median(times.idiom) / median(times.ours)).toFixed(1)}x InsertionBoundedMap's time`);
