#!/usr/bin/env node
/**
 * `npm run demo`: runs the example app-server with every stall switched on in turn, records each
 * run with the flight recorder, runs `stall-why` on the recording while the stall is on, prints the
 * verdict and checks it is the one injected; then writes one Chrome trace of all the runs, each as
 * it was judged.
 *
 *   node examples/dist/demo.js [--out DIR] [--quiet-ms N]
 *
 * Exit code 0 when every verdict is the injected one, 1 when one is not, 2 on a usage error.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs, styleText } from 'node:util';
import {
  VERDICT_AWAITING_APPROVAL,
  VERDICT_BACKEND_STALL,
  VERDICT_COMPACTION,
  VERDICT_HEALTHY,
  VERDICT_HYDRATION,
  VERDICT_POST_TOOL_CONTINUATION_LOST,
  VERDICT_RENDERER_DETACHED,
  VERDICT_TOOL_RUNNING,
  VERDICT_TRANSPORT_RETRY,
  type Verdict,
} from '@stall-why/conventions';
import { FlightRecorderProcessor } from '@stall-why/instrument';
import { startExampleAppServer } from './example-app-server.js';
import { runExampleTurn } from './example-client.js';
import { STALL_NAMES, STALLS, scenarioShape, type StallName } from './stalls.js';

/** The verdict each switch must produce. */
const EXPECTED: Readonly<Record<StallName, Verdict>> = {
  none: VERDICT_HEALTHY,
  'healthy-tool': VERDICT_HEALTHY,
  'backend-silent': VERDICT_BACKEND_STALL,
  'backend-silent-before-headers': VERDICT_BACKEND_STALL,
  'dropped-connections': VERDICT_TRANSPORT_RETRY,
  'slow-compaction': VERDICT_COMPACTION,
  'slow-history-load': VERDICT_HYDRATION,
  'client-gone': VERDICT_RENDERER_DETACHED,
  'tool-no-continuation': VERDICT_POST_TOOL_CONTINUATION_LOST,
  'unanswered-approval': VERDICT_AWAITING_APPROVAL,
  'tool-running': VERDICT_TOOL_RUNNING,
};

/** The stall the demo prints in full, as a person would see it in a terminal. */
const SHOWCASE: StallName = 'backend-silent';
/** A stall is held this long at most; the demo releases it as soon as it has judged it. */
const HOLD_MS = 30_000;
/** Backoff between the retries of `dropped-connections`: the demo judges inside the first one. */
const RETRY_DELAY_MS = 2_500;

interface JsonTurn {
  readonly threadId: string | null;
  readonly turnId: string | null;
  readonly status: string;
  readonly verdict: string;
  readonly stuckForMs: number | null;
}

interface Outcome {
  readonly stall: StallName;
  readonly turns: readonly JsonTurn[];
  readonly ok: boolean;
}

const cli = join(dirname(createRequire(import.meta.url).resolve('stall-why/package.json')), 'bin', 'stall-why.js');

