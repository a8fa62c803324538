import { VERDICT_AWAITING_APPROVAL, VERDICT_BACKEND_STALL, VERDICT_COMPACTION, VERDICT_HEALTHY, VERDICT_POST_TOOL_CONTINUATION_LOST, VERDICT_RENDERER_DETACHED, VERDICT_TOOL_RUNNING, VERDICT_TRANSPORT_RETRY, VERDICT_UNKNOWN, TURN_STATE_COMPLETED, TURN_STATE_FAILED, TURN_STATE_IN_PROGRESS, TURN_STATE_INTERRUPTED, TURN_STATE_STUCK } from '@stall-why/conventions';
import { afterEach, describe, expect, it } from 'vitest';
import { CodexUnderRecord, judgeRollouts, judgeWhileLive, turnOf, type JudgedTurn } from './codex-under-record.js';
import {
  FakeResponsesApi,
  functionCallReply,
  responseFailedReply,
  silentAfterHeadersReply,
  silentBeforeHeadersReply,
  slowDropReply,
  slowTextReply,
  stallMidStreamReply,
  statusReply,
  textReply,
  tricklingTextReply,
} from './fake-responses-api.js';

// One scenario per fault: the real Codex app-server under `stall-why record`, a fake Responses API
// scripted per scenario, and `stall-why <dir> --json` asked while the fault is live.

/** Judge a stall as it looks once it has lasted past the 30 s stuck threshold. */
const PAST_STUCK = 60_000;

let api: FakeResponsesApi | undefined;
let codex: CodexUnderRecord | undefined;

async function begin(options: { config?: Record<string, string>; lingerSeconds?: number; upstreamProxy?: boolean } = {}): Promise<{ api: FakeResponsesApi; codex: CodexUnderRecord; threadId: string }> {
  api = new FakeResponsesApi();
  const origin = await api.listen();
  codex = new CodexUnderRecord({ apiOrigin: origin, ...options });
  await codex.start();
  const threadId = await codex.startThread();
  return { api, codex, threadId };
}

afterEach(async () => {
  // STALL_WHY_E2E_KEEP=1 keeps each scenario's recording for a look (its path is printed).
  if (process.env.STALL_WHY_E2E_KEEP) console.log(`recording kept: ${codex?.outDir}`);
  await codex?.stop();
  await api?.close();
  if (!process.env.STALL_WHY_E2E_KEEP) codex?.cleanup();
  codex = undefined;
  api = undefined;
});

const verdictIs = (turnId: string, verdict: string) => (r: { turns: JudgedTurn[] }) => turnOf(r, turnId)?.verdict === verdict;
/**
 * The verdict with evidence matching `pattern`: what the upstream proxy records reaches the recording
 * a moment after the fake API has the request, and until then the JSON-RPC side alone may give the
 * same verdict from less. A judgement waits for the evidence it is about.
 */
const verdictWith = (turnId: string, verdict: string, pattern: RegExp) => (r: { turns: JudgedTurn[] }) =>
  verdictIs(turnId, verdict)(r) && pattern.test(JSON.stringify(turnOf(r, turnId)?.evidence));
const describeTurn = (r: { turns: JudgedTurn[]; raw: string }) => r.raw.slice(0, 4000);

