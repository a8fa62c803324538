/** What the rollout importer holds of the turn it is reading: its ids, what it has seen, and its open calls. */
import type { IdPrefix } from './stable-id.js';

/** Lines this close together were written as one batch (older versions write a call with its output). */
export const BATCH_MS = 50;

export interface OpenTool {
  readonly spanId: string;
  readonly start: number;
  readonly name: string;
  readonly callId: string;
  readonly approvalExpected: boolean;
  /** The turn's policy never asks a person (`never`): no approval can be what the call waits on. */
  readonly approvalRuledOut?: boolean;
  /** What a person is asked to approve: a command, or a file change (a patch). */
  readonly approvalKind: string;
  /** When the batch of lines before the call ended: the call may have been written only after it was approved and ran. */
  readonly before: number;
  /**
   * When the model's response that holds the call completed (its token_count), if that was written
   * after the batch before the call: a call written only with its output ran from then.
   */
  readonly responseEnd: number | undefined;
}

export interface OpenTurn {
  readonly turnId: string;
  readonly traceId: string;
  readonly spanId: string;
  /** The hash of `<traceId>/`, which every span id of the turn but its own starts with. */
  readonly ids: IdPrefix;
  readonly start: number;
  /** Inferred from message boundaries (no task_started): its end is inferred too. */
  readonly inferred: boolean;
  userSeen: boolean;
  /** The model wrote something (reasoning, a message, a tool call) since the turn began. */
  modelSeen: boolean;
  /** When the model's last item was an assistant message (its answer, if nothing follows); undefined after any other item. */
  answeredAt: number | undefined;
  /** When a person last rejected a call: a turn_aborted soon after was that person stopping the turn. */
  rejectedAt?: number;
  /** Approval requests seen (`exec_approval_request`, …), by call id, open until the call's output. */
  readonly approvals: Map<string, { readonly start: number; readonly kind: string }>;
  failed: boolean;
  error: string | undefined;
  compactionStart: number | undefined;
  /** token_count lines since the last response item: a second one is a request repeated with no output. */
  requestsWithoutOutput: number;
  /** When the last of those was written: a request's snapshots, one per rate limit, come together. */
  lastSnapshotAt?: number;
  /** turn_context lines since the model's last item or a tool's output: a second one is a request sent again. */
  contextsWithoutOutput: number;
  /** A compaction ran in the turn (a turn that only compacts answers nothing, and has not failed). */
  compacted: boolean;
  lastTs: number;
  readonly tools: Map<string, OpenTool>;
}

/** Whether a call was written together with its output (older versions write a call only once it has run). */
export function writtenWithOutput(tool: OpenTool, outputAt: number): boolean {
  return outputAt - tool.start <= BATCH_MS;
}
