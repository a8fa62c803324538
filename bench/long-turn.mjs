// One long ended turn judged exactly: 1 000 model requests and 1 000 tool calls (5 002 spans, about
// 7 500 quiet stretches, every one replayed) with a 4-minute approval among them, against JSON.parse
// of the same spans as JSON (the cost of merely reading them), in the same process. Medians of
// 5 interleaved rounds; the load average is printed, since the machine is shared.
//
//   npx tsc -b packages/classifier && node bench/long-turn.mjs [--steps 1000]
import { loadavg } from 'node:os';
import { classifySpans } from '@stall-why/classifier';

const steps = Number(process.argv[process.argv.indexOf('--steps') + 1]) || 1000;
const ids = { 'gen_ai.conversation.id': 'th', 'stall_why.turn.id': 't1' };
const spans = [];
let id = 0;
let t = 1_700_000_000_000;
const span = (name, start, end, extra = {}, parentSpanId) => {
  const spanId = (++id).toString(16).padStart(16, '0');
  spans.push({ traceId: 'a'.repeat(32), spanId, parentSpanId, name, startTimeMs: start, endTimeMs: end, attributes: { ...ids, ...extra } });
  return spanId;
};
for (let i = 0; i < steps; i++) {
  const a = span('stall_why.upstream.attempt', t, t + 3000);
  span('stall_why.upstream.headers', t + 500, t + 500, {}, a);
  span('stall_why.upstream.first_event', t + 900, t + 900, {}, a);
  span('stall_why.upstream.stream_end', t + 3000, t + 3000, {}, a);
  span('stall_why.tool.call', t + 3010, t + 5000, { 'gen_ai.tool.call.id': `c${i}` });
  t += 5100;
  if (i === steps / 2) {
    span('stall_why.approval', t, t + 240_000);
    t += 240_000;
  }
}
span('stall_why.turn', 1_700_000_000_000, t, { 'stall_why.turn.status': 'completed' });
const json = JSON.stringify(spans);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const judged = [];
const parsed = [];
let report;
const load = [loadavg()[0]];
for (let round = 0; round < 5; round++) {
  let t0 = performance.now();
  report = classifySpans(spans, { now: t + 1000 });
  judged.push(performance.now() - t0);
  t0 = performance.now();
  JSON.parse(json);
  parsed.push(performance.now() - t0);
}
load.push(loadavg()[0]);
const turn = report.turns[0];
console.log(`long turn: ${spans.length} spans, ${steps} requests and tool calls, a 4-minute approval`);
console.log(`  verdict ${turn.status}/${turn.verdict}: ${turn.evidence[0]}`);
console.log(`  judging (every stretch replayed): median ${median(judged).toFixed(0)} ms`);
console.log(`  JSON.parse of the same spans:     median ${median(parsed).toFixed(1)} ms (judging ${(median(judged) / median(parsed)).toFixed(1)}x)`);
console.log(`  load average ${load.map((l) => l.toFixed(2)).join(' -> ')}`);
