/**
 * Open spans that survive OTLP: a flight recorder uploading to `stall-why collect` sends each span
 * still open as a pending-span marker, so the second directory (any OTLP backend) holds the span a
 * stuck turn waits in, and judges it as the first would: a turn stuck in a tool is tool_running
 * there, while it is stuck. The real recorder and uploader, the built CLI's collect on loopback.
 */
import { spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startCollect } from './collect-runner.js';
import { afterAll, describe, expect, it } from 'vitest';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { FlightRecorderProcessor, TurnTracer } from '@stall-why/instrument';

const CLI = resolve(import.meta.dirname, '../bin/stall-why.js');
const root = mkdtempSync(join(tmpdir(), 'sw-pending-'));
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const c of children) c.kill();
  rmSync(root, { recursive: true, force: true });
});

/** A loopback port nobody listens on yet. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const judge = (dir: string) => JSON.parse(spawnSync(process.execPath, [CLI, dir, '--json'], { encoding: 'utf8' }).stdout).turns[0];

/** Flushes and judges the receiving directory until `done` holds of its first turn (`tries` × 100 ms at most), then returns that turn. */
async function judgeUntil(recorder: FlightRecorderProcessor, dir: string, done: (turn: any) => boolean, tries = 50): Promise<any> {
  await recorder.forceFlush();
  let turn = judge(dir);
  for (let i = 0; i < tries && !done(turn); i++) {
    await new Promise((r) => setTimeout(r, 100));
    await recorder.forceFlush();
    turn = judge(dir);
  }
  return turn;
}

describe('pending-span markers through OTLP', () => {
  it('a turn stuck in a tool, uploaded to collect, is tool_running in the receiving directory while it is stuck', async () => {
    const received = join(root, 'received');
    const { child, url } = await startCollect(received);
    children.push(child);
    const recorder = new FlightRecorderProcessor({ directory: join(root, 'local'), otlp: { url, pendingIntervalMs: 100, intervalMs: 100 } });
    const turns = new TurnTracer({ tracer: new BasicTracerProvider({ spanProcessors: [recorder] }).getTracer('agent') });
    const start = Date.now() - 90_000;
    const turn = turns.startTurn({ threadId: 'th-1', turnId: 'turn-1', time: start });
    turn.accepted({ time: start });
    const tool = turn.startPhase('stall_why.tool.call', { time: start + 100, attributes: { 'gen_ai.tool.name': 'exec_command', 'gen_ai.tool.call.id': 'call-1' } });
    const live = await judgeUntil(recorder, received, (t) => t?.verdict === 'tool_running');
    expect(live).toMatchObject({ turnId: 'turn-1', status: 'stuck', verdict: 'tool_running' });
    expect(live.confidence).toBeGreaterThan(0.5);
    expect(recorder.stats().upload?.pendingMarkersSent).toBeGreaterThan(0);

    // The real spans supersede the markers once they end.
    tool.end({ time: start + 60_000 });
    turn.endTurn('completed', { time: start + 60_100 });
    const ended = await judgeUntil(recorder, received, (t) => t?.status === 'completed');
    expect(ended).toMatchObject({ turnId: 'turn-1', status: 'completed', verdict: 'healthy' });
    await recorder.shutdown();
  });
});

describe('collect --forward: a sidecar in front of another receiver', () => {
  it('a turn stuck in a tool is tool_running in the far directory while it is stuck, and what came while the far one was down arrives', async () => {
    // The far receiver is down when the turn is recorded: the sidecar keeps what it gets and forwards it once the far one answers.
    const farPort = await freePort();
    const near = await startCollect(join(root, 'near'), ['--port', '0', '--forward', `http://127.0.0.1:${farPort}/v1/traces`]);
    children.push(near.child);
    const nearUrl = near.url;
    const recorder = new FlightRecorderProcessor({ directory: join(root, 'agent'), otlp: { url: nearUrl, pendingIntervalMs: 100, intervalMs: 100 } });
    const turns = new TurnTracer({ tracer: new BasicTracerProvider({ spanProcessors: [recorder] }).getTracer('agent') });
    const start = Date.now() - 90_000;
    const turn = turns.startTurn({ threadId: 'th-2', turnId: 'turn-2', time: start });
    turn.accepted({ time: start });
    turn.startPhase('stall_why.tool.call', { time: start + 100, attributes: { 'gen_ai.tool.name': 'exec_command', 'gen_ai.tool.call.id': 'call-2' } });
    await recorder.forceFlush();
    const far = join(root, 'far');
    const farCollect = await startCollect(far, ['--port', String(farPort)]);
    children.push(farCollect.child);
    // The far receiver comes up late: the uploader's backoff may wait seconds before it tries again.
    const live = await judgeUntil(recorder, far, (t) => t?.verdict === 'tool_running', 150);
    expect(live).toMatchObject({ turnId: 'turn-2', status: 'stuck', verdict: 'tool_running' });
    await recorder.shutdown();
  });
});
