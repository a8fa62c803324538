import { afterEach, describe, expect, it } from 'vitest';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_APPROVAL_DECISION, ATTR_ERROR_TYPE, ATTR_HYDRATION_BYTES, ATTR_HYDRATION_ITEMS, ATTR_RETRY_REASON, ATTR_TOOL_EXIT_CODE,
  ATTR_TURN_STATUS, ATTR_UPSTREAM_ATTEMPT, ATTR_UPSTREAM_CONTINUATION, PHASE_APPROVAL, PHASE_COMPACTION, PHASE_CONTINUATION_REQUESTED,
  PHASE_FIRST_ASSISTANT_ITEM, PHASE_FIRST_REASONING_ITEM, PHASE_FIRST_TOOL_ITEM, PHASE_ITEM, PHASE_RENDERER_DETACHED, PHASE_THREAD_HYDRATION,
  PHASE_TOOL_CALL, PHASE_TURN, PHASE_UPSTREAM_ATTEMPT, PHASE_UPSTREAM_FIRST_BYTE, PHASE_UPSTREAM_FIRST_EVENT, PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_REQUEST_SENT, PHASE_UPSTREAM_RETRY,
} from '@stall-why/conventions';
import { STALL_NAMES, runExampleTurn, scenarioShape, startExampleAppServer, type ExampleAppServer, type ExampleTurnResult, type StallName } from '@stall-why/examples';
import { captureSpans, waitUntil, type SpanCapture } from '../../packages/instrument/test/span-capture.js';

/** Long enough that a stall never ends by itself during a test: each test releases it after looking. */
const HELD_STALL_MS = 60_000;

const servers: ExampleAppServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

interface Run {
  readonly capture: SpanCapture;
  readonly server: ExampleAppServer;
  readonly turn: Promise<ExampleTurnResult>;
}

async function start(stall: StallName): Promise<Run> {
  const capture = captureSpans();
  const server = await startExampleAppServer({ stall, stallMs: HELD_STALL_MS, tracerProvider: capture.provider, retryDelayMs: 5 });
  servers.push(server);
  const shape = scenarioShape(stall);
  const turn = runExampleTurn(server.url, { threadId: `thread-${stall}`, approvals: shape.clientAnswersApprovals ? 'approve' : 'ignore', leaveAfterFirstDelta: shape.clientLeaves });
  return { capture, server, turn };
}

/** Releases the stall and waits for the backend to finish the turn. */
async function finish(run: Run): Promise<ExampleTurnResult> {
  run.server.releaseStall();
  const result = await run.turn;
  await run.server.idle();
  return result;
}

const openNames = (capture: SpanCapture) => capture.open().map((s) => s.name).sort();
const childrenOf = (capture: SpanCapture, parent: ReadableSpan) => capture.started.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId).map((s) => s.name);
const turnStatus = (capture: SpanCapture) => capture.one(PHASE_TURN).attributes[ATTR_TURN_STATUS];

