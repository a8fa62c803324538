/**
 * Codex's log export over its WebSocket transport (a ChatGPT login's default; captured from Codex
 * 0.169 with a provider that `supports_websockets`: test/corpus/codex-otel/ws_*). A request is logged
 * as `codex.websocket_request` when sent and its response as `codex.sse_event` `response.completed`,
 * nothing between; Codex 0.137 also logged each streamed event as `codex.websocket_event`. The corpus
 * manifest holds the captures' verdicts; these check what only a changed capture can show.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeTraces } from '@stall-why/classifier';
import { afterAll, describe, expect, it } from 'vitest';

const corpus = join(import.meta.dirname, '../../../test/corpus/codex-otel');
const dir = mkdtempSync(join(tmpdir(), 'stall-why-websocket-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface LogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}
type Batch = { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: LogRecord[] }> }> };

const eventName = (r: LogRecord): unknown => r.attributes.find((a) => a.key === 'event.name')?.value.stringValue;
/** When a record was written: Codex sends `timeUnixNano` 0, and the observed time is read instead. */
const timeMs = (r: LogRecord): number => Number(BigInt(r.observedTimeUnixNano) / 1_000_000n);

/** The live capture of a request never answered, with `extra(request)` records added after the turn's request. */
function withRecords(extra: (request: LogRecord) => LogRecord[]): { path: string; requestMs: number } {
  const batches = readFileSync(join(corpus, 'live/ws_stall.logs.otlp.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Batch);
  const records = batches.flatMap((b) => b.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)));
  const request = records.filter((r) => eventName(r) === 'codex.websocket_request').at(-1)!;
  const logs = batches[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords;
  logs.splice(logs.indexOf(request) + 1, 0, ...extra(request));
  const path = join(dir, `ws-${Math.random().toString(36).slice(2)}.logs.otlp.jsonl`);
  writeFileSync(path, batches.map((b) => `${JSON.stringify(b)}\n`).join(''));
  return { path, requestMs: timeMs(request) };
}

/** A record like the request, renamed, later by `afterMs`, with `kind` as its `event.kind`. */
function socketEvent(request: LogRecord, afterMs: number, kind: string): LogRecord {
  const ns = (BigInt(request.observedTimeUnixNano) + BigInt(afterMs) * 1_000_000n).toString();
  const attributes = request.attributes
    .filter((a) => a.key !== 'event.name' && a.key !== 'duration_ms' && a.key !== 'success')
    .concat([{ key: 'event.name', value: { stringValue: 'codex.websocket_event' } }, { key: 'event.kind', value: { stringValue: kind } }]);
  return { ...request, observedTimeUnixNano: ns, attributes };
}

const judge = async (path: string, now: number) => (await analyzeTraces([path], { now })).report.turns;

describe("Codex's logs over its WebSocket transport", () => {
  it('a request with no event logged since it was sent is named with the doubt that the model may be at work', async () => {
    const { path, requestMs } = withRecords(() => []);
    const [turn] = await judge(path, requestMs + 60_000);
    expect(turn).toMatchObject({ status: 'stuck', verdict: 'backend_stall', confidence: 0.6 });
    expect(turn!.evidence.join('\n')).toMatch(/sent 60 s ago .*not completed[\s\S]*the model may be thinking or writing, or the backend silent/);
  });

  it('streamed events logged one by one (Codex 0.137) are its first event; a rate-limit notice is none', async () => {
    const flowing = withRecords((request) => [socketEvent(request, 800, 'codex.rate_limits'), socketEvent(request, 1_000, 'response.created'), socketEvent(request, 1_200, 'response.output_text.delta')]);
    const [turn] = await judge(flowing.path, flowing.requestMs + 60_000);
    expect(turn!.evidence.join('\n')).toContain('first event at');
    // Events after the first are not logged over the WebSocket either: still the doubt of a stream it cannot see.
    expect(turn!.confidence).toBe(0.6);
    expect(turn!.lastActivityAt).toBe(new Date(flowing.requestMs + 1_000).toISOString());

    const notice = withRecords((request) => [socketEvent(request, 800, 'codex.rate_limits')]);
    const [quiet] = await judge(notice.path, notice.requestMs + 60_000);
    expect(quiet!.evidence.join('\n')).not.toContain('first event at');
    expect(quiet!.lastActivityAt).toBe(new Date(notice.requestMs).toISOString());
  });

  it("the connection's warm-up request, sent before any prompt, is no turn", async () => {
    const [batch] = readFileSync(join(corpus, 'ws_healthy.logs.otlp.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Batch);
    const records = batch!.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords));
    const prompt = records.find((r) => eventName(r) === 'codex.user_prompt')!;
    // The warm-up is really there, before the prompt: a request and its completion.
    expect(records.filter((r) => timeMs(r) < timeMs(prompt)).map(eventName)).toEqual(expect.arrayContaining(['codex.websocket_request', 'codex.sse_event']));
    const turns = await judge(join(corpus, 'ws_healthy.logs.otlp.jsonl'), timeMs(prompt) + 10_000);
    expect(turns.map((t) => t.startedAt)).toEqual([new Date(timeMs(prompt)).toISOString()]);
  });
});
