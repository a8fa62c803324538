import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
// Async (not spawnSync): the fake API and the Codex client live on this process's event loop.
import { runCli } from '../../packages/viewer-cli/test/cli-runner.js';
import { CODEX } from '../codex-binary.mjs';
import { CollectProcess } from './collect-process.js';
import { JsonRpcChild } from './json-rpc-child.js';

/**
 * The real Codex app-server (native binary, so signals reach it), wrapped by the built
 * `stall-why record`, driven over stdio the way a UI drives it: JSON-RPC requests with ids,
 * notifications, and server->client requests (approvals) that the test answers or leaves open.
 * With `otelCollect`, no wrapper: Codex runs alone and its own `[otel]` export goes to the built
 * `stall-why collect`, which writes the directory that is judged.
 */

export const REPO = resolve(import.meta.dirname, '..', '..');
export const CLI = join(REPO, 'packages', 'viewer-cli', 'bin', 'stall-why.js');
export { CODEX };

/**
 * Codex's own traffic that is not the turn, off: update checks, feedback, analytics and its
 * OpenTelemetry export (a scenario's `config` may turn the export on). 0.169 accepts all of these
 * (test/corpus/codex-otel/capture.mjs passes the same keys).
 */
export const CODEX_CALLS_HOME_OFF: Readonly<Record<string, string>> = {
  check_for_update_on_startup: 'false',
  'feedback.enabled': 'false',
  'analytics.enabled': 'false',
  'otel.exporter': '"none"',
  'otel.trace_exporter': '"none"',
  'otel.metrics_exporter': '"none"',
};

export type { JsonRpcMessage } from './json-rpc-child.js';

export interface CodexOptions {
  /** The fake Responses API origin, e.g. http://127.0.0.1:PORT. */
  readonly apiOrigin: string;
  /** Extra `-c key=value` overrides (approval policy, sandbox). */
  readonly config?: Record<string, string>;
  /** `--linger` seconds for record. */
  readonly lingerSeconds?: number;
  /** Reuse a CODEX_HOME (e.g. one holding a prepared rollout). Default: a fresh temp dir. */
  readonly codexHome?: string;
  /** Put record's upstream proxy between Codex and the API. Default true; false records JSON-RPC only. */
  readonly upstreamProxy?: boolean;
  /**
   * No `record` and no proxy: Codex exports its own logs and traces (OTLP/HTTP, this encoding) to a
   * `stall-why collect` started with it, writing `outDir`. `stop()` then sends Codex SIGTERM (it
   * flushes its last export on it) and stops collect once Codex has exited.
   */
  readonly otelCollect?: { readonly protocol: 'json' | 'binary' };
}

/** `-c` overrides that point Codex's log and trace export at an OTLP/HTTP receiver (metrics stay off). */
export function codexOtelExportTo(origin: string, protocol: 'json' | 'binary'): Record<string, string> {
  return {
    'otel.environment': '"test"',
    'otel.exporter': `{otlp-http={endpoint="${origin}/v1/logs",protocol="${protocol}"}}`,
    'otel.trace_exporter': `{otlp-http={endpoint="${origin}/v1/traces",protocol="${protocol}"}}`,
    'otel.metrics_exporter': '"none"',
  };
}

