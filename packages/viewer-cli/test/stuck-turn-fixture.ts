/**
 * A stuck turn built by hand, spans and report together, for the renderer and the Chrome export
 * while they are tested apart from the classifier: a tool call returned, the continuation request
 * went out, and the model API never answered it (backend_stall), judged 4 minutes later. A second,
 * healthy turn precedes it. The shapes follow packages/classifier/src/report.ts and
 * packages/flight-record/src/recorded-span.ts.
 */
import type { PhaseBar, Report, TurnReport } from '@stall-why/classifier';
import type { RecordedSpan } from '@stall-why/flight-record';
import {
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_PHASE_KIND,
  ATTR_SOURCE,
  ATTR_THREAD_ID,
  ATTR_TURN_ID,
  ATTR_TURN_STATUS,
  ATTR_UPSTREAM_ATTEMPT,
  ATTR_UPSTREAM_CONTINUATION,
  PHASE_CONTINUATION_REQUESTED,
  PHASE_ITEM,
  PHASE_KIND_POINT,
  PHASE_KIND_SPAN,
  PHASE_TOOL_CALL,
  PHASE_TURN,
  PHASE_UPSTREAM_ATTEMPT,
  PHASE_UPSTREAM_HEADERS,
} from '@stall-why/conventions';

export const T0 = Date.parse('2026-11-24T14:52:40.000Z');
export const JUDGED_AT = T0 + 4 * 60_000 + 12_000;
export const THREAD = '019a7e2f-thread';
export const STUCK_TURN = 'turn-2';
export const HEALTHY_TURN = 'turn-1';

let nextSpan = 1;
function span(name: string, turnId: string, startMs: number, endMs: number | undefined, attributes: Record<string, string | number | boolean> = {}): RecordedSpan {
  const point = endMs === startMs;
  return {
    traceId: 'a'.repeat(32),
    spanId: (nextSpan++).toString(16).padStart(16, '0'),
    name,
    startTimeMs: startMs,
    ...(endMs === undefined ? {} : { endTimeMs: endMs }),
    attributes: {
      [ATTR_THREAD_ID]: THREAD,
      [ATTR_TURN_ID]: turnId,
      [ATTR_PHASE_KIND]: point ? PHASE_KIND_POINT : PHASE_KIND_SPAN,
      [ATTR_SOURCE]: 'jsonrpc',
      ...attributes,
    },
    resource: { 'service.name': 'codex-app-server' },
  };
}

/** The spans: a healthy turn 1, then turn 2 stuck on its continuation. */
export function stuckTurnSpans(): RecordedSpan[] {
  const h = T0 - 20_000;
  const s = T0;
  return [
    span(PHASE_TURN, HEALTHY_TURN, h, h + 3_000, { [ATTR_TURN_STATUS]: 'completed' }),
    span(PHASE_UPSTREAM_ATTEMPT, HEALTHY_TURN, h + 100, h + 2_900, { [ATTR_UPSTREAM_ATTEMPT]: 1 }),
    span(PHASE_TURN, STUCK_TURN, s, undefined),
    span(PHASE_UPSTREAM_ATTEMPT, STUCK_TURN, s + 100, s + 1_500, { [ATTR_UPSTREAM_ATTEMPT]: 1 }),
    span(PHASE_UPSTREAM_HEADERS, STUCK_TURN, s + 400, s + 400),
    span(PHASE_ITEM, STUCK_TURN, s + 1_200, s + 2_100, { 'stall_why.item.type': 'commandExecution' }),
    span(PHASE_TOOL_CALL, STUCK_TURN, s + 1_300, s + 2_000, { [ATTR_GEN_AI_TOOL_NAME]: 'exec_command', [ATTR_GEN_AI_TOOL_CALL_ID]: 'call_1' }),
    span(PHASE_CONTINUATION_REQUESTED, STUCK_TURN, s + 2_050, s + 2_050),
    span(PHASE_UPSTREAM_ATTEMPT, STUCK_TURN, s + 2_050, undefined, { [ATTR_UPSTREAM_ATTEMPT]: 2, [ATTR_UPSTREAM_CONTINUATION]: true }),
  ];
}

function bar(name: string, label: string, startMs: number, endMs: number | null, depth: number, kind: 'span' | 'point' = 'span'): PhaseBar {
  return { name, label, kind, startMs, endMs, depth };
}

export function stuckTurnReport(): TurnReport {
  const s = T0;
  return {
    threadId: THREAD,
    turnId: STUCK_TURN,
    status: 'stuck',
    verdict: 'backend_stall',
    confidence: 0.9,
    startedAt: new Date(s).toISOString(),
    lastActivityAt: new Date(s + 2_050).toISOString(),
    stuckForMs: JUDGED_AT - (s + 2_050),
    evidence: [
      'continuation request (upstream attempt #2) sent at 14:52:42.050, no response headers for 4 min 10 s',
      'tool exec_command returned at 14:52:42.000',
    ],
    endedAt: null,
    sources: ['recording'],
    phases: [
      bar(PHASE_TURN, 'turn', s, null, 0),
      bar(PHASE_UPSTREAM_ATTEMPT, 'upstream #1', s + 100, s + 1_500, 1),
      bar(PHASE_UPSTREAM_HEADERS, 'headers 200', s + 400, s + 400, 2, 'point'),
      bar(PHASE_ITEM, 'item commandExecution', s + 1_200, s + 2_100, 1),
      bar(PHASE_TOOL_CALL, 'tool exec_command', s + 1_300, s + 2_000, 2),
      bar(PHASE_CONTINUATION_REQUESTED, 'continuation requested', s + 2_050, s + 2_050, 1, 'point'),
      bar(PHASE_UPSTREAM_ATTEMPT, 'upstream #2 (continuation)', s + 2_050, null, 1),
    ],
  };
}

export function healthyTurnReport(): TurnReport {
  const h = T0 - 20_000;
  return {
    threadId: THREAD,
    turnId: HEALTHY_TURN,
    status: 'completed',
    verdict: 'healthy',
    confidence: 1,
    startedAt: new Date(h).toISOString(),
    lastActivityAt: new Date(h + 3_000).toISOString(),
    stuckForMs: null,
    evidence: ['completed in 3.0 s'],
    endedAt: new Date(h + 3_000).toISOString(),
    sources: ['recording'],
    phases: [bar(PHASE_TURN, 'turn', h, h + 3_000, 0), bar(PHASE_UPSTREAM_ATTEMPT, 'upstream #1', h + 100, h + 2_900, 1)],
  };
}

export function stuckReport(): Report {
  return {
    judgedAt: new Date(JUDGED_AT).toISOString(),
    turns: [healthyTurnReport(), stuckTurnReport()],
    sources: [{ path: 'recording', format: 'flight-recorder', spans: 9, skipped: 0, corrupt: 0 }],
  };
}
