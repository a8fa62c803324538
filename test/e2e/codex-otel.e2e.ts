import {
  TURN_STATE_ABANDONED,
  TURN_STATE_COMPLETED,
  TURN_STATE_FAILED,
  TURN_STATE_INTERRUPTED,
  TURN_STATE_STUCK,
  TURN_ID_TRACE_PREFIX,
  VERDICT_AWAITING_APPROVAL,
  VERDICT_BACKEND_STALL,
  VERDICT_HEALTHY,
  VERDICT_TRANSPORT_RETRY,
  VERDICT_UNKNOWN,
  type Verdict,
} from '@stall-why/conventions';
import { describe, it, type TestContext } from 'vitest';
import { CodexUnderRecord, judgeFinished, judgeWhileLive, turnOf, type JudgedTurn } from './codex-under-record.js';
import { type RecordedRequest, dropMidStreamReply, FakeResponsesApi, functionCallReply, silentAfterHeadersReply, silentBeforeHeadersReply, stallMidStreamReply, textReply } from './fake-responses-api.js';

// The real Codex app-server with nothing around it (no `record`, no proxy): only its own `[otel]`
// export, logs and traces over OTLP/HTTP, goes to the built `stall-why collect`, and
// `stall-why <collect dir> --json` is asked while the fault holds and again after Codex has exited
// (SIGTERM, on which it flushes its last export; collect is stopped after). What Codex 0.169
// exports and when is in test/corpus/codex-otel/README.md: logs about once a second; spans only
// once they end, the first batch about 10 s after spawn, then one every 5 s.
//
// Scenarios share nothing (each has its own fake API, CODEX_HOME and collect), so they run
// concurrently: most of each one is waiting for Codex's next trace batch.

/** Judge a stall as it looks once it has lasted past the 30 s stuck threshold. */
const PAST_STUCK = 60_000;
/** How long a live judgement waits for what it expects: the first trace batch comes ~10 s after spawn, then every 5 s. */
const LIVE_MS = 25_000;
/** Between live judgements: Codex sends nothing faster than its ~1 s log batches. */
const POLL_MS = 1_000;

interface Run {
  readonly name: string;
  readonly api: FakeResponsesApi;
  readonly codex: CodexUnderRecord;
  readonly threadId: string;
}

async function begin(ctx: TestContext, options: { config?: Record<string, string>; protocol?: 'json' | 'binary' } = {}): Promise<Run> {
  const api = new FakeResponsesApi();
  const origin = await api.listen();
  const codex = new CodexUnderRecord({ apiOrigin: origin, config: options.config, otelCollect: { protocol: options.protocol ?? 'json' } });
  ctx.onTestFinished(async () => {
    // STALL_WHY_E2E_KEEP=1 keeps each scenario's collect directory for a look (its path is printed).
    if (process.env.STALL_WHY_E2E_KEEP) console.log(`collect directory kept: ${codex.outDir}`);
    await codex.stop();
    await api.close();
    if (!process.env.STALL_WHY_E2E_KEEP) codex.cleanup();
  });
  await codex.start();
  const threadId = await codex.startThread();
  return { name: ctx.task.name, api, codex, threadId };
}

/**
 * Codex's first trace batch reached collect 10.1–11.0 s after spawn in every run (a timer: under load
 * it comes later, never sooner). Until then its logs alone tell the turn.
 */
const BEFORE_FIRST_TRACE_BATCH_MS = 9_000;

/**
 * The turn as Codex's logs alone name it: they carry no turn id, so it is `trace:` and the id of the
 * turn's trace, which the model request's `traceparent` header carries too.
 */
function traceKeyedTurnId(request: RecordedRequest): string {
  const traceId = String(request.headers.traceparent ?? '').split('-')[1];
  return `${TURN_ID_TRACE_PREFIX}${traceId}`;
}

/**
 * Judged from Codex's logs alone, before its first trace batch can name the turn: the trace-keyed
 * turn must already be stuck on `verdict` (the report is printed, and the turn looked up by its
 * trace, so a judgement that came after the spans named the turn cannot pass).
 */
