/**
 * Real recordings for the CLI's subprocess tests: turns driven through the real TurnTracer on the
 * real OpenTelemetry SDK, recorded by the real FlightRecorderProcessor (a flight-recorder
 * directory, open spans included) and serialised by the real OTLP JSON serializer (ended spans
 * only, as a collector would have them). Times are fixed so a judged moment can be given.
 *
 * - thread-1/turn-ok: completed, a model request and an answer;
 * - thread-1/turn-stuck: a tool returned, the continuation request went out, and the model API
 *   never answered (headers never came): left open, as a stuck turn is;
 * - thread-2/turn-failed (OTLP only): the stream broke three times and the turn failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  PHASE_CONTINUATION_REQUESTED,
  PHASE_TOOL_CALL,
  RETRY_REASON_STREAM_DISCONNECTED,
  SOURCE_API,
  TURN_END_STATUS_COMPLETED,
  TURN_END_STATUS_FAILED,
} from '@stall-why/conventions';
import { FlightRecorderProcessor, TurnTracer } from '@stall-why/instrument';

export const BASE = Date.parse('2026-11-24T14:52:40.000Z');
/** Five minutes after the stuck turn's last phase. */
export const JUDGED_AT = BASE + 12_050 + 5 * 60_000;
export const THREAD = 'thread-1';

export interface RecordedTraces {
  readonly flightRecorder: string;
  readonly otlpJson: string;
}

export async function recordTraces(root: string): Promise<RecordedTraces> {
  const flightRecorder = join(root, 'flight-recorder');
  const otlpJson = join(root, 'trace.otlp.json');
  mkdirSync(root, { recursive: true });
  const recorder = new FlightRecorderProcessor({ directory: flightRecorder, maxBytes: 1 << 20 });
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [recorder, new SimpleSpanProcessor(memory)],
  });
  const tracer = new TurnTracer({ tracer: provider.getTracer('stall-why-cli-test'), source: SOURCE_API });

  const ok = tracer.startTurn({ threadId: THREAD, turnId: 'turn-ok', time: BASE });
  ok.accepted({ time: BASE + 5 });
  const first = ok.startAttempt({ attempt: 1, time: BASE + 10 });
  first.requestSent({ time: BASE + 10 }).headers(200, { time: BASE + 300 }).firstByte({ time: BASE + 310 }).firstEvent({ time: BASE + 320 });
  first.streamEnd({ time: BASE + 2_000 });
  ok.endTurn(TURN_END_STATUS_COMPLETED, { time: BASE + 2_010 });

  const stuck = tracer.startTurn({ threadId: THREAD, turnId: 'turn-stuck', time: BASE + 10_000 });
  stuck.accepted({ time: BASE + 10_005 });
  const ask = stuck.startAttempt({ attempt: 1, time: BASE + 10_010 });
  ask.requestSent({ time: BASE + 10_010 }).headers(200, { time: BASE + 10_300 }).firstByte({ time: BASE + 10_310 }).firstEvent({ time: BASE + 10_320 });
  ask.streamEnd({ time: BASE + 11_500 });
  const tool = stuck.startPhase(PHASE_TOOL_CALL, {
    attributes: { [ATTR_GEN_AI_TOOL_NAME]: 'exec_command', [ATTR_GEN_AI_TOOL_CALL_ID]: 'call_1' },
    time: BASE + 11_510,
  });
  tool.end({ time: BASE + 12_000 });
  stuck.mark(PHASE_CONTINUATION_REQUESTED, { time: BASE + 12_050 });
  stuck.startAttempt({ attempt: 2, continuation: true, time: BASE + 12_050 }).requestSent({ time: BASE + 12_050 });

  const failed = tracer.startTurn({ threadId: 'thread-2', turnId: 'turn-failed', time: BASE + 20_000 });
  for (let attempt = 1; attempt <= 3; attempt++) {
    const at = BASE + 20_000 + attempt * 1_000;
    const a = failed.startAttempt({ attempt, time: at });
    a.requestSent({ time: at }).headers(200, { time: at + 100 });
    a.streamError('stream_disconnected', { time: at + 400 });
    failed.retry({ reason: RETRY_REASON_STREAM_DISCONNECTED, attempt, max: 3, willRetry: attempt < 3, time: at + 410 });
  }
  failed.endTurn(TURN_END_STATUS_FAILED, { error: 'stream disconnected before completion', time: BASE + 23_500 });

  await recorder.forceFlush();
  writeFileSync(otlpJson, Buffer.from(JsonTraceSerializer.serializeRequest(memory.getFinishedSpans())!));
  // Not shut down: the stuck turn's spans stay open, as in a process that is still stuck.
  await recorder.shutdown();
  return { flightRecorder, otlpJson };
}
