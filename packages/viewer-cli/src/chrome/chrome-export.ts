/**
 * The Chrome trace export (`--chrome out.json`): a process per app-server or source, a track per
 * turn (split into properly nested lanes), duration phases as complete `X` events, point phases as
 * instant `i` events, open phases drawn to the judged moment and marked `(open)`, flow arrows from
 * each tool result to its continuation request, each turn's verdict and evidence in its turn
 * event's `args[CHROME_ARG_VERDICT]`, and every span under `args[CHROME_ARG_SPAN]` so stall-why
 * can read the file back.
 *
 * Written as plain JSON rather than through `chrome-trace-event`: that library stamps events with
 * the current process's clock and pid, writes the deprecated `I` phase, takes `cat` only as an
 * array, and emits the bare-array form, which has no room for `otherData`. None of that fits an
 * export of recorded spans, and the format itself is a few plain objects.
 */
import type { Report, TurnReport } from '@stall-why/classifier';
import {
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_PHASE_KIND,
  ATTR_PROCESS_PID,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SOURCE,
  ATTR_THREAD_ID,
  ATTR_TURN_ID,
  ATTR_UPSTREAM_CONTINUATION,
  CHROME_ARG_SPAN,
  CHROME_ARG_VERDICT,
  PHASE_CONTINUATION_REQUESTED,
  PHASE_KIND_POINT,
  PHASE_TOOL_CALL,
  PHASE_TURN,
  PHASE_UPSTREAM_ATTEMPT,
  STALL_WHY_PREFIX,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import { nextStep } from '../next-steps.js';
import { assignLanes } from './track-lanes.js';
import { TRACE_CATEGORY, toMicros, type ChromeTrace, type TraceEvent } from './trace-event.js';

export interface ChromeExportOptions {
  /** Only export spans of the report's turns (after `--turn`/`--thread`). Default false: every span. */
  readonly onlyReportedTurns?: boolean;
  /** Written to `otherData`, e.g. the stall-why version. */
  readonly otherData?: Record<string, string>;
}

/** Marks an open phase drawn to the judged moment, in its event name and args. */
export const OPEN_MARK = '(open)';

interface PlacedSpan {
  readonly span: RecordedSpan;
  readonly pid: number;
  readonly trackKey: string;
  readonly start: number;
  /** Microseconds; the judged moment for an open span. */
  readonly end: number;
  readonly point: boolean;
  tid: number;
}

/** Builds the Chrome trace of a report and the spans it was judged from. */
export function buildChromeTrace(report: Report, spans: readonly RecordedSpan[], options: ChromeExportOptions = {}): ChromeTrace {
  const judgedAt = toMicros(Date.parse(report.judgedAt));
  const turnsByTrack = new Map(report.turns.map((turn) => [trackKeyOfTurn(turn), turn]));
  const labels = phaseLabels(report);
  const events: TraceEvent[] = [];
  const processes = new Map<string, number>();
  const placed: PlacedSpan[] = [];

  for (const span of spans) {
    const trackKey = trackKeyOfSpan(span);
    if (options.onlyReportedTurns && !turnsByTrack.has(trackKey)) continue;
    const processKey = processKeyOf(span);
    let pid = processes.get(processKey);
    if (pid === undefined) {
      pid = processes.size + 1;
      processes.set(processKey, pid);
      events.push(metadata('process_name', pid, 0, { name: processKey }), metadata('process_sort_index', pid, 0, { sort_index: pid }));
    }
    const start = toMicros(span.startTimeMs);
    const point = span.attributes[ATTR_PHASE_KIND] === PHASE_KIND_POINT || span.endTimeMs === span.startTimeMs;
    const end = span.endTimeMs === undefined ? Math.max(start, judgedAt) : Math.max(start, toMicros(span.endTimeMs));
    placed.push({ span, pid, trackKey, start, end, point, tid: 0 });
  }

  const threads = assignThreads(placed, turnsByTrack, events);
  const verdictDone = new Set<string>();
  for (const p of placed) {
    const args: Record<string, unknown> = { [CHROME_ARG_SPAN]: p.span };
    const turn = turnsByTrack.get(p.trackKey);
    if (turn && p.span.name === PHASE_TURN && !verdictDone.has(p.trackKey)) {
      args[CHROME_ARG_VERDICT] = verdictArgs(turn);
      verdictDone.add(p.trackKey);
    }
    const label = labels.get(`${p.span.traceId}/${p.span.spanId}`) ?? labels.get(`${p.span.name}@${p.span.startTimeMs}`) ?? defaultLabel(p.span);
    if (p.point) {
      events.push({ name: label, cat: TRACE_CATEGORY, ph: 'i', s: 't', pid: p.pid, tid: p.tid, ts: p.start, args });
    } else if (p.span.endTimeMs === undefined) {
      args.open = `still open: drawn to the judged moment ${report.judgedAt}`;
      events.push({ name: `${label} ${OPEN_MARK}`, cat: TRACE_CATEGORY, ph: 'X', pid: p.pid, tid: p.tid, ts: p.start, dur: p.end - p.start, args });
    } else {
      events.push({ name: label, cat: TRACE_CATEGORY, ph: 'X', pid: p.pid, tid: p.tid, ts: p.start, dur: p.end - p.start, args });
    }
  }

  // A turn with no turn span of its own (a rollout, a wait with no turn yet) still shows its verdict.
  for (const [trackKey, turn] of turnsByTrack) {
    if (verdictDone.has(trackKey)) continue;
    const thread = threads.get(trackKey) ?? newThread(events, placed, trackKey, turn);
    const start = toMicros(Date.parse(turn.startedAt));
    const end = turn.endedAt !== null ? toMicros(Date.parse(turn.endedAt)) : judgedAt;
    events.push({
      name: `verdict: ${turn.verdict}`,
      cat: TRACE_CATEGORY,
      ph: 'i',
      s: 't',
      pid: thread.pid,
      tid: thread.tid,
      ts: Math.max(start, Math.min(end, judgedAt)),
      args: { [CHROME_ARG_VERDICT]: verdictArgs(turn) },
    });
  }

  events.push(...toolFlows(placed));
  return {
    traceEvents: sortEvents(events),
    displayTimeUnit: 'ms',
    otherData: { generator: 'stall-why', judgedAt: report.judgedAt, ...options.otherData },
  };
}

/** Gives each placed span a tid: one per (process, track, lane), named after the turn. */
function assignThreads(placed: PlacedSpan[], turns: Map<string, TurnReport>, events: TraceEvent[]): Map<string, { pid: number; tid: number }> {
  const groups = new Map<string, PlacedSpan[]>();
  for (const p of placed) {
    const key = `${p.pid}\u0000${p.trackKey}`;
    const group = groups.get(key);
    if (group) group.push(p);
    else groups.set(key, [p]);
  }
  const firstThread = new Map<string, { pid: number; tid: number }>();
  let nextTid = 1;
  for (const group of groups.values()) {
    const durations = group.filter((p) => !p.point);
    const lanes = assignLanes(durations.map((p) => ({ start: p.start, end: p.end })));
    const laneCount = Math.max(1, ...lanes.map((l) => l + 1));
    const { pid, trackKey } = group[0];
    const tids = Array.from({ length: laneCount }, (_, lane) => {
      const tid = nextTid++;
      const name = `${trackName(trackKey, turns.get(trackKey))}${lane === 0 ? '' : ` ·${lane + 1}`}`;
      events.push(metadata('thread_name', pid, tid, { name }), metadata('thread_sort_index', pid, tid, { sort_index: tid }));
      return tid;
    });
    durations.forEach((p, i) => (p.tid = tids[lanes[i]]));
    for (const p of group) if (p.point) p.tid = tids[0];
    if (!firstThread.has(trackKey)) firstThread.set(trackKey, { pid, tid: tids[0] });
  }
  return firstThread;
}

/** A track for a reported turn that has no spans at all (its spans were filtered or never seen). */
function newThread(events: TraceEvent[], placed: PlacedSpan[], trackKey: string, turn: TurnReport): { pid: number; tid: number } {
  const pid = Math.max(0, ...placed.map((p) => p.pid), ...events.filter((e) => e.ph === 'M').map((e) => e.pid)) + 1;
  const tid = Math.max(0, ...events.map((e) => e.tid)) + 1;
  events.push(
    metadata('process_name', pid, 0, { name: turn.sources.join(', ') || 'stall-why' }),
    metadata('thread_name', pid, tid, { name: trackName(trackKey, turn) }),
  );
  return { pid, tid };
}

/** Flow arrows from each tool result to the first continuation request after it in the same turn. */
function toolFlows(placed: readonly PlacedSpan[]): TraceEvent[] {
  const events: TraceEvent[] = [];
  let flowId = 1;
  const byTrack = new Map<string, PlacedSpan[]>();
  for (const p of placed) {
    const list = byTrack.get(p.trackKey);
    if (list) list.push(p);
    else byTrack.set(p.trackKey, [p]);
  }
  for (const track of byTrack.values()) {
    const continuations = track
      .filter((p) => p.span.name === PHASE_CONTINUATION_REQUESTED || (p.span.name === PHASE_UPSTREAM_ATTEMPT && p.span.attributes[ATTR_UPSTREAM_CONTINUATION] === true))
      .sort((a, b) => a.start - b.start);
    for (const tool of track) {
      if (tool.span.name !== PHASE_TOOL_CALL || tool.span.endTimeMs === undefined) continue;
      const next = continuations.find((c) => c.start >= tool.end);
      if (!next) continue;
      const name = 'tool result → continuation';
      const args: Record<string, unknown> = {
        tool: tool.span.attributes[ATTR_GEN_AI_TOOL_NAME] ?? null,
        callId: tool.span.attributes[ATTR_GEN_AI_TOOL_CALL_ID] ?? null,
      };
      // The instant marks the result; DevTools binds a flow start to an event with the same ts, pid, tid and cat.
      events.push({ name: 'tool result', cat: TRACE_CATEGORY, ph: 'i', s: 't', pid: tool.pid, tid: tool.tid, ts: tool.end, args });
      events.push({ name, cat: TRACE_CATEGORY, ph: 's', id: flowId, pid: tool.pid, tid: tool.tid, ts: tool.end });
      events.push({ name, cat: TRACE_CATEGORY, ph: 'f', bp: 'e', id: flowId, pid: next.pid, tid: next.tid, ts: next.start });
      flowId++;
    }
  }
  return events;
}

/** Metadata first, then by time; at one time, longer events first so that parents precede children. */
function sortEvents(events: TraceEvent[]): TraceEvent[] {
  const rank = (e: TraceEvent): number => (e.ph === 'M' ? 0 : 1);
  return events.sort((a, b) => rank(a) - rank(b) || a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
}

function verdictArgs(turn: TurnReport): Record<string, unknown> {
  return {
    verdict: turn.verdict,
    status: turn.status,
    confidence: turn.confidence,
    stuckForMs: turn.stuckForMs,
    evidence: turn.evidence,
    nextStep: nextStep(turn.verdict, turn.status),
  };
}

function metadata(name: string, pid: number, tid: number, args: Record<string, unknown>): TraceEvent {
  return { name, ph: 'M', pid, tid, ts: 0, args };
}

function trackKeyOfSpan(span: RecordedSpan): string {
  const turnId = span.attributes[ATTR_TURN_ID];
  const threadId = span.attributes[ATTR_THREAD_ID];
  return trackKey(typeof threadId === 'string' ? threadId : null, typeof turnId === 'string' ? turnId : null);
}

function trackKeyOfTurn(turn: TurnReport): string {
  return trackKey(turn.threadId, turn.turnId);
}

function trackKey(threadId: string | null, turnId: string | null): string {
  if (turnId !== null) return `turn ${turnId}`;
  if (threadId !== null) return `thread ${threadId}`;
  return 'no thread';
}

function trackName(trackKey: string, turn: TurnReport | undefined): string {
  return turn ? `${trackKey} · ${turn.status} · ${turn.verdict}` : trackKey;
}

/**
 * One process per emitting app-server: its `service.name` and, when set, its instance or pid. Spans
 * without a service (a rollout, a proxy's own) are grouped by their source instead.
 */
function processKeyOf(span: RecordedSpan): string {
  const service = span.resource?.[ATTR_SERVICE_NAME];
  const instance = span.resource?.[ATTR_SERVICE_INSTANCE_ID] ?? span.resource?.[ATTR_PROCESS_PID];
  if (typeof service === 'string') return instance !== undefined ? `${service} (${String(instance)})` : service;
  const source = span.attributes[ATTR_SOURCE];
  return typeof source === 'string' ? source : 'trace';
}

/**
 * Labels the classifier gave the turns' phases, by span identity (`traceId/spanId`): two sibling
 * items started in the same millisecond keep their own labels.
 */
function phaseLabels(report: Report): Map<string, string> {
  const labels = new Map<string, string>();
  for (const turn of report.turns) {
    // A report made without span identities (older, or by hand) is matched by name and start, as before.
    for (const phase of turn.phases) labels.set(phase.span ?? `${phase.name}@${phase.startMs}`, phase.label);
  }
  return labels;
}

function defaultLabel(span: RecordedSpan): string {
  return span.name.startsWith(STALL_WHY_PREFIX) ? span.name.slice(STALL_WHY_PREFIX.length) : span.name;
}
