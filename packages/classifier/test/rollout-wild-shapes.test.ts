/**
 * The rollout shapes older and other Codex versions wrote, each in a few lines shaped like the real
 * files of test/corpus/wild (named per test): turns with no task_started, a call written only with
 * its output, approvals read from how a call was answered, one compaction per compaction.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeTraces } from '@stall-why/classifier';
import { APPROVAL_KIND_FILE_CHANGE, ATTR_APPROVAL_KIND, PHASE_APPROVAL, PHASE_COMPACTION, PHASE_UPSTREAM_RETRY } from '@stall-why/conventions';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'stall-why-shapes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2025-11-01T17:00:00.000Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();
const line = (s: number, type: string, payload: object): string => JSON.stringify({ timestamp: at(s), type, payload });
const user = (s: number, text: string): string[] => [
  line(s, 'response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text }] }),
  line(s + 0.001, 'event_msg', { type: 'user_message', message: text, kind: 'plain' }),
];
const answer = (s: number, text = 'done'): string => line(s, 'response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
const call = (s: number, id: string, command: string, escalated = false): string =>
  line(s, 'response_item', { type: 'function_call', name: 'shell', arguments: JSON.stringify({ command: ['bash', '-lc', command], ...(escalated ? { with_escalated_permissions: true, justification: 'needs .git' } : {}) }), call_id: id });
const output = (s: number, id: string, text: string): string => line(s, 'response_item', { type: 'function_call_output', call_id: id, output: text });

let n = 0;
async function judge(lines: string[], nowS: number) {
  const path = join(dir, `rollout-2025-11-01T17-00-00-0199a000-0000-7000-8000-${String(++n).padStart(12, '0')}.jsonl`);
  writeFileSync(path, [line(0, 'session_meta', { id: `0199a000-0000-7000-8000-${String(n).padStart(12, '0')}`, cli_version: '0.34.0', originator: 'codex_cli_rs' }), ...lines].join('\n') + '\n');
  return analyzeTraces([path], { now: T0 + nowS * 1000 });
}

describe('rollouts that mark no turns (Codex up to 0.9x: v0.34, v0.57, v0.94a in test/corpus/wild)', () => {
  it('a turn per person\'s input (written twice, one turn), ended at its answer', async () => {
    const { report } = await judge([...user(1, 'hi'), line(2, 'response_item', { type: 'reasoning', summary: [] }), answer(40), ...user(60, 'more'), answer(65)], 100);
    expect(report.turns.map((t) => [t.turnId, t.status, t.verdict, t.endedAt])).toEqual([
      ['inferred-L2', 'completed', 'healthy', at(40)],
      ['inferred-L6', 'completed', 'healthy', at(65)],
    ]);
    // 38 s before the answer is the model thinking, which a rollout writes only when it is done: no stall.
    expect(report.turns[0]!.evidence.join('\n')).toMatch(/model working 39 s of the turn .*: not a wait/);
  });

  it('an input left with no answer and asked again later: the first turn was interrupted, and 144 s of silence is a backend stall', async () => {
    const { report } = await judge([...user(1, 'which languages?'), line(1.5, 'turn_context', { approval_policy: 'on-request' }), ...user(145, 'which languages?'), answer(148)], 200);
    expect(report.turns.map((t) => [t.status, t.verdict])).toEqual([['interrupted', 'backend_stall'], ['completed', 'healthy']]);
    expect(report.turns[0]!.confidence).toBeLessThanOrEqual(0.5);
    expect(report.turns[0]!.evidence.join('\n')).toMatch(/nothing came from the model for 2 min 24 s: a stalled request, or a model still at work/);
  });

  it('a call whose id is past the head of a long line still finds its output', async () => {
    const long = 'x'.repeat(20_000);
    const { report } = await judge([...user(1, 'go'), call(2, 'call_long', `echo ${long}`), output(3, 'call_long', 'ok'), answer(4)], 10);
    expect(report.turns[0]).toMatchObject({ status: 'completed', verdict: 'healthy' });
  });
});

describe('approvals read from how a call was written (v0.34, v0.40, v0.42a)', () => {
  it('an escalated call written with its output after 200 s of quiet: the approval, less the run the output reports', async () => {
    const { report, spans } = await judge(
      [...user(1, 'commit'), output(9, 'c0', 'x'), call(210, 'c1', 'git add . && git commit -m x', true), output(210.001, 'c1', 'Wall time: 0.3 seconds\nOutput:\n[main 85d6efa] x'), answer(220)],
      300,
    );
    const approval = spans.find((s) => s.name === PHASE_APPROVAL)!;
    expect(approval.startTimeMs).toBe(T0 + 9_000);
    expect(approval.endTimeMs).toBeCloseTo(T0 + 209_700, 0);
    expect(report.turns[0]).toMatchObject({ status: 'completed', verdict: 'awaiting_approval' });
    expect(report.turns[0]!.evidence.join('\n')).toMatch(/inferred from the rollout, not seen as a request/);
  });

  it('the same quiet before an escalated call that ran for 190 s was the run: no approval', async () => {
    const { report, spans } = await judge(
      [...user(1, 'test'), output(9, 'c0', 'x'), call(210, 'c1', 'pytest -q', true), output(210.001, 'c1', 'Wall time: 190 seconds\nOutput:\n...'), answer(220)],
      300,
    );
    expect(spans.some((s) => s.name === PHASE_APPROVAL)).toBe(false);
    expect(report.turns[0]).toMatchObject({ status: 'completed', verdict: 'healthy' });
  });

  it('a call rejected by the person after three hours, then the turn aborted: interrupted, awaiting_approval', async () => {
    const { report } = await judge(
      [...user(1, 'clone it'), line(100, 'event_msg', { type: 'agent_reasoning', text: 'clone' }), call(12_100, 'c1', 'git clone x', true), output(12_100.001, 'c1', 'exec command rejected by user'), line(12_101, 'event_msg', { type: 'turn_aborted', reason: 'interrupted' })],
      13_000,
    );
    expect(report.turns[0]).toMatchObject({ status: 'interrupted', verdict: 'awaiting_approval' });
  });

  it('an approval request event still open at the end of a live rollout: stuck on it, seen, not inferred', async () => {
    const { report } = await judge(
      [...user(1, 'push'), call(5, 'c1', 'git push', true), line(5.01, 'event_msg', { type: 'exec_approval_request', call_id: 'c1', command: ['git', 'push'] })],
      65,
    );
    expect(report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'awaiting_approval', confidence: 0.95 });
  });
});

describe('compaction without a begin marker (v0.65a, v0.94a)', () => {
  it('compacted and context_compacted are one compaction, timed from the step before them', async () => {
    const { report, spans } = await judge(
      [
        ...user(1, 'go'),
        call(2, 'c1', 'ls'),
        output(3, 'c1', 'ok'),
        line(33, 'event_msg', { type: 'token_count', info: { total_token_usage: {} } }),
        line(33.001, 'compacted', { message: '', replacement_history: [] }),
        line(33.001, 'event_msg', { type: 'context_compacted' }),
        line(33.002, 'turn_context', { approval_policy: 'never' }),
        answer(36),
      ],
      100,
    );
    const compactions = spans.filter((s) => s.name === PHASE_COMPACTION);
    expect(compactions.map((c) => [c.startTimeMs - T0, c.endTimeMs! - T0])).toEqual([[3_000, 33_001]]);
    expect(report.turns[0]).toMatchObject({ status: 'completed', verdict: 'compaction' });
  });
});

describe('the mid-2025 shape: a session header, then items with no timestamp (vlegacy-aug2025 in test/corpus/wild)', () => {
  it('turns are read in order, nothing is timed, and a note says why', async () => {
    const path = join(dir, 'legacy.jsonl');
    const item = (o: object): string => JSON.stringify(o);
    writeFileSync(
      path,
      [
        item({ id: '09d11c8d-4bb3-44f8-983f-ab4920fd72f8', timestamp: '2025-08-25T15:38:52.891Z', instructions: null, git: {} }),
        item({ record_type: 'state' }),
        item({ type: 'message', id: null, role: 'user', content: [{ type: 'input_text', text: 'build it' }] }),
        item({ type: 'function_call', id: 'fc_1', name: 'shell', arguments: '{"command":["cargo","build"]}', call_id: 'call_1' }),
        item({ type: 'function_call_output', call_id: 'call_1', output: '{"output":"ok","metadata":{"exit_code":0,"duration_seconds":1.0}}' }),
        item({ record_type: 'state' }),
      ].join('\n') + '\n',
    );
    const { report } = await analyzeTraces([path], { now: Date.parse('2026-12-02T00:00:00Z') });
    expect(report.turns).toMatchObject([{ status: 'abandoned', verdict: 'post_tool_continuation_lost' }]);
    expect(report.sources[0]!.notes!.join('\n')).toMatch(/carry no timestamp of their own/);
  });
});

describe('shapes of the third wild batch (test/corpus/wild/third)', () => {
  const tokenCount = (s: number, output: number): string =>
    line(s, 'event_msg', { type: 'token_count', info: { total_token_usage: { input_tokens: 1000, output_tokens: output, total_tokens: 1000 + output } } });
  const turnContext = (s: number, policy = 'on-request'): string => line(s, 'turn_context', { approval_policy: policy });

  it('v0.50: a call written with its output ran from the end of the response that made it, not from when it was written', async () => {
    const { report, spans } = await judge(
      // A batch, the totals written again as the next request begins, the response (new totals), 100 s unseen, the call and its output.
      [...user(1, 'go'), call(5, 'c0', 'ls'), output(5.001, 'c0', 'ok'), turnContext(5.002, 'never'), tokenCount(7, 10), tokenCount(10, 40), call(110, 'c1', 'pixi install'), output(110.001, 'c1', 'aborted'), line(110.02, 'event_msg', { type: 'turn_aborted', reason: 'interrupted' })],
      200,
    );
    const tool = spans.find((s) => s.attributes['gen_ai.tool.call.id'] === 'c1')!;
    expect(tool.startTimeMs).toBe(T0 + 10_000);
    expect(report.turns[0]).toMatchObject({ status: 'interrupted', verdict: 'tool_running' });
  });

  it('v0.50 cut while that call runs: the response ended and nothing was written since, so its call runs unwritten', async () => {
    const lines = [...user(1, 'go'), call(5, 'c0', 'ls'), output(5.001, 'c0', 'ok'), turnContext(5.002, 'never'), tokenCount(7, 10), tokenCount(10, 40)];
    const { report } = await judge(lines, 70);
    expect(report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'tool_running' });
    expect(report.turns[0]!.evidence[0]).toMatch(/call not written yet: this Codex version writes a call once it has run.* started at 17:00:10\.000/);
    // A rollout that writes calls before they run (0.6x on) shows a running call itself: no call is made up.
    const late = await judge([...user(1, 'go'), call(5, 'c0', 'ls'), output(8, 'c0', 'ok'), turnContext(8.002), tokenCount(10, 40)], 70);
    expect(late.report.turns[0]!.verdict).not.toBe('tool_running');
  });

  it('v0.80: of the time from an escalated call to its output, what its wall time does not cover waited for the approval', async () => {
    const { report, spans } = await judge(
      [...user(1, 'test'), turnContext(1.5), call(10, 'c1', 'cargo test', true), output(140, 'c1', 'Exit code: 0\nWall time: 7.4 seconds\nOutput:\nok'), answer(150)],
      300,
    );
    const approval = spans.find((s) => s.name === PHASE_APPROVAL)!;
    expect([approval.startTimeMs, approval.endTimeMs]).toEqual([T0 + 10_000, T0 + 132_600]);
    expect(approval.attributes['stall_why.approval.inferred']).toBe(true);
    expect(report.turns[0]).toMatchObject({ status: 'completed', verdict: 'awaiting_approval' });
  });

  it('v0.80: an escalated call whose wall time is the whole wait never waited for a person; an interrupted one may have (its wall time counts the wait)', async () => {
    const ran = await judge([...user(1, 'test'), turnContext(1.5), call(10, 'c1', 'cargo test', true), output(130, 'c1', 'Exit code: 0\nWall time: 119.8 seconds\nOutput:\nok'), answer(131)], 300);
    expect(ran.spans.some((s) => s.name === PHASE_APPROVAL)).toBe(false);
    // Its run took the whole wait: the call is no longer said to expect an approval.
    expect(ran.spans.find((s) => s.attributes['gen_ai.tool.call.id'] === 'c1')!.attributes['stall_why.tool.approval_expected']).toBeUndefined();
    expect(ran.report.turns[0]).toMatchObject({ status: 'completed', verdict: 'healthy' });
    const aborted = await judge(
      [...user(1, 'test'), turnContext(1.5), call(10, 'c1', 'cargo test', true), output(417, 'c1', 'Wall time: 406.9 seconds\naborted by user'), line(417.05, 'event_msg', { type: 'turn_aborted', reason: 'interrupted' })],
      500,
    );
    expect(aborted.report.turns[0]).toMatchObject({ status: 'interrupted', verdict: 'awaiting_approval' });
  });

  it('v0.125: a forced rm under on-request asks the person even unescalated (Codex\'s command_might_be_dangerous)', async () => {
    const { report } = await judge([...user(1, 'clean'), turnContext(1.5), call(5, 'c1', 'rm -rf build && mkdir build')], 60);
    expect(report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'awaiting_approval' });
    const plain = await judge([...user(1, 'clean'), turnContext(1.5), call(5, 'c1', 'rm -r build')], 60);
    expect(plain.report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'tool_running' });
  });

  it('Windows: a forced PowerShell delete under on-request asks the person too (Codex\'s is_dangerous_powershell_words; a 0.101 session waited 28 min on one)', async () => {
    const ps = (s: number, id: string, script: string): string =>
      line(s, 'response_item', { type: 'function_call', name: 'shell', arguments: JSON.stringify({ command: ['powershell.exe', '-Command', script] }), call_id: id });
    const forced = await judge([...user(1, 'clean'), turnContext(1.5), ps(5, 'c1', 'Remove-Item -Recurse -Force .\\bin')], 60);
    expect(forced.report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'awaiting_approval' });
    const plain = await judge([...user(1, 'clean'), turnContext(1.5), ps(5, 'c1', 'Get-ChildItem -Force .\\bin')], 60);
    expect(plain.report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'tool_running' });
  });

  it('v0.114: a sub-agent forked from another session keeps its own thread and turns; its parent\'s history copied in is not read as turns', async () => {
    const own = '019ce419-22de-7f50-80eb-86a44f32465b';
    const parent = '019ce3fb-1087-7980-8f92-8d0171aaea6a';
    const path = join(dir, `rollout-2026-03-12T22-09-38-${own}.jsonl`);
    const start = (s: number, turn: string): string => line(s, 'event_msg', { type: 'task_started', turn_id: turn });
    const done = (s: number): string => line(s, 'event_msg', { type: 'task_complete', last_agent_message: 'ok' });
    writeFileSync(path, [
      line(0, 'session_meta', { id: own, forked_from_id: parent, source: { subagent: { thread_spawn: { parent_thread_id: parent } } } }),
      line(0.001, 'session_meta', { id: parent, source: 'cli' }),
      // The parent's history: a turn that ended, and the one still open when it spawned the sub-agent.
      start(0.002, '019ce3fb-1f66-7f61-ae11-83f0bf85050b'), ...user(0.002, 'plan'), answer(0.003), done(0.003),
      start(0.004, '019ce418-c448-70a3-a38b-fed5dc9d41d0'), ...user(0.004, 'go'), call(0.005, 'spawn', 'spawn_agent'),
      // The sub-agent's own turn: its id was made after its session's.
      start(0.6, '019ce419-230c-7d72-b234-3b3dd291d611'), ...user(0.6, 'implement batch 3'), answer(5), done(5),
    ].join('\n') + '\n');
    const { report } = await analyzeTraces([path], { now: T0 + 60_000 });
    expect(report.turns.map((t) => [t.threadId, t.turnId, t.status, t.verdict])).toEqual([[own, '019ce419-230c-7d72-b234-3b3dd291d611', 'completed', 'healthy']]);
    expect(report.sources[0]!.notes!.join('\n')).toMatch(new RegExp(`forked from session ${parent}: lines 2-\\d+, its parent's history`));
  });

  it('v0.154: the copied history ends where the sub-agent\'s session_meta says (subagent_history_start_ordinal), its own settings line within the copy\'s moment included', async () => {
    const own = '01a09697-622e-7f32-ad6d-4f8101aeff1f';
    const parent = '01a095a4-ebb9-7c10-a8e3-0e8e7fc24e87';
    const path = join(dir, `rollout-2026-09-12T17-08-18-${own}.jsonl`);
    const numbered = (s: number, ordinal: number, type: string, payload: object): string => JSON.stringify({ timestamp: at(s), ordinal, type, payload });
    writeFileSync(path, [
      // The field comes after the base instructions, tens of KB into the line.
      numbered(0, 0, 'session_meta', { id: own, forked_from_id: parent, base_instructions: { text: 'x'.repeat(20_000) }, history_mode: 'paginated', subagent_history_start_ordinal: 5 }),
      numbered(0.001, 1, 'session_meta', { id: parent }),
      numbered(0.002, 2, 'event_msg', { type: 'task_started', turn_id: '01a09697-3062-7233-955c-f4493a065a7d' }),
      numbered(0.002, 3, 'turn_context', { approval_policy: 'on-request' }),
      numbered(0.003, 4, 'response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'research pricing' }] }),
      // The sub-agent's own settings, 230 ms after the copy: within the pause that ends a copy by timing alone.
      numbered(0.233, 5, 'event_msg', { type: 'thread_settings_applied', thread_settings: { approval_policy: 'never' } }),
      numbered(0.45, 6, 'event_msg', { type: 'task_started', turn_id: '01a09697-63fe-72b0-bf10-16dd3ac8c083' }),
      numbered(0.5, 7, 'response_item', { type: 'function_call', name: 'shell', arguments: JSON.stringify({ command: ['bash', '-lc', 'git push'], with_escalated_permissions: true }), call_id: 'c1' }),
    ].join('\n') + '\n');
    const { report } = await analyzeTraces([path], { now: T0 + 60_000 });
    expect(report.sources[0]!.notes!.join('\n')).toContain(`forked from session ${parent}: lines 2-5,`);
    // Its own policy never asks a person: the open call runs, it awaits no approval.
    expect(report.turns.map((t) => [t.turnId, t.status, t.verdict])).toEqual([['01a09697-63fe-72b0-bf10-16dd3ac8c083', 'stuck', 'tool_running']]);
  });

  it('0.144: a turn waiting in wait_agent names what each sub-agent of the inputs is doing; the sub-agent\'s turns name their parent', async () => {
    const parent = '019f5c38-3fff-7d61-a63b-76dc0bb6aa56';
    const child = '019f5c38-cac3-7280-98f9-4fb47729fd4d';
    const start = (s: number, turn: string): string => line(s, 'event_msg', { type: 'task_started', turn_id: turn });
    const parentFile = join(dir, `rollout-2026-07-13T16-03-43-${parent}.jsonl`);
    writeFileSync(parentFile, [
      line(0, 'session_meta', { id: parent, source: 'vscode' }),
      start(1, '019f5c38-5469-7181-acde-f93aa19117bb'), ...user(1, 'install it'), line(1.5, 'turn_context', { approval_policy: 'never' }),
      line(5, 'response_item', { type: 'function_call', name: 'spawn_agent', namespace: 'collaboration', arguments: JSON.stringify({ task_name: 'install_xapk' }), call_id: 's1' }),
      output(5.2, 's1', 'spawned'),
      line(10, 'response_item', { type: 'function_call', name: 'wait_agent', namespace: 'collaboration', arguments: JSON.stringify({ timeout_ms: 600000 }), call_id: 'w1' }),
    ].join('\n') + '\n');
    const childFile = join(dir, `rollout-2026-07-13T16-03-48-${child}.jsonl`);
    writeFileSync(childFile, [
      line(5.1, 'session_meta', { id: child, source: { subagent: { thread_spawn: { parent_thread_id: parent, depth: 1, agent_path: '/root/install_xapk', agent_nickname: 'Sagan', agent_role: null } } } }),
      start(5.3, '019f5c38-f139-76c3-a706-4b3a9e6509b2'), ...user(5.3, 'install the xapk'), call(8, 'c1', 'sleep 900'),
    ].join('\n') + '\n');
    const both = await analyzeTraces([parentFile, childFile], { now: T0 + 120_000 });
    const waiting = both.report.turns.find((t) => t.threadId === parent)!;
    expect(waiting).toMatchObject({ status: 'stuck', verdict: 'tool_running', waitingOnSubAgents: true });
    expect(waiting.evidence[0]).toMatch(/^tool call wait_agent/);
    expect(waiting.evidence[1]).toMatch(new RegExp(`^sub-agent Sagan \\(thread ${child}\\): stuck 112 s, tool_running \\(0\\.\\d+\\): tool call shell \\(c1\\) started at 17:00:08\\.000`));
    expect(both.report.turns.find((t) => t.threadId === child)).toMatchObject({ parentThreadId: parent, agentName: 'Sagan' });
    // Without the sub-agent's file: said, not guessed.
    const alone = await analyzeTraces([parentFile], { now: T0 + 120_000 });
    expect(alone.report.turns[0]!.evidence[1]).toMatch(/sub-agents' own rollouts are not among the inputs/);
  });

  it('a call left open when its turn ended is said to have ended with the turn, not to have returned', async () => {
    const { report } = await judge(
      [line(1, 'event_msg', { type: 'task_started', turn_id: 't1' }), ...user(1, 'spawn'), call(2, 'c1', 'sleep 100'), line(20, 'event_msg', { type: 'task_started', turn_id: 't2' }), ...user(20, 'next'), answer(21), line(21, 'event_msg', { type: 'task_complete', last_agent_message: 'ok' })],
      60,
    );
    expect(report.turns[0]!.status).toBe('interrupted');
    expect(report.turns[0]!.evidence.join('\n')).toMatch(/it ended with the turn at 17:00:20\.000/);
    expect(report.turns[0]!.evidence.join('\n')).not.toMatch(/its result came at/);
  });
});

describe('shapes of the fourth wild batch (test/corpus/wild/fourth)', () => {
  const turnContext = (s: number, policy = 'on-request'): string => line(s, 'turn_context', { approval_policy: policy });
  const reasoning = (s: number): string => line(s, 'response_item', { type: 'reasoning', summary: [] });

  it('0.92: an escalated call whose output says it ran 0 seconds (it failed to start) spent its whole wait on the approval', async () => {
    const { spans } = await judge([...user(1, 'ls'), turnContext(1.5), call(10, 'c1', 'tea list', true), output(19.3, 'c1', 'Exit code: 127\nWall time: 0 seconds\nOutput:\nnot found'), answer(20)], 60);
    const approval = spans.find((s) => s.name === PHASE_APPROVAL)!;
    expect([approval.startTimeMs, approval.endTimeMs]).toEqual([T0 + 10_000, T0 + 19_300]);
  });

  it('0.94: Codex\'s warning written as a user message is not the person: no turn starts there', async () => {
    const warning = line(30, 'response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Warning: apply_patch was requested via shell_command. Use the apply_patch tool instead of exec_command.' }] });
    const { report } = await judge([...user(1, 'fix it'), call(10, 'c1', 'apply_patch x'), output(10.001, 'c1', 'ok'), warning, reasoning(31), answer(40)], 60);
    expect(report.turns.map((t) => [t.status, t.verdict])).toEqual([['completed', 'healthy']]);
  });

  it('0.92: reasoning stamped a moment after the call it came with does not hand the call back: the open escalated call waits for the person', async () => {
    const { report } = await judge([...user(1, 'commit'), turnContext(1.5), call(10, 'c1', 'git commit -m x', true), reasoning(10.024), reasoning(10.025)], 50);
    expect(report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'awaiting_approval' });
  });
});

describe('context Codex writes as a user-role message, in every version\'s list (is_session_prefix, is_contextual_user_message)', () => {
  it.each([
    '<skill>\n<name>tea</name>\n</skill>',
    '<subagent_notification>\n{"agent_id":"a1","status":"completed"}\n</subagent_notification>',
    '\n<ENVIRONMENT_CONTEXT>\n  <cwd>/repo</cwd>\n</ENVIRONMENT_CONTEXT>',
    '<context_update>cwd changed</context_update>',
    '# AGENTS.md instructions for /repo\n\n<INSTRUCTIONS>be brief</INSTRUCTIONS>',
  ])('context Codex writes as a user message (%j) is not the person: no turn starts there', async (text) => {
    const injected = line(30, 'response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
    const { report } = await judge([...user(1, 'fix it'), call(10, 'c1', 'ls'), output(10.5, 'c1', 'ok'), injected, line(31, 'response_item', { type: 'reasoning', summary: [] }), answer(40)], 60);
    expect(report.turns.map((t) => [t.status, t.verdict])).toEqual([['completed', 'healthy']]);
  });
});

describe('patches Codex asks about under on-request (its assess_patch_safety; test/corpus/wild/fifth: 0.87, 0.106)', () => {
  const context = (s: number, sandbox: object, cwd = '/repo'): string => line(s, 'turn_context', { cwd, approval_policy: 'on-request', sandbox_policy: sandbox });
  const patchCall = (s: number, id: string, path: string): string =>
    line(s, 'response_item', { type: 'custom_tool_call', status: 'completed', call_id: id, name: 'apply_patch', input: `*** Begin Patch\n*** Update File: ${path}\n@@\n-a\n+b\n*** End Patch\n` });
  const patchOutput = (s: number, id: string): string =>
    line(s, 'response_item', { type: 'custom_tool_call_output', call_id: id, output: JSON.stringify({ output: 'Success. Updated the following files:\nM x\n', metadata: { exit_code: 0, duration_seconds: 0.0 } }) });
  const workspace = { type: 'workspace-write', network_access: false, exclude_tmpdir_env_var: false, exclude_slash_tmp: false };

  it.each([
    ['a read-only sandbox asks for every patch', { type: 'read-only' }, 'src/a.ts', 'awaiting_approval'],
    ['workspace-write asks for a path under .codex', workspace, '.codex/prompts/p.md', 'awaiting_approval'],
    ['workspace-write asks for a path under .git', workspace, '/repo/.git/config', 'awaiting_approval'],
    ['workspace-write asks for a path outside the working directory', workspace, '/etc/hosts', 'awaiting_approval'],
    ['workspace-write applies a patch in the working directory unasked', workspace, 'src/a.ts', 'tool_running'],
    ['a writable root inside .codex is writable', { ...workspace, writable_roots: ['/repo/.codex/memories'] }, '.codex/memories/m.md', 'tool_running'],
    ['full access never asks', { type: 'danger-full-access' }, '/etc/hosts', 'tool_running'],
  ])('%s', async (_title, sandbox, path, verdict) => {
    const { report } = await judge([...user(1, 'edit'), context(1.5, sandbox), patchCall(10, 'p1', path)], 60);
    expect(report.turns[0]).toMatchObject({ status: 'stuck', verdict });
  });

  it('0.14x: a workspace root named beside the working directory is writable', async () => {
    const context14 = line(1.5, 'turn_context', { cwd: '/repo', workspace_roots: ['/repo', '/home/me/notes'], approval_policy: 'on-request', sandbox_policy: workspace });
    const inRoot = await judge([...user(1, 'edit'), context14, patchCall(10, 'p1', '/home/me/notes/n.md')], 60);
    expect(inRoot.report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'tool_running' });
    const outside = await judge([...user(1, 'edit'), context14, patchCall(10, 'p1', '/home/me/other/n.md')], 60);
    expect(outside.report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'awaiting_approval' });
  });

  it('a patch answered long after it was made, whose output says it took no time, waited for the person: a file-change approval', async () => {
    const { spans, report } = await judge([...user(1, 'edit'), context(1.5, { type: 'read-only' }), patchCall(10, 'p1', 'src/a.ts'), patchOutput(130, 'p1'), answer(132)], 200);
    const approval = spans.find((s) => s.name === PHASE_APPROVAL)!;
    expect([approval.startTimeMs, approval.endTimeMs, approval.attributes[ATTR_APPROVAL_KIND]]).toEqual([T0 + 10_000, T0 + 130_000, APPROVAL_KIND_FILE_CHANGE]);
    expect(report.turns[0]).toMatchObject({ status: 'completed', verdict: 'awaiting_approval' });
  });
});

describe('rate-limit snapshots (test/corpus/wild/fifth: 0.106)', () => {
  const snapshot = (s: number, limit: string): string => line(s, 'event_msg', { type: 'token_count', info: null, rate_limits: { limit_id: limit, primary: { used_percent: 16 } } });
  const turnStart = (s: number): string => line(s, 'event_msg', { type: 'task_started', turn_id: 't1' });
  const retries = (spans: readonly { name: string }[]): number => spans.filter((s) => s.name === PHASE_UPSTREAM_RETRY).length;

  it('one request writes a snapshot per rate limit in the same moment: not a request sent again', async () => {
    const { spans } = await judge([turnStart(1), ...user(1, 'go'), snapshot(2, 'codex'), snapshot(2.001, 'codex_bengalfox'), answer(8)], 60);
    expect(retries(spans)).toBe(0);
  });

  it('a second snapshot seconds later with no output between is the request sent again', async () => {
    const { spans } = await judge([turnStart(1), ...user(1, 'go'), snapshot(2, 'codex'), snapshot(2.001, 'codex_bengalfox'), snapshot(6, 'codex'), answer(8)], 60);
    expect(retries(spans)).toBe(1);
  });
});

describe('command prefixes a person approved for the session (test/corpus/wild/more: 0.120)', () => {
  const turnStart = (s: number): string => line(s, 'event_msg', { type: 'task_started', turn_id: 't1' });
  const context = (s: number): string => line(s, 'turn_context', { cwd: '/repo', approval_policy: 'on-request', sandbox_policy: { type: 'workspace-write' } });
  const saved = (s: number, ...prefixes: string[][]): string =>
    line(s, 'response_item', { type: 'message', role: 'developer', content: [{ type: 'input_text', text: `Approved command prefix saved:\n${prefixes.map((p) => `- ${JSON.stringify(p)}`).join('\n')}` }] });
  const exec = (s: number, id: string, cmd: string): string =>
    line(s, 'response_item', { type: 'function_call', name: 'exec_command', arguments: JSON.stringify({ cmd, sandbox_permissions: 'require_escalated', justification: 'needs .git' }), call_id: id });

  it.each([
    ['a command under a saved prefix runs unasked', 'rtk git add -- README.md', 'tool_running'],
    ['every command of a sequence under saved prefixes runs unasked', 'rtk git add -A && rtk git commit -m "x y"', 'tool_running'],
    ['a sequence with a command no prefix covers asks', 'rtk git add -A && git push --force', 'awaiting_approval'],
    ['a script with a redirection is matched whole, and asks', 'rtk git add -A > /tmp/log', 'awaiting_approval'],
    ['a command that only starts like a prefix asks', 'rtk git addx', 'awaiting_approval'],
  ])('%s', async (_title, cmd, verdict) => {
    const { report } = await judge([turnStart(1), ...user(1, 'commit'), context(1.5), saved(2, ['rtk', 'git', 'add'], ['rtk', 'git', 'commit']), exec(10, 'c1', cmd)], 60);
    expect(report.turns[0]).toMatchObject({ status: 'stuck', verdict });
  });

  it('before the prefix is saved, the same command asks', async () => {
    const { report } = await judge([turnStart(1), ...user(1, 'commit'), context(1.5), exec(10, 'c1', 'rtk git add -- README.md')], 60);
    expect(report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'awaiting_approval' });
  });
});

describe('multi-agent sessions (Codex 0.144, Desktop)', () => {
  it('a sub-agent\'s turn, begun by another agent\'s message, is its own work: not a compaction for want of a person\'s message', async () => {
    const { report } = await judge(
      [
        line(0, 'event_msg', { type: 'task_started', turn_id: 'T' }),
        line(0.04, 'turn_context', { turn_id: 'T', approval_policy: 'never' }),
        line(0.1, 'inter_agent_communication_metadata', { trigger_turn: true }),
        line(0.1, 'response_item', { type: 'agent_message', author: '/root', recipient: '/root/w', content: [{ type: 'input_text', text: 'Message Type: NEW_TASK' }] }),
        line(4.5, 'event_msg', { type: 'token_count', info: { total_token_usage: { total_tokens: 100 } } }),
        line(11.4, 'response_item', { type: 'reasoning', summary: [{ type: 'summary_text', text: '**Plan**' }] }),
        line(15, 'response_item', { type: 'custom_tool_call', name: 'exec', call_id: 'c1', input: 'tools.shell_command({command: "ls"})' }),
        line(15.4, 'response_item', { type: 'custom_tool_call_output', call_id: 'c1', output: 'ok' }),
        line(71.5, 'response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'done' }], phase: 'final_answer' }),
        line(71.6, 'event_msg', { type: 'task_complete', turn_id: 'T', last_agent_message: 'done' }),
      ],
      120,
    );
    expect(report.turns.map((t) => [t.status, t.verdict])).toEqual([['completed', 'healthy']]);
  });
});

describe('an approval policy that never asks (exec, sub-agents: test/corpus/wild v0.108a, third/v0.50)', () => {
  const context = (s: number, policy: string): string => line(s, 'turn_context', { approval_policy: policy });
  it.each([
    ['never', 0.9, 'its turn\'s approval policy asks no person (never): it does not wait for an approval'],
    ['on-request', 0.75, 'the source does not record approval requests: the tool may be waiting for one'],
  ])('an open call under %s: tool_running at %d, saying why', async (policy, confidence, line) => {
    const { report } = await judge([...user(1, 'build'), context(1.5, policy), call(5, 'c1', 'make')], 60);
    expect(report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'tool_running', confidence });
    expect(report.turns[0]!.evidence).toContain(line);
  });
});

describe('settings changed mid-session (Codex 0.14x thread_settings_applied)', () => {
  it('a switch to the never policy in the middle of a turn: a later escalated call asks nobody', async () => {
    const settings = line(5, 'event_msg', { type: 'thread_settings_applied', thread_settings: { model: 'm', approval_policy: 'never', approvals_reviewer: 'user' } });
    const { report } = await judge([line(0.5, 'event_msg', { type: 'task_started', turn_id: 't1' }), ...user(1, 'push'), line(1.5, 'turn_context', { approval_policy: 'on-request' }), settings, call(10, 'c1', 'git push', true)], 60);
    expect(report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'tool_running' });
  });
});

describe('approval requests handed to Codex\'s own reviewer (0.14x approvals_reviewer)', () => {
  it.each([
    ['user', 'awaiting_approval'],
    ['auto_review', 'tool_running'],
  ])('an open escalated call with reviewer %s: %s', async (reviewer, verdict) => {
    const context = line(1.5, 'turn_context', { approval_policy: 'on-request', approvals_reviewer: reviewer, sandbox_policy: { type: 'workspace-write' } });
    const { report } = await judge([line(0.5, 'event_msg', { type: 'task_started', turn_id: 't1' }), ...user(1, 'push'), context, call(10, 'c1', 'git push', true)], 60);
    expect(report.turns[0]).toMatchObject({ status: 'stuck', verdict });
  });
});

describe('the model asking the person questions (request_user_input, 0.115 Plan mode)', () => {
  const ask = (s: number, id: string): string => line(s, 'response_item', { type: 'function_call', name: 'request_user_input', arguments: JSON.stringify({ questions: [{ id: 'q1', question: 'Which?' }] }), call_id: id });
  const answers = (s: number, id: string): string => line(s, 'response_item', { type: 'function_call_output', call_id: id, output: JSON.stringify({ answers: { q1: 'A' } }) });
  const turnStart = line(0.5, 'event_msg', { type: 'task_started', turn_id: 't1' });

  it('open: the turn waits for the person\'s answer', async () => {
    const { report } = await judge([turnStart, ...user(1, 'plan it'), ask(72, 'q'), line(72.01, 'event_msg', { type: 'token_count', info: null })], 169);
    expect(report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'awaiting_approval' });
    expect(report.turns[0]!.evidence[0]).toMatch(/^approval request \(user_input\)/);
  });

  it('answered after 392 s of a 609 s turn: that wait on the person dominated, it was no tool at work', async () => {
    const { report } = await judge([turnStart, ...user(1, 'plan it'), ask(72, 'q'), answers(464, 'q'), answer(609), line(609.1, 'event_msg', { type: 'task_complete', turn_id: 't1' })], 700);
    expect(report.turns[0]).toMatchObject({ status: 'completed', verdict: 'awaiting_approval' });
  });
});
