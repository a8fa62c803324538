/**
 * What the classifier says about a turn: its status and its verdict. These ids are part of the
 * stable `--json` report of the CLI.
 */

/** The turn finished normally. */
export const TURN_STATE_COMPLETED = 'completed';
/** The turn ended with an error. */
export const TURN_STATE_FAILED = 'failed';
/** The turn was interrupted or aborted. */
export const TURN_STATE_INTERRUPTED = 'interrupted';
/** The turn has no terminal phase and has been active recently. */
export const TURN_STATE_IN_PROGRESS = 'in_progress';
/** The turn has no terminal phase and has been quiet longer than the stuck threshold. */
export const TURN_STATE_STUCK = 'stuck';
/**
 * The turn has no terminal phase and never will: what wrote it is gone (the recorder shut down, the
 * wrapped server exited, the writing process no longer runs, or the source has not been written for
 * far longer than a turn lasts). Its verdict is what it waited on when the writer stopped.
 */
export const TURN_STATE_ABANDONED = 'abandoned';
export type TurnState =
  | typeof TURN_STATE_COMPLETED
  | typeof TURN_STATE_FAILED
  | typeof TURN_STATE_INTERRUPTED
  | typeof TURN_STATE_IN_PROGRESS
  | typeof TURN_STATE_STUCK
  | typeof TURN_STATE_ABANDONED;
export const TURN_STATES: readonly TurnState[] = [
  TURN_STATE_COMPLETED, TURN_STATE_FAILED, TURN_STATE_INTERRUPTED, TURN_STATE_IN_PROGRESS, TURN_STATE_STUCK, TURN_STATE_ABANDONED,
];

/** Nothing held the turn up. */
export const VERDICT_HEALTHY = 'healthy';
/** A model request is in flight and no headers, bytes or events arrive. */
export const VERDICT_BACKEND_STALL = 'backend_stall';
/** The wait is spent in failed attempts, reconnects and backoff. */
export const VERDICT_TRANSPORT_RETRY = 'transport_retry';
/** Context compaction started and has not completed, or dominated the turn. */
export const VERDICT_COMPACTION = 'compaction';
/** Loading or resuming the thread's history is in progress or dominated the wait. */
export const VERDICT_HYDRATION = 'hydration';
/** The backend turn is alive or already ended, but no renderer is attached to receive it. */
export const VERDICT_RENDERER_DETACHED = 'renderer_detached';
/** A tool result was returned and no continuation request or model output followed. */
export const VERDICT_POST_TOOL_CONTINUATION_LOST = 'post_tool_continuation_lost';
/** A request for a person's approval is open. */
export const VERDICT_AWAITING_APPROVAL = 'awaiting_approval';
/** A tool call started and has not returned. */
export const VERDICT_TOOL_RUNNING = 'tool_running';
/** The trace does not show what the turn waits on. */
export const VERDICT_UNKNOWN = 'unknown';
export type Verdict =
  | typeof VERDICT_HEALTHY
  | typeof VERDICT_BACKEND_STALL
  | typeof VERDICT_TRANSPORT_RETRY
  | typeof VERDICT_COMPACTION
  | typeof VERDICT_HYDRATION
  | typeof VERDICT_RENDERER_DETACHED
  | typeof VERDICT_POST_TOOL_CONTINUATION_LOST
  | typeof VERDICT_AWAITING_APPROVAL
  | typeof VERDICT_TOOL_RUNNING
  | typeof VERDICT_UNKNOWN;

/** Every verdict with its one-line meaning, in the order the docs list them. */
export const VERDICTS: ReadonlyArray<{ readonly id: Verdict; readonly meaning: string }> = Object.freeze([
  { id: VERDICT_HEALTHY, meaning: 'Nothing held the turn up.' },
  { id: VERDICT_BACKEND_STALL, meaning: 'A model request is in flight and no headers, bytes or events arrive.' },
  { id: VERDICT_TRANSPORT_RETRY, meaning: 'The wait is spent in failed attempts, reconnects and backoff.' },
  { id: VERDICT_COMPACTION, meaning: 'Context compaction started and has not completed, or dominated the turn.' },
  { id: VERDICT_HYDRATION, meaning: "Loading or resuming the thread's history is in progress or dominated the wait." },
  { id: VERDICT_RENDERER_DETACHED, meaning: 'The backend turn is alive or already ended, but no renderer is attached to receive it.' },
  { id: VERDICT_POST_TOOL_CONTINUATION_LOST, meaning: 'A tool result was returned and no continuation request or model output followed.' },
  { id: VERDICT_AWAITING_APPROVAL, meaning: "A request for a person's approval is open." },
  { id: VERDICT_TOOL_RUNNING, meaning: 'A tool call started and has not returned.' },
  { id: VERDICT_UNKNOWN, meaning: 'The trace does not show what the turn waits on.' },
]);

/**
 * Chrome trace export contract: every event that stall-why writes carries the original span under
 * this key of `args`, so `stall-why` can read its own Chrome traces back (round trip).
 */
export const CHROME_ARG_SPAN = 'stall_why.span';
/** Chrome trace export contract: the verdict and evidence of a turn track, under this key of `args`. */
export const CHROME_ARG_VERDICT = 'stall_why.verdict';
