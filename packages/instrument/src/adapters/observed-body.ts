import { createParser } from 'eventsource-parser';
import { ATTR_UPSTREAM_BYTES, ATTR_UPSTREAM_EVENTS } from '@stall-why/conventions';
import type { UpstreamAttempt } from '../turn-tracer.js';
import { errorTypeOf } from './error-type.js';

/** `error.type` of an attempt whose body the caller cancelled before it ended. */
export const ERROR_TYPE_BODY_CANCELLED = 'body_cancelled';

/**
 * Passes a response body through unchanged, chunk by chunk, while marking the attempt's first
 * byte, first SSE event, and end or error. Pull-based with no queue of its own (high-water mark
 * 0), so nothing is buffered beyond the chunk in hand and the caller's backpressure reaches the
 * socket. SSE is parsed with `eventsource-parser`; only the count of events is kept, never data.
 */
export function observeBody(source: ReadableStream<Uint8Array>, attempt: UpstreamAttempt, parseSse: boolean): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let bytes = 0;
  let events = 0;
  const onEvent = (): void => {
    if (events++ === 0) attempt.firstEvent();
  };
  const parser = parseSse ? createParser({ onEvent }) : undefined;
  const decoder = parseSse ? new TextDecoder() : undefined;
  const counts = () => ({ [ATTR_UPSTREAM_EVENTS]: events, [ATTR_UPSTREAM_BYTES]: bytes });
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          attempt.streamError(errorTypeOf(error), { attributes: counts() });
          controller.error(error);
          return;
        }
        if (chunk.done) {
          if (parser && decoder) parser.feed(decoder.decode());
          attempt.streamEnd({ attributes: counts() });
          controller.close();
          return;
        }
        const value = chunk.value;
        if (bytes === 0 && value.byteLength > 0) attempt.firstByte();
        bytes += value.byteLength;
        if (parser && decoder) parser.feed(decoder.decode(value, { stream: true }));
        controller.enqueue(value);
      },
      cancel(reason) {
        attempt.streamError(ERROR_TYPE_BODY_CANCELLED, { attributes: counts() });
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