async function expectFromLogsAlone(ctx: TestContext, run: Run, request: RecordedRequest, verdict: Verdict, confidence: number): Promise<void> {
  const turnId = traceKeyedTurnId(request);
  const timeoutMs = Math.max(0, run.codex.spawnedAtMs + BEFORE_FIRST_TRACE_BATCH_MS - Date.now());
  const report = await judgeWhileLive(run.codex.outDir, (r) => has(turnId, TURN_STATE_STUCK, verdict)(r) && turnOf(r, turnId)?.confidence === confidence, { aheadMs: PAST_STUCK, timeoutMs, intervalMs: 250, snapshot: `codex otel ${run.name} logs alone` });
  observe(run, 'logs alone', [turnId], report);
  ctx.expect.soft(turnOf(report, turnId), describeReport(report)).toMatchObject({ status: TURN_STATE_STUCK, verdict, confidence });
}

/** Judged while Codex runs and the fault holds: until `settled` or `LIVE_MS`, then printed. */
async function judgeLive(run: Run, turnIds: string[], settled: (r: { turns: JudgedTurn[] }) => boolean, aheadMs = 0): Promise<{ turns: JudgedTurn[]; raw: string }> {
  const report = await judgeWhileLive(run.codex.outDir, settled, { aheadMs, timeoutMs: LIVE_MS, intervalMs: POLL_MS, snapshot: `codex otel ${run.name} live` });
  observe(run, 'live', turnIds, report);
  return report;
}

/** Codex stopped with SIGTERM (it flushes its export), collect stopped after it, then one judgement. */
async function judgeAfterExit(run: Run, turnIds: string[], aheadMs = 0): Promise<{ turns: JudgedTurn[]; raw: string }> {
  await run.codex.stop();
  const report = await judgeFinished(run.codex.outDir, { aheadMs, snapshot: `codex otel ${run.name} after exit` });
  observe(run, 'after exit', turnIds, report);
  return report;
}

/** One line per judgement: what stall-why said, and when Codex's first export reached collect. */
function observe(run: Run, when: string, turnIds: string[], report: { turns: JudgedTurn[]; raw: string }): void {
  const { codex } = run;
  const firstBytes = codex.collect?.firstBytesAtMs;
  console.log(`codex-otel ${JSON.stringify({
    scenario: run.name,
    when,
    spawnedAt: new Date(codex.spawnedAtMs).toISOString(),
    sinceSpawnMs: Date.now() - codex.spawnedAtMs,
    collectFirstBytesSinceSpawnMs: firstBytes === undefined ? null : firstBytes - codex.spawnedAtMs,
    turns: turnIds.map((id) => {
      const t = turnOf(report, id);
      return t ? { turnId: id, status: t.status, verdict: t.verdict, confidence: t.confidence, evidence: t.evidence } : { turnId: id, missing: true };
    }),
    otherTurns: report.turns.filter((t) => !turnIds.includes(t.turnId ?? '')).map((t) => ({ turnId: t.turnId, status: t.status, verdict: t.verdict })),
    ...(report.turns.length === 0 ? { raw: report.raw.slice(0, 400) } : {}),
    ...(when === 'after exit' ? { modelRequests: run.api.requests.length, otherRequests: run.api.otherRequests.map((r) => r.path), collect: codex.collect?.stderr.trim(), exportErrors: exportErrors(codex.stderr) } : {}),
  })}`);
}

/** Codex's own complaints about its export (stderr, tracing format), the first one whole: when it first tried. */
function exportErrors(stderr: string): { count: number; first?: string } {
  const lines = stderr.replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => /ExportError|otlp|opentelemetry/i.test(l));
  return { count: lines.length, first: lines[0]?.slice(0, 300) };
}

const describeReport = (r: { raw: string }) => r.raw.slice(0, 4000);
const has = (turnId: string, status: string, verdict?: string) => (r: { turns: JudgedTurn[] }) => {
  const t = turnOf(r, turnId);
  return t?.status === status && (verdict === undefined || t.verdict === verdict);
};

/** Live and after exit: completed and healthy, every turn. */
function expectHealthy(ctx: TestContext, report: { turns: JudgedTurn[]; raw: string }, turnIds: string[]): void {
  for (const id of turnIds) ctx.expect.soft(turnOf(report, id), describeReport(report)).toMatchObject({ status: TURN_STATE_COMPLETED, verdict: VERDICT_HEALTHY });
}

