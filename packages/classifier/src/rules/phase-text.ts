/** How evidence names phases. */
import { ATTR_HYDRATION_TRIGGER, ATTR_ITEM_TYPE, ATTR_RENDERER_ID, ATTR_RENDERER_REASON, STALL_WHY_PREFIX } from '@stall-why/conventions';
import type { AttemptView, PhaseView, ToolView, TurnScene } from '../model/turn-scene.js';
import { clockTime, duration } from '../time-text.js';

/** A span name without the toolkit's prefix: `upstream.attempt`. */
export function phaseName(name: string): string {
  return name.startsWith(STALL_WHY_PREFIX) ? name.slice(STALL_WHY_PREFIX.length) : name;
}

/** `exec_command (call_1)`. */
export function toolText(tool: ToolView): string {
  const name = tool.toolName ?? 'tool';
  return tool.callId && tool.callId !== name ? `${name} (${tool.callId})` : name;
}

/** `upstream attempt #2 (continuation)`. */
export function attemptText(attempt: AttemptView): string {
  return `upstream attempt #${attempt.number}${attempt.continuation ? ' (continuation)' : ''}`;
}

/** `reasoning item`. */
export function itemText(item: PhaseView): string {
  const type = item.span.attributes[ATTR_ITEM_TYPE];
  return typeof type === 'string' ? `${type} item` : phaseName(item.span.name);
}

/** `resume` hydration. */
export function hydrationText(h: PhaseView): string {
  const trigger = h.span.attributes[ATTR_HYDRATION_TRIGGER];
  return typeof trigger === 'string' ? `history load (${trigger})` : 'history load';
}

/** `renderer r1 detached at 14:02:11.000 (closed)`. */
export function detachText(detach: PhaseView): string {
  const id = detach.span.attributes[ATTR_RENDERER_ID];
  const reason = detach.span.attributes[ATTR_RENDERER_REASON];
  return `renderer ${typeof id === 'string' ? `${id} ` : ''}detached at ${clockTime(detach.start)}${typeof reason === 'string' ? ` (${reason})` : ''}`;
}

/**
 * `started at 14:02:11.000, open for 94 s`; replayed in an ended turn, in the past:
 * `started at 14:02:11.000, open for 94 s until 14:03:45.000`.
 */
export function openText(p: PhaseView, scene: TurnScene): string {
  return `started at ${clockTime(p.start)}, open for ${duration(scene.at - p.start)}${scene.replay ? ` until ${clockTime(scene.at)}` : ''}`;
}

/**
 * How a phase open at a replayed moment went on, for the line that names it: still open (`open`),
 * closed by its turn's end, or ended (`ended` and its time). Live, or never ended: `open`.
 */
export function outcomeText(p: PhaseView, scene: TurnScene, open: string, ended: string): string {
  const endMs = p.span.endTimeMs;
  if (!scene.replay || endMs === undefined) return open;
  return endMs === scene.turnSpan?.endTimeMs ? `; it ended with the turn at ${clockTime(endMs)}` : `; ${ended} ${clockTime(endMs)}`;
}

/** `94 s ago at 14:02:11.000` for a live turn; `at 14:02:11.000` replayed in an ended one (the "for" part says how long). */
export function agoText(t: number, scene: TurnScene): string {
  return scene.replay ? `at ${clockTime(t)}` : `${duration(scene.at - t)} ago at ${clockTime(t)}`;
}

/** `since (94 s)` for a live turn; `for 94 s` replayed in an ended one. */
export function sinceText(t: number, scene: TurnScene): string {
  return scene.replay ? `for ${duration(scene.at - t)}` : `since (${duration(scene.at - t)})`;
}

/** `quiet for 94 s (last phase at 14:02:11.000)`. */
export function quietText(scene: TurnScene): string {
  return `no phase boundary for ${duration(scene.at - scene.lastActivityMs)} (last at ${clockTime(scene.lastActivityMs)})`;
}
