import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { interfacesBesidesLoopback } from '../network-namespace.mjs';
import { AcpAgentUnderRecord, notInstalled, promptTurn, type AcpAgentName } from './acp-agent-under-record.js';
import { judgeFinished, judgeWhileLive, type JudgedTurn } from './codex-under-record.js';
import { ANTHROPIC_MESSAGES, GEMINI, OPENAI_RESPONSES, textBody, type ModelFormat } from './fake-model-formats.js';
import { heldAfterHeadersReply, heldBeforeHeadersReply, slowStatusReply, slowStreamReply, streamReply, type FakeResponsesApi } from './fake-responses-api.js';

// Real ACP agents (pinned, installed by test/e2e/install-acp-agents.mjs) under the built
// `stall-why record --protocol acp --upstream`, each against a fake model API on loopback, in the
// e2e network namespace. Each fault is judged by `stall-why <dir> --json` while it holds and again
// once the agent has answered the prompt.

/** Judge a stall as it looks once it has lasted past the 30 s stuck threshold. */
const PAST_STUCK = 60_000;
/** How long a stall is held before it is released: past the 5 s a wait must take to name an ended turn. */
const HELD_MS = 6_000;

describe('the ACP agents run where only loopback is up', () => {
  it('this process sees no interface but lo, and an agent-like child cannot reach a public address', () => {
    expect(interfacesBesidesLoopback()).toEqual([]);
    const probe = spawnSync(process.execPath, ['-e', `require('node:net').connect(443, '1.1.1.1').on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`], { encoding: 'utf8', timeout: 10_000 });
    expect(probe.stdout.trim()).toMatch(/^(ENETUNREACH|EHOSTUNREACH|EACCES|EPERM)$/);
  });
});

let agent: AcpAgentUnderRecord | undefined;
const others: AcpAgentUnderRecord[] = [];
let api: FakeResponsesApi | undefined;

afterEach(async () => {
  for (const a of [agent, ...others.splice(0)]) {
    if (!a) continue;
    await a.stop();
    if (process.env.STALL_WHY_E2E_KEEP) console.log(`recording kept: ${a.outDir}`);
    else a.cleanup();
  }
  await api?.close();
  agent = undefined;
  api = undefined;
});

/** A released fault: the promise a held reply waits on, and its release. */
function fault(): { held: Promise<void>; release: () => void } {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  return { held, release };
}

const describeReport = (r: { raw: string }) => r.raw.slice(0, 4000);
const evidenceOf = (t: JudgedTurn | undefined) => JSON.stringify(t?.evidence);

/** Each agent, the model API it speaks, and what it does where they differ (research README §2–§4). */
const AGENTS: ReadonlyArray<{ name: AcpAgentName; format: ModelFormat; retriesGiveUp: boolean; cancelQuirk: boolean; loadInLaterMinute: boolean }> = [
  // 12 attempts, then `-32603`.
  { name: 'codex-acp', format: OPENAI_RESPONSES, retriesGiveUp: true, cancelQuirk: false, loadInLaterMinute: false },
  // CLAUDE_CODE_MAX_RETRIES=4: 5 attempts, then `-32603`; the prompt after a cancel is answered empty at once.
  { name: 'claude-agent-acp', format: ANTHROPIC_MESSAGES, retriesGiveUp: true, cancelQuirk: true, loadInLaterMinute: false },
  // Backs off for minutes on 503 (the test cancels); `session/load` in the minute the session was made erases it.
  { name: 'gemini-cli', format: GEMINI, retriesGiveUp: false, cancelQuirk: false, loadInLaterMinute: true },
];

