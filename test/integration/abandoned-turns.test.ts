/**
 * A turn whose writer is gone is not stuck for ever: a recorder shut down with the turn open, a
 * process killed while recording it (found by its pid), a rollout not written for hours. Each is
 * recorded for real (the flight recorder in this process or in a child process) and judged through
 * the public API.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { analyzeTraces } from '@stall-why/classifier';
import { FlightRecorderProcessor, TurnTracer } from '@stall-why/instrument';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'stall-why-abandoned-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A turn whose tool call never returns, recorded into `directory`. */
function recordStuckTool(directory: string): { recorder: FlightRecorderProcessor; startedAt: number } {
  const recorder = new FlightRecorderProcessor({ directory });
  const turns = new TurnTracer({ tracer: new BasicTracerProvider({ spanProcessors: [recorder] }).getTracer('t') });
  const startedAt = Date.now() - 5_000;
  const turn = turns.startTurn({ threadId: 'th-1', turnId: 'turn-1', time: startedAt });
  turn.accepted({ time: startedAt });
  turn.startPhase('stall_why.tool.call', { time: startedAt + 100, attributes: { 'gen_ai.tool.name': 'exec_command', 'gen_ai.tool.call.id': 'call-1' } });
  return { recorder, startedAt };
}

describe('abandoned turns', () => {
  it('a recorder shut down with the turn open: abandoned from the shutdown on, judged by what it waited on', async () => {
    const directory = join(root, 'shutdown');
    const { recorder, startedAt } = recordStuckTool(directory);
    await recorder.forceFlush();
    const beforeShutdown = Date.now();
    await recorder.shutdown();
    const live = await analyzeTraces([directory], { now: beforeShutdown - 1 });
    expect(live.report.turns).toMatchObject([{ turnId: 'turn-1', status: 'in_progress', verdict: 'tool_running' }]);
    const later = await analyzeTraces([directory], { now: startedAt + 3_600_000 });
    const turn = later.report.turns[0]!;
    expect(turn).toMatchObject({ turnId: 'turn-1', status: 'abandoned', verdict: 'tool_running', stuckForMs: null, endedAt: null });
    expect(turn.evidence[0]).toMatch(/^the turn never ended: the flight recorder of process \d+ was shut down at \d\d:\d\d:\d\d\.\d{3}; it was left waiting:$/);
    expect(turn.evidence[1]).toMatch(/^tool call exec_command \(call-1\) started at .*, no result$/);
  });

  it('a recording process killed without a word: abandoned once its pid no longer runs', async () => {
    const directory = join(root, 'killed');
    const script = join(root, 'record-and-hang.mjs');
    const instrument = resolve(import.meta.dirname, '../../packages/instrument/dist/index.js');
    const sdk = import.meta.resolve('@opentelemetry/sdk-trace-base');
    writeFileSync(
      script,
      `import { BasicTracerProvider } from ${JSON.stringify(sdk)};
import { FlightRecorderProcessor, TurnTracer } from ${JSON.stringify(instrument)};
const recorder = new FlightRecorderProcessor({ directory: ${JSON.stringify(directory)} });
const turns = new TurnTracer({ tracer: new BasicTracerProvider({ spanProcessors: [recorder] }).getTracer('t') });
const time = Date.now() - 600000;
const turn = turns.startTurn({ threadId: 'th-1', turnId: 'turn-1', time });
turn.startPhase('stall_why.tool.call', { time, attributes: { 'gen_ai.tool.name': 'exec_command', 'gen_ai.tool.call.id': 'call-1' } });
await recorder.forceFlush();
process.stdout.write('recorded\\n');
setInterval(() => {}, 1000);
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Killed whatever the test's outcome: a failed expectation once left it hanging for hours.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    await once(child.stdout!, 'data');
    const alive = await analyzeTraces([directory]);
    expect(alive.report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'tool_running' });
    child.kill('SIGKILL');
    await once(child, 'exit');
    const gone = await analyzeTraces([directory]);
    expect(gone.report.turns[0]).toMatchObject({ status: 'abandoned', verdict: 'tool_running' });
    expect(gone.report.turns[0]!.evidence[0]).toContain(`the process ${child.pid} that wrote the recording no longer runs`);
    // Replayed at a moment in the past (two minutes ago), whether the process runs now says nothing.
    const replayed = await analyzeTraces([directory], { now: Date.now() - 120_000 });
    expect(replayed.report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'tool_running' });
  });

  it('a rollout not written for longer than abandonedAfterMs: abandoned, with when it was last written', async () => {
    const path = join(root, 'rollout-2026-01-01T00-00-00-019a0000-0000-7000-8000-000000000001.jsonl');
    const line = (ts: string, type: string, payload: object): string => JSON.stringify({ timestamp: ts, type, payload });
    writeFileSync(
      path,
      [
        line('2026-01-01T00:00:00.000Z', 'session_meta', { id: '019a0000-0000-7000-8000-000000000001', cli_version: '0.169.0' }),
        line('2026-01-01T00:00:01.000Z', 'event_msg', { type: 'task_started', turn_id: 't1' }),
        line('2026-01-01T00:00:02.000Z', 'response_item', { type: 'function_call', name: 'exec_command', call_id: 'c1', arguments: '{}' }),
      ].join('\n') + '\n',
    );
    const within = await analyzeTraces([path], { now: Date.parse('2026-01-01T00:10:00Z') });
    expect(within.report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'tool_running' });
    const days = await analyzeTraces([path], { now: Date.parse('2026-01-08T00:00:00Z') });
    expect(days.report.turns[0]).toMatchObject({ status: 'abandoned', verdict: 'tool_running' });
    expect(days.report.turns[0]!.evidence[0]).toMatch(/source was last written at 2026-01-01 00:00:02Z, 168 h before the judged moment/);
    const sooner = await analyzeTraces([path], { now: Date.parse('2026-01-01T02:00:00Z'), thresholds: { abandonedAfterMs: 3_600_000 } });
    expect(sooner.report.turns[0]).toMatchObject({ status: 'abandoned' });
  });
});
