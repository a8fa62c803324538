/**
 * Which span names and item types play which part in a turn. Observers name items as their
 * protocol does (`commandExecution` from the app-server, `CommandExecution` in a rollout,
 * `function_call` on the Responses API), so item types are compared case- and separator-blind.
 */
import {
  PHASE_APPROVAL,
  PHASE_CANCEL,
  PHASE_COMPACTION,
  PHASE_FIRST_ASSISTANT_ITEM,
  PHASE_FIRST_REASONING_ITEM,
  PHASE_FIRST_TOOL_ITEM,
  PHASE_ITEM,
  PHASE_RENDERER_ATTACHED,
  PHASE_RENDERER_DETACHED,
  PHASE_THREAD_HYDRATION,
  PHASE_TOOL_CALL,
  PHASE_TURN,
  PHASE_UPSTREAM_ATTEMPT,
  PHASE_UPSTREAM_FIRST_BYTE,
  PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_REQUEST_SENT,
  PHASE_UPSTREAM_STREAM_END,
  PHASE_UPSTREAM_STREAM_ERROR,
  PHASE_UPSTREAM_STREAM_PROGRESS,
  PHASES,
} from '@stall-why/conventions';

/** Every span name the classifier reads (the vocabulary's phases); other spans (HTTP server spans, ...) are counted and left out. */
export const KNOWN_PHASES: ReadonlySet<string> = new Set(PHASES.map((phase) => phase.name));

/** Phases that belong to a thread rather than a turn: they may come with no turn id. */
export const THREAD_PHASES: ReadonlySet<string> = new Set([PHASE_THREAD_HYDRATION, PHASE_RENDERER_ATTACHED, PHASE_RENDERER_DETACHED]);

/** Attempt milestones: point phases that belong to the upstream attempt they happened in. */
export const ATTEMPT_MILESTONES: ReadonlySet<string> = new Set([
  PHASE_UPSTREAM_REQUEST_SENT, PHASE_UPSTREAM_HEADERS, PHASE_UPSTREAM_FIRST_BYTE, PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_STREAM_END, PHASE_UPSTREAM_STREAM_ERROR, PHASE_UPSTREAM_STREAM_PROGRESS,
]);

/** Points that show the model produced output (an output item began). */
export const OUTPUT_POINTS: ReadonlySet<string> = new Set([PHASE_FIRST_ASSISTANT_ITEM, PHASE_FIRST_REASONING_ITEM, PHASE_FIRST_TOOL_ITEM]);

/** Spans that may be parents of other phases: indexed so an orphan finds its turn through its parent. */
export const PARENT_PHASES: ReadonlySet<string> = new Set([PHASE_TURN, PHASE_UPSTREAM_ATTEMPT, PHASE_TOOL_CALL, PHASE_COMPACTION, PHASE_ITEM, PHASE_APPROVAL, PHASE_CANCEL]);

/** Item types normalized so far: a handful of types, each met on every item (a regex per call showed in profiles, issue 14). */
const normalized = new Map<string, string>();
/** Types kept in `normalized` at most: an input of arbitrary type strings costs a regex each beyond it, not memory. */
const MAX_NORMALIZED_TYPES = 256;

function norm(type: string): string {
  let n = normalized.get(type);
  if (n === undefined) {
    n = type.replace(/[_\s-]/g, '').toLowerCase();
    if (normalized.size < MAX_NORMALIZED_TYPES) normalized.set(type, n);
  }
  return n;
}

const TOOL_ITEM_TYPES = new Set(
  [
    'commandExecution', 'mcpToolCall', 'dynamicToolCall', 'collabAgentToolCall', 'fileChange', 'webSearch',
    'imageGeneration', 'imageView', 'function_call', 'custom_tool_call', 'local_shell_call', 'web_search_call',
    'tool_search_call', 'exec_command',
  ].map(norm),
);
const COMPACTION_ITEM_TYPES = new Set(['contextCompaction', 'compaction', 'compacted'].map(norm));
/** The item type of another agent's message to this one (a rollout's `agent_message`): input, like a person's. */
export const INTER_AGENT_MESSAGE = 'interAgentMessage';
const INPUT_ITEM_TYPES = new Set(['userMessage', 'user_message', 'hookPrompt', INTER_AGENT_MESSAGE].map(norm));

/** Whether an item of this type is a tool call (the model asked for it; its result goes back to the model). */
export function isToolItemType(type: string | undefined): boolean {
  return type !== undefined && TOOL_ITEM_TYPES.has(norm(type));
}

/** Whether an item of this type is a context compaction. */
export function isCompactionItemType(type: string | undefined): boolean {
  return type !== undefined && COMPACTION_ITEM_TYPES.has(norm(type));
}

/** Whether an item of this type is model output (anything but the user's input and a compaction). */
export function isModelOutputItemType(type: string | undefined): boolean {
  return type !== undefined && !INPUT_ITEM_TYPES.has(norm(type)) && !COMPACTION_ITEM_TYPES.has(norm(type));
}
