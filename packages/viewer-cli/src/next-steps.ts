/**
 * The next step a person can take for each verdict: what the verdict means for them, where to look,
 * and what usually gets the turn moving again. Shown under each turn and in `--json` as `nextStep`.
 */
import {
  TURN_STATE_ABANDONED,
  TURN_STATE_COMPLETED,
  TURN_STATE_IN_PROGRESS,
  TURN_STATE_FAILED,
  TURN_STATE_INTERRUPTED,
  VERDICT_AWAITING_APPROVAL,
  VERDICT_BACKEND_STALL,
  VERDICT_COMPACTION,
  VERDICT_HEALTHY,
  VERDICT_HYDRATION,
  VERDICT_POST_TOOL_CONTINUATION_LOST,
  VERDICT_RENDERER_DETACHED,
  VERDICT_TOOL_RUNNING,
  VERDICT_TRANSPORT_RETRY,
  VERDICT_UNKNOWN,
  type TurnState,
  type Verdict,
} from '@stall-why/conventions';

/** Advice per verdict, for a turn that is still waiting (stuck or in progress). */
export const NEXT_STEPS: Readonly<Record<Verdict, string>> = Object.freeze({
  [VERDICT_HEALTHY]: 'nothing to do: no phase held the turn up.',
  [VERDICT_BACKEND_STALL]:
    "the model API is not answering the request (no response yet, or a response that stopped): check the provider's status page and the upstream attempt " +
    '(`stall-why record` shows its headers, bytes and events); interrupting and retrying the turn usually helps.',
  [VERDICT_TRANSPORT_RETRY]:
    'the connection to the model API keeps failing and the server is retrying: check the network, any proxy, and ' +
    'rate limits (429/5xx in the evidence); wait for the retries to run out, or interrupt and retry later.',
  [VERDICT_COMPACTION]:
    "the server is compacting the thread's context, which can take minutes on a long thread: wait for it, or start " +
    'a new thread to avoid it.',
  [VERDICT_HYDRATION]:
    "the server is loading the thread's history: a large history (inline images, long tool output) takes seconds " +
    'to read; wait, or continue in a fresh thread.',
  [VERDICT_RENDERER_DETACHED]:
    'the turn runs (or already finished) but no client is attached to show it: reopen the client or resume the ' +
    'thread (thread/resume) to see its result; the work is not lost.',
  [VERDICT_POST_TOOL_CONTINUATION_LOST]:
    'the tool returned but no follow-up request went to the model: interrupt the turn and send "continue", and ' +
    "report it to the agent's maintainers with this trace (`--chrome` exports it).",
  [VERDICT_AWAITING_APPROVAL]:
    'the agent waits for a person to approve: find the approval prompt in the client and approve or deny it; if no ' +
    'client shows one, the request was lost: interrupt the turn.',
  [VERDICT_TOOL_RUNNING]:
    'a tool is still running (the evidence names it): check that command; stop it, or interrupt the turn, if it ' +
    'should have finished by now.',
  [VERDICT_UNKNOWN]:
    'the trace does not show what the turn waits on: record the next run with `stall-why record` or the flight ' +
    'recorder, which capture the upstream and protocol phases a rollout cannot.',
});

/**
 * Advice for a turn that already ended (completed slowly, failed, interrupted) where the waiting
 * advice would not fit: nothing is left to wait for, the question is what to do next time.
 */
export const AFTER_END_STEPS: Readonly<Partial<Record<Verdict, string>>> = Object.freeze({
  [VERDICT_BACKEND_STALL]:
    "the model API went quiet on a request: if it recurs, check the provider's status page and record the upstream " +
    'with `stall-why record`; retrying the turn usually works.',
  [VERDICT_TRANSPORT_RETRY]:
    'the connection to the model API kept failing (the errors are in the evidence): check the network, any proxy and ' +
    "the provider's rate limits (429/5xx), then retry the turn.",
  [VERDICT_COMPACTION]: 'compaction took most of the turn: long threads compact slowly; starting a new thread avoids it.',
  [VERDICT_HYDRATION]:
    "loading the thread's history took most of the wait: a large history (inline images, long tool output) is slow " +
    'to read; continuing in a fresh thread avoids it.',
  [VERDICT_RENDERER_DETACHED]: 'no client was attached to show the turn: resume the thread (thread/resume) to see its result.',
  [VERDICT_AWAITING_APPROVAL]: "the turn waited on a person's approval (the evidence says how long): if nobody saw the prompt, make sure the client shows approval prompts.",
  [VERDICT_TOOL_RUNNING]: 'a tool took most of the turn (the evidence names it): check why that command was slow.',
});

/** The next step for a turn: the verdict's advice, or for a turn that ended, what to do about it now. */
export function nextStep(verdict: Verdict, status: TurnState): string {
  if (verdict === VERDICT_HEALTHY) return NEXT_STEPS[VERDICT_HEALTHY];
  if (status === TURN_STATE_IN_PROGRESS) {
    // Not stuck yet: say what it waits on, and what to do if the wait goes on.
    return `the turn is at work and waits on this; if it stays quiet past the stuck threshold (--stuck-after): ${NEXT_STEPS[verdict]}`;
  }
  if (status === TURN_STATE_ABANDONED) {
    return `nothing runs this turn any more (its writer stopped; the evidence says when); it was left waiting here. ${AFTER_END_STEPS[verdict] ?? NEXT_STEPS[verdict]}`;
  }
  if (status === TURN_STATE_COMPLETED || status === TURN_STATE_FAILED || status === TURN_STATE_INTERRUPTED) {
    const how = status === TURN_STATE_COMPLETED ? 'completed, slowly' : status;
    return `the turn ${how}; ${AFTER_END_STEPS[verdict] ?? NEXT_STEPS[verdict]}`;
  }
  return NEXT_STEPS[verdict];
}