const cases: Record<StallName, () => Promise<void>> = {
  async none() {
    const run = await start('none');
    expect((await finish(run)).status).toBe('completed');
    const { capture } = run;
    expect(capture.open()).toEqual([]);
    expect(turnStatus(capture)).toBe('completed');
    const hydration = capture.one(PHASE_THREAD_HYDRATION);
    expect(hydration.attributes[ATTR_HYDRATION_ITEMS]).toBe(24);
    expect(hydration.attributes[ATTR_HYDRATION_BYTES]).toBeGreaterThan(500);
    expect(capture.named(PHASE_UPSTREAM_ATTEMPT)).toHaveLength(1);
    expect(capture.named(PHASE_FIRST_REASONING_ITEM)).toHaveLength(1);
    expect(capture.named(PHASE_FIRST_ASSISTANT_ITEM)).toHaveLength(1);
    for (const absent of [PHASE_TOOL_CALL, PHASE_UPSTREAM_RETRY, PHASE_COMPACTION, PHASE_APPROVAL, PHASE_RENDERER_DETACHED]) expect(capture.named(absent)).toEqual([]);
  },

  async 'healthy-tool'() {
    const run = await start('healthy-tool');
    expect((await finish(run)).status).toBe('completed');
    const { capture } = run;
    expect(capture.open()).toEqual([]);
    expect(turnStatus(capture)).toBe('completed');
    expect(capture.one(PHASE_COMPACTION).ended).toBe(true);
    expect(capture.one(PHASE_APPROVAL).attributes[ATTR_APPROVAL_DECISION]).toBe('approved');
    expect(capture.one(PHASE_TOOL_CALL).attributes[ATTR_TOOL_EXIT_CODE]).toBe(0);
    expect(capture.named(PHASE_FIRST_TOOL_ITEM)).toHaveLength(1);
    const attempts = capture.named(PHASE_UPSTREAM_ATTEMPT);
    expect(attempts.map((s) => s.attributes[ATTR_UPSTREAM_CONTINUATION])).toEqual([false, true]);
    const names = capture.started.map((s) => s.name);
    expect(names.indexOf(PHASE_CONTINUATION_REQUESTED)).toBeGreaterThan(names.indexOf(PHASE_TOOL_CALL));
    expect(names.lastIndexOf(PHASE_UPSTREAM_ATTEMPT)).toBeGreaterThan(names.indexOf(PHASE_CONTINUATION_REQUESTED));
  },

  async 'backend-silent'() {
    const run = await start('backend-silent');
    await run.server.stallReached;
    await waitUntil(() => run.capture.named(PHASE_UPSTREAM_HEADERS).length === 1, 'response headers');
    const attempt = run.capture.one(PHASE_UPSTREAM_ATTEMPT);
    expect(attempt.ended).toBe(false);
    expect(childrenOf(run.capture, attempt)).toEqual([PHASE_UPSTREAM_REQUEST_SENT, PHASE_UPSTREAM_HEADERS]);
    expect(openNames(run.capture)).toEqual([PHASE_TURN, PHASE_UPSTREAM_ATTEMPT].sort());
    expect((await finish(run)).status).toBe('completed');
    expect(childrenOf(run.capture, attempt)).toContain(PHASE_UPSTREAM_FIRST_EVENT);
  },

  async 'backend-silent-before-headers'() {
    const run = await start('backend-silent-before-headers');
    await run.server.stallReached;
    await waitUntil(() => run.capture.named(PHASE_UPSTREAM_REQUEST_SENT).length === 1, 'request sent');
    const attempt = run.capture.one(PHASE_UPSTREAM_ATTEMPT);
    expect(childrenOf(run.capture, attempt)).toEqual([PHASE_UPSTREAM_REQUEST_SENT]);
    expect(openNames(run.capture)).toEqual([PHASE_TURN, PHASE_UPSTREAM_ATTEMPT].sort());
    expect((await finish(run)).status).toBe('completed');
    expect(run.capture.named(PHASE_UPSTREAM_HEADERS)).toHaveLength(1);
  },

  async 'dropped-connections'() {
    const run = await start('dropped-connections');
    expect((await finish(run)).status).toBe('completed');
    const { capture } = run;
    const attempts = capture.named(PHASE_UPSTREAM_ATTEMPT);
    expect(attempts.map((s) => s.attributes[ATTR_UPSTREAM_ATTEMPT])).toEqual([1, 2, 3, 4]);
    expect(attempts.map((s) => s.attributes[ATTR_ERROR_TYPE])).toEqual(['UND_ERR_SOCKET', 'UND_ERR_SOCKET', 'UND_ERR_SOCKET', undefined]);
    // Mid-stream drops broke after an event had arrived; the first never got headers.
    expect(childrenOf(capture, attempts[0])).not.toContain(PHASE_UPSTREAM_HEADERS);
    expect(childrenOf(capture, attempts[1])).toContain(PHASE_UPSTREAM_FIRST_EVENT);
    expect(capture.named(PHASE_UPSTREAM_RETRY).map((s) => s.attributes[ATTR_RETRY_REASON])).toEqual(['connect_error', 'stream_disconnected', 'stream_disconnected']);
    expect(turnStatus(capture)).toBe('completed');
  },

  async 'slow-compaction'() {
    const run = await start('slow-compaction');
    await run.server.stallReached;
    expect(openNames(run.capture)).toEqual([PHASE_COMPACTION, PHASE_TURN].sort());
    expect(run.capture.named(PHASE_UPSTREAM_ATTEMPT)).toEqual([]);
    expect((await finish(run)).status).toBe('completed');
    expect(run.capture.one(PHASE_COMPACTION).ended).toBe(true);
  },

  async 'slow-history-load'() {
    const run = await start('slow-history-load');
    await run.server.stallReached;
    expect(openNames(run.capture)).toEqual([PHASE_THREAD_HYDRATION, PHASE_TURN].sort());
    expect(run.capture.named(PHASE_UPSTREAM_ATTEMPT)).toEqual([]);
    expect((await finish(run)).status).toBe('completed');
    expect(run.capture.one(PHASE_THREAD_HYDRATION).attributes[ATTR_HYDRATION_ITEMS]).toBe(24);
  },

  async 'client-gone'() {
    const run = await start('client-gone');
    await run.server.stallReached;
    await waitUntil(() => run.capture.named(PHASE_RENDERER_DETACHED).length === 1, 'renderer detached');
    // The client left; the backend has not: the turn and its model stream are still open.
    expect(openNames(run.capture)).toEqual([PHASE_ITEM, PHASE_TURN, PHASE_UPSTREAM_ATTEMPT].sort());
    expect((await finish(run)).status).toBe('left');
    expect(turnStatus(run.capture)).toBe('completed');
    expect(run.capture.open()).toEqual([]);
  },

  async 'tool-no-continuation'() {
    const run = await start('tool-no-continuation');
    await run.server.stallReached;
    expect(run.capture.one(PHASE_TOOL_CALL).ended).toBe(true);
    expect(run.capture.named(PHASE_CONTINUATION_REQUESTED)).toEqual([]);
    expect(run.capture.named(PHASE_UPSTREAM_ATTEMPT)).toHaveLength(1);
    expect(openNames(run.capture)).toEqual([PHASE_TURN]);
    expect((await finish(run)).status).toBe('failed');
    expect(run.capture.named(PHASE_CONTINUATION_REQUESTED)).toEqual([]);
    expect(run.capture.named(PHASE_UPSTREAM_ATTEMPT)).toHaveLength(1);
  },

  async 'unanswered-approval'() {
    const run = await start('unanswered-approval');
    await run.server.stallReached;
    expect(openNames(run.capture)).toEqual([PHASE_APPROVAL, PHASE_TURN].sort());
    expect(run.capture.named(PHASE_TOOL_CALL)).toEqual([]);
    expect((await finish(run)).status).toBe('interrupted');
    expect(run.capture.one(PHASE_APPROVAL).attributes[ATTR_APPROVAL_DECISION]).toBe('cancelled');
    expect(turnStatus(run.capture)).toBe('interrupted');
  },

  async 'tool-running'() {
    const run = await start('tool-running');
    await run.server.stallReached;
    expect(openNames(run.capture)).toEqual([PHASE_TOOL_CALL, PHASE_TURN].sort());
    expect(run.capture.named(PHASE_APPROVAL)).toEqual([]);
    expect((await finish(run)).status).toBe('completed');
    expect(run.capture.named(PHASE_CONTINUATION_REQUESTED)).toHaveLength(1);
    expect(run.capture.named(PHASE_UPSTREAM_FIRST_BYTE)).toHaveLength(2);
  },
};

describe('the example app-server, one switch at a time', () => {
  it('has a case here for every stall it offers', () => {
    expect(Object.keys(cases).sort()).toEqual([...STALL_NAMES].sort());
  });
  for (const stall of STALL_NAMES) it(`shows ${stall} in its phase spans`, cases[stall]);
});
