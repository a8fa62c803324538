import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { diag, DiagLogLevel, SpanStatusCode, type DiagLogger } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_APPROVAL_DECISION, ATTR_APPROVAL_KIND, ATTR_APPROVAL_REQUEST_ID, ATTR_CANCEL_RESULT, ATTR_ERROR_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ID, ATTR_GEN_AI_TOOL_NAME, ATTR_HYDRATION_ITEMS, ATTR_HYDRATION_TRIGGER, ATTR_ITEM_ID,
  ATTR_ITEM_STATUS, ATTR_ITEM_TYPE, ATTR_PHASE_KIND, ATTR_RENDERER_ID, ATTR_RENDERER_REASON, ATTR_RETRY_ATTEMPT,
  ATTR_RETRY_MAX, ATTR_RETRY_REASON, ATTR_RETRY_WILL_RETRY, ATTR_SOURCE, ATTR_THREAD_ID, ATTR_TOOL_EXIT_CODE,
  ATTR_TOOL_KIND, ATTR_TURN_ERROR, ATTR_TURN_ID, ATTR_TURN_KIND, ATTR_TURN_STATUS,
  PHASE_APPROVAL, PHASE_CANCEL, PHASE_COMPACTION, PHASE_FIRST_ASSISTANT_ITEM, PHASE_FIRST_REASONING_ITEM,
  PHASE_FIRST_TOOL_ITEM, PHASE_ITEM, PHASE_ITEM_PROGRESS, PHASE_RENDERER_ATTACHED, PHASE_RENDERER_DETACHED, PHASE_THREAD_HYDRATION,
  PHASE_TOOL_CALL, PHASE_TURN, PHASE_TURN_ACCEPTED, PHASE_TURN_ERROR, PHASE_UPSTREAM_RETRY,
} from '@stall-why/conventions';
import { CodexJsonRpcObserver, observeTranscriptLine, TurnTracer, type JsonRpcDirection } from '@stall-why/instrument';

/** Synthetic messages use real epoch times: the SDK reads a small number as a `performance.now()` offset. */
const T0 = 1_795_000_000_000;
const silentLogger: DiagLogger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {} };
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'jsonrpc');

interface Line { t: number; dir: JsonRpcDirection; msg: Record<string, any> }

function transcript(name: string): { text: string[]; lines: Line[] } {
  const text = readFileSync(join(FIXTURES, `${name}.app-server-transcript.jsonl`), 'utf8').split('\n').filter((l) => l.length > 0);
  return { text, lines: text.map((l) => JSON.parse(l) as Line) };
}

/** A real SDK pipeline: every span as it starts (open ones included) and the ended ones from the exporter. */
function setup(options: { maxLineBytes?: number } = {}) {
  const exporter = new InMemorySpanExporter();
  const started: ReadableSpan[] = [];
  const recordStart: SpanProcessor = {
    onStart: (span) => { started.push(span as unknown as ReadableSpan); },
    onEnd: () => {}, forceFlush: async () => {}, shutdown: async () => {},
  };
  const provider = new BasicTracerProvider({ spanProcessors: [recordStart, new SimpleSpanProcessor(exporter)] });
  const observer = new CodexJsonRpcObserver({ turnTracer: new TurnTracer({ tracer: provider.getTracer('test') }), ...options });
  const open = () => started.filter((s) => !s.ended);
  const named = (name: string) => started.filter((s) => s.name === name);
  const one = (name: string) => {
    const spans = named(name);
    expect(spans, name).toHaveLength(1);
    return spans[0]!;
  };
  const parentOf = (span: ReadableSpan) => started.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);
  return { observer, exporter, started, open, named, one, parentOf };
}

type Setup = ReturnType<typeof setup>;

/** Replays a fixture's lines (all, or those before the first that `stopAt` matches) through the transcript helper. */
function replay(name: string, stopAt?: (line: Line) => boolean, env: Setup = setup()): Setup & { lines: Line[] } {
  const { text, lines } = transcript(name);
  for (let i = 0; i < text.length; i++) {
    if (stopAt?.(lines[i]!)) break;
    expect(observeTranscriptLine(env.observer, text[i]!)).toBe(true);
  }
  return { ...env, lines };
}

const ms = (span: ReadableSpan, which: 'start' | 'end') => {
  const [s, ns] = which === 'start' ? span.startTime : span.endTime;
  return s * 1000 + Math.round(ns / 1e6);
};

