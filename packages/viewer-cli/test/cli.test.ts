/**
 * The built CLI as a subprocess, on every format the classifier reads: real recordings (flight
 * recorder and OTLP JSON from the real SDK, see recorded-traces.ts), the real Codex 0.169 rollouts
 * in /work/shared/samples (copied beside the test as fixtures), and its own Chrome export.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROME_ARG_VERDICT } from '@stall-why/conventions';
import { CLI, runCli } from './cli-runner.js';
import { recordTraces, JUDGED_AT, type RecordedTraces } from './recorded-traces.js';
import { reportShapeProblems } from './report-shape.js';
import { consumeTrace } from './trace-engine-consumer.js';
import { traceEventRuleViolations } from './trace-event-rules.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const HEALTHY_ROLLOUT = join(FIXTURES, 'healthy_tool.rollout.jsonl');
const INTERRUPT_ROLLOUT = join(FIXTURES, 'interrupt.rollout.jsonl');
const NOW = String(JUDGED_AT);
const ESC = '\x1b[';

interface JsonTurn { turnId: string | null; threadId: string | null; status: string; verdict: string; evidence: string[]; stuckForMs: number | null }
const turns = (stdout: string): JsonTurn[] => JSON.parse(stdout).turns;
const byId = (stdout: string, id: string): JsonTurn => turns(stdout).find((t) => t.turnId === id)!;

let root: string;
let rec: RecordedTraces;
let openRollout: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'stall-why-cli-'));
  rec = await recordTraces(join(root, 'rec'));
  // The interrupted turn cut before its abort: a rollout of a turn still open.
  const lines = readFileSync(INTERRUPT_ROLLOUT, 'utf8').split('\n').filter(Boolean);
  openRollout = join(root, 'open.rollout.jsonl');
  writeFileSync(openRollout, `${lines.filter((l) => !l.includes('"turn_aborted"')).join('\n')}\n`);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.concurrent('stall-why <flight-recorder dir>', () => {
  it('explains the stuck turn: verdict, evidence, waterfall, next step; exit 1', async () => {
    const r = await runCli([rec.flightRecorder, '--now', NOW]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/✖ STUCK 5m 00s {2}backend_stall {2}turn turn-stuck {2}thread thread-1/);
    expect(r.stdout).toContain('evidence');
    expect(r.stdout).toMatch(/▶ open 5m 0\ds/);
    expect(r.stdout).toContain('next step: the model API is not answering the request');
    expect(r.stdout).toContain('✔ 1 healthy turn folded');
    expect(r.stdout).not.toContain(ESC);
  });

  it('--json prints the documented shape and nothing else', async () => {
    const r = await runCli([rec.flightRecorder, '--now', NOW, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect(reportShapeProblems(report)).toEqual([]);
    expect(report.judgedAt).toBe(new Date(JUDGED_AT).toISOString());
    expect(byId(r.stdout, 'turn-stuck')).toMatchObject({ status: 'stuck', verdict: 'backend_stall', stuckForMs: 300_000, threadId: 'thread-1' });
    expect(byId(r.stdout, 'turn-ok')).toMatchObject({ status: 'completed', verdict: 'healthy', stuckForMs: null });
  });

  it('--all shows healthy turns in full', async () => {
    const r = await runCli([rec.flightRecorder, '--now', NOW, '--all']);
    expect(r.stdout).toMatch(/✔ COMPLETED {2}healthy {2}turn turn-ok/);
    expect(r.stdout).not.toContain('folded');
  });

  it('--turn and --thread filter; the exit code follows the turns kept', async () => {
    const ok = await runCli([rec.flightRecorder, '--now', NOW, '--json', '--turn', 'turn-ok']);
    expect(ok.code).toBe(0);
    expect(turns(ok.stdout).map((t) => t.turnId)).toEqual(['turn-ok']);
    const thread = await runCli([rec.flightRecorder, '--now', NOW, '--json', '--thread', 'thread-1']);
    expect(turns(thread.stdout).map((t) => t.turnId).sort()).toEqual(['turn-ok', 'turn-stuck']);
    const none = await runCli([rec.flightRecorder, '--now', NOW, '--turn', 'nosuch']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^stall-why: no turn nosuch in the trace \(known: .*turn-stuck.*\)\n$/);
  });

  it('--turn and --thread take a unique start of an id, and name the ids a shared start is ambiguous between', async () => {
    const short = await runCli([rec.flightRecorder, '--now', NOW, '--json', '--turn', 'turn-s', '--thread', 'thread-1']);
    expect(turns(short.stdout).map((t) => t.turnId)).toEqual(['turn-stuck']);
    const ambiguous = await runCli([rec.flightRecorder, '--now', NOW, '--turn', 'turn-', '--thread', 'thread-1']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/^stall-why: turn turn- is the start of 2 ids \((turn-ok, turn-stuck|turn-stuck, turn-ok)\): give more of it\n$/);
    const threads = await runCli([rec.flightRecorder, '--now', NOW, '--thread', 'thread-']);
    expect(threads.stderr).toMatch(/^stall-why: thread thread- is the start of 2 ids/);
  });

  it('--stuck-after moves the line between in progress and stuck', async () => {
    const patient = await runCli([rec.flightRecorder, '--now', NOW, '--json', '--stuck-after', '10m', '--thread', 'thread-1']);
    expect(patient.code).toBe(0);
    expect(byId(patient.stdout, 'turn-stuck').status).toBe('in_progress');
    const early = await runCli([rec.flightRecorder, '--now', String(JUDGED_AT - 5 * 60_000 + 2_000), '--json', '--stuck-after', '1s']);
    expect(byId(early.stdout, 'turn-stuck').status).toBe('stuck');
  });

  it('colours only when asked, and never with NO_COLOR or --no-color', async () => {
    const forced = await runCli([rec.flightRecorder, '--now', NOW], { FORCE_COLOR: '1' });
    expect(forced.stdout).toContain(`${ESC}31m`);
    const noColor = await runCli([rec.flightRecorder, '--now', NOW], { FORCE_COLOR: '1', NO_COLOR: '1' });
    expect(noColor.stdout).not.toContain(ESC);
    const flag = await runCli([rec.flightRecorder, '--now', NOW, '--no-color'], { FORCE_COLOR: '1' });
    expect(flag.stdout).not.toContain(ESC);
    expect(noColor.stdout).toBe(flag.stdout);
  });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

describe.concurrent.skipIf(!hasScript)('on a real terminal (script(1))', () => {
  const onTty = (extraEnv: string): string => {
    const command = `${extraEnv} "${process.execPath}" "${CLI}" "${rec.flightRecorder}" --now ${NOW}`;
    const env = { ...process.env, TERM: 'xterm' };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    return spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', env }).stdout;
  };

  it('colours on a TTY without being asked, and not with NO_COLOR', () => {
    const tty = onTty('');
    expect(tty).toContain(`${ESC}31m${ESC}1m✖ STUCK`);
    const plain = onTty('NO_COLOR=1');
    expect(plain).toContain('✖ STUCK');
    expect(plain).not.toContain(ESC);
  });
});

describe.concurrent('stall-why <OTLP JSON>', () => {
  it('reads ended spans as a collector has them; a failed turn exits 1', async () => {
    const r = await runCli([rec.otlpJson, '--now', NOW, '--json']);
    expect(r.code).toBe(1);
    expect(reportShapeProblems(JSON.parse(r.stdout))).toEqual([]);
    expect(byId(r.stdout, 'turn-ok')).toMatchObject({ status: 'completed', verdict: 'healthy' });
    expect(byId(r.stdout, 'turn-failed')).toMatchObject({ status: 'failed', verdict: 'transport_retry', threadId: 'thread-2' });
    expect(JSON.parse(r.stdout).sources[0].format).toBe('otlp-json');
  });
});

describe.concurrent('stall-why <Codex rollout>', () => {
  it('a completed Codex 0.169 turn exits 0', async () => {
    const r = await runCli([HEALTHY_ROLLOUT, '--json']);
    expect(r.code).toBe(0);
    expect(reportShapeProblems(JSON.parse(r.stdout))).toEqual([]);
    expect(turns(r.stdout)).toEqual([expect.objectContaining({ turnId: '01a20e18-aecb-7f13-841a-bcbf3d5726a0', status: 'completed' })]);
  });

  it('an open Codex turn judged ten minutes on is stuck, and says what a rollout cannot show', async () => {
    const r = await runCli([openRollout, '--now', '2026-11-24T15:17:11.000Z', '--json']);
    expect(r.code).toBe(1);
    const [turn] = turns(r.stdout);
    expect(turn).toMatchObject({ turnId: '01a20e18-b417-7fe2-919a-438656bdcb52', status: 'stuck' });
    expect(turn.evidence.join('\n')).toMatch(/rollout/i);
  });

  it('the interrupted Codex turn is not a problem: exit 0', async () => {
    const r = await runCli([INTERRUPT_ROLLOUT, '--json']);
    expect(r.code).toBe(0);
    expect(turns(r.stdout)[0].status).toBe('interrupted');
  });
});

describe.concurrent('stall-why --chrome', () => {
  it('writes a trace the DevTools engine reads and the Trace Event Format allows, and reads it back', async () => {
    const out = join(root, 'turns.json');
    const r = await runCli([rec.flightRecorder, '--now', NOW, '--chrome', out, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stall-why: wrote .*turns\.json \(\d+ events\); open it in https:\/\/ui\.perfetto\.dev/);
    const trace = JSON.parse(readFileSync(out, 'utf8'));
    expect(traceEventRuleViolations(trace, 1e15)).toEqual([]);
    const consumed = await consumeTrace(trace.traceEvents);
    const threadNames = [...consumed.threadNames.values()].flatMap((m) => [...m.values()]);
    expect(threadNames).toContain('turn turn-stuck · stuck · backend_stall');
    expect(consumed.flows).toHaveLength(1);
    expect(consumed.bounds.max).toBe(JUDGED_AT * 1000);
    const verdicts = trace.traceEvents.filter((e: { args?: Record<string, unknown> }) => e.args?.[CHROME_ARG_VERDICT]);
    expect(verdicts.map((e: { args: Record<string, { verdict: string }> }) => e.args[CHROME_ARG_VERDICT].verdict).sort()).toEqual(['backend_stall', 'healthy', 'transport_retry']);

    const back = await runCli([out, '--now', NOW, '--json']);
    expect(back.code).toBe(1);
    expect(JSON.parse(back.stdout).sources[0].format).toBe('chrome-trace');
    const original = turns(r.stdout).map((t) => [t.turnId, t.status, t.verdict]);
    expect(turns(back.stdout).map((t) => [t.turnId, t.status, t.verdict])).toEqual(original);
  });

  it('with --turn, exports only that turn', async () => {
    const out = join(root, 'one.json');
    await runCli([rec.flightRecorder, '--now', NOW, '--turn', 'turn-stuck', '--chrome', out]);
    const names = JSON.parse(readFileSync(out, 'utf8')).traceEvents.filter((e: { name: string }) => e.name === 'thread_name').map((e: { args: { name: string } }) => e.args.name);
    expect(names.every((n: string) => n.startsWith('turn turn-stuck'))).toBe(true);
  });
});

describe.concurrent('usage and input errors: exit 2, one line on stderr, no stack', () => {
  const oneLine = (stderr: string): void => {
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr.startsWith('stall-why: ')).toBe(true);
    // eslint-disable-next-line no-control-regex
    expect(stderr.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  };

  it.each([
    ['a missing file', ['/nonexistent/trace.json'], /^stall-why: \/nonexistent\/trace\.json: no such file or directory\n$/],
    ['a bad --now', ['x', '--now', 'yesterday'], /--now.*not a moment/],
    ['a bad --stuck-after', ['x', '--stuck-after', 'soon'], /--stuck-after.*not a duration/],
    ['an unknown option', ['x', '--frobnicate'], /unknown option '--frobnicate'/],
    ['an unknown format', ['x', '--format', 'pdf'], /--format.*pdf/],
    ['no trace', [], /^stall-why: no trace given/],
    ['a --format value with control characters', ['x', '--format', 'otlp\x1b[2J\nx'], /argument 'otlp\\x1b\[2J\\x0ax' is invalid/],
  ])('%s', async (_name, args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    oneLine(r.stderr);
  });

  it('a truncated OTLP file is named with its position', async () => {
    const bad = join(root, 'bad.otlp.json');
    writeFileSync(bad, readFileSync(rec.otlpJson, 'utf8').slice(0, 300));
    const r = await runCli([bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(`stall-why: ${bad}:`)).toBe(true);
    oneLine(r.stderr);
  });

  it.each(['otlp-json', 'codex-rollout', 'chrome-trace', 'flight-recorder'])('a file that is not the forced --format %s', async (format) => {
    const bad = join(root, `escapes-${format}.jsonl`);
    writeFileSync(bad, '\x1b[31mred\x07\r\nsecond\x00line\n{"a":\n');
    const r = await runCli(['--format', format, bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(`stall-why: ${bad}`)).toBe(true);
    oneLine(r.stderr);
  });
});

describe.concurrent('a reader that stops early', () => {
  it('closes the pipe without an EPIPE stack; the exit code still counts turns', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" "${rec.flightRecorder}" --all --now ${NOW} | head -c 10`], { encoding: 'utf8' });
    expect(r.stdout).toBe('stall-why:');
    expect(r.stderr).toBe('');
  });
});

describe.concurrent('help', () => {
  it('shows examples for the program and for watch', async () => {
    const main = await runCli(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain('Examples:');
    expect(main.stdout).toContain('--chrome <file>');
    const watch = await runCli(['watch', '--help']);
    expect(watch.stdout).toContain('Examples:');
    expect(watch.stdout).toContain('stall-why watch ./flight-recorder');
  });
});
