// The Codex JSON-RPC observer's cost per line, against the cost of only JSON.parse-ing each line
// (the least any observer that reads the stream must do), measured in the same run on the same lines.
// The stream is the recorded healthy_tool session repeated with fresh turn ids, with the streaming
// deltas a real reply has (agent-message text and command output), as Buffers like the proxy reads.
//   node bench/jsonrpc-observer.mjs [--scale 0.1]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { CodexJsonRpcObserver, TurnTracer } from '@stall-why/instrument';

const here = dirname(fileURLToPath(import.meta.url));
const scaleArg = process.argv.indexOf('--scale');
const scale = scaleArg > 0 ? Number(process.argv[scaleArg + 1]) : 1;
const TURNS = Math.max(10, Math.round(2000 * scale));
const DELTAS_PER_ITEM = 100;

const fixture = join(here, '../packages/instrument/test/fixtures/jsonrpc/healthy_tool.app-server-transcript.jsonl');
const session = readFileSync(fixture, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const turnId = session.find((l) => l.msg.method === 'turn/started').msg.params.turn.id;

/** One turn's lines (from turn/start on), each delta repeated as a reply streams it, with its own turn id. */
function turnLines(i) {
  const lines = [];
  const first = session.findIndex((l) => l.msg.method === 'turn/start');
  for (const { dir, msg } of session.slice(first)) {
    const raw = JSON.stringify(msg).replaceAll(turnId, `${turnId.slice(0, -6)}${String(i).padStart(6, '0')}`).replace('"id":3,', `"id":${i + 10},`);
    const copies = msg.method?.endsWith('elta') ? DELTAS_PER_ITEM : 1;
    for (let c = 0; c < copies; c++) lines.push({ dir, buf: Buffer.from(raw) });
  }
  return lines;
}
const lines = [];
for (let i = 0; i < TURNS; i++) lines.push(...turnLines(i));
const deltas = lines.filter((l) => l.buf.includes('elta"')).length;

function timeIt(fn) {
  globalThis.gc?.();
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** With the SDK (spans made, then dropped: no processor), or with the API's no-op tracer (the observer's own cost). */
function runObserver(tracer = new BasicTracerProvider().getTracer('bench')) {
  const observer = new CodexJsonRpcObserver({ turnTracer: new TurnTracer({ tracer }) });
  for (const { dir, buf } of lines) observer.observeLine(dir, buf);
  if (observer.stats.malformed !== 0 || observer.activeTurns().length !== 0) throw new Error('the bench stream did not replay cleanly');
  return observer.stats;
}
let sink = 0;
function runParseOnly() {
  for (const { buf } of lines) sink += JSON.parse(buf.toString('utf8')) ? 1 : 0;
}

// Warm both paths, then take the best of five of each, interleaved.
runObserver();
runParseOnly();
const noop = trace.getTracer('bench'); // no provider registered: the API's no-op tracer
runObserver(noop);
let observerMs = Infinity;
let noopMs = Infinity;
let parseMs = Infinity;
for (let round = 0; round < 5; round++) {
  observerMs = Math.min(observerMs, timeIt(() => runObserver()));
  noopMs = Math.min(noopMs, timeIt(() => runObserver(noop)));
  parseMs = Math.min(parseMs, timeIt(runParseOnly));
}
const stats = runObserver();
const perLine = (msTotal) => ((msTotal * 1e6) / lines.length).toFixed(0);
console.log(`lines: ${lines.length} (${TURNS} turns, ${deltas} deltas); observer messages ${stats.messages}, deltas ${stats.deltas}`);
console.log(`observer (spans on a BasicTracerProvider): ${observerMs.toFixed(1)} ms, ${perLine(observerMs)} ns/line`);
console.log(`observer (API no-op tracer):               ${noopMs.toFixed(1)} ms, ${perLine(noopMs)} ns/line`);
console.log(`reference, JSON.parse of every line:        ${parseMs.toFixed(1)} ms, ${perLine(parseMs)} ns/line`);
console.log(`ratio observer / JSON.parse: ${(observerMs / parseMs).toFixed(2)} with SDK spans, ${(noopMs / parseMs).toFixed(2)} with the no-op tracer`);
if (sink < 0) console.log(sink);