/** The phases of one turn, in the order they started, as `name[:item type]`. */
function phasesOf(env: Setup, turn: ReadableSpan): string[] {
  return env.started
    .filter((s) => env.parentOf(s) === turn)
    .map((s) => (s.name === PHASE_ITEM ? `${s.name}:${String(s.attributes[ATTR_ITEM_TYPE])}` : s.name));
}

function expectChildOf(env: Setup, span: ReadableSpan, turn: ReadableSpan): void {
  expect(env.parentOf(span)).toBe(turn);
  expect(span.attributes[ATTR_TURN_ID]).toBe(turn.attributes[ATTR_TURN_ID]);
  expect(span.attributes[ATTR_THREAD_ID]).toBe(turn.attributes[ATTR_THREAD_ID]);
}

describe('CodexJsonRpcObserver on recorded Codex 0.169 sessions', () => {
  it('healthy_tool: hydration, an accepted turn, a tool call from start to result, then the reply', () => {
    const env = replay('healthy_tool');
    const { lines } = env;
    const threadId = '01a20e18-aeae-7061-9f5c-2b1b8a03f3e6';
    const turnId = '01a20e18-aecb-7f13-841a-bcbf3d5726a0';

    expect(env.started.map((s) => s.name).slice(0, 3)).toEqual([PHASE_RENDERER_ATTACHED, PHASE_THREAD_HYDRATION, PHASE_TURN]);
    expect(env.one(PHASE_RENDERER_ATTACHED).attributes[ATTR_RENDERER_ID]).toBe('corpus');

    const hydration = env.one(PHASE_THREAD_HYDRATION);
    expect(hydration.attributes).toMatchObject({ [ATTR_HYDRATION_TRIGGER]: 'start', [ATTR_THREAD_ID]: threadId, [ATTR_HYDRATION_ITEMS]: 0, [ATTR_SOURCE]: 'jsonrpc' });
    expect(ms(hydration, 'start')).toBe(lines[3]!.t);
    expect(ms(hydration, 'end')).toBe(lines[5]!.t);

    const turn = env.one(PHASE_TURN);
    expect(turn.attributes).toMatchObject({ [ATTR_THREAD_ID]: threadId, [ATTR_TURN_ID]: turnId, [ATTR_TURN_STATUS]: 'completed', [ATTR_TURN_KIND]: 'user' });
    expect(ms(turn, 'start')).toBe(lines[6]!.t); // the turn/start request
    expect(ms(turn, 'end')).toBe(lines.at(-1)!.msg.emittedAtMs); // turn/completed
    expect(phasesOf(env, turn)).toEqual([
      PHASE_TURN_ACCEPTED, `${PHASE_ITEM}:userMessage`, `${PHASE_ITEM}:commandExecution`, PHASE_FIRST_TOOL_ITEM, PHASE_TOOL_CALL,
      `${PHASE_ITEM}:agentMessage`, PHASE_FIRST_ASSISTANT_ITEM,
    ]);
    expect(ms(env.one(PHASE_TURN_ACCEPTED), 'start')).toBe(lines[9]!.t); // the turn/start answer named the turn

    const tool = env.one(PHASE_TOOL_CALL);
    expectChildOf(env, tool, turn);
    expect(tool.attributes).toMatchObject({
      [ATTR_GEN_AI_TOOL_NAME]: 'commandExecution', [ATTR_GEN_AI_TOOL_CALL_ID]: 'call_1', [ATTR_TOOL_KIND]: 'commandExecution',
      [ATTR_TOOL_EXIT_CODE]: 0, [ATTR_ITEM_STATUS]: 'completed', [ATTR_PHASE_KIND]: 'span',
    });
    expect(ms(tool, 'start')).toBe(1795532828687); // item.startedAtMs
    expect(ms(tool, 'end')).toBe(1795532828726); // item.completedAtMs: the result returned
    expect(env.one(PHASE_FIRST_TOOL_ITEM).attributes[ATTR_PHASE_KIND]).toBe('point');
    expect(env.open()).toEqual([]);
    expect(env.observer.activeTurns()).toEqual([]);
    expect(env.observer.stats).toMatchObject({ messages: 26, malformed: 0, unknownMethods: 0, deltas: 2 });
  });

  it('healthy_tool cut before the tool result: the turn and its tool call are open, and the turn is active', () => {
    const env = replay('healthy_tool', (l) => l.msg.method === 'item/completed' && l.msg.params.item.type === 'commandExecution');
    const turn = env.one(PHASE_TURN);
    expect(env.open().map((s) => s.name)).toEqual([PHASE_TURN, PHASE_ITEM, PHASE_TOOL_CALL]);
    const [active] = env.observer.activeTurns();
    expect(active).toMatchObject({ threadId: turn.attributes[ATTR_THREAD_ID], turnId: turn.attributes[ATTR_TURN_ID], accepted: true });
    expect(active!.lastToolCompletedAtMs).toBeUndefined();
    // close() releases state but ends nothing: a stuck turn stays an open span.
    env.observer.close();
    expect(env.open().map((s) => s.name)).toEqual([PHASE_TURN, PHASE_ITEM, PHASE_TOOL_CALL]);
    expect(env.observer.activeTurns()).toEqual([]);
  });

  it('healthy_tool cut after the tool result: the turn waits on the model with the result returned', () => {
    const env = replay('healthy_tool', (l) => l.msg.method === 'item/started' && l.msg.params.item.type === 'agentMessage');
    expect(env.open().map((s) => s.name)).toEqual([PHASE_TURN]);
    expect(env.observer.activeTurns()[0]!.lastToolCompletedAtMs).toBe(1795532828726);
  });

  it('interrupt: turn/interrupt is a cancel span under the turn whose result is cancelled', () => {
    const env = replay('interrupt');
    const turn = env.one(PHASE_TURN);
    expect(turn.attributes[ATTR_TURN_STATUS]).toBe('interrupted');
    expect(phasesOf(env, turn)).toEqual([PHASE_TURN_ACCEPTED, `${PHASE_ITEM}:userMessage`, PHASE_CANCEL]);
    const cancel = env.one(PHASE_CANCEL);
    expectChildOf(env, cancel, turn);
    expect(cancel.attributes[ATTR_CANCEL_RESULT]).toBe('cancelled');
    expect(ms(cancel, 'start')).toBe(1795532831220);
    expect(ms(cancel, 'end')).toBe(1795532831229);
    expect(env.open()).toEqual([]);
  });

  it('interrupt cut before the answer, then the client goes away: the cancel result is unknown and the turn stays open', () => {
    const env = replay('interrupt', (l) => l.msg.id === 4 && 'result' in l.msg);
    expect(env.open().map((s) => s.name)).toEqual([PHASE_TURN, PHASE_CANCEL]);
    env.observer.rendererDetached(1795532831300, 'eof');
    const detached = env.one(PHASE_RENDERER_DETACHED);
    expectChildOf(env, detached, env.one(PHASE_TURN));
    expect(detached.attributes).toMatchObject({ [ATTR_RENDERER_REASON]: 'eof', [ATTR_RENDERER_ID]: 'corpus' });
    expect(env.one(PHASE_CANCEL).attributes[ATTR_CANCEL_RESULT]).toBe('unknown');
    expect(env.open().map((s) => s.name)).toEqual([PHASE_TURN]);
  });

  it('plain_reasoning: the first reasoning item, then the first assistant item', () => {
    const env = replay('plain_reasoning');
    const turn = env.one(PHASE_TURN);
    expect(phasesOf(env, turn)).toEqual([
      PHASE_TURN_ACCEPTED, `${PHASE_ITEM}:userMessage`, `${PHASE_ITEM}:reasoning`, PHASE_FIRST_REASONING_ITEM,
      `${PHASE_ITEM}:agentMessage`, PHASE_FIRST_ASSISTANT_ITEM,
    ]);
    expect(env.one(PHASE_FIRST_REASONING_ITEM).attributes[ATTR_ITEM_ID]).toBe('rs_1');
    expect(env.named(PHASE_TOOL_CALL)).toEqual([]);
    expect(env.open()).toEqual([]);
  });

  it('reconnect_then_ok: each "Reconnecting... n/3" is a retry point with its reason and count', () => {
    const env = replay('reconnect_then_ok');
    const turn = env.one(PHASE_TURN);
    const retries = env.named(PHASE_UPSTREAM_RETRY);
    expect(retries.map((r) => [r.attributes[ATTR_RETRY_ATTEMPT], r.attributes[ATTR_RETRY_MAX]])).toEqual([[1, 3], [2, 3]]);
    for (const retry of retries) {
      expectChildOf(env, retry, turn);
      expect(retry.attributes).toMatchObject({
        [ATTR_RETRY_REASON]: 'stream_disconnected', [ATTR_RETRY_WILL_RETRY]: true, [ATTR_ERROR_TYPE]: 'responseStreamDisconnected',
      });
    }
    expect(turn.attributes[ATTR_TURN_STATUS]).toBe('completed');
    expect(env.named(PHASE_TURN_ERROR)).toEqual([]);
  });

  it('retries_exhausted: three retries, a turn error that will not be retried, and a failed turn', () => {
    const env = replay('retries_exhausted');
    const turn = env.one(PHASE_TURN);
    expect(env.named(PHASE_UPSTREAM_RETRY).map((r) => r.attributes[ATTR_RETRY_ATTEMPT])).toEqual([1, 2, 3]);
    const error = env.one(PHASE_TURN_ERROR);
    expectChildOf(env, error, turn);
    expect(error.attributes[ATTR_ERROR_TYPE]).toBe('other');
    expect(error.attributes[ATTR_TURN_ERROR]).toMatch(/^stream disconnected before completion/);
    expect(turn.attributes[ATTR_TURN_STATUS]).toBe('failed');
    expect(turn.attributes[ATTR_TURN_ERROR]).toMatch(/^stream disconnected before completion/);
    expect(turn.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('approval_accept: an approval span from the server request to the client answer, approved', () => {
    const env = replay('approval_accept');
    const turn = env.one(PHASE_TURN);
    const approval = env.one(PHASE_APPROVAL);
    expectChildOf(env, approval, turn);
    expect(approval.attributes).toMatchObject({
      [ATTR_APPROVAL_KIND]: 'command', [ATTR_APPROVAL_DECISION]: 'approved', [ATTR_APPROVAL_REQUEST_ID]: '0', [ATTR_ITEM_ID]: 'call_1',
    });
    const ask = env.lines.find((l) => l.msg.method === 'item/commandExecution/requestApproval')!;
    const answer = env.lines.find((l) => l.dir === 'client->server' && l.msg.id === 0)!;
    expect(ms(approval, 'start')).toBe(ask.msg.params.startedAtMs);
    expect(ms(approval, 'end')).toBe(answer.t);
    expect(env.one(PHASE_TOOL_CALL).attributes[ATTR_TOOL_EXIT_CODE]).toBe(0);
    expect(env.open()).toEqual([]);
  });

  it('approval_accept cut before the answer: the approval, the tool call and the turn are open', () => {
    const env = replay('approval_accept', (l) => l.dir === 'client->server' && l.msg.id === 0);
    expect(env.open().map((s) => s.name)).toEqual([PHASE_TURN, PHASE_ITEM, PHASE_TOOL_CALL, PHASE_APPROVAL]);
  });

  it('approval_decline: the approval is denied and the tool item ends declined', () => {
    const env = replay('approval_decline');
    expect(env.one(PHASE_APPROVAL).attributes[ATTR_APPROVAL_DECISION]).toBe('denied');
    expect(env.one(PHASE_TOOL_CALL).attributes[ATTR_ITEM_STATUS]).toBe('declined');
    expect(env.one(PHASE_TOOL_CALL).attributes[ATTR_TOOL_EXIT_CODE]).toBeUndefined();
  });

  it('approval_interrupted: the unanswered approval is cancelled when the interrupted turn ends', () => {
    const env = replay('approval_interrupted');
    const turn = env.one(PHASE_TURN);
    const end = ms(turn, 'end');
    expect(turn.attributes[ATTR_TURN_STATUS]).toBe('interrupted');
    expect(env.one(PHASE_APPROVAL).attributes[ATTR_APPROVAL_DECISION]).toBe('cancelled');
    expect(env.one(PHASE_CANCEL).attributes[ATTR_CANCEL_RESULT]).toBe('cancelled');
    // The server never completed the command item: it ends with the turn, marked with the turn's status.
    for (const span of [env.one(PHASE_TOOL_CALL), env.one(PHASE_APPROVAL), env.one(PHASE_CANCEL)]) {
      expectChildOf(env, span, turn);
      expect(ms(span, 'end')).toBe(end);
    }
    expect(env.one(PHASE_TOOL_CALL).attributes[ATTR_ITEM_STATUS]).toBe('interrupted');
    expect(env.open()).toEqual([]);
  });

  it('compaction: thread/compact/start starts a compaction turn whose contextCompaction item is a compaction span', () => {
    const env = replay('compaction');
    const [userTurn, compactionTurn] = env.named(PHASE_TURN);
    expect(userTurn!.attributes[ATTR_TURN_KIND]).toBe('user');
    expect(compactionTurn!.attributes[ATTR_TURN_KIND]).toBe('compaction');
    const started = env.lines.find((l) => l.msg.method === 'turn/started' && l.t > ms(userTurn!, 'end'))!;
    expect(compactionTurn!.attributes[ATTR_TURN_ID]).toBe(started.msg.params.turn.id);
    expect(compactionTurn!.attributes[ATTR_TURN_STATUS]).toBe('completed');
    expect(ms(compactionTurn!, 'start')).toBe(env.lines.find((l) => l.msg.method === 'thread/compact/start')!.t);
    expect(phasesOf(env, compactionTurn!)).toEqual([PHASE_TURN_ACCEPTED, `${PHASE_ITEM}:contextCompaction`, PHASE_COMPACTION]);
    expectChildOf(env, env.one(PHASE_COMPACTION), compactionTurn!);
    expect(env.open()).toEqual([]);
  });

  it('compaction cut inside the compaction: the compaction span is open', () => {
    const env = replay('compaction', (l) => l.msg.method === 'item/completed' && l.msg.params.item.type === 'contextCompaction');
    expect(env.open().map((s) => s.name)).toEqual([PHASE_TURN, PHASE_ITEM, PHASE_COMPACTION]);
  });

  it('resume: thread/resume is a hydration with the items it loaded', () => {
    const env = replay('resume');
    const hydration = env.one(PHASE_THREAD_HYDRATION);
    const request = env.lines.find((l) => l.msg.method === 'thread/resume')!;
    expect(hydration.attributes).toMatchObject({ [ATTR_HYDRATION_TRIGGER]: 'resume', [ATTR_HYDRATION_ITEMS]: 2, [ATTR_THREAD_ID]: request.msg.params.threadId });
    expect(ms(hydration, 'start')).toBe(request.t);
    expect(env.one(PHASE_TURN).attributes[ATTR_TURN_STATUS]).toBe('completed');
    expect(env.open()).toEqual([]);
  });

  it('records no prompt, message, reasoning, command text or output', () => {
    for (const name of ['healthy_tool', 'plain_reasoning', 'approval_accept', 'retries_exhausted']) {
      const env = replay(name);
      const values = env.started.flatMap((s) => Object.values(s.attributes).map(String)).join('\n');
      for (const secret of ['please run echo', 'tool-ran', 'done after tool', 'thinking it over', 'hello after thinking', 'touch approved', 'say hello']) {
        expect(values).not.toContain(secret);
      }
    }
  });

  it('gives the same spans from raw lines (strings and Buffers) as from parsed messages', () => {
    const names = (env: Setup) => env.started.map((s) => `${s.name}|${String(s.attributes[ATTR_ITEM_TYPE] ?? '')}|${ms(s, 'start')}`);
    const fromMessages = replay('healthy_tool');
    for (const asBuffer of [false, true]) {
      const env = setup();
      for (const line of transcript('healthy_tool').lines) {
        const raw = JSON.stringify(line.msg);
        env.observer.observeLine(line.dir, asBuffer ? Buffer.from(`${raw}\n`) : raw, line.t);
      }
      expect(names(env)).toEqual(names(fromMessages));
      expect(env.observer.stats).toMatchObject({ messages: 26, deltas: 2, malformed: 0 });
    }
  });
});

describe('CodexJsonRpcObserver on bad and unknown input', () => {
  it('counts malformed lines and never throws', () => {
    const env = setup();
    const bad: Array<string | Uint8Array> = [
      'not json', '{"id":3,"result":{"turn":', '[1,2]', '42', 'null', '"text"', '{}', '{"id":{"x":1},"result":{}}',
      new Uint8Array(Buffer.from('{"method":"turn/started","params":{"threadId":')), Buffer.from([0xff, 0xfe, 0x00]),
    ];
    for (const line of bad) expect(() => env.observer.observeLine('server->client', line, 1)).not.toThrow();
    env.observer.observeLine('server->client', '', 1);
    env.observer.observeLine('server->client', '  \n', 1);
    expect(env.observer.stats.malformed).toBe(bad.length);
    expect(env.observer.stats.messages).toBe(0);
    expect(env.started).toEqual([]);
  });

  it('counts unknown methods by name in both directions, and answers to nothing, without emitting', () => {
    const env = setup();
    env.observer.observeMessage('server->client', { method: 'future/thing', params: {} }, 1);
    env.observer.observeMessage('server->client', { method: 'future/thing' }, 2);
    env.observer.observeMessage('server->client', { id: 9, method: 'future/ask', params: {} }, 3);
    env.observer.observeMessage('client->server', { id: 1, method: 'future/do', params: {} }, 4);
    env.observer.observeMessage('client->server', { method: 'future/note' }, 5);
    env.observer.observeMessage('client->server', { id: 77, result: {} }, 6); // answers nothing we saw
    const { stats } = env.observer;
    expect(stats.unknownMethods).toBe(5);
    expect([...stats.unknownByMethod]).toEqual([['future/thing', 2], ['future/ask', 1], ['future/do', 1], ['future/note', 1]]);
    expect(stats.messages).toBe(6);
    expect(stats.malformed).toBe(0);
    expect(env.started).toEqual([]);
  });

  it('bounds the names it counts unknown methods under', () => {
    const env = setup();
    const observer = new CodexJsonRpcObserver({ turnTracer: new TurnTracer(), maxUnknownMethodNames: 2 });
    for (const m of ['a/1', 'a/2', 'a/3', 'a/4', 'a/1']) observer.observeMessage('server->client', { method: m }, 1);
    expect([...observer.stats.unknownByMethod]).toEqual([['a/1', 2], ['a/2', 1], ['(other)', 2]]);
    expect(env.started).toEqual([]);
  });

  it('survives known methods with params of the wrong shape', () => {
    const env = setup();
    const odd = [
      { method: 'turn/started', params: 'x' }, { method: 'turn/started', params: { threadId: 1, turn: null } },
      { method: 'item/started', params: { threadId: 't', turnId: 'u', item: null } }, { method: 'item/completed', params: [] },
      { method: 'error', params: { error: 5, willRetry: 'yes' } }, { method: 'turn/completed', params: { turn: { id: 'u', status: 'weird' } } },
      { method: 'serverRequest/resolved', params: { requestId: {} } }, { id: 1, method: 'item/commandExecution/requestApproval', params: null },
    ];
    for (const message of odd) expect(() => env.observer.observeMessage('server->client', message, 1)).not.toThrow();
    expect(() => env.observer.observeMessage('client->server', { id: 1, result: 'odd' }, 2)).not.toThrow();
    // turn/completed with an unknown status is a malformed message, not a guess.
    expect(env.observer.stats.malformed).toBe(1);
  });

  it('never throws on any prefix of any recorded line, in either direction', () => {
    const env = setup();
    let lines = 0;
    for (const name of ['healthy_tool', 'approval_interrupted', 'compaction', 'retries_exhausted']) {
      for (const { dir, msg } of transcript(name).lines) {
        const raw = JSON.stringify(msg);
        for (let cut = 1; cut < raw.length; cut += 37) {
          expect(() => env.observer.observeLine(dir, raw.slice(0, cut), 1)).not.toThrow();
          lines++;
        }
      }
    }
    expect(env.observer.stats.malformed + env.observer.stats.deltas).toBe(lines);
  });

  it('counts a failure of its own tracer as malformed and warns once, without throwing into the host', () => {
    const warnings: string[] = [];
    diag.setLogger({ ...silentLogger, warn: (message: string) => { warnings.push(message); } }, DiagLogLevel.WARN);
    try {
      // No real tracer throws; this one stands for a bug below the observer.
      const broken = { startSpan: () => { throw new Error('tracer bug'); }, startActiveSpan: () => { throw new Error('tracer bug'); } };
      const observer = new CodexJsonRpcObserver({ turnTracer: new TurnTracer({ tracer: broken as never }) });
      for (const line of transcript('healthy_tool').text) expect(() => observeTranscriptLine(observer, line)).not.toThrow();
      expect(observer.stats.malformed).toBeGreaterThan(3);
      expect(warnings.filter((w) => w.includes('tracer bug'))).toHaveLength(1);
    } finally {
      diag.disable();
    }
  });

  it('counts deltas from the line head without parsing them', () => {
    const env = setup();
    env.observer.observeLine('server->client', Buffer.from('{"method":"item/agentMessage/delta","params":{"delta":"secret text"},"emittedAtMs":1}'), 1);
    // Not parsed at all: a delta cut in half still counts as a delta, not a malformed line.
    env.observer.observeLine('server->client', '{"method":"item/commandExecution/outputDelta","params":{"del', 2);
    expect(env.observer.stats).toMatchObject({ deltas: 2, messages: 2, malformed: 0 });
    expect(env.started).toEqual([]);
  });

  it('a long answer says every few seconds that it is still being written (a delta parsed at most once a second)', () => {
    // healthy_tool, its answer's delta repeated every second for 40 s before the item completes.
    const { text, lines } = transcript('healthy_tool');
    const at = lines.findIndex((l) => l.msg.method === 'item/agentMessage/delta');
    const env = setup();
    const shifted = (i: number, by: number) => JSON.stringify({ ...lines[i]!, t: lines[i]!.t + by });
    for (let i = 0; i <= at; i++) expect(observeTranscriptLine(env.observer, text[i]!)).toBe(true);
    for (let s = 1; s <= 40; s++) observeTranscriptLine(env.observer, shifted(at, s * 1_000));
    for (let i = at + 1; i < text.length; i++) observeTranscriptLine(env.observer, shifted(i, 41_000));
    const progress = env.named(PHASE_ITEM_PROGRESS);
    const item = env.started.find((s) => s.name === PHASE_ITEM && s.attributes[ATTR_ITEM_ID] === lines[at]!.msg.params.itemId)!;
    expect(progress.length).toBeGreaterThanOrEqual(12);
    expect(progress.length).toBeLessThanOrEqual(14);
    for (const p of progress) expect(env.parentOf(p)).toBe(item);
    const times = progress.map((p) => p.startTime[0] * 1000 + p.startTime[1] / 1e6);
    for (let k = 1; k < times.length; k++) expect(times[k]! - times[k - 1]!).toBeGreaterThanOrEqual(3_000);
    expect(env.observer.stats.deltas).toBe(lines.filter((l) => String(l.msg.method).includes('elta')).length + 40);
  });

  it('ends a hydration from the head of an answer too long to parse', () => {
    const env = setup({ maxLineBytes: 256 });
    env.observer.observeMessage('client->server', { id: 2, method: 'thread/resume', params: { threadId: 'th' } }, T0 + 1000);
    env.observer.observeLine('server->client', `{"id":2,"result":{"thread":{"id":"th","preview":"${'x'.repeat(1000)}"}}}`, T0 + 4000);
    const hydration = env.one(PHASE_THREAD_HYDRATION);
    expect(hydration.ended).toBe(true);
    expect(ms(hydration, 'end') - ms(hydration, 'start')).toBe(3000);
    expect(hydration.attributes[ATTR_HYDRATION_ITEMS]).toBeUndefined();
    expect(env.observer.stats.malformed).toBe(1);
  });

  it('counts transcript lines that are not transcript lines', () => {
    const env = setup();
    expect(observeTranscriptLine(env.observer, '{"t":"soon","dir":"client->server","msg":{}}')).toBe(false);
    expect(observeTranscriptLine(env.observer, '{"t":1,"dir":"sideways","msg":{}}')).toBe(false);
    expect(observeTranscriptLine(env.observer, '{"t":1,')).toBe(false);
    expect(observeTranscriptLine(env.observer, '')).toBe(false);
    expect(env.observer.stats.malformed).toBe(3);
  });
});

describe('CodexJsonRpcObserver on answers the recordings do not show', () => {
  const thread = 'th-1';
  const turnId = 'tu-1';
  function startedTurn(env: Setup): void {
    env.observer.observeMessage('client->server', { id: 3, method: 'turn/start', params: { threadId: thread, input: [] } }, T0 + 100);
    env.observer.observeMessage('server->client', { id: 3, result: { turn: { id: turnId, status: 'inProgress' } } }, T0 + 110);
  }

  it('an interrupt the server refuses is a failed cancel, and the turn goes on', () => {
    const env = setup();
    startedTurn(env);
    env.observer.observeMessage('client->server', { id: 4, method: 'turn/interrupt', params: { threadId: thread, turnId } }, T0 + 200);
    env.observer.observeMessage('server->client', { id: 4, error: { code: -32600, message: 'no' } }, T0 + 210);
    const cancel = env.one(PHASE_CANCEL);
    expect(cancel.attributes).toMatchObject({ [ATTR_CANCEL_RESULT]: 'failed', [ATTR_ERROR_TYPE]: 'jsonrpc.-32600' });
    expect(cancel.status.code).toBe(SpanStatusCode.ERROR);
    expect(env.open().map((s) => s.name)).toEqual([PHASE_TURN]);
  });

  it('an interrupt of a turn that already completed is already_completed', () => {
    const env = setup();
    startedTurn(env);
    env.observer.observeMessage('server->client', { method: 'turn/completed', params: { threadId: thread, turn: { id: turnId, status: 'completed' } }, emittedAtMs: T0 + 150 }, T0 + 151);
    env.observer.observeMessage('client->server', { id: 4, method: 'turn/interrupt', params: { threadId: thread, turnId } }, T0 + 200);
    env.observer.observeMessage('server->client', { id: 4, result: {} }, T0 + 210);
    expect(env.one(PHASE_CANCEL).attributes[ATTR_CANCEL_RESULT]).toBe('already_completed');
    expect(env.open()).toEqual([]);
  });

  it('an interrupt that loses the race to completion is already_completed', () => {
    const env = setup();
    startedTurn(env);
    env.observer.observeMessage('client->server', { id: 4, method: 'turn/interrupt', params: { threadId: thread, turnId } }, T0 + 200);
    env.observer.observeMessage('server->client', { method: 'turn/completed', params: { threadId: thread, turn: { id: turnId, status: 'completed' } }, emittedAtMs: T0 + 205 }, T0 + 206);
    expect(env.one(PHASE_CANCEL).attributes[ATTR_CANCEL_RESULT]).toBe('already_completed');
  });

  it('an approval the client answers with an error, and one the server withdraws', () => {
    const env = setup();
    startedTurn(env);
    const ask = (id: number, method: string) => env.observer.observeMessage('server->client', { id, method, params: { threadId: thread, turnId, itemId: `i${id}`, startedAtMs: T0 + 300 } }, T0 + 301);
    ask(0, 'item/fileChange/requestApproval');
    ask(1, 'item/permissions/requestApproval');
    env.observer.observeMessage('client->server', { id: 0, error: { code: -32000, message: 'ui gone' } }, T0 + 400);
    env.observer.observeMessage('server->client', { method: 'serverRequest/resolved', params: { threadId: thread, requestId: 1 }, emittedAtMs: T0 + 500 }, T0 + 501);
    const [fileChange, permissions] = env.named(PHASE_APPROVAL);
    expect(fileChange!.attributes).toMatchObject({ [ATTR_APPROVAL_KIND]: 'file_change', [ATTR_APPROVAL_DECISION]: 'error' });
    expect(fileChange!.status.code).toBe(SpanStatusCode.ERROR);
    expect(permissions!.attributes).toMatchObject({ [ATTR_APPROVAL_KIND]: 'permissions', [ATTR_APPROVAL_DECISION]: 'cancelled' });
    expect(ms(permissions!, 'end')).toBe(T0 + 500);
  });

  it('a turn/start the server refuses is a failed turn that names the error', () => {
    const env = setup();
    env.observer.observeMessage('client->server', { id: 3, method: 'turn/start', params: { threadId: thread, input: [] } }, T0 + 100);
    env.observer.observeMessage('server->client', { id: 3, error: { code: -32600, message: 'thread not found' } }, T0 + 110);
    const turn = env.one(PHASE_TURN);
    expect(turn.attributes[ATTR_TURN_STATUS]).toBe('failed');
    expect(turn.attributes[ATTR_TURN_ERROR]).toBe('turn/start jsonrpc.-32600: thread not found');
    expect(env.observer.activeTurns()).toEqual([]);
  });

  it('follows a turn it first meets mid-way (attached late) and a thread/read that fails', () => {
    const env = setup();
    env.observer.observeMessage('server->client', { method: 'item/started', params: { threadId: thread, turnId, item: { type: 'mcpToolCall', id: 'm1', server: 's', tool: 'search' }, startedAtMs: T0 + 50 } }, T0 + 60);
    const turn = env.one(PHASE_TURN);
    expect(turn.attributes).toMatchObject({ [ATTR_TURN_ID]: turnId, [ATTR_THREAD_ID]: thread });
    expect(env.one(PHASE_TOOL_CALL).attributes[ATTR_GEN_AI_TOOL_NAME]).toBe('search');
    expect(env.observer.activeTurns()).toMatchObject([{ threadId: thread, turnId, accepted: false }]);
    env.observer.observeMessage('client->server', { id: 8, method: 'thread/read', params: { threadId: 'other' } }, T0 + 70);
    env.observer.observeMessage('server->client', { id: 8, error: { code: -32602, message: 'bad' } }, T0 + 80);
    const hydration = env.one(PHASE_THREAD_HYDRATION);
    expect(hydration.attributes).toMatchObject({ [ATTR_HYDRATION_TRIGGER]: 'read', [ATTR_ERROR_TYPE]: 'jsonrpc.-32602' });
    expect(hydration.status.code).toBe(SpanStatusCode.ERROR);
  });
});
