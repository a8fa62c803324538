/**
 * What an input can show at all (`Sight`): upstream attempts, renderers, approval requests. A rule
 * that finds none of a kind tells "it did not happen" from "this input could not have shown it".
 */
import {
  ATTR_SOURCE,
  PHASE_APPROVAL,
  PHASE_RENDERER_ATTACHED,
  PHASE_RENDERER_DETACHED,
  PHASE_UPSTREAM_ATTEMPT,
  SOURCE_CODEX_OTEL,
  SOURCE_CODEX_OTEL_LOGS,
  SOURCE_ROLLOUT,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import type { Sight } from './timeline.js';

/** Sources that never record approval requests: a turn read only from them cannot show one. */
const BLIND_TO_APPROVALS: ReadonlySet<string> = new Set([SOURCE_ROLLOUT, SOURCE_CODEX_OTEL, SOURCE_CODEX_OTEL_LOGS]);

/** What `spans` show of what their input records (as adding them tells a builder): with `lastWriteMs`, what `adoptTurn` takes. */
export function sightOfSpans(spans: readonly RecordedSpan[]): Sight {
  return { upstream: spans.some(showsUpstream), renderer: spans.some(showsRenderer), approvals: spans.some(showsApprovals) };
}

export function showsUpstream(span: RecordedSpan): boolean {
  return span.name === PHASE_UPSTREAM_ATTEMPT;
}

export function showsRenderer(span: RecordedSpan): boolean {
  return span.name === PHASE_RENDERER_ATTACHED || span.name === PHASE_RENDERER_DETACHED;
}

export function showsApprovals(span: RecordedSpan): boolean {
  return span.name === PHASE_APPROVAL || !BLIND_TO_APPROVALS.has(span.attributes[ATTR_SOURCE] as string);
}
