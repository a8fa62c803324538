/**
 * A standard OTLP exporter sends a span only once it has ended. Its spans, received by `stall-why
 * collect`, never hold the span a stuck turn waits in: a turn hung in a tool must not come out as a
 * confident `backend_stall`. Recorded for real: the OpenTelemetry SDK's OTLPTraceExporter, through a
 * BatchSpanProcessor, into the built CLI's collect on loopback, judged by the built CLI.
 */
import { spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startCollect } from './collect-runner.js';
import { afterAll, describe, expect, it } from 'vitest';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { TurnTracer } from '@stall-why/instrument';

const CLI = resolve(import.meta.dirname, '../bin/stall-why.js');
const root = mkdtempSync(join(tmpdir(), 'sw-collect-open-'));
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const c of children) c.kill();
  rmSync(root, { recursive: true, force: true });
});


describe('a turn stuck in a tool, exported by a standard OTLP exporter into collect', () => {
  it('is unknown while it hangs, and says the source cannot show open spans; once it ends, it is judged', async () => {
    const out = join(root, 'flight');
    const { child, url } = await startCollect(out);
    children.push(child);
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))] });
    const turns = new TurnTracer({ tracer: provider.getTracer('agent') });
    const start = Date.now() - 120_000;
    const turn = turns.startTurn({ threadId: 'th-1', turnId: 'turn-1', time: start });
    turn.accepted({ time: start });
    const attempt = turn.startAttempt({ time: start + 100 });
    attempt.requestSent({ time: start + 110 }).headers(200, { time: start + 300 }).firstByte({ time: start + 310 }).firstEvent({ time: start + 320 });
    attempt.streamEnd({ time: start + 2_000 });
    const tool = turn.startPhase('stall_why.tool.call', { time: start + 2_010, attributes: { 'gen_ai.tool.name': 'exec_command', 'gen_ai.tool.call.id': 'call-1' } });
    await provider.forceFlush();

    const live = spawnSync(process.execPath, [CLI, out, '--json'], { encoding: 'utf8' });
    const judged = JSON.parse(live.stdout).turns[0];
    expect(judged).toMatchObject({ turnId: 'turn-1', status: 'stuck', verdict: 'unknown' });
    expect(judged.confidence).toBeLessThanOrEqual(0.3);
    expect(judged.evidence[0]).toMatch(/^this source records spans only when they end/);

    tool.end({ time: start + 110_000 });
    turn.endTurn('interrupted', { time: start + 110_050 });
    await provider.forceFlush();
    const after = spawnSync(process.execPath, [CLI, out, '--json'], { encoding: 'utf8' });
    expect(JSON.parse(after.stdout).turns[0]).toMatchObject({ turnId: 'turn-1', status: 'interrupted', verdict: 'tool_running' });
    await provider.shutdown();
  });
});
