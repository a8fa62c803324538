// The OTLP JSON-lines fast path alone (OtlpLineDecoder over lines held in memory, spans counted and
// dropped): MB/s on the first --mb megabytes of the bench's OTLP input, against another build's decoder
// in the same run (`--before <that checkout's root>`, built), as medians of interleaved rounds, with
// the load average. Usage:
//   npm run build && node bench/otlp-line-decoder.mjs [--file F] [--mb 100] [--rounds 7] [--before ROOT]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const root = fileURLToPath(new URL('..', import.meta.url));
const file = arg('--file', '/tmp/stall-why-bench/spans.otlp.jsonl');
const mb = Number(arg('--mb', 100));
const rounds = Number(arg('--rounds', 7));
const before = arg('--before', undefined);

/** Whole lines of the file's first `mb` megabytes. */
function linesOf(path) {
  const buf = readFileSync(path).subarray(0, mb * 1024 * 1024);
  const lines = [];
  for (let start = 0; ; ) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) return { lines, bytes: start };
    lines.push(buf.subarray(start, nl));
    start = nl + 1;
  }
}

// The span names the CLI reads (analyze-traces' READ_SPAN_NAMES).
async function decoderOf(checkout) {
  const dist = `${checkout}/packages/classifier/dist`;
  const { OtlpLineDecoder } = await import(`${dist}/importers/otlp-line-decoder.js`);
  const { KNOWN_PHASES } = await import(`${dist}/model/phase-groups.js`);
  const { CODEX_SPAN_NAMES } = await import(`${dist}/importers/codex-otel-spans.js`);
  const wanted = new Set([...KNOWN_PHASES, ...CODEX_SPAN_NAMES]);
  return () => new OtlpLineDecoder(wanted);
}

const { lines, bytes } = linesOf(file);
const builds = { 'this build': await decoderOf(root), ...(before ? { before: await decoderOf(before) } : {}) };
const times = Object.fromEntries(Object.keys(builds).map((k) => [k, []]));
const spans = {};
const load = [loadavg()[0]];
for (let r = 0; r < rounds; r++) {
  for (const [name, make] of Object.entries(builds)) {
    const decoder = make();
    let n = 0;
    const t0 = performance.now();
    for (const line of lines) if (!decoder.decode(line, () => n++)) throw new Error(`${name}: a line left to the generic path`);
    times[name].push(performance.now() - t0);
    spans[name] = n;
  }
}
load.push(loadavg()[0]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`OTLP line decoder, ${(bytes / 1048576).toFixed(0)} MB of ${file}: medians of ${rounds} interleaved rounds; load average ${load.map((l) => l.toFixed(1)).join(' -> ')}`);
for (const [name, xs] of Object.entries(times)) console.log(`  ${name.padEnd(12)} ${(bytes / 1048576 / (median(xs) / 1000)).toFixed(0).padStart(5)} MB/s  ${spans[name]} spans`);