for (const { name, format, retriesGiveUp, cancelQuirk, loadInLaterMinute } of AGENTS) {
  const missing = notInstalled(name);
  if (missing) console.warn(`acp-agents.e2e: ${name} skipped: ${missing}`);

  describe.skipIf(missing !== undefined)(`stall-why on ${name}, fault by fault`, () => {
    async function begin(): Promise<{ agent: AcpAgentUnderRecord; api: FakeResponsesApi; sessionId: string; origin: string }> {
      api = format.api();
      const origin = await api.listen();
      agent = new AcpAgentUnderRecord({ agent: name, apiOrigin: origin });
      // An installed agent that does not start fails here, loudly: only a missing install skips.
      const init = await agent.start();
      expect(init.protocolVersion, agent.stderr).toBe(1);
      return { agent, api, sessionId: await agent.newSession(), origin };
    }

    /** Judges until the prompt's turn satisfies `settled` (or a deadline), and returns that turn with the report. */
    async function judgeTurn(a: AcpAgentUnderRecord, sessionId: string, id: number, settled: (t: JudgedTurn) => boolean, aheadMs = 0) {
      const report = await judgeWhileLive(a.outDir, (r) => { const t = promptTurn(r, sessionId, id); return t !== undefined && settled(t); }, { aheadMs, timeoutMs: 20_000 });
      return { report, turn: promptTurn(report, sessionId, id) };
    }

    const text = (t: string) => streamReply(textBody(format, t));
    const shellCall = (command: string) => streamReply((request) => format.shellCall(command, request));

    it('healthy turn', async () => {
      const { agent, api, sessionId } = await begin();
      api.enqueue(text('hello'));
      const { id, answer } = agent.prompt(sessionId, 'say hello');
      expect((await answer).result?.stopReason, agent.stderr).toBe('end_turn');
      const { report, turn } = await judgeTurn(agent, sessionId, id, (t) => t.status === 'completed');
      expect([turn?.status, turn?.verdict], describeReport(report)).toEqual(['completed', 'healthy']);
      // The proxy saw the model request: the verdict does not say upstream is unseen.
      expect(evidenceOf(turn)).not.toMatch(/ACP transcript alone/);
      expect(report.raw).not.toMatch(/never-recorded/);
    });

    const stalls = [
      { where: 'after response headers', reply: heldAfterHeadersReply, evidence: /headers at .*no body byte/ },
      { where: 'before response headers', reply: heldBeforeHeadersReply, evidence: /no response headers/ },
    ];
    for (const { where, reply, evidence } of stalls) {
      it(`a stall ${where}: backend_stall live, and once it ends`, async () => {
        const { agent, api, sessionId } = await begin();
        const stall = fault();
        api.enqueue(reply(stall.held, textBody(format, 'late hello')));
        const { id, answer } = agent.prompt(sessionId, 'hello?');
        await api.waitForRequests(1);
        const live = await judgeTurn(agent, sessionId, id, (t) => t.verdict === 'backend_stall' && evidence.test(evidenceOf(t)), PAST_STUCK);
        expect([live.turn?.status, live.turn?.verdict], describeReport(live.report)).toEqual(['stuck', 'backend_stall']);
        expect(evidenceOf(live.turn)).toMatch(evidence);
        setTimeout(stall.release, Math.max(0, api.requests[0]!.atMs + HELD_MS - Date.now()));
        expect((await answer).result?.stopReason, agent.stderr).toBe('end_turn');
        const after = await judgeTurn(agent, sessionId, id, (t) => t.status === 'completed');
        expect([after.turn?.status, after.turn?.verdict], describeReport(after.report)).toEqual(['completed', 'backend_stall']);
      });
    }

    it('a shell command whose permission request is answered: awaiting_approval while it is open, healthy once done', async () => {
      const { agent, api, sessionId } = await begin();
      api.enqueue(shellCall('touch tool-out.txt && echo hello-from-tool'), text('ran it'));
      const { id, answer } = agent.prompt(sessionId, 'run the tool');
      const permission = await agent.waitForPermission();
      const live = await judgeTurn(agent, sessionId, id, (t) => t.verdict === 'awaiting_approval', PAST_STUCK);
      expect([live.turn?.status, live.turn?.verdict], describeReport(live.report)).toEqual(['stuck', 'awaiting_approval']);
      agent.answerPermission(permission, 'allow_once');
      expect((await answer).result?.stopReason, agent.stderr).toBe('end_turn');
      expect(api.requests).toHaveLength(2);
      expect(api.requests[1]!.body).toContain(format.toolResultMarker);
      const after = await judgeTurn(agent, sessionId, id, (t) => t.status === 'completed');
      expect([after.turn?.status, after.turn?.verdict], describeReport(after.report)).toEqual(['completed', 'healthy']);
    });

    it('a permission request left open, then the prompt cancelled while it is pending', async () => {
      const { agent, api, sessionId } = await begin();
      api.enqueue(shellCall('touch never-run.txt'));
      const { id, answer } = agent.prompt(sessionId, 'run the tool');
      const permission = await agent.waitForPermission();
      const askedAt = Date.now();
      const live = await judgeTurn(agent, sessionId, id, (t) => t.verdict === 'awaiting_approval', PAST_STUCK);
      expect([live.turn?.status, live.turn?.verdict], describeReport(live.report)).toEqual(['stuck', 'awaiting_approval']);
      // Left open as long as the stalls are held: an ended turn names a wait only past 5 s (a cancel
      // 70 ms after the request is a person changing their mind, not a wait).
      await new Promise((r) => setTimeout(r, Math.max(0, askedAt + HELD_MS - Date.now())));
      agent.cancel(sessionId);
      // codex-acp and claude-agent-acp answer `cancelled` at once; gemini-cli only once the permission is answered.
      agent.answerPermission(permission, 'cancelled');
      expect((await answer).result?.stopReason, agent.stderr).toBe('cancelled');
      const after = await judgeTurn(agent, sessionId, id, (t) => t.status === 'interrupted');
      expect([after.turn?.status, after.turn?.verdict], describeReport(after.report)).toEqual(['interrupted', 'awaiting_approval']);
    });

    it(`HTTP 503 on every attempt: transport_retry live, and once ${retriesGiveUp ? 'the agent gives up' : 'the prompt is cancelled'}`, async () => {
      const { agent, api, sessionId } = await begin();
      for (let i = 0; i < 40; i++) api.enqueue(slowStatusReply(503, 700));
      const { id, answer } = agent.prompt(sessionId, 'hello?');
      await api.waitForRequests(2);
      const live = await judgeTurn(agent, sessionId, id, (t) => t.verdict === 'transport_retry' && t.status !== 'failed');
      expect(live.turn?.verdict, describeReport(live.report)).toBe('transport_retry');
      if (!retriesGiveUp) agent.cancel(sessionId);
      const answered = await answer;
      if (retriesGiveUp) expect(answered.error?.code, JSON.stringify(answered)).toBe(-32603);
      else expect(answered.result?.stopReason).toBe('cancelled');
      const status = retriesGiveUp ? 'failed' : 'interrupted';
      const after = await judgeTurn(agent, sessionId, id, (t) => t.status === status);
      expect([after.turn?.status, after.turn?.verdict], describeReport(after.report)).toEqual([status, 'transport_retry']);
      expect(evidenceOf(after.turn)).toMatch(/503/);
    });

    it('a cancel mid-stream: interrupted while the model wrote, no stall; the session goes on', async () => {
      const { agent, api, sessionId } = await begin();
      api.enqueue(slowStreamReply((r) => format.text('a long answer', r).head, '', 120_000), text('next answer'), text('one more'));
      const { id, answer } = agent.prompt(sessionId, 'write a lot');
      await agent.waitForNotification('session/update', (p) => p.update?.sessionUpdate === 'agent_message_chunk');
      const live = await judgeTurn(agent, sessionId, id, (t) => t.status === 'in_progress');
      expect(live.turn?.status, describeReport(live.report)).toBe('in_progress');
      agent.cancel(sessionId);
      expect((await answer).result?.stopReason).toBe('cancelled');
      const after = await judgeTurn(agent, sessionId, id, (t) => t.status === 'interrupted');
      expect([after.turn?.status, after.turn?.verdict], describeReport(after.report)).toEqual(['interrupted', 'healthy']);
      const next = agent.prompt(sessionId, 'and now?');
      expect((await next.answer).result?.stopReason).toBe('end_turn');
      const nextTurn = await judgeTurn(agent, sessionId, next.id, (t) => t.status === 'completed');
      expect(nextTurn.turn?.verdict, describeReport(nextTurn.report)).toBe('healthy');
      // claude-agent-acp 0.23 answers the prompt after a cancel at once with nothing: the evidence says so.
      if (cancelQuirk) expect(evidenceOf(nextTurn.turn)).toMatch(/answered this prompt end_turn with nothing in .* right after the session's previous prompt was cancelled/);
      else expect(evidenceOf(nextTurn.turn)).not.toMatch(/with nothing/);
    });

    it('session/load of an earlier session in a second process: its history replayed, the next prompt healthy', async () => {
      const { agent: first, api, sessionId, origin } = await begin();
      api.enqueue(text('first answer'), text('after load'));
      const createdAt = Date.now();
      expect((await first.prompt(sessionId, 'remember this').answer).result?.stopReason).toBe('end_turn');
      await first.stop();
      // gemini-cli 0.61 erases a session loaded in the wall-clock minute it was made (google-gemini/gemini-cli#28775).
      if (loadInLaterMinute) await new Promise((r) => setTimeout(r, Math.max(0, 60_000 - (createdAt % 60_000) + 500)));
      const second = new AcpAgentUnderRecord({ agent: name, apiOrigin: origin, reuseHomeOf: first });
      others.push(second);
      await second.start();
      await second.loadSession(sessionId);
      expect(second.messages.some((m) => m.msg.method === 'session/update' && m.msg.params?.update?.sessionUpdate === 'user_message_chunk')).toBe(true);
      const { id, answer } = second.prompt(sessionId, 'still there?');
      expect((await answer).result?.stopReason, second.stderr).toBe('end_turn');
      const after = await judgeTurn(second, sessionId, id, (t) => t.status === 'completed');
      expect([after.turn?.status, after.turn?.verdict], describeReport(after.report)).toEqual(['completed', 'healthy']);
      const finished = await judgeFinished(second.outDir);
      expect(finished.code, describeReport(finished)).toBe(0);
    });
  });
}
