import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_APPROVAL_DECISION, ATTR_APPROVAL_KIND, ATTR_CANCEL_RESULT, ATTR_GEN_AI_TOOL_NAME, ATTR_HYDRATION_ITEMS,
  ATTR_HYDRATION_TRIGGER, ATTR_ITEM_STATUS, ATTR_ITEM_TYPE, ATTR_SOURCE, ATTR_THREAD_ID, ATTR_TOOL_KIND,
  ATTR_TURN_ERROR, ATTR_TURN_STATUS, ATTR_TURN_STOP_REASON,
  PHASE_APPROVAL, PHASE_CANCEL, PHASE_FIRST_ASSISTANT_ITEM, PHASE_FIRST_REASONING_ITEM, PHASE_ITEM, PHASE_ITEM_PROGRESS,
  PHASE_RENDERER_ATTACHED, PHASE_THREAD_HYDRATION, PHASE_TOOL_CALL, PHASE_TURN, SOURCE_ACP,
} from '@stall-why/conventions';
import { AcpObserver, observeTranscriptLine, TurnTracer } from '@stall-why/instrument';

// Real transcripts of codex-acp, claude-agent-acp and gemini-cli --acp (test/corpus/acp/README.md).
const CORPUS = join(import.meta.dirname, '..', '..', '..', 'test', 'corpus', 'acp');
const T0 = 1_796_000_000_000;

function setup(options: { maxLineBytes?: number } = {}) {
  const started: ReadableSpan[] = [];
  const processor: SpanProcessor = {
    onStart: (span) => { started.push(span as unknown as ReadableSpan); },
    onEnd: () => {}, forceFlush: async () => {}, shutdown: async () => {},
  };
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  const observer = new AcpObserver({ turnTracer: new TurnTracer({ tracer: provider.getTracer('test') }), ...options });
  const named = (name: string) => started.filter((s) => s.name === name);
  const ms = (s: ReadableSpan) => s.startTime[0] * 1000 + s.startTime[1] / 1e6;
  return { observer, started, named, ms };
}

function replay(name: string) {
  const env = setup();
  for (const line of readFileSync(join(CORPUS, `${name}.jsonl`), 'utf8').split('\n')) {
    if (line.length > 0) expect(observeTranscriptLine(env.observer, line)).toBe(true);
  }
  return env;
}

const attr = (s: ReadableSpan | undefined, key: string) => s?.attributes[key];

