// `stall-why <file> --json` as a user runs it, the whole process (start-up, reading, judging,
// printing), against jq and a Node `readline` + `JSON.parse` loop over the same file, in the same
// run: wall time and peak RSS (/usr/bin/time) of each, as medians of interleaved rounds (one round
// runs every command once, so a busy neighbour slows each alike), with the load average.
//   - an ordinary 300 MB Codex rollout: tens of thousands of turns of a working session;
//   - a 300 MB rollout bloated with inline images and long tool outputs (few turns);
//   - 1 GB of OTLP JSON lines (Collector file-exporter shape);
//   - a flight-recorder directory of 1 M spans (written by the instrument's FlightRecorderProcessor),
//     against a process that only reads its records (`readFlightRecords`: framing, checksums, decoding).
// The inputs are written once into --dir (default /tmp/stall-why-bench, not committed) and reused
// while their size matches. `--before <bin>` adds another build's bin/stall-why.js to the rounds (an
// earlier commit's, built elsewhere). Usage:
//   npm run build && node bench/cli-whole-process.mjs [--only ordinary|bloated|otlp|flight] [--rounds 5] [--scale 1] [--dir D] [--before B]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flightRecorderDirectory, ordinaryRolloutFile, otlpFile, rolloutFile } from './lib/inputs.mjs';

const MB = 1024 * 1024;
const cli = fileURLToPath(new URL('../packages/viewer-cli/bin/stall-why.js', import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const rounds = Number(arg('--rounds', 5));
const scale = Number(arg('--scale', 1));
const only = arg('--only', undefined);
const dir = arg('--dir', '/tmp/stall-why-bench');
const before = arg('--before', undefined);
mkdirSync(dir, { recursive: true });

const READLINE = `const rl = require('node:readline').createInterface({ input: require('node:fs').createReadStream(process.argv[1]), crlfDelay: Infinity });
let n = 0; rl.on('line', (l) => { if (l) { JSON.parse(l); n++; } }); rl.on('close', () => console.log(n));`;
const RECORD_READER = `const { readFlightRecords } = await import(${JSON.stringify(new URL('../packages/flight-record/dist/index.js', import.meta.url).href)});
let n = 0; for await (const _ of readFlightRecords(process.argv[1])) n++; console.log(n);`;

/** The flight-recorder input: a directory, remade unless it holds the same number of spans (a count file beside its segments). */
async function makeFlightDirectory(path, spans) {
  rmSync(path, { recursive: true, force: true });
  const made = await flightRecorderDirectory(path, spans);
  if (made.skipped) throw new Error(made.skipped);
  writeFileSync(`${path}.spans`, String(spans));
}
const flightReady = (path, spans) => existsSync(`${path}.spans`) && readFileSync(`${path}.spans`, 'utf8') === String(spans);
const dirBytes = (d) => readdirSync(d).reduce((n, f) => n + statSync(join(d, f)).size, 0);

const textReferences = (input) => (path) => ({
  jq: () => run('jq', ['-c', input.jq, path]),
  'readline + JSON.parse': () => run(process.execPath, ['-e', READLINE, path]),
});

const inputs = [
  { name: 'ordinary', title: 'ordinary Codex rollout', bytes: 300 * MB, make: ordinaryRolloutFile, file: 'rollout-2026-11-24T00-00-00-01a20e18-aeae-7061-9f5c-2b1b8a03f3e7.jsonl', jq: '.type', goal: '>= 5x jq, faster than readline + JSON.parse, RSS < 150 MB' },
  { name: 'bloated', title: 'bloated Codex rollout', bytes: 300 * MB, make: rolloutFile, file: 'rollout-2026-11-24T00-00-00-01a20e18-aeae-7061-9f5c-2b1b8a03f3e6.jsonl', jq: '.type', goal: '>= 10x jq' },
  { name: 'otlp', title: 'OTLP JSON lines', bytes: 1024 * MB, make: otlpFile, file: 'spans.otlp.jsonl', jq: '.resourceSpans|length', goal: '>= 3x jq, RSS < 150 MB' },
].map((i) => ({ ...i, references: textReferences(i), size: (path) => statSync(path).size }));
inputs.push({
  name: 'flight', title: 'flight-recorder directory of 1 M spans (× --scale)', spans: 1_000_000, file: 'flight-1m', goal: '>= 0.7x the raw record reader',
  references: (path) => ({ 'raw record reader': () => run(process.execPath, ['--input-type=module', '-e', RECORD_READER, path]) }),
  size: dirBytes,
});
const selected = inputs.filter((i) => only === undefined || only === i.name);

/** Wall ms and peak RSS (MB) of one command, from /usr/bin/time; stdout discarded. */
function run(command, args, okCodes = [0]) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 * MB });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const lines = r.stderr.trim().split('\n');
  if (!okCodes.includes(r.status)) throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${lines.slice(-3).join(' | ')}`);
  return { ms, rssMb: Number(lines.pop()) / 1024 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = [loadavg()[0]];
const out = [];
for (const input of selected) {
  const path = join(dir, input.file);
  if (input.spans !== undefined) {
    const spans = Math.round(input.spans * scale);
    if (!flightReady(path, spans)) await makeFlightDirectory(path, spans);
  } else {
    const bytes = Math.round(input.bytes * scale);
    if (!existsSync(path) || Math.abs(statSync(path).size - bytes) > 16 * MB) input.make(path, bytes);
  }
  const size = input.size(path);
  const judge = (bin) => () => run(process.execPath, [bin, path, '--json', '--now', '2026-12-01T00:00:00Z'], [0, 1]);
  const commands = {
    'stall-why --json': judge(cli),
    ...(before ? { 'before: stall-why --json': judge(before) } : {}),
    ...input.references(path),
  };
  const results = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) for (const [name, go] of Object.entries(commands)) results[name].push(go());
  const ours = median(results['stall-why --json'].map((x) => x.ms));
  out.push(`${input.title}: ${(size / MB).toFixed(0)} MB (${path}); goal ${input.goal}`);
  for (const [name, xs] of Object.entries(results)) {
    const ms = median(xs.map((x) => x.ms));
    const rss = median(xs.map((x) => x.rssMb));
    const vs = name === 'stall-why --json' ? '' : `  -> stall-why is ${(ms / ours).toFixed(1)}x its speed`;
    out.push(`  ${name.padEnd(26)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${(size / MB / (ms / 1000)).toFixed(0).padStart(5)} MB/s  peak RSS ${rss.toFixed(0).padStart(4)} MB${vs}`);
  }
}
load.push(loadavg()[0]);
console.log(`medians of ${rounds} interleaved rounds; load average ${load.map((l) => l.toFixed(1)).join(' -> ')}`);
console.log(out.join('\n'));