function runStallWhy(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: process.stdout.isTTY ? '1' : '0' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The promise, or a rejection after HOLD_MS; the timer is cleared either way so it never holds the process open. */
async function withinHold<T>(promise: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), HOLD_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs one switch. A stall is judged while it is on, once the turn has been quiet for `quietMs`
 * (with `--stuck-after` just under it), at a `--now` taken right after the recording was flushed:
 * what the person who noticed the freeze would have run. Healthy runs are judged once they end.
 */
async function runOne(stall: StallName, outDir: string, quietMs: number): Promise<Outcome & { text?: string }> {
  const directory = join(outDir, 'recordings', stall);
  // Only the demo's own flushes (and shutdown) write: the recording then shows the moment judged.
  const recorder = new FlightRecorderProcessor({ directory, flushIntervalMs: 60_000 });
  const server = await startExampleAppServer({ stall, stallMs: HOLD_MS, spanProcessors: [recorder], retryDelayMs: RETRY_DELAY_MS });
  const shape = scenarioShape(stall);
  const healthy = EXPECTED[stall] === VERDICT_HEALTHY;
  const judgeArgs = [directory, '--stuck-after', `${Math.max(100, quietMs - 300)}ms`];
  let text: string | undefined;
  let turns: JsonTurn[] = [];
  try {
    const turn = runExampleTurn(server.url, {
      threadId: `thread-${stall}`,
      approvals: shape.clientAnswersApprovals ? 'approve' : 'ignore',
      leaveAfterFirstDelta: shape.clientLeaves,
    });
    if (!healthy) {
      await withinHold(server.stallReached, `${stall}: the stall was never reached`);
      await sleep(quietMs);
      await recorder.forceFlush();
      const now = String(Date.now());
      const json = await runStallWhy([...judgeArgs, '--now', now, '--json', '--chrome', traceOf(outDir, stall)]);
      turns = parseTurns(json.stdout, json.stderr);
      if (stall === SHOWCASE) text = (await runStallWhy([...judgeArgs, '--now', now])).stdout;
      server.releaseStall();
    }
    await turn;
    await server.idle();
  } finally {
    await server.close();
  }
  if (healthy) turns = parseTurns((await runStallWhy([...judgeArgs, '--json', '--chrome', traceOf(outDir, stall)])).stdout, '');
  const waiting = turns.filter((t) => t.status === 'stuck' || t.status === 'in_progress');
  const ok = healthy
    ? turns.length > 0 && turns.every((t) => t.verdict === VERDICT_HEALTHY && t.status === 'completed')
    : waiting.some((t) => t.verdict === EXPECTED[stall]);
  return { stall, turns: healthy ? turns : waiting, ok, text };
}

function traceOf(outDir: string, stall: StallName): string {
  return join(outDir, 'traces', `${stall}.json`);
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  id?: number;
  args?: Record<string, unknown>;
}

/**
 * One Chrome trace of all runs, each run's own trace (as \`stall-why --chrome\` wrote it while the
 * stall was on) moved to its own range of pids, its processes prefixed with the switch's name,
 * and its flow ids made unique. tids are per pid, so they need no change.
 */
function mergeTraces(runs: ReadonlyArray<{ stall: StallName; path: string }>): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms' } {
  const traceEvents: TraceEvent[] = [];
  runs.forEach(({ stall, path }, index) => {
    const offset = (index + 1) * 100;
    const events = (JSON.parse(readFileSync(path, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
    for (const event of events) {
      const moved: TraceEvent = { ...event, pid: event.pid + offset };
      if (moved.id !== undefined) moved.id += offset * 10_000;
      if (event.ph === 'M' && event.name === 'process_name') moved.args = { name: `${stall}: ${String(event.args?.name)}` };
      if (event.ph === 'M' && event.name === 'process_sort_index') moved.args = { sort_index: moved.pid };
      traceEvents.push(moved);
    }
  });
  return { traceEvents, displayTimeUnit: 'ms' };
}

function parseTurns(stdout: string, stderr: string): JsonTurn[] {
  try {
    return (JSON.parse(stdout) as { turns: JsonTurn[] }).turns;
  } catch {
    throw new Error(`stall-why gave no report: ${stderr.trim() || stdout.slice(0, 200)}`);
  }
}

function line(outcome: Outcome): string {
  const expected = EXPECTED[outcome.stall];
  const shown = outcome.turns.find((t) => t.verdict === expected) ?? outcome.turns[0];
  const got = shown ? `${shown.status.padEnd(11)} ${shown.verdict}` : 'no turn found';
  // Words, not ✔/✖: stall-why itself marks a healthy turn ✔, and every turn here is meant to be stuck.
  const mark = outcome.ok ? 'matched' : 'MISSED ';
  return `${mark} ${outcome.stall.padEnd(30)} ${got.padEnd(42)} ${outcome.ok ? '' : `expected ${expected}`}`.trimEnd();
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ options: { out: { type: 'string' }, 'quiet-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write('usage: node examples/dist/demo.js [--out DIR] [--quiet-ms N]\n');
    return 0;
  }
  const outDir = values.out ?? join(tmpdir(), 'stall-why-demo');
  const quietMs = Number(values['quiet-ms'] ?? 1_500);
  if (!Number.isFinite(quietMs) || quietMs < 200) {
    process.stderr.write('demo: --quiet-ms must be a number of milliseconds >= 200\n');
    return 2;
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'traces'), { recursive: true });

  process.stdout.write(`stall-why demo: ${STALL_NAMES.length} runs of the example app-server, recorded into ${join(outDir, 'recordings')}\n`);
  process.stdout.write("Each line: whether stall-why's verdict matched the stall the server injected, the stall, then the status and verdict stall-why gave.\n\n");
  const outcomes: Outcome[] = [];
  let showcase: string | undefined;
  for (const stall of STALL_NAMES) {
    const started = Date.now();
    const outcome = await runOne(stall, outDir, quietMs);
    outcomes.push(outcome);
    if (outcome.text) showcase = outcome.text;
    process.stdout.write(`${line(outcome)}\n${dim(`    ${STALLS[stall]} (${((Date.now() - started) / 1000).toFixed(1)} s)`)}\n`);
  }

  if (showcase) {
    writeFileSync(join(outDir, `${SHOWCASE}.txt`), showcase);
    process.stdout.write(`\nWhat \`stall-why\` printed while ${SHOWCASE} was stalled:\n\n${showcase}`);
  }

  const trace = join(outDir, 'demo.trace.json');
  writeFileSync(trace, JSON.stringify(mergeTraces(STALL_NAMES.map((stall) => ({ stall, path: traceOf(outDir, stall) })))));
  process.stdout.write(`\nChrome trace of every run as it was judged: ${trace}\n`);
  process.stdout.write('Open it at https://ui.perfetto.dev (Open trace file) or in chrome://tracing (Load): one process per run,\n');
  process.stdout.write("a track per turn named with its verdict; click the turn's bar for the evidence.\n");

  const failed = outcomes.filter((o) => !o.ok);
  process.stdout.write(failed.length === 0
    ? `\nEvery verdict is the injected one (${outcomes.length}/${outcomes.length}).\n`
    : `\n${failed.length} of ${outcomes.length} verdicts differ from the injected stall: ${failed.map((o) => o.stall).join(', ')}\n`);
  return failed.length === 0 ? 0 : 1;
}

function dim(text: string): string {
  return process.stdout.isTTY && !process.env.NO_COLOR ? styleText('dim', text, { validateStream: false }) : text;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
