/**
 * Memory bounded by design, shown the way V8 enforces it: `analyzeTraces` reads 300 MB of OTLP JSON
 * lines (about 10 000 turns, half a million phase spans) in a child process whose old generation is
 * capped at 20 MB. V8 aborts a process whose live data outgrows the cap, so the run finishing is the
 * proof: the window, the pending spans and the report stay bounded whatever the input (read in the
 * calling thread: `isolate: false`, so the cap is the process's own, not the worker's). (Before the
 * report was bounded, every turn kept a report and the same run died with "heap out of memory".)
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'stall-why-bounded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** One line per turn: the turn, three upstream attempts with their milestones, eight items each. */
function turnLine(turn: number, t0: number): string {
  const traceId = hex(turn + 1, 32);
  let n = 0;
  const nextId = () => hex((turn + 1) * 4096 + ++n, 16);
  const attrs = (extra: string) =>
    `[{"key":"gen_ai.conversation.id","value":{"stringValue":"thread-${turn % 31}"}},{"key":"stall_why.turn.id","value":{"stringValue":"turn-${turn}"}}${extra}]`;
  const span = (id: string, parent: string, name: string, start: number, end: number, extra = '') =>
    `{"traceId":"${traceId}","spanId":"${id}","parentSpanId":"${parent}","name":"${name}","kind":1,"startTimeUnixNano":"${start}","endTimeUnixNano":"${end}","attributes":${attrs(extra)},"events":[],"status":{"code":0}}`;
  const root = nextId();
  const start = t0 + turn * 6e9;
  const spans = [span(root, '', 'stall_why.turn', start, start + 5e9, ',{"key":"stall_why.turn.status","value":{"stringValue":"completed"}}')];
  for (let a = 0; a < 3; a++) {
    const attempt = nextId();
    const s = start + a * 1.5e9;
    spans.push(span(attempt, root, 'stall_why.upstream.attempt', s, s + 1e9, ',{"key":"http.response.status_code","value":{"intValue":"200"}}'));
    for (const m of ['request_sent', 'headers', 'first_byte', 'first_event', 'stream_end']) spans.push(span(nextId(), attempt, `stall_why.upstream.${m}`, s + 1e8, s + 1e8));
    for (let i = 0; i < 8; i++) {
      spans.push(span(nextId(), root, 'stall_why.item', s + i * 1e8, s + i * 1e8 + 5e7, `,{"key":"stall_why.item.type","value":{"stringValue":"agentMessage"}},{"key":"stall_why.item.id","value":{"stringValue":"item-${turn}-${a}-${i}"}}`));
    }
  }
  return `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bounded"}}]},"scopeSpans":[{"scope":{"name":"t"},"spans":[${spans.join(',')}]}]}]}\n`;
}

describe('bounded memory', () => {
  it('reads 300 MB of OTLP JSON lines with the old generation capped at 20 MB', () => {
    const file = join(dir, 'big.otlp.jsonl');
    const fd = openSync(file, 'w');
    const t0 = Date.parse('2026-11-24T00:00:00Z') * 1e6;
    let bytes = 0;
    let turns = 0;
    while (bytes < 300 * 1024 * 1024) {
      const lines: string[] = [];
      for (let i = 0; i < 200; i++) lines.push(turnLine(turns++, t0));
      const chunk = lines.join('');
      writeSync(fd, chunk);
      bytes += chunk.length;
    }
    closeSync(fd);

    const script = `
      const { analyzeTraces } = await import('@stall-why/classifier');
      const { report } = await analyzeTraces([process.argv[1]], { now: Date.parse('2030-01-01T00:00:00Z'), isolate: false });
      process.stdout.write(JSON.stringify({ summary: report.summary, listed: report.turns.length, sources: report.sources }));
    `;
    const run = spawnSync(process.execPath, ['--max-old-space-size=20', '--max-semi-space-size=1', '--input-type=module', '-e', script, file], {
      cwd: repo,
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(run.stderr).not.toMatch(/heap out of memory/);
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { summary: Record<string, any>; listed: number; sources: Array<Record<string, any>> };
    expect(out.summary).toMatchObject({ judged: turns, listed: 500, summarised: turns - 500, summarisedByVerdict: { healthy: turns - 500 } });
    expect(out.listed).toBe(500);
    expect(out.sources[0]).toMatchObject({ format: 'otlp-json', spans: turns * 43, turnsSummarised: turns - 500 });
  });
});
