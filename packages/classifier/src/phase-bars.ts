/** The waterfall bars of a turn, for the CLI and the report. */
import {
  ATTR_ITEM_TYPE,
  ATTR_PHASE_KIND,
  PHASE_KIND_POINT,
  PHASE_TURN,
  PHASE_TOOL_CALL,
  PHASE_ITEM,
  PHASE_ITEM_PROGRESS,
  PHASE_UPSTREAM_STREAM_PROGRESS,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import type { PhaseBar } from './report.js';
import { ATTEMPT_MILESTONES } from './model/phase-groups.js';
import { spanKey } from './model/timeline.js';
import type { AttemptView, ToolView, TurnScene } from './model/turn-scene.js';
import { attemptText, phaseName, toolText } from './rules/phase-text.js';


function isPoint(span: RecordedSpan): boolean {
  return span.attributes[ATTR_PHASE_KIND] === PHASE_KIND_POINT || (span.endTimeMs !== undefined && span.endTimeMs === span.startTimeMs && span.name !== PHASE_ITEM);
}

/** Bars in start order: the turn (depth 0), its phases (1), attempt milestones (2). */
export function phaseBars(scene: TurnScene): PhaseBar[] {
  const attempts = new Map<RecordedSpan, AttemptView>(scene.attempts.map((a) => [a.span, a]));
  const tools = new Map<RecordedSpan, ToolView>(scene.tools.map((t) => [t.span, t]));
  const bars: PhaseBar[] = [];
  if (scene.turnSpan) {
    bars.push({ name: PHASE_TURN, label: `turn${scene.endStatus ? ` (${scene.endStatus})` : ''}`, kind: 'span', startMs: scene.turnSpan.startTimeMs, endMs: scene.endMs ?? null, depth: 0, span: spanKey(scene.turnSpan) });
  }
  for (const h of scene.hydrations) {
    bars.push({ name: h.span.name, label: 'history load', kind: 'span', startMs: h.start, endMs: h.end ?? null, depth: 1, span: spanKey(h.span) });
  }
  for (const p of scene.phases) {
    // One every few seconds of a stream or an item: its bar already covers it, and the evidence names the last.
    if (p.span.name === PHASE_UPSTREAM_STREAM_PROGRESS || p.span.name === PHASE_ITEM_PROGRESS) continue;
    const attempt = attempts.get(p.span);
    const tool = tools.get(p.span);
    const type = p.span.attributes[ATTR_ITEM_TYPE];
    const label = attempt
      ? attemptText(attempt)
      : tool && p.span.name === PHASE_TOOL_CALL
        ? `tool ${toolText(tool)}`
        : p.span.name === PHASE_ITEM && typeof type === 'string'
          ? `item ${type}`
          : phaseName(p.span.name);
    const point = isPoint(p.span);
    bars.push({
      name: p.span.name,
      label,
      kind: point ? 'point' : 'span',
      startMs: p.start,
      endMs: point ? p.start : (p.end ?? null),
      depth: ATTEMPT_MILESTONES.has(p.span.name) ? 2 : 1,
      span: spanKey(p.span),
    });
  }
  return bars.sort((a, b) => a.startMs - b.startMs || a.depth - b.depth);
}