describe('AcpObserver on real agent transcripts', () => {
  for (const agent of ['codex', 'claude', 'gemini']) {
    it(`${agent}: one completed end_turn turn with its thought and message items, after a hydration named by session/new`, () => {
      const { observer, named } = replay(`${agent}-basic`);
      const [turn] = named(PHASE_TURN);
      expect(named(PHASE_TURN)).toHaveLength(1);
      expect([attr(turn, ATTR_SOURCE), attr(turn, ATTR_TURN_STATUS), attr(turn, ATTR_TURN_STOP_REASON)]).toEqual([SOURCE_ACP, 'completed', 'end_turn']);
      expect(turn!.ended).toBe(true);
      const hydration = named(PHASE_THREAD_HYDRATION)[0];
      expect([attr(hydration, ATTR_HYDRATION_TRIGGER), attr(hydration, ATTR_THREAD_ID), hydration?.ended]).toEqual(['start', attr(turn, ATTR_THREAD_ID), true]);
      expect(named(PHASE_ITEM).map((s) => attr(s, ATTR_ITEM_TYPE))).toEqual(['reasoning', 'agentMessage']);
      expect(named(PHASE_FIRST_REASONING_ITEM)).toHaveLength(1);
      expect(named(PHASE_FIRST_ASSISTANT_ITEM)).toHaveLength(1);
      expect(named(PHASE_RENDERER_ATTACHED)).toHaveLength(1);
      expect(observer.activeTurns()).toEqual([]);
      expect(observer.stats.malformed + observer.stats.unknownMethods).toBe(0);
    });
  }

  it('codex: the permission comes before the tool_call; one tool call holds both, the approval inside it', () => {
    const { named, ms } = replay('codex-tool');
    const [tool] = named(PHASE_TOOL_CALL);
    const [approval] = named(PHASE_APPROVAL);
    expect(named(PHASE_TOOL_CALL)).toHaveLength(1);
    expect([attr(tool, ATTR_TOOL_KIND), attr(tool, ATTR_ITEM_STATUS)]).toEqual(['execute', 'completed']);
    expect([attr(approval, ATTR_APPROVAL_KIND), attr(approval, ATTR_APPROVAL_DECISION)]).toEqual(['command', 'approved']);
    expect(ms(tool!)).toBe(ms(approval!));
  });

  it('claude: tool_call, then its permission; the tool is named by Claude Code', () => {
    const { named, ms } = replay('claude-tool');
    const [tool] = named(PHASE_TOOL_CALL);
    const [approval] = named(PHASE_APPROVAL);
    expect(named(PHASE_TOOL_CALL)).toHaveLength(1);
    expect([attr(tool, ATTR_GEN_AI_TOOL_NAME), attr(tool, ATTR_ITEM_STATUS)]).toEqual(['Bash', 'completed']);
    expect(ms(approval!)).toBeGreaterThan(ms(tool!));
    expect(attr(approval, ATTR_APPROVAL_DECISION)).toBe('approved');
  });

  it('gemini: a shell command announced only by its permission request still is a tool call', () => {
    const { named } = replay('gemini-tool');
    expect(named(PHASE_TOOL_CALL).map((s) => [attr(s, ATTR_TOOL_KIND), attr(s, ATTR_ITEM_STATUS)])).toEqual([['execute', 'completed']]);
    expect(attr(named(PHASE_APPROVAL)[0], ATTR_APPROVAL_DECISION)).toBe('approved');
  });

  it('gemini: the client\'s fs/read_text_file is tool work, failed with its JSON-RPC error, and the write tool fails', () => {
    const { named } = replay('gemini-edit');
    const tools = named(PHASE_TOOL_CALL).map((s) => [attr(s, ATTR_GEN_AI_TOOL_NAME), attr(s, ATTR_ITEM_STATUS), attr(s, 'error.type')]);
    expect(tools).toEqual([['fs/read_text_file', 'failed', 'jsonrpc.-32002'], ['edit', 'failed', undefined], ['fs/read_text_file', 'failed', 'jsonrpc.-32002']]);
  });

  it('edits: file-change approvals for codex apply_patch and claude Write', () => {
    for (const name of ['codex-edit', 'claude-edit']) {
      const { named } = replay(name);
      expect(named(PHASE_APPROVAL).map((s) => [attr(s, ATTR_APPROVAL_KIND), attr(s, ATTR_APPROVAL_DECISION)]), name).toEqual([['file_change', 'approved']]);
      expect(named(PHASE_TOOL_CALL).map((s) => attr(s, ATTR_ITEM_STATUS)), name).toEqual(['completed']);
    }
  });
});

