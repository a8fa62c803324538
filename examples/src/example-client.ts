import { createParser } from 'eventsource-parser';
import { TURN_ID_HEADER } from './example-app-server.js';

export interface ExampleTurnOptions {
  /** Default `thread-1`. */
  readonly threadId?: string;
  /** Default: chosen by the server. */
  readonly turnId?: string;
  /** The user's message. Default: a request that makes the fake model use its tool when the scenario has one. */
  readonly input?: string;
  /** What to do with approval requests: answer `approve` (default) or `deny`, or `ignore` them as an absent person would. */
  readonly approvals?: 'approve' | 'deny' | 'ignore';
  /** Drop the connection after the first text delta, as a closed tab or a crashed TUI would. Default false. */
  readonly leaveAfterFirstDelta?: boolean;
}

export interface ExampleTurnResult {
  readonly turnId: string | undefined;
  /** `completed`, `failed`, `interrupted` as the server said; `left` when this client left first; `no_end` when the stream ended without a status. */
  readonly status: string;
  /** The events the client received, in order. */
  readonly events: ReadonlyArray<{ readonly event: string; readonly data: Record<string, unknown> }>;
}

/**
 * Drives one turn of the example app-server as a UI would: posts the user's message, reads the
 * SSE stream, answers approval requests, and stops at `turn.completed` (or leaves early).
 */
export async function runExampleTurn(url: string, options: ExampleTurnOptions = {}): Promise<ExampleTurnResult> {
  const threadId = options.threadId ?? 'thread-1';
  const abort = new AbortController();
  const events: Array<{ event: string; data: Record<string, unknown> }> = [];
  const answers: Array<Promise<unknown>> = [];
  let status = 'no_end';
  let turnId: string | undefined;
  const parser = createParser({
    onEvent(message) {
      const data = JSON.parse(message.data) as Record<string, unknown>;
      const event = message.event ?? 'message';
      events.push({ event, data });
      if (event === 'turn.started') turnId = String(data.turnId);
      if (event === 'turn.completed') status = String(data.status);
      if (event === 'approval.requested' && options.approvals !== 'ignore') {
        const decision = options.approvals === 'deny' ? 'denied' : 'approved';
        answers.push(fetch(`${url}/approvals/${encodeURIComponent(String(data.approvalId))}`, { method: 'POST', body: JSON.stringify({ decision }) }).then((r) => r.arrayBuffer()));
      }
      if (event === 'delta' && options.leaveAfterFirstDelta && status === 'no_end') {
        status = 'left';
        abort.abort();
      }
    },
  });
  const response = await fetch(`${url}/threads/${encodeURIComponent(threadId)}/turns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.turnId ? { [TURN_ID_HEADER]: options.turnId } : {}) },
    body: JSON.stringify({ input: options.input ?? 'Count the words in README.md' }),
    signal: abort.signal,
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
  } catch (error) {
    if (status !== 'left') throw error;
  }
  await Promise.all(answers);
  return { turnId, status, events };
}
