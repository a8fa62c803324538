/**
 * Verdict metrics from the built CLI, read the way a monitoring system reads them: a real HTTP
 * scrape of `--metrics-port` and a real OTLP/HTTP metrics receiver on loopback for `--metrics-otlp`.
 * A turn is written live by the instrument package's FlightRecorderProcessor (with its service's
 * resource): while it hangs it is counted as stuck under its verdict and service with a stuck
 * duration above 0; once it ends the count moves to completed. `watch` reads the recording directly;
 * `collect` receives it from a FlightRecorderUploader (ended spans and pending-span markers over OTLP).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_SERVICE_NAME, ATTR_TURN_STATE, ATTR_TURN_VERDICT, METRIC_TURN_STUCK_DURATION, METRIC_TURNS, TURN_END_STATUS_COMPLETED,
} from '@stall-why/conventions';
import { FlightRecorderProcessor, FlightRecorderUploader, TurnTracer } from '@stall-why/instrument';
import { CLI } from './cli-runner.js';
import { startCollect } from './collect-runner.js';
import { eventually, OtlpMetricsReceiver, scrape, valueOf, type MetricSnapshot } from './metrics-endpoints.js';

const SERVICE = 'metrics-test-agent';
let dir: string;
let recorder: FlightRecorderProcessor;
let tracer: TurnTracer;
let receiver: OtlpMetricsReceiver;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stall-why-metrics-'));
  recorder = new FlightRecorderProcessor({ directory: join(dir, 'rec'), maxBytes: 1 << 20 });
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: SERVICE }), spanProcessors: [recorder] });
  tracer = new TurnTracer({ tracer: provider.getTracer('metrics-test') });
  receiver = await OtlpMetricsReceiver.start();
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await recorder.shutdown();
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The scrape URL the CLI announced on stderr. */
async function scrapeUrlOf(child: ChildProcess): Promise<string> {
  let seen = '';
  child.stderr!.on('data', (d: Buffer) => (seen += d.toString('utf8')));
  const line = await eventually(() => seen, (s) => /served at (\S+)/.test(s), 'the metrics line on stderr');
  return /served at (\S+)/.exec(line)![1]!;
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', (code) => resolve(code))));

// The same gauges under their Prometheus names and label names, and under their OTLP ones.
const prometheus = { turns: 'stall_why_turns', stuck: 'stall_why_turn_stuck_duration', state: 'stall_why_turn_state', verdict: 'stall_why_turn_verdict', service: 'service_name' };
const otlp = { turns: METRIC_TURNS, stuck: METRIC_TURN_STUCK_DURATION, state: ATTR_TURN_STATE, verdict: ATTR_TURN_VERDICT, service: ATTR_SERVICE_NAME };
type Names = typeof prometheus;
const turns = (s: MetricSnapshot, n: Names, state: string, verdict: string) => valueOf(s, n.turns, { [n.state]: state, [n.verdict]: verdict, [n.service]: SERVICE });
const stuckFor = (s: MetricSnapshot, n: Names, verdict: string) => valueOf(s, n.stuck, { [n.state]: 'stuck', [n.verdict]: verdict, [n.service]: SERVICE });

/**
 * The scenario both commands must publish: a turn hung on a silent model request is counted as
 * stuck (backend_stall) with a stuck duration over 0, on both ends; once `end` ends it, it is counted
 * as completed and the stuck group is 0. After `beforeExit`, SIGTERM exits 0 after a last push.
 */
async function expectStuckThenCompleted(child: ChildProcess, end: () => Promise<void>, beforeExit?: () => Promise<void>): Promise<void> {
  const url = await scrapeUrlOf(child);
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

  const stuck = await eventually(() => scrape(url), (s) => turns(s, prometheus, 'stuck', 'backend_stall') === 1, 'the stuck turn in a scrape');
  expect(stuckFor(stuck, prometheus, 'backend_stall')).toBeGreaterThanOrEqual(0.3);
  expect(turns(stuck, prometheus, 'completed', 'healthy')).toBeUndefined();
  const pushedStuck = await eventually(() => receiver.latest(), (s) => turns(s, otlp, 'stuck', 'backend_stall') === 1, 'the stuck turn pushed over OTLP');
  expect(stuckFor(pushedStuck, otlp, 'backend_stall')).toBeGreaterThanOrEqual(0.3);
  expect(receiver.units.get(METRIC_TURNS)).toBe('{turn}');
  expect(receiver.units.get(METRIC_TURN_STUCK_DURATION)).toBe('s');

  await end();
  const done = await eventually(() => scrape(url), (s) => turns(s, prometheus, 'completed', 'healthy') === 1, 'the completed turn in a scrape');
  expect(turns(done, prometheus, 'stuck', 'backend_stall')).toBe(0);
  expect(stuckFor(done, prometheus, 'backend_stall')).toBe(0);
  // No attribute names a turn or a thread.
  for (const point of [...done.get(prometheus.turns)!, ...done.get(prometheus.stuck)!]) {
    expect(Object.keys(point.attributes).sort()).toEqual(['otel_scope_name', 'otel_scope_version', 'service_name', 'stall_why_turn_state', 'stall_why_turn_verdict']);
  }
  await eventually(() => receiver.latest(), (s) => turns(s, otlp, 'completed', 'healthy') === 1 && turns(s, otlp, 'stuck', 'backend_stall') === 0, 'the completed turn pushed over OTLP');

  await beforeExit?.();
  const pushes = receiver.requests.length;
  child.kill('SIGTERM');
  expect(await exited(child)).toBe(0);
  // Shutting down pushed the last values.
  expect(receiver.requests.length).toBeGreaterThan(pushes);
  expect(turns(receiver.latest(), otlp, 'completed', 'healthy')).toBe(1);
}

const metricsArgs = () => ['--metrics-port', '0', '--metrics-otlp', receiver.url, '--stuck-after', '300ms'];
const metricsEnv = () => ({ ...process.env, OTEL_METRIC_EXPORT_INTERVAL: '200' });

describe('verdict metrics', () => {
  it('stall-why watch publishes the turns of a flight-recorder directory by state, verdict and service', async () => {
    const turn = tracer.startTurn({ threadId: 'thread-m', turnId: 'turn-m' });
    turn.startAttempt({ attempt: 1 }).requestSent();
    await recorder.forceFlush();
    const child = spawn(process.execPath, [CLI, 'watch', join(dir, 'rec'), '--interval', '100ms', '--json', ...metricsArgs()], { stdio: ['ignore', 'pipe', 'pipe'], env: metricsEnv() });
    children.push(child);
    child.stdout!.resume();
    await expectStuckThenCompleted(child, async () => {
      turn.endTurn(TURN_END_STATUS_COMPLETED);
      await recorder.forceFlush();
    });
  });

  it('stall-why collect judges what it receives every --judge-every and publishes it', async () => {
    const out = join(dir, 'collected');
    const collect = await startCollect(out, ['--port', '0', '--judge-every', '100ms', ...metricsArgs()], metricsEnv());
    children.push(collect.child);
    // The app's side: a recorder forwarded over OTLP, open spans as pending-span markers.
    const uploader = new FlightRecorderUploader({ directory: join(dir, 'rec'), url: collect.url, intervalMs: 100, pendingIntervalMs: 100 });
    const turn = tracer.startTurn({ threadId: 'thread-c', turnId: 'turn-c' });
    turn.startAttempt({ attempt: 1 }).requestSent();
    await recorder.forceFlush();
    uploader.start();
    const end = async () => {
      turn.endTurn(TURN_END_STATUS_COMPLETED);
      await recorder.forceFlush();
    };
    // The uploader stops while collect still answers: its last upload would otherwise wait out its retries.
    await expectStuckThenCompleted(collect.child, end, () => uploader.shutdown());
  });

  it("an OTLP endpoint that is down is said once on stderr, and holds the exit for the last push's 2 s budget, not the exporter's 10 s", async () => {
    const down = await OtlpMetricsReceiver.start();
    await down.close();
    tracer.startTurn({ threadId: 'thread-d', turnId: 'turn-d' }).startAttempt({ attempt: 1 }).requestSent();
    await recorder.forceFlush();
    const child = spawn(process.execPath, [CLI, 'watch', join(dir, 'rec'), '--json', '--metrics-otlp', down.url], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OTEL_METRIC_EXPORT_INTERVAL: '100' } });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    await eventually(() => stderr, (e) => e.includes('cannot push'), 'the push failure on stderr');
    await new Promise((r) => setTimeout(r, 500));
    const stopping = Date.now();
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(4_500);
    expect(stderr.match(/cannot push verdict metrics to \S+: connect ECONNREFUSED/g)).toHaveLength(1);
  });

  it('a metrics port already taken is exit 2 with one line, before collect listens', async () => {
    const first = await startCollect(join(dir, 'a'), ['--port', '0', '--metrics-port', '0']);
    children.push(first.child);
    const port = new URL(await scrapeUrlOf(first.child)).port;
    const second = spawn(process.execPath, [CLI, 'collect', '--out', join(dir, 'b'), '--port', '0', '--metrics-port', port], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    second.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    expect(await exited(second)).toBe(2);
    expect(stderr).toBe(`stall-why: cannot listen on 127.0.0.1:${port} for the metrics endpoint (EADDRINUSE)\n`);
  });
});
