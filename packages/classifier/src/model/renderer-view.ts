/** Whether a renderer (a UI) watched a thread at a moment, from its attach and detach points. */
import { ATTR_RENDERER_ID, PHASE_RENDERER_ATTACHED } from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import type { ThreadTimeline } from './timeline.js';
import { attributeText as str } from './turn-statics.js';
import { view, type PhaseView, type RendererView } from './turn-scene.js';

const rendererCache = new WeakMap<ThreadTimeline, { size: number; global: readonly RecordedSpan[]; sorted: readonly RecordedSpan[] }>();

/** The thread's renderer points and the global ones, in time order: sorted once per thread, not per replay. */
function rendererPoints(thread: ThreadTimeline, global: readonly RecordedSpan[]): readonly RecordedSpan[] {
  const cached = rendererCache.get(thread);
  if (cached && cached.size === thread.renderer.size && cached.global === global) return cached.sorted;
  const sorted = [...thread.renderer.values(), ...global].sort((a, b) => a.startTimeMs - b.startTimeMs);
  rendererCache.set(thread, { size: thread.renderer.size, global, sorted });
  return sorted;
}

/** A thread with no renderer phases: shared by its scenes (read-only). */
const NO_RENDERER: RendererView = Object.freeze({ seen: false, attached: 0 });

export function rendererView(thread: ThreadTimeline, global: readonly RecordedSpan[], at: number, now: number, turnStart: number): RendererView {
  const sorted = rendererPoints(thread, global);
  if (sorted.length === 0) return NO_RENDERER;
  const attached = new Set<string>();
  let lastDetach: PhaseView | undefined;
  let anonymous = 0;
  for (const p of sorted) {
    if (p.startTimeMs > at) break;
    const id = str(p.attributes[ATTR_RENDERER_ID]);
    if (p.name === PHASE_RENDERER_ATTACHED) {
      if (id) attached.add(id);
      else anonymous++;
    } else {
      if (id && attached.has(id)) attached.delete(id);
      else if (anonymous > 0) anonymous--;
      // A detach of a renderer attached before the recording began: it was attached until now.
      if (attached.size + anonymous === 0) lastDetach = view(p, at);
    }
  }
  const count = attached.size + anonymous;
  const nextAttach = sorted.find((p) => p.name === PHASE_RENDERER_ATTACHED && p.startTimeMs > at && p.startTimeMs <= now);
  // A renderer that left before the turn began did not leave this turn (someone started it).
  const leftThisTurn = lastDetach !== undefined && lastDetach.start >= turnStart;
  return { seen: true, attached: count, lastDetach: count === 0 && leftThisTurn ? lastDetach : undefined, nextAttachMs: nextAttach?.startTimeMs };
}
