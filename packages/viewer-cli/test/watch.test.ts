/**
 * `stall-why watch` as a subprocess on a flight-recorder directory that a live recorder in this
 * test process is writing: not a TTY (one report per change), and a real terminal under
 * `script(1)`, where Ctrl-C must leave the alternate screen.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { TURN_END_STATUS_COMPLETED } from '@stall-why/conventions';
import { FlightRecorderProcessor, TurnTracer } from '@stall-why/instrument';
import { CLI } from './cli-runner.js';

let dir: string;
let recorder: FlightRecorderProcessor;
let tracer: TurnTracer;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stall-why-watch-'));
  recorder = new FlightRecorderProcessor({ directory: join(dir, 'rec'), maxBytes: 1 << 20 });
  tracer = new TurnTracer({ tracer: new BasicTracerProvider({ spanProcessors: [recorder] }).getTracer('watch-test') });
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await recorder.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

/** Everything a child wrote to stdout so far. */
function collect(child: ChildProcess): { out: string } {
  const state = { out: '' };
  child.stdout!.on('data', (d: Buffer) => (state.out += d.toString('utf8')));
  return state;
}

/** Resolves with the output once `predicate` holds for it. */
async function until(state: { out: string }, predicate: (out: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate(state.out)) {
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${state.out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return state.out;
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', (code) => resolve(code))));

describe('stall-why watch, stdout not a TTY', () => {
  it('prints a report when the turn gets stuck and again when it completes; SIGTERM exits 0', async () => {
    const turn = tracer.startTurn({ threadId: 'thread-w', turnId: 'turn-w' });
    turn.startAttempt({ attempt: 1 }).requestSent();
    await recorder.forceFlush();

    const child = spawn(process.execPath, [CLI, 'watch', join(dir, 'rec'), '--interval', '100ms', '--stuck-after', '300ms', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const output = collect(child);
    const reports = (out: string) => out.split('\n').slice(0, -1).map((l) => JSON.parse(l));
    const statusOf = (r: { turns: Array<{ turnId: string; status: string; verdict: string }> }) => r.turns.find((t) => t.turnId === 'turn-w');

    const stuck = await until(output, (out) => reports(out).some((r) => statusOf(r)?.status === 'stuck'));
    expect(reports(stuck).map((r) => statusOf(r)?.verdict)).toContain('backend_stall');

    turn.endTurn(TURN_END_STATUS_COMPLETED);
    await recorder.forceFlush();
    const done = await until(output, (out) => reports(out).some((r) => statusOf(r)?.status === 'completed'));
    // One line per change, not one per refresh.
    expect(reports(done).length).toBeLessThan(6);

    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('follows a busy recorder incrementally: the stuck turn, the most recent 200 ended turns, and turns that end later', async () => {
    for (let i = 0; i < 250; i++) tracer.startTurn({ threadId: 'thread-busy', turnId: `done-${i}` }).endTurn(TURN_END_STATUS_COMPLETED);
    tracer.startTurn({ threadId: 'thread-busy', turnId: 'hung' }).startAttempt({ attempt: 1 }).requestSent();
    await recorder.forceFlush();
    const child = spawn(process.execPath, [CLI, 'watch', join(dir, 'rec'), '--interval', '100ms', '--stuck-after', '300ms', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const output = collect(child);
    type Turn = { turnId: string; status: string };
    const reports = (out: string) => out.split('\n').slice(0, -1).map((l) => JSON.parse(l) as { turns: Turn[]; summary: { judged: number } });
    const stuck = await until(output, (out) => reports(out).some((r) => r.turns.some((t) => t.turnId === 'hung' && t.status === 'stuck')));
    const first = reports(stuck).at(-1)!;
    expect(first.summary.judged).toBe(201);
    expect(first.turns.some((t) => t.turnId === 'done-249')).toBe(true);
    expect(first.turns.some((t) => t.turnId === 'done-0')).toBe(false);
    tracer.startTurn({ threadId: 'thread-busy', turnId: 'later' }).endTurn(TURN_END_STATUS_COMPLETED);
    await recorder.forceFlush();
    const later = await until(output, (out) => reports(out).some((r) => r.turns.some((t) => t.turnId === 'later')));
    const last = reports(later).at(-1)!;
    expect(last.summary.judged).toBe(201);
    expect(last.turns.some((t) => t.turnId === 'hung' && t.status === 'stuck')).toBe(true);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('a missing directory is exit 2 with one line', async () => {
    const r = spawnSync(process.execPath, [CLI, 'watch', join(dir, 'nope')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^stall-why: .*nope: no such file or directory\n$/);
  });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

describe.skipIf(!hasScript)('stall-why watch on a terminal (script(1))', () => {
  it('draws on the alternate screen, stuck turn on top, and restores the terminal on Ctrl-C', async () => {
    tracer.startTurn({ threadId: 'thread-t', turnId: 'turn-done' }).endTurn(TURN_END_STATUS_COMPLETED);
    tracer.startTurn({ threadId: 'thread-t', turnId: 'turn-hung' }).startAttempt({ attempt: 1 }).requestSent();
    await recorder.forceFlush();
    // `exec`: script(1) runs the command through $SHELL, and a shell that stays as the parent
    // (dash does) dies of the Ctrl-C itself, so its exit status would not be watch's.
    const command = `exec ${process.execPath} ${CLI} watch ${join(dir, 'rec')} --interval 100ms --stuck-after 200ms`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm', NO_COLOR: '1' } });
    children.push(child);
    const output = collect(child);
    const frameOf = (out: string): string => out.slice(out.lastIndexOf('\x1b[H\x1b[2J'));
    const screen = await until(output, (out) => frameOf(out).includes('STUCK') && frameOf(out).includes('turn turn-done'));
    expect(screen).toContain('\x1b[?1049h');
    const lastFrame = frameOf(screen);
    expect(lastFrame.indexOf('turn turn-hung')).toBeLessThan(lastFrame.indexOf('turn turn-done'));
    child.stdin!.write('\x03');
    const rest = await until(output, (out) => out.includes('\x1b[?1049l'));
    expect(rest).toContain('\x1b[?25h');
    expect(await exited(child)).toBe(0);
  });
});
