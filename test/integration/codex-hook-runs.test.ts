/**
 * Codex hook runs (`hook/started`, `hook/completed`, shaped as `codex app-server
 * generate-json-schema` 0.169 gives them) through the public surfaces: the JSON-RPC observer on a
 * recorded session, a flight recorder, and the classifier. A sync hook of a turn holds the turn
 * (tool_running, named as a hook); its end is no tool result, so nothing waits for a continuation.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { analyzeTraces } from '@stall-why/classifier';
import { VERDICT_POST_TOOL_CONTINUATION_LOST, VERDICT_TOOL_RUNNING } from '@stall-why/conventions';
import { CodexJsonRpcObserver, FlightRecorderProcessor, observeTranscriptLine, TurnTracer } from '@stall-why/instrument';
import { afterEach, describe, expect, it } from 'vitest';

const transcript = join(import.meta.dirname, '../../packages/instrument/test/fixtures/jsonrpc/healthy_tool.app-server-transcript.jsonl');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The recorded session up to its tool call, then the given hook notifications, recorded to a flight recorder. */
async function recordWithHooks(hooks: Array<{ method: string; run: Record<string, unknown>; dt: number }>) {
  const dir = mkdtempSync(join(tmpdir(), 'stall-why-hooks-'));
  dirs.push(dir);
  const recorder = new FlightRecorderProcessor({ directory: dir, maxBytes: 1 << 20 });
  const observer = new CodexJsonRpcObserver({ turnTracer: new TurnTracer({ tracer: new BasicTracerProvider({ spanProcessors: [recorder] }).getTracer('hooks') }) });
  const lines = readFileSync(transcript, 'utf8').split('\n').filter(Boolean);
  let threadId = '';
  let turnId = '';
  let t = 0;
  for (const line of lines) {
    const entry = JSON.parse(line) as { t: number; msg: { method?: string; params?: { threadId?: string; turn?: { id?: string }; item?: { type?: string } } } };
    if (entry.msg.method === 'item/started' && entry.msg.params?.item?.type === 'commandExecution') break;
    if (entry.msg.method === 'turn/started') {
      threadId = entry.msg.params!.threadId!;
      turnId = entry.msg.params!.turn!.id!;
    }
    t = entry.t;
    observeTranscriptLine(observer, line);
  }
  for (const hook of hooks) {
    t += hook.dt;
    observer.observeMessage('server->client', { method: hook.method, params: { threadId, turnId, run: hook.run } }, t);
  }
  await recorder.shutdown();
  return { dir, turnId, lastMs: t };
}

const run = (status: string) => ({
  id: 'hook-run-1', eventName: 'preToolUse', handlerType: 'command', executionMode: 'sync', scope: 'turn', source: 'project',
  sourcePath: '/home/dev/project/.codex/hooks.toml', displayOrder: 0, status, statusMessage: null, startedAt: 0, completedAt: null, durationMs: null, entries: [],
});

describe('Codex hook runs', () => {
  it('a sync hook that does not finish holds the turn: tool_running, named as a hook', async () => {
    const { dir, turnId, lastMs } = await recordWithHooks([{ method: 'hook/started', run: run('running'), dt: 10 }]);
    const { report } = await analyzeTraces([dir], { now: lastMs + 90_000 });
    const turn = report.turns.find((x) => x.turnId === turnId)!;
    expect(turn).toMatchObject({ status: 'stuck', verdict: VERDICT_TOOL_RUNNING });
    expect(turn.evidence[0]).toMatch(/^hook preToolUse \(hook-run-1\) started at .*, open for 90 s, not finished: the turn waits for it$/);
  });

  it('a finished hook is no tool result: no lost continuation is inferred from it', async () => {
    const { dir, turnId, lastMs } = await recordWithHooks([
      { method: 'hook/started', run: run('running'), dt: 10 },
      { method: 'hook/completed', run: run('completed'), dt: 40 },
    ]);
    const { report } = await analyzeTraces([dir], { now: lastMs + 90_000 });
    const turn = report.turns.find((x) => x.turnId === turnId)!;
    expect(turn.status).toBe('stuck');
    expect(turn.verdict).not.toBe(VERDICT_POST_TOOL_CONTINUATION_LOST);
    expect(turn.verdict).not.toBe(VERDICT_TOOL_RUNNING);
  });

  it('async and thread-scope hook runs hold nothing', async () => {
    const { dir, turnId, lastMs } = await recordWithHooks([
      { method: 'hook/started', run: { ...run('running'), id: 'a', executionMode: 'async' }, dt: 10 },
      { method: 'hook/started', run: { ...run('running'), id: 'b', scope: 'thread', eventName: 'sessionStart' }, dt: 10 },
    ]);
    const { report } = await analyzeTraces([dir], { now: lastMs + 90_000 });
    expect(report.turns.find((x) => x.turnId === turnId)!.verdict).not.toBe(VERDICT_TOOL_RUNNING);
  });
});
