import { createParser } from 'eventsource-parser';
import {
  ATTR_ITEM_ID, ATTR_ITEM_STATUS, ATTR_ITEM_TYPE, PHASE_FIRST_ASSISTANT_ITEM, PHASE_FIRST_REASONING_ITEM, PHASE_FIRST_TOOL_ITEM,
  PHASE_ITEM, RETRY_REASON_STREAM_DISCONNECTED,
} from '@stall-why/conventions';
import { errorTypeOf, tracedModelFetch, type PhaseHandle, type TurnHandle } from '@stall-why/instrument';
import { EXAMPLE_TURN_HEADER } from './fake-model-upstream.js';
import { delay } from './stall-gate.js';
import type { HistoryItem } from './thread-history.js';

/** The model the example asks the fake upstream for. */
export const EXAMPLE_MODEL = 'gpt-fake';

/** What the app needs to talk to the model and tell its client. */
export interface ModelCallContext {
  readonly turn: TurnHandle;
  readonly upstreamUrl: string;
  /** Retries of a stream that broke after headers (Codex's `stream_max_retries` is 5 by default; 3 keeps the example short). */
  readonly maxStreamRetries: number;
  /** Backoff before each retry, both inside the fetch adapter and after a broken stream. */
  readonly retryDelayMs: number;
  /** Forwards an event to the client. */
  readonly send: (event: string, data: unknown) => void;
  /** Which `first_*` phases this turn has marked already. */
  readonly firstsMarked: Set<string>;
}

export interface ModelReply {
  readonly outputItems: HistoryItem[];
  readonly functionCalls: Array<{ readonly call_id: string; readonly name: string; readonly arguments: string }>;
}

const FIRST_PHASE_OF_TYPE: Record<string, string> = {
  reasoning: PHASE_FIRST_REASONING_ITEM,
  message: PHASE_FIRST_ASSISTANT_ITEM,
  function_call: PHASE_FIRST_TOOL_ITEM,
};

/**
 * Sends one logical model request and reads its SSE reply. A connection that fails before
 * headers is retried inside the fetch adapter; a stream that breaks after headers is retried here,
 * as Codex does ("Reconnecting… n/m"), each marked `stall_why.upstream.retry`.
 */
export async function requestModelReply(ctx: ModelCallContext, input: readonly HistoryItem[], continuation: boolean): Promise<ModelReply> {
  let attempt = 1;
  for (let streamRetry = 0; ; streamRetry++) {
    let lastAttempt = attempt;
    const response = await tracedModelFetch(
      ctx.turn,
      `${ctx.upstreamUrl}/responses`,
      {
        method: 'POST',
        // The key is fake; the fetch adapter never records it (the tests check).
        headers: { 'content-type': 'application/json', authorization: 'Bearer example-not-a-key', [EXAMPLE_TURN_HEADER]: ctx.turn.turnId ?? '' },
        body: JSON.stringify({ model: EXAMPLE_MODEL, input, stream: true }),
      },
      { attempt, continuation, model: EXAMPLE_MODEL, retry: { maxRetries: 2, baseDelayMs: ctx.retryDelayMs, jitter: 0 }, onAttempt: (_, n) => { lastAttempt = n; } },
    );
    if (!response.ok) throw Object.assign(new Error(`model upstream answered ${response.status}`), { code: `http_${response.status}` });
    try {
      return await readReply(ctx, response);
    } catch (error) {
      if (streamRetry >= ctx.maxStreamRetries) throw error;
      ctx.turn.retry({ reason: RETRY_REASON_STREAM_DISCONNECTED, attempt: streamRetry + 1, max: ctx.maxStreamRetries, delayMs: ctx.retryDelayMs, errorType: errorTypeOf(error) });
      ctx.send('reconnecting', { attempt: streamRetry + 1, max: ctx.maxStreamRetries });
      await delay(ctx.retryDelayMs);
      attempt = lastAttempt + 1;
    }
  }
}

async function readReply(ctx: ModelCallContext, response: Response): Promise<ModelReply> {
  const outputItems: HistoryItem[] = [];
  const functionCalls: Array<{ call_id: string; name: string; arguments: string }> = [];
  const openItems = new Map<number, PhaseHandle>();
  const parser = createParser({
    onEvent(event) {
      const data = JSON.parse(event.data) as { type: string; output_index?: number; item?: HistoryItem & { id?: string }; delta?: string };
      if (data.type === 'response.output_item.added' && data.item) {
        const type = data.item.type;
        const first = FIRST_PHASE_OF_TYPE[type];
        if (first && !ctx.firstsMarked.has(first)) {
          ctx.firstsMarked.add(first);
          ctx.turn.mark(first);
        }
        openItems.set(data.output_index ?? 0, ctx.turn.startPhase(PHASE_ITEM, { attributes: { [ATTR_ITEM_TYPE]: type, [ATTR_ITEM_ID]: data.item.id } }));
        ctx.send('item.started', { type });
      } else if (data.type === 'response.output_text.delta') {
        ctx.send('delta', { text: data.delta });
      } else if (data.type === 'response.output_item.done' && data.item) {
        openItems.get(data.output_index ?? 0)?.end({ attributes: { [ATTR_ITEM_STATUS]: 'completed' } });
        openItems.delete(data.output_index ?? 0);
        outputItems.push(data.item);
        if (data.item.type === 'function_call') functionCalls.push(data.item as unknown as (typeof functionCalls)[number]);
        ctx.send('item.completed', { type: data.item.type });
      }
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
  } catch (error) {
    for (const item of openItems.values()) item.fail(errorTypeOf(error), { attributes: { [ATTR_ITEM_STATUS]: 'incomplete' } });
    throw error;
  }
  return { outputItems, functionCalls };
}