describe('stall-why on the real Codex app-server, fault by fault', () => {
  it('healthy turn', async () => {
    const { api, codex, threadId } = await begin();
    api.enqueue(textReply('hello'));
    const turnId = await codex.startTurn(threadId, 'say hello');
    await codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId);
    const report = await judgeWhileLive(codex.outDir, (r) => turnOf(r, turnId)?.status === TURN_STATE_COMPLETED);
    const turn = turnOf(report, turnId);
    expect(turn?.status, describeTurn(report)).toBe(TURN_STATE_COMPLETED);
    expect(turn?.verdict, describeTurn(report)).toBe(VERDICT_HEALTHY);
  });

  it('healthy turn with a tool call', async () => {
    const { api, codex, threadId } = await begin();
    api.enqueue(functionCallReply('call_1', 'exec_command', { cmd: 'echo tool-ran' }), textReply('done after tool'));
    const turnId = await codex.startTurn(threadId, 'run echo');
    await codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId);
    expect(api.requests).toHaveLength(2);
    expect(api.requests[1].body).toContain('function_call_output');
    // Credentials pass through the upstream proxy.
    expect(api.requests[0].headers.authorization).toBe('Bearer sk-fake-never-recorded');
    const report = await judgeWhileLive(codex.outDir, (r) => turnOf(r, turnId)?.status === TURN_STATE_COMPLETED);
    expect(turnOf(report, turnId)?.verdict, describeTurn(report)).toBe(VERDICT_HEALTHY);
    expect(report.raw).not.toContain('sk-fake-never-recorded');
  });

  it('silence after response headers', async () => {
    const { api, codex, threadId } = await begin();
    api.enqueue(silentAfterHeadersReply());
    const turnId = await codex.startTurn(threadId, 'hello?');
    await api.waitForRequests(1);
    const report = await judgeWhileLive(codex.outDir, verdictWith(turnId, VERDICT_BACKEND_STALL, /headers at .*no body byte/), { aheadMs: PAST_STUCK });
    expect(turnOf(report, turnId)?.verdict, describeTurn(report)).toBe(VERDICT_BACKEND_STALL);
    expect(JSON.stringify(turnOf(report, turnId)?.evidence), describeTurn(report)).toMatch(/headers at .*no body byte/);
  });

  it('silence before response headers', async () => {
    const { api, codex, threadId } = await begin();
    api.enqueue(silentBeforeHeadersReply());
    const turnId = await codex.startTurn(threadId, 'hello?');
    await api.waitForRequests(1);
    const report = await judgeWhileLive(codex.outDir, verdictWith(turnId, VERDICT_BACKEND_STALL, /no response headers/), { aheadMs: PAST_STUCK });
    expect(turnOf(report, turnId)?.verdict, describeTurn(report)).toBe(VERDICT_BACKEND_STALL);
    expect(JSON.stringify(turnOf(report, turnId)?.evidence), describeTurn(report)).toMatch(/no response headers/);
  });

  it('connections dropped mid-stream (Reconnecting... n/m)', async () => {
    const { api, codex, threadId } = await begin();
    // 1 + stream_max_retries (3) attempts, each cut after 1.5 s of a half-sent stream.
    api.enqueue(slowDropReply(1500), slowDropReply(1500), slowDropReply(1500), slowDropReply(1500));
    const turnId = await codex.startTurn(threadId, 'hello?');
    await codex.waitForNotification('error', (p) => p.willRetry === true && /Reconnecting/.test(p.error?.message ?? ''));
    await api.waitForRequests(2);
    const live = await judgeWhileLive(codex.outDir, verdictIs(turnId, VERDICT_TRANSPORT_RETRY), { timeoutMs: 5_000 });
    expect(turnOf(live, turnId)?.verdict, describeTurn(live)).toBe(VERDICT_TRANSPORT_RETRY);
    const failed = await codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId);
    expect(failed.params.turn.status).toBe('failed');
    const after = await judgeWhileLive(codex.outDir, (r) => turnOf(r, turnId)?.status === 'failed');
    expect(turnOf(after, turnId)?.verdict, describeTurn(after)).toBe(VERDICT_TRANSPORT_RETRY);
  });

  it('the model API answers HTTP 500 until Codex gives up', async () => {
    const { api, codex, threadId } = await begin();
    for (let i = 0; i < 40; i++) api.enqueue(statusReply(500));
    const turnId = await codex.startTurn(threadId, 'hello?');
    await api.waitForRequests(2);
    const live = await judgeWhileLive(codex.outDir, verdictIs(turnId, VERDICT_TRANSPORT_RETRY), { timeoutMs: 5_000 });
    expect(turnOf(live, turnId)?.verdict, describeTurn(live)).toBe(VERDICT_TRANSPORT_RETRY);
    expect(JSON.stringify(turnOf(live, turnId)?.evidence)).toMatch(/answered HTTP 500/);
    const done = await codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId, 120_000);
    expect(done.params.turn.status).toBe('failed');
    const after = await judgeWhileLive(codex.outDir, (r) => turnOf(r, turnId)?.status === TURN_STATE_FAILED);
    expect(turnOf(after, turnId)?.verdict, describeTurn(after)).toBe(VERDICT_TRANSPORT_RETRY);
    // Codex's own record shows no attempts, only the error it gave up with: still named, less surely.
    const rollout = await judgeRollouts(codex.codexHome);
    expect(turnOf(rollout, turnId), describeTurn(rollout)).toMatchObject({ status: TURN_STATE_FAILED, verdict: VERDICT_TRANSPORT_RETRY });
  });

  it('HTTP 429 with a long Retry-After', async () => {
    const { api, codex, threadId } = await begin();
    api.enqueue(statusReply(429, { 'retry-after': '8' }), textReply('finally'));
    const turnId = await codex.startTurn(threadId, 'hello?');
    await api.waitForRequests(1);
    const live = await judgeWhileLive(codex.outDir, verdictIs(turnId, VERDICT_TRANSPORT_RETRY), { aheadMs: PAST_STUCK, timeoutMs: 5_000 });
    expect(turnOf(live, turnId)?.verdict, describeTurn(live)).toBe(VERDICT_TRANSPORT_RETRY);
    expect(JSON.stringify(turnOf(live, turnId)?.evidence)).toMatch(/answered HTTP 429 .*Retry-After 8\.0 s/);
    await codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId, 30_000);
    // The wait for the retry was most of the turn, and long: it is what the turn waited on.
    const after = await judgeWhileLive(codex.outDir, (r) => turnOf(r, turnId)?.status === TURN_STATE_COMPLETED);
    expect(turnOf(after, turnId), describeTurn(after)).toMatchObject({ status: TURN_STATE_COMPLETED, verdict: VERDICT_TRANSPORT_RETRY });
  });

  it('the model stops mid-answer with the stream open', async () => {
    const { api, codex, threadId } = await begin();
    api.enqueue(stallMidStreamReply());
    const turnId = await codex.startTurn(threadId, 'hello?');
    await codex.waitForNotification('item/agentMessage/delta', (p) => p.turnId === turnId);
    // Keyed on the event, not on time: the proxy's attempt spans reach the recording up to a flush
    // interval after the observer's, and a judgement before them would not see the first event yet.
    const firstEventSeen = (r: { turns: JudgedTurn[] }) => verdictIs(turnId, VERDICT_BACKEND_STALL)(r) && /first event at/.test(JSON.stringify(turnOf(r, turnId)?.evidence));
    const report = await judgeWhileLive(codex.outDir, firstEventSeen, { aheadMs: PAST_STUCK });
    expect(turnOf(report, turnId)?.verdict, describeTurn(report)).toBe(VERDICT_BACKEND_STALL);
    expect(JSON.stringify(turnOf(report, turnId)?.evidence)).toMatch(/first event at/);
    const rollout = await judgeRollouts(codex.codexHome, PAST_STUCK);
    expect(turnOf(rollout, turnId), describeTurn(rollout)).toMatchObject({ status: TURN_STATE_STUCK, verdict: VERDICT_BACKEND_STALL });
  });

  it('every response ends in response.failed', async () => {
    const { api, codex, threadId } = await begin();
    for (let i = 0; i < 10; i++) api.enqueue(responseFailedReply());
    const turnId = await codex.startTurn(threadId, 'hello?');
    const done = await codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId, 120_000);
    expect(done.params.turn.status).toBe('failed');
    expect(api.requests.length).toBeGreaterThan(1);
    const after = await judgeWhileLive(codex.outDir, (r) => turnOf(r, turnId)?.status === TURN_STATE_FAILED);
    expect(turnOf(after, turnId)?.verdict, describeTurn(after)).toBe(VERDICT_TRANSPORT_RETRY);
    const rollout = await judgeRollouts(codex.codexHome);
    expect(turnOf(rollout, turnId), describeTurn(rollout)).toMatchObject({ status: TURN_STATE_FAILED, verdict: VERDICT_TRANSPORT_RETRY });
  });

  // A failure no wait explains: the verdict must not invent a stall or a retry, and the evidence
  // must carry the server's own words.
  it('the context window is exceeded', async () => {
    const { api, codex, threadId } = await begin();
    api.enqueue(responseFailedReply('context_length_exceeded', 'Your input exceeds the context window of this model.'));
    const turnId = await codex.startTurn(threadId, 'hello?');
    await codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId, 60_000);
    const after = await judgeWhileLive(codex.outDir, (r) => turnOf(r, turnId)?.status === TURN_STATE_FAILED);
    expect(turnOf(after, turnId)?.verdict, describeTurn(after)).toBe(VERDICT_UNKNOWN);
    expect(JSON.stringify(turnOf(after, turnId)?.evidence)).toMatch(/context window/);
    const rollout = await judgeRollouts(codex.codexHome);
    expect(turnOf(rollout, turnId), describeTurn(rollout)).toMatchObject({ status: TURN_STATE_FAILED, verdict: VERDICT_UNKNOWN });
  });

  it('a tool that runs and runs', async () => {
    const { api, codex, threadId } = await begin();
    api.enqueue(functionCallReply('call_sleep', 'exec_command', { cmd: 'sleep 30', yield_time_ms: 60_000 }), textReply('done'));
    const turnId = await codex.startTurn(threadId, 'wait a while');
    await codex.waitForNotification('item/started', (p) => p.item?.type === 'commandExecution');
    const report = await judgeWhileLive(codex.outDir, verdictIs(turnId, VERDICT_TOOL_RUNNING), { aheadMs: PAST_STUCK });
    expect(turnOf(report, turnId)?.verdict, describeTurn(report)).toBe(VERDICT_TOOL_RUNNING);
    const rollout = await judgeRollouts(codex.codexHome, PAST_STUCK);
    expect(turnOf(rollout, turnId), describeTurn(rollout)).toMatchObject({ status: TURN_STATE_STUCK, verdict: VERDICT_TOOL_RUNNING });
  });

  it('a session of several turns: the earlier ones healthy, the last one stuck', async () => {
    const { api, codex, threadId } = await begin();
    api.enqueue(textReply('one'), functionCallReply('call_2', 'exec_command', { cmd: 'echo two' }), textReply('two'), silentAfterHeadersReply());
    const first = await codex.startTurn(threadId, 'first');
    await codex.waitForNotification('turn/completed', (p) => p.turn.id === first);
    const second = await codex.startTurn(threadId, 'second');
    await codex.waitForNotification('turn/completed', (p) => p.turn.id === second);
    const third = await codex.startTurn(threadId, 'third');
    await api.waitForRequests(4);
    const report = await judgeWhileLive(codex.outDir, verdictIs(third, VERDICT_BACKEND_STALL), { aheadMs: PAST_STUCK });
    const rollout = await judgeRollouts(codex.codexHome, PAST_STUCK);
    for (const judged of [report, rollout]) {
      expect(turnOf(judged, first), describeTurn(judged)).toMatchObject({ status: TURN_STATE_COMPLETED, verdict: VERDICT_HEALTHY });
      expect(turnOf(judged, second), describeTurn(judged)).toMatchObject({ status: TURN_STATE_COMPLETED, verdict: VERDICT_HEALTHY });
      expect(turnOf(judged, third), describeTurn(judged)).toMatchObject({ status: TURN_STATE_STUCK, verdict: VERDICT_BACKEND_STALL });
    }
  });

  // The same fault seen two ways. Through stdio alone, the tool result is the last thing anyone
  // sees: the continuation is lost. With the upstream proxy, the continuation request is seen
  // leaving and never answered: by the vocabulary's own definitions that is a backend stall (of the
  // continuation), and the evidence says so.
  it('silence on the post-tool continuation request (JSON-RPC only)', async () => {
    const { api, codex, threadId } = await begin({ upstreamProxy: false });
    api.enqueue(functionCallReply('call_1', 'exec_command', { cmd: 'echo tool-ran' }), silentBeforeHeadersReply());
    const turnId = await codex.startTurn(threadId, 'run echo');
    await codex.waitForNotification('item/completed', (p) => p.item?.type === 'commandExecution');
    const [, continuation] = await api.waitForRequests(2);
    expect(continuation.body).toContain('function_call_output');
    const report = await judgeWhileLive(codex.outDir, verdictIs(turnId, VERDICT_POST_TOOL_CONTINUATION_LOST), { aheadMs: PAST_STUCK });
    expect(turnOf(report, turnId)?.verdict, describeTurn(report)).toBe(VERDICT_POST_TOOL_CONTINUATION_LOST);
  });

  it('silence on the post-tool continuation request (with the upstream proxy)', async () => {
    const { api, codex, threadId } = await begin();
    api.enqueue(functionCallReply('call_1', 'exec_command', { cmd: 'echo tool-ran' }), silentBeforeHeadersReply());
    const turnId = await codex.startTurn(threadId, 'run echo');
    await codex.waitForNotification('item/completed', (p) => p.item?.type === 'commandExecution');
    await api.waitForRequests(2);
    const report = await judgeWhileLive(codex.outDir, verdictWith(turnId, VERDICT_BACKEND_STALL, /continuation/), { aheadMs: PAST_STUCK });
    const turn = turnOf(report, turnId);
    expect(turn?.verdict, describeTurn(report)).toBe(VERDICT_BACKEND_STALL);
    expect(JSON.stringify(turn?.evidence), describeTurn(report)).toMatch(/continuation/);
  });

  it('a command that outlives its yield, then a silent continuation: backend_stall, the process named in the background', async () => {
    const { api, codex, threadId } = await begin();
    // exec_command hands the call back after yield_time_ms; `sleep 120` runs on in a background terminal.
    api.enqueue(functionCallReply('call_bg', 'exec_command', { cmd: 'sleep 120', yield_time_ms: 1000 }), silentAfterHeadersReply());
    const turnId = await codex.startTurn(threadId, 'start the long job');
    await api.waitForRequests(2);
    const report = await judgeWhileLive(codex.outDir, verdictWith(turnId, VERDICT_BACKEND_STALL, /still running in the background since/), { aheadMs: PAST_STUCK });
    const turn = turnOf(report, turnId);
    expect(turn?.verdict, describeTurn(report)).toBe(VERDICT_BACKEND_STALL);
    expect(JSON.stringify(turn?.evidence), describeTurn(report)).toMatch(/still running in the background since/);
    // Codex's own rollout writes the call's output ("Process running with session ID …") when it hands it back.
    const rollout = await judgeRollouts(codex.codexHome, PAST_STUCK);
    expect(turnOf(rollout, turnId), describeTurn(rollout)).toMatchObject({ status: TURN_STATE_STUCK, verdict: VERDICT_POST_TOOL_CONTINUATION_LOST });
    expect(JSON.stringify(turnOf(rollout, turnId)?.evidence), describeTurn(rollout)).toMatch(/still running in the background \(session \d+\)/);
  });

  it('a turn that completes while its background process runs: completed and healthy', async () => {
    const { api, codex, threadId } = await begin();
    api.enqueue(functionCallReply('call_bg', 'exec_command', { cmd: 'sleep 120', yield_time_ms: 1000 }), textReply('the job runs in the background'));
    const turnId = await codex.startTurn(threadId, 'start the long job');
    await codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId, 30_000);
    const report = await judgeWhileLive(codex.outDir, (r) => turnOf(r, turnId)?.status === TURN_STATE_COMPLETED);
    expect(turnOf(report, turnId), describeTurn(report)).toMatchObject({ status: TURN_STATE_COMPLETED, verdict: VERDICT_HEALTHY });
    const rollout = await judgeRollouts(codex.codexHome);
    expect(turnOf(rollout, turnId), describeTurn(rollout)).toMatchObject({ status: TURN_STATE_COMPLETED, verdict: VERDICT_HEALTHY });
  });

  it('silence on a compaction request (thread/compact/start)', async () => {
    const { api, codex, threadId } = await begin();
    api.enqueue(textReply('first answer'));
    const first = await codex.startTurn(threadId, 'first');
    await codex.waitForNotification('turn/completed', (p) => p.turn.id === first);
    api.enqueue(silentBeforeHeadersReply());
    await codex.request('thread/compact/start', { threadId });
    const started = await codex.waitForNotification('turn/started', (p) => p.turn.id !== first);
    const turnId = started.params.turn.id as string;
    await api.waitForRequests(2);
    const report = await judgeWhileLive(codex.outDir, verdictIs(turnId, VERDICT_COMPACTION), { aheadMs: PAST_STUCK });
    expect(turnOf(report, turnId)?.verdict, describeTurn(report)).toBe(VERDICT_COMPACTION);
  });

  for (const upstreamProxy of [true, false]) {
    const seen = upstreamProxy ? /events still coming at/ : /still being written at/;
    it(`a long answer streamed for 40 s is in progress, not stuck (${upstreamProxy ? 'with the upstream proxy' : 'JSON-RPC only'})`, { timeout: 90_000 }, async () => {
      const { api, codex, threadId } = await begin({ upstreamProxy });
      api.enqueue(tricklingTextReply(40, 1_000));
      const turnId = await codex.startTurn(threadId, 'write a long story');
      await codex.waitForNotification('item/agentMessage/delta', (p) => p.turnId === turnId);
      // Past the 30 s stuck threshold since its first event, the answer still streaming.
      await new Promise((r) => setTimeout(r, 34_000));
      const report = await judgeWhileLive(codex.outDir, (r) => turnOf(r, turnId)?.status === TURN_STATE_IN_PROGRESS && seen.test(JSON.stringify(turnOf(r, turnId)?.evidence)), { timeoutMs: 4_000 });
      const turn = turnOf(report, turnId);
      expect(turn?.status, describeTurn(report)).toBe(TURN_STATE_IN_PROGRESS);
      expect(JSON.stringify(turn?.evidence), describeTurn(report)).toMatch(seen);
      await codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId, 20_000);
      const done = await judgeWhileLive(codex.outDir, (r) => turnOf(r, turnId)?.status === TURN_STATE_COMPLETED);
      expect([turnOf(done, turnId)?.status, turnOf(done, turnId)?.verdict], describeTurn(done)).toEqual([TURN_STATE_COMPLETED, VERDICT_HEALTHY]);
    });
  }

  it('the client leaves mid-turn while the backend finishes (--linger)', async () => {
    const { api, codex, threadId } = await begin({ lingerSeconds: 20 });
    api.enqueue(slowTextReply('a long answer nobody reads', 2_000));
    const turnId = await codex.startTurn(threadId, 'tell me a story');
    await codex.waitForNotification('item/agentMessage/delta', (p) => p.turnId === turnId);
    codex.leave();
    // The backend still finishes: the proxy sees the stream end, and Codex completes the turn.
    await codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId, 15_000);
    const report = await judgeWhileLive(codex.outDir, verdictIs(turnId, VERDICT_RENDERER_DETACHED));
    expect(turnOf(report, turnId)?.verdict, describeTurn(report)).toBe(VERDICT_RENDERER_DETACHED);
  });

  it('an approval request nobody answers', async () => {
    const { api, codex, threadId } = await begin({ config: { approval_policy: '"on-request"', sandbox_mode: '"read-only"' } });
    api.enqueue(functionCallReply('call_esc', 'exec_command', { cmd: 'touch escalated.txt', sandbox_permissions: 'require_escalated', justification: 'needs to write a file' }));
    const turnId = await codex.startTurn(threadId, 'make a file');
    const asked = await codex.waitFor((m) => m.method === 'item/commandExecution/requestApproval' && m.id !== undefined, 'an approval request');
    expect(asked.params.turnId).toBe(turnId);
    const report = await judgeWhileLive(codex.outDir, verdictIs(turnId, VERDICT_AWAITING_APPROVAL), { aheadMs: PAST_STUCK });
    expect(turnOf(report, turnId)?.verdict, describeTurn(report)).toBe(VERDICT_AWAITING_APPROVAL);
  });

  it('a user interrupt', async () => {
    const { api, codex, threadId } = await begin();
    api.enqueue(silentAfterHeadersReply());
    const turnId = await codex.startTurn(threadId, 'hello?');
    await api.waitForRequests(1);
    await codex.request('turn/interrupt', { threadId, turnId });
    const done = await codex.waitForNotification('turn/completed', (p) => p.turn.id === turnId);
    expect(done.params.turn.status).toBe('interrupted');
    const report = await judgeWhileLive(codex.outDir, (r) => turnOf(r, turnId)?.status === TURN_STATE_INTERRUPTED);
    expect(turnOf(report, turnId)?.status, describeTurn(report)).toBe(TURN_STATE_INTERRUPTED);
  });
});