/** A free loopback port for the upstream proxy (Codex must know its base_url before it starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export class CodexUnderRecord extends JsonRpcChild {
  readonly outDir: string;
  readonly codexHome: string;
  readonly workDir: string;
  /** The server's HOME: empty, so tool shells read no profile of the machine's user. */
  readonly homeDir: string;
  /** When the server process was spawned (epoch ms). */
  spawnedAtMs = 0;
  /** With `otelCollect`: the receiver Codex exports to. */
  readonly collect: CollectProcess | undefined;
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  private left = false;

  constructor(private readonly options: CodexOptions) {
    super();
    const base = mkdtempSync(join(tmpdir(), 'stall-why-e2e-'));
    this.outDir = join(base, 'recording');
    this.workDir = join(base, 'work');
    mkdirSync(this.workDir);
    this.homeDir = join(base, 'home');
    mkdirSync(this.homeDir);
    this.codexHome = options.codexHome ?? join(base, 'codex-home');
    mkdirSync(this.codexHome, { recursive: true });
    this.collect = options.otelCollect ? new CollectProcess(this.outDir) : undefined;
  }

  async start(): Promise<void> {
    const otel = this.options.otelCollect;
    const proxied = !otel && (this.options.upstreamProxy ?? true);
    const port = await freePort();
    const apiBase = proxied ? `http://127.0.0.1:${port}` : this.options.apiOrigin;
    const config: Record<string, string> = {
      model_provider: '"fake"',
      'model_providers.fake': `{name="fake", base_url="${apiBase}/v1", wire_api="responses", env_key="FAKE_KEY", request_max_retries=2, stream_max_retries=3}`,
      model: '"gpt-fake"',
      approval_policy: '"never"',
      sandbox_mode: '"danger-full-access"',
      ...CODEX_CALLS_HOME_OFF,
      ...(otel ? codexOtelExportTo(await this.collect!.start(), otel.protocol) : {}),
      ...this.options.config,
    };
    const server = [CODEX, 'app-server', ...Object.entries(config).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const [command, ...args] = otel ? server : [
      process.execPath, CLI, 'record', '--out', this.outDir,
      ...(proxied ? ['--upstream', `127.0.0.1:${port}=${this.options.apiOrigin}`] : []),
      ...(this.options.lingerSeconds ? ['--linger', String(this.options.lingerSeconds)] : []),
      '--', ...server,
    ];
    // HOME is the scenario's own empty directory: the shell Codex runs tools in (a login shell) reads
    // no profile of this machine's user. A profile that runs `pyenv rehash` left its lock behind when
    // an interrupt killed it, and every later tool then waited 60 s for that lock.
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: this.homeDir, CODEX_HOME: this.codexHome, FAKE_KEY: 'sk-fake-never-recorded', RUST_LOG: 'error' };
    // The export is left as Codex makes it by default (the capture in test/corpus/codex-otel ran without RUST_LOG).
    if (otel) delete env.RUST_LOG;
    this.attach(spawn(command, args, { cwd: this.workDir, env, stdio: 'pipe' }));
    this.spawnedAtMs = Date.now();
    this.exit = new Promise((r) => this.child.once('close', (code, signal) => r({ code, signal })));
    await this.request('initialize', { clientInfo: { name: 'stall-why-e2e', version: '0.0.1' } });
    this.notify('initialized');
  }

  async startThread(): Promise<string> {
    const result = await this.request('thread/start', { cwd: this.workDir });
    return result.thread.id as string;
  }

  async startTurn(threadId: string, text: string): Promise<string> {
    const result = await this.request('turn/start', { threadId, input: [{ type: 'text', text }] });
    return result.turn.id as string;
  }

  /** The client goes away: its end of stdin closes (and it stops reading stdout). */
  leave(): void {
    this.left = true;
    this.child.stdin.end();
  }

  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const exit = await this.stopServer();
    await this.collect?.stop();
    return exit;
  }

  private async stopServer(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exit) return { code: null, signal: null };
    if (this.child.exitCode === null && this.child.signalCode === null) {
      // Codex alone: SIGTERM, on which it flushes its last export (stdin closing would end the turn first).
      if (this.collect) this.child.kill('SIGTERM');
      else this.child.stdin.end();
      // A client that already left has record lingering: ask it to stop now (it forwards SIGTERM).
      if (this.left) this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      const exit = await this.exit;
      clearTimeout(timer);
      return exit;
    }
    return this.exit;
  }

  waitForExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exit!;
  }

  /** Removes the scenario's temp dir (recording, work dir, and its own CODEX_HOME). */
  cleanup(): void {
    rmSync(join(this.outDir, '..'), { recursive: true, force: true });
  }
}

/** What `stall-why <dir> --json` says about one turn. */
export interface JudgedTurn {
  threadId?: string;
  turnId?: string;
  status: string;
  verdict: string;
  confidence?: number | string;
  stuckForMs?: number;
  evidence?: unknown;
}

/**
 * Judges the recording the way a person would while the fault is live: the built CLI, `--json`.
 * `aheadMs` moves the judged moment forward (`--now`), so a stall is judged as it will look once
 * it has lasted past the stuck threshold, without the test waiting for it.
 */
export function judge(dir: string, aheadMs = 0): Promise<JudgedReport> {
  return judgeJson(dir, [dir], Date.now() + aheadMs);
}