describe.concurrent("stall-why on the real Codex app-server's own OpenTelemetry export (stall-why collect)", () => {
  for (const protocol of ['json', 'binary'] as const) {
    it(`healthy turn (OTLP ${protocol})`, async (ctx) => {
      const run = await begin(ctx, { protocol });
      run.api.enqueue(textReply('hello'));
      const turnId = await run.codex.startTurn(run.threadId, 'say hello');
      await run.codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId);
      expectHealthy(ctx, await judgeLive(run, [turnId], has(turnId, TURN_STATE_COMPLETED)), [turnId]);
      expectHealthy(ctx, await judgeAfterExit(run, [turnId]), [turnId]);
    });
  }

  it('healthy turn with a tool call', async (ctx) => {
    const run = await begin(ctx);
    run.api.enqueue(functionCallReply('call_1', 'exec_command', { cmd: 'echo tool-ran' }), textReply('done after tool'));
    const turnId = await run.codex.startTurn(run.threadId, 'run echo');
    await run.codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId);
    ctx.expect(run.api.requests).toHaveLength(2);
    expectHealthy(ctx, await judgeLive(run, [turnId], has(turnId, TURN_STATE_COMPLETED)), [turnId]);
    expectHealthy(ctx, await judgeAfterExit(run, [turnId]), [turnId]);
  });

  it('a compaction (thread/compact/start)', async (ctx) => {
    const run = await begin(ctx);
    run.api.enqueue(textReply('first answer'), textReply('summary of the conversation so far'));
    const first = await run.codex.startTurn(run.threadId, 'first');
    await run.codex.waitForNotification('turn/completed', (p) => p.turn.id === first);
    await run.codex.request('thread/compact/start', { threadId: run.threadId });
    const started = await run.codex.waitForNotification('turn/started', (p) => p.turn.id !== first);
    const compaction = started.params.turn.id as string;
    await run.codex.waitForNotification('turn/completed', (p) => p.turn.id === compaction);
    const turns = [first, compaction];
    expectHealthy(ctx, await judgeLive(run, turns, (r) => turns.every((id) => has(id, TURN_STATE_COMPLETED)(r))), turns);
    expectHealthy(ctx, await judgeAfterExit(run, turns), turns);
  });

  // Confidences are docs/codex-otel.md's table: before headers, the logs show no request at all.
  for (const [name, reply, confidence] of [['silence after response headers', silentAfterHeadersReply(), 0.9], ['silence before response headers', silentBeforeHeadersReply(), 0.55]] as const) {
    it(name, async (ctx) => {
      const run = await begin(ctx);
      run.api.enqueue(reply);
      const turnId = await run.codex.startTurn(run.threadId, 'hello?');
      await run.codex.waitForNotification('turn/started', (p) => p.turn.id === turnId);
      const [request] = await run.api.waitForRequests(1);
      await expectFromLogsAlone(ctx, run, request!, VERDICT_BACKEND_STALL, confidence);
      const live = await judgeLive(run, [turnId], has(turnId, TURN_STATE_STUCK, VERDICT_BACKEND_STALL), PAST_STUCK);
      ctx.expect.soft(turnOf(live, turnId), describeReport(live)).toMatchObject({ status: TURN_STATE_STUCK, verdict: VERDICT_BACKEND_STALL, confidence });
      const after = await judgeAfterExit(run, [turnId], PAST_STUCK);
      ctx.expect.soft(turnOf(after, turnId)?.verdict, describeReport(after)).toBe(VERDICT_BACKEND_STALL);
      ctx.expect.soft([TURN_STATE_STUCK, TURN_STATE_INTERRUPTED, TURN_STATE_ABANDONED], describeReport(after)).toContain(turnOf(after, turnId)?.status);
    });
  }

  it('connections dropped mid-stream until Codex gives up (stream_max_retries=3)', async (ctx) => {
    const run = await begin(ctx);
    run.api.enqueue(dropMidStreamReply(), dropMidStreamReply(), dropMidStreamReply(), dropMidStreamReply());
    const turnId = await run.codex.startTurn(run.threadId, 'hello?');
    const done = await run.codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId);
    ctx.expect(done.params.turn.status).toBe('failed');
    ctx.expect(run.api.requests).toHaveLength(4);
    const live = await judgeLive(run, [turnId], has(turnId, TURN_STATE_FAILED, VERDICT_TRANSPORT_RETRY));
    ctx.expect.soft(turnOf(live, turnId), describeReport(live)).toMatchObject({ status: TURN_STATE_FAILED, verdict: VERDICT_TRANSPORT_RETRY });
    const after = await judgeAfterExit(run, [turnId]);
    ctx.expect.soft(turnOf(after, turnId), describeReport(after)).toMatchObject({ status: TURN_STATE_FAILED, verdict: VERDICT_TRANSPORT_RETRY });
  });

  it('a tool result, then silence on the continuation', async (ctx) => {
    const run = await begin(ctx);
    run.api.enqueue(functionCallReply('call_1', 'exec_command', { cmd: 'echo tool-ran' }), silentAfterHeadersReply());
    const turnId = await run.codex.startTurn(run.threadId, 'run echo');
    await run.codex.waitForNotification('item/completed', (p) => p.item?.type === 'commandExecution');
    const [, continuation] = await run.api.waitForRequests(2);
    await expectFromLogsAlone(ctx, run, continuation!, VERDICT_BACKEND_STALL, 0.9);
    const live = await judgeLive(run, [turnId], has(turnId, TURN_STATE_STUCK, VERDICT_BACKEND_STALL), PAST_STUCK);
    ctx.expect.soft(turnOf(live, turnId), describeReport(live)).toMatchObject({ status: TURN_STATE_STUCK, verdict: VERDICT_BACKEND_STALL, confidence: 0.9 });
    ctx.expect.soft(JSON.stringify(turnOf(live, turnId)?.evidence), describeReport(live)).toMatch(/continuation/);
    const after = await judgeAfterExit(run, [turnId], PAST_STUCK);
    ctx.expect.soft(turnOf(after, turnId)?.verdict, describeReport(after)).toBe(VERDICT_BACKEND_STALL);
  });

  it('an approval request nobody answers', async (ctx) => {
    const run = await begin(ctx, { config: { approval_policy: '"on-request"', sandbox_mode: '"read-only"' } });
    run.api.enqueue(functionCallReply('call_esc', 'exec_command', { cmd: 'touch escalated.txt', sandbox_permissions: 'require_escalated', justification: 'needs to write a file' }));
    const turnId = await run.codex.startTurn(run.threadId, 'make a file');
    const asked = await run.codex.waitFor((m) => m.method === 'item/commandExecution/requestApproval' && m.id !== undefined, 'an approval request');
    ctx.expect(asked.params.turnId).toBe(turnId);
    // Codex logs nothing of an approval: its logs alone end with the model's completed response, and
    // say so (unknown, not a stall); the decide_request span of the first trace batch names the wait.
    await expectFromLogsAlone(ctx, run, run.api.requests[0]!, VERDICT_UNKNOWN, 0.3);
    const live = await judgeLive(run, [turnId], has(turnId, TURN_STATE_STUCK, VERDICT_AWAITING_APPROVAL), PAST_STUCK);
    ctx.expect.soft(turnOf(live, turnId), describeReport(live)).toMatchObject({ status: TURN_STATE_STUCK, verdict: VERDICT_AWAITING_APPROVAL, confidence: 0.7 });
    const after = await judgeAfterExit(run, [turnId], PAST_STUCK);
    ctx.expect.soft(turnOf(after, turnId)?.verdict, describeReport(after)).toBe(VERDICT_AWAITING_APPROVAL);
  });

  // The verdict of an interrupted turn is not fixed here: the lines printed say what it was.
  it('a user interrupt while the model streams', async (ctx) => {
    const run = await begin(ctx);
    run.api.enqueue(stallMidStreamReply());
    const turnId = await run.codex.startTurn(run.threadId, 'hello?');
    await run.codex.waitForNotification('item/agentMessage/delta', (p) => p.turnId === turnId);
    await run.codex.request('turn/interrupt', { threadId: run.threadId, turnId });
    const done = await run.codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId);
    ctx.expect(done.params.turn.status).toBe('interrupted');
    const live = await judgeLive(run, [turnId], has(turnId, TURN_STATE_INTERRUPTED));
    ctx.expect.soft(turnOf(live, turnId)?.status, describeReport(live)).toBe(TURN_STATE_INTERRUPTED);
    const after = await judgeAfterExit(run, [turnId]);
    ctx.expect.soft(turnOf(after, turnId)?.status, describeReport(after)).toBe(TURN_STATE_INTERRUPTED);
  });
});
