// Chrome trace export (`stall-why --chrome`) of a large recording, against a reference measured in
// the same run: JSON.stringify of the same spans (the least any export of them must do).
//   node bench/chrome-export.mjs [--scale 0.1]
import { performance } from 'node:perf_hooks';
import { buildChromeTrace } from '../packages/viewer-cli/dist/index.js';

const scale = Number(process.argv[process.argv.indexOf('--scale') + 1]) || 1;
const TURNS = Math.max(10, Math.round(5_000 * scale));
const base = Date.parse('2026-11-24T14:00:00Z');

function spansOfTurn(t) {
  const at = base + t * 10_000;
  const ids = { 'gen_ai.conversation.id': `thread-${t % 50}`, 'stall_why.turn.id': `turn-${t}`, 'stall_why.source': 'api' };
  const span = (name, start, end, extra = {}) => ({
    traceId: 'a'.repeat(32), spanId: `${t}`.padStart(8, '0') + `${start - at}`.padStart(8, '0'), name, startTimeMs: start,
    ...(end === undefined ? {} : { endTimeMs: end }), attributes: { ...ids, 'stall_why.phase.kind': end === start ? 'point' : 'span', ...extra },
    resource: { 'service.name': 'bench-app-server' },
  });
  const spans = [span('stall_why.turn', at, at + 9_000), span('stall_why.thread.hydration', at + 1, at + 50)];
  for (let a = 0; a < 4; a++) {
    const s = at + 100 + a * 2_000;
    spans.push(span('stall_why.upstream.attempt', s, s + 1_500, { 'stall_why.upstream.attempt': a + 1, 'stall_why.upstream.continuation': a > 0 }));
    spans.push(span('stall_why.upstream.request_sent', s, s), span('stall_why.upstream.headers', s + 200, s + 200), span('stall_why.upstream.first_event', s + 220, s + 220));
    spans.push(span('stall_why.item', s + 300, s + 1_700, { 'stall_why.item.type': 'agentMessage' }));
    if (a < 3) spans.push(span('stall_why.tool.call', s + 1_600, s + 1_900, { 'gen_ai.tool.name': 'exec_command' }), span('stall_why.continuation.requested', s + 2_000, s + 2_000));
  }
  return spans;
}

const spans = [];
const turns = [];
for (let t = 0; t < TURNS; t++) {
  const own = spansOfTurn(t);
  spans.push(...own);
  turns.push({
    threadId: `thread-${t % 50}`, turnId: `turn-${t}`, status: 'completed', verdict: 'healthy', confidence: 1,
    startedAt: new Date(base + t * 10_000).toISOString(), lastActivityAt: new Date(base + t * 10_000 + 9_000).toISOString(),
    stuckForMs: null, evidence: ['completed'], endedAt: new Date(base + t * 10_000 + 9_000).toISOString(), sources: ['bench'],
    phases: own.map((s) => ({ name: s.name, label: s.name.slice(10), kind: s.endTimeMs === s.startTimeMs ? 'point' : 'span', startMs: s.startTimeMs, endMs: s.endTimeMs ?? null, depth: 1 })),
  });
}
const report = { judgedAt: new Date(base + TURNS * 10_000).toISOString(), turns, sources: [] };

function best(fn, runs = 3) {
  let min = Infinity;
  let out;
  for (let i = 0; i < runs; i++) {
    globalThis.gc?.();
    const t0 = performance.now();
    out = fn();
    min = Math.min(min, performance.now() - t0);
  }
  return { ms: min, out };
}

const build = best(() => buildChromeTrace(report, spans));
console.log(`build only: ${build.ms.toFixed(0)} ms; stringify only: ${best(() => JSON.stringify(build.out)).ms.toFixed(0)} ms`);
const reference = best(() => JSON.stringify(spans));
const exported = best(() => JSON.stringify(buildChromeTrace(report, spans)));
console.log(`spans: ${spans.length} in ${TURNS} turns`);
console.log(`reference  JSON.stringify(spans):                    ${reference.ms.toFixed(0)} ms, ${(reference.out.length / 1e6).toFixed(1)} MB`);
console.log(`stall-why  JSON.stringify(buildChromeTrace(report, spans)): ${exported.ms.toFixed(0)} ms, ${(exported.out.length / 1e6).toFixed(1)} MB`);
console.log(`ratio: ${(exported.ms / reference.ms).toFixed(2)}x the reference (${((spans.length / exported.ms) * 1000).toFixed(0)} spans/s)`);