export interface JudgedReport {
  turns: JudgedTurn[];
  raw: string;
  code: number | null;
  nowMs: number;
}

/** `stall-why <traces...> --json --now <nowMs>`, parsed; an input error throws with its line. */
async function judgeJson(label: string, traces: string[], nowMs: number): Promise<JudgedReport> {
  const r = await runCli([...traces, '--json', '--now', String(nowMs)]);
  if (r.code === 2 || !r.stdout.trim()) throw new Error(`stall-why ${label} --json failed (${r.code}): ${r.stderr}`);
  return { turns: (JSON.parse(r.stdout) as { turns: JudgedTurn[] }).turns, raw: r.stdout, code: r.code, nowMs };
}

export function turnOf(report: { turns: JudgedTurn[] }, turnId: string): JudgedTurn | undefined {
  return report.turns.find((t) => t.turnId === turnId);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Judges the recording again and again until `settled` says the report shows the fault (or the
 * time runs out), and returns the last report for the test to assert on. The flight recorder
 * flushes on its own schedule, so the first look may be a few hundred ms behind the process.
 */
export async function judgeWhileLive(
  dir: string,
  settled: (report: { turns: JudgedTurn[] }) => boolean,
  options: JudgeOptions & { timeoutMs?: number; intervalMs?: number } = {},
): Promise<{ turns: JudgedTurn[]; raw: string }> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last: { turns: JudgedTurn[]; raw: string; nowMs?: number } = { turns: [], raw: '' };
  for (;;) {
    try {
      last = await judge(dir, options.aheadMs);
      if (settled(last)) break;
    } catch (error) {
      last = { turns: [], raw: String(error) };
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 300));
  }
  keepSnapshot(dir, last, options.snapshot);
  return last;
}

export interface JudgeOptions {
  /** Judge this much after now (`--now`). */
  aheadMs?: number;
  /** The snapshot's name (STALL_WHY_E2E_SNAPSHOT); default the current test's, which concurrent tests do not have. */
  snapshot?: string;
}

/** One judgement of a recording that no longer changes (its writers have exited), kept like `judgeWhileLive`'s. */
export async function judgeFinished(dir: string, options: JudgeOptions = {}): Promise<JudgedReport> {
  const report = await judge(dir, options.aheadMs);
  keepSnapshot(dir, report, options.snapshot);
  return report;
}

/**
 * With STALL_WHY_E2E_SNAPSHOT=<dir>, copies the recording as it was when judged, with the judged
 * moment and what was said about it, to <dir>/<scenario>/ (how test/e2e/recordings/ was made).
 */
function keepSnapshot(dir: string, judged: { turns: JudgedTurn[]; nowMs?: number }, snapshot?: string): void {
  const root = process.env.STALL_WHY_E2E_SNAPSHOT;
  const name = snapshot ?? expect.getState().currentTestName;
  if (!root || !name) return;
  const slug = name.split(' > ').pop()!.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  const target = join(root, slug);
  rmSync(target, { recursive: true, force: true });
  cpSync(dir, join(target, 'recording'), { recursive: true });
  const turns = judged.turns.map(({ threadId, turnId, status, verdict }) => ({ threadId, turnId, status, verdict }));
  writeFileSync(join(target, 'judged.json'), `${JSON.stringify({ scenario: name, codexVersion: '0.169.0', nowMs: judged.nowMs, turns }, null, 2)}\n`);
}

/** The rollout files Codex wrote under a CODEX_HOME (`sessions/YYYY/MM/DD/rollout-*.jsonl`). */
export function rolloutFiles(codexHome: string): string[] {
  const root = join(codexHome, 'sessions');
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true }) as string[]).filter((p) => /rollout-.*\.jsonl$/.test(p)).map((p) => join(root, p));
}

/**
 * Judges what Codex itself wrote (its rollouts), the way a person would who has nothing else:
 * `stall-why <rollout...> --json`, optionally at a later moment.
 */
export function judgeRollouts(codexHome: string, aheadMs = 0): Promise<JudgedReport> {
  const files = rolloutFiles(codexHome);
  if (files.length === 0) throw new Error(`no rollout under ${codexHome}`);
  return judgeJson('<rollouts>', files, Date.now() + aheadMs);
}