describe('AcpObserver on the protocol paths the corpus lacks', () => {
  const msg = (m: object) => JSON.stringify({ jsonrpc: '2.0', ...m });
  const update = (sessionUpdate: string, extra: object = {}) => msg({ method: 'session/update', params: { sessionId: 's', update: { sessionUpdate, ...extra } } });

  it('session/load: the replay before (and after) the answer is counted, never a turn', () => {
    const { observer, named } = setup();
    observer.observeLine('client->server', msg({ id: 1, method: 'session/load', params: { sessionId: 's', cwd: '/', mcpServers: [] } }), T0);
    observer.observeLine('server->client', update('user_message_chunk', { content: { type: 'text', text: 'x' } }), T0 + 10);
    observer.observeLine('server->client', update('agent_message_chunk', { content: { type: 'text', text: 'y' } }), T0 + 20);
    observer.observeLine('server->client', msg({ id: 1, result: { modes: {} } }), T0 + 30);
    observer.observeLine('server->client', update('tool_call', { toolCallId: 't', status: 'completed' }), T0 + 40);
    const [hydration] = named(PHASE_THREAD_HYDRATION);
    expect([attr(hydration, ATTR_HYDRATION_TRIGGER), attr(hydration, ATTR_HYDRATION_ITEMS), attr(hydration, ATTR_THREAD_ID)]).toEqual(['resume', 2, 's']);
    expect(named(PHASE_TURN)).toHaveLength(0);
    expect(named(PHASE_TOOL_CALL)).toHaveLength(0);
  });

  it('a message streamed for 40 s says every 3 s that it is still being written', () => {
    const { observer, named, ms } = setup();
    observer.observeLine('client->server', msg({ id: 1, method: 'session/prompt', params: { sessionId: 's', prompt: [{ type: 'text', text: 'hi' }] } }), T0);
    for (let s = 0; s <= 40; s++) observer.observeLine('server->client', update('agent_message_chunk', { content: { type: 'text', text: 'word ' } }), T0 + 1_000 + s * 1_000);
    const [item] = named(PHASE_ITEM);
    const progress = named(PHASE_ITEM_PROGRESS);
    expect(progress.map(ms)).toEqual(Array.from({ length: 13 }, (_, k) => T0 + 1_000 + (k + 1) * 3_000));
    for (const p of progress) expect(p.parentSpanContext?.spanId).toBe(item!.spanContext().spanId);
  });

  it('session/cancel with a permission pending: the prompt ends cancelled, the approval cancelled, the cancel succeeded', () => {
    const { observer, named } = setup();
    observer.observeLine('client->server', msg({ id: 2, method: 'session/prompt', params: { sessionId: 's', prompt: [] } }), T0);
    observer.observeLine('server->client', msg({ id: 'p', method: 'session/request_permission', params: { sessionId: 's', toolCall: { toolCallId: 'c', kind: 'execute' }, options: [] } }), T0 + 5);
    observer.observeLine('client->server', msg({ method: 'session/cancel', params: { sessionId: 's' } }), T0 + 100);
    observer.observeLine('server->client', msg({ id: 2, result: { stopReason: 'cancelled' } }), T0 + 114);
    observer.observeLine('client->server', msg({ id: 'p', result: { outcome: { outcome: 'cancelled' } } }), T0 + 400);
    expect([attr(named(PHASE_TURN)[0], ATTR_TURN_STATUS), attr(named(PHASE_TURN)[0], ATTR_TURN_STOP_REASON)]).toEqual(['interrupted', 'cancelled']);
    expect(attr(named(PHASE_APPROVAL)[0], ATTR_APPROVAL_DECISION)).toBe('cancelled');
    expect(attr(named(PHASE_CANCEL)[0], ATTR_CANCEL_RESULT)).toBe('cancelled');
    expect(named(PHASE_TOOL_CALL).map((s) => attr(s, ATTR_ITEM_STATUS))).toEqual(['interrupted']);
  });

  it('a JSON-RPC error answer fails the turn with the agent\'s detail; refusal and max_tokens complete it', () => {
    const { observer, named } = setup();
    observer.observeLine('client->server', msg({ id: 2, method: 'session/prompt', params: { sessionId: 's', prompt: [] } }), T0);
    observer.observeLine('server->client', msg({ id: 2, error: { code: -32603, message: 'Internal error', data: { message: 'stream disconnected before completion: idle timeout waiting for SSE' } } }), T0 + 32_500);
    for (const [id, reason] of [[3, 'refusal'], [4, 'max_tokens']] as const) {
      observer.observeLine('client->server', msg({ id, method: 'session/prompt', params: { sessionId: 's', prompt: [] } }), T0 + 40_000 + id);
      observer.observeLine('server->client', msg({ id, result: { stopReason: reason } }), T0 + 41_000 + id);
    }
    expect(named(PHASE_TURN).map((t) => [attr(t, ATTR_TURN_STATUS), attr(t, ATTR_TURN_STOP_REASON) ?? null])).toEqual([
      ['failed', null], ['completed', 'refusal'], ['completed', 'max_tokens'],
    ]);
    expect(attr(named(PHASE_TURN)[0], ATTR_TURN_ERROR)).toBe('session/prompt jsonrpc.-32603: Internal error: stream disconnected before completion: idle timeout waiting for SSE');
  });

  it('counts malformed lines and unknown methods and update kinds; an oversized answer still ends its prompt', () => {
    const { observer, named } = setup({ maxLineBytes: 200 });
    observer.observeLine('client->server', msg({ id: 2, method: 'session/prompt', params: { sessionId: 's', prompt: [] } }), T0);
    observer.observeLine('server->client', 'not json', T0 + 1);
    observer.observeLine('server->client', msg({ method: '_zed/custom', params: {} }), T0 + 2);
    observer.observeLine('server->client', update('brand_new_kind'), T0 + 3);
    observer.observeLine('server->client', msg({ id: 2, result: { stopReason: 'end_turn', _meta: { pad: 'x'.repeat(500) } } }), T0 + 4);
    expect(observer.stats.malformed).toBe(2);
    expect([...observer.stats.unknownByMethod]).toEqual([['_zed/custom', 1], ['session/update brand_new_kind', 1]]);
    expect(named(PHASE_TURN)[0]!.ended).toBe(true);
  });
});
