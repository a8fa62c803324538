import {
  APPROVAL_DECISION_APPROVED, APPROVAL_DECISION_CANCELLED, APPROVAL_KIND_COMMAND, ATTR_APPROVAL_DECISION, ATTR_APPROVAL_KIND,
  ATTR_APPROVAL_REQUEST_ID, ATTR_GEN_AI_TOOL_CALL_ID, ATTR_GEN_AI_TOOL_NAME, ATTR_HYDRATION_BYTES, ATTR_HYDRATION_ITEMS,
  ATTR_TOOL_EXIT_CODE, ATTR_TOOL_KIND, ATTR_TURN_KIND, HYDRATION_TRIGGER_RESUME, PHASE_APPROVAL, PHASE_COMPACTION,
  PHASE_CONTINUATION_REQUESTED, PHASE_TOOL_CALL, TURN_END_STATUS_COMPLETED, TURN_END_STATUS_FAILED, TURN_END_STATUS_INTERRUPTED,
  TURN_KIND_USER, type TurnEndStatus,
} from '@stall-why/conventions';
import { errorTypeOf, type TurnTracer } from '@stall-why/instrument';
import type { ApprovalDesk } from './approval-desk.js';
import { runFakeTool } from './fake-tool.js';
import { requestModelReply, type ModelCallContext, type ModelReply } from './model-stream.js';
import { delay, type StallGate } from './stall-gate.js';
import { scenarioShape, type StallName } from './stalls.js';
import { compactHistory, type HistoryItem, type ThreadHistory } from './thread-history.js';

/** How long the app waits on an approval in scenarios where a client is expected to answer. */
const APPROVAL_PATIENCE_MS = 30_000;

export interface ExampleTurnContext extends ModelCallContext {
  readonly turnTracer: TurnTracer;
  readonly threadId: string;
  readonly stall: StallName;
  readonly gate: StallGate;
  readonly history: ThreadHistory;
  readonly approvals: ApprovalDesk;
}

/**
 * One turn of the example app-server, the way an agent runs it: load the thread, maybe compact,
 * ask the model, run the tools it asks for (after approval), send the continuation, answer.
 * Every stage is a phase; the stall switch makes exactly one stage wait.
 */
export async function runTurn(ctx: ExampleTurnContext, userText: string): Promise<TurnEndStatus> {
  const { turn, stall, gate } = ctx;
  const shape = scenarioShape(stall);
  turn.setAttributes({ [ATTR_TURN_KIND]: TURN_KIND_USER });
  ctx.send('turn.started', { threadId: ctx.threadId, turnId: turn.turnId });

  const hydration = ctx.turnTracer.startHydration({ threadId: ctx.threadId, trigger: HYDRATION_TRIGGER_RESUME, parentContext: turn.context });
  if (stall === 'slow-history-load') await gate.hold();
  const stored = ctx.history.load(ctx.threadId);
  hydration.end({ attributes: { [ATTR_HYDRATION_BYTES]: stored.bytes, [ATTR_HYDRATION_ITEMS]: stored.items.length } });

  const user: HistoryItem = { type: 'message', role: 'user', content: [{ type: 'input_text', text: userText }] };
  let input: HistoryItem[] = [...stored.items, user];
  if (shape.compaction) {
    const compaction = turn.startPhase(PHASE_COMPACTION);
    ctx.send('compaction.started', {});
    if (stall === 'slow-compaction') await gate.hold();
    input = [...compactHistory(stored.items), user];
    compaction.end();
    ctx.send('compaction.completed', {});
  }

  try {
    for (let continuation = false; ; continuation = true) {
      const reply = await requestModelReply(ctx, input, continuation);
      input = [...input, ...reply.outputItems];
      if (reply.functionCalls.length === 0) break;
      const outputs = await runTools(ctx, reply);
      if (!outputs) return finish(ctx, TURN_END_STATUS_INTERRUPTED, 'approval not given');
      input = [...input, ...outputs];
      if (stall === 'tool-no-continuation') {
        // The bug this switch stands for: the tool result is in, and nothing sends it to the model.
        await gate.hold();
        return finish(ctx, TURN_END_STATUS_FAILED, 'continuation never started');
      }
      turn.mark(PHASE_CONTINUATION_REQUESTED);
    }
  } catch (error) {
    return finish(ctx, TURN_END_STATUS_FAILED, errorTypeOf(error));
  }
  ctx.history.save(ctx.threadId, input);
  return finish(ctx, TURN_END_STATUS_COMPLETED);
}

function finish(ctx: ExampleTurnContext, status: TurnEndStatus, error?: string): TurnEndStatus {
  ctx.turn.endTurn(status, { error });
  ctx.send('turn.completed', { status, error });
  return status;
}

/** Runs the reply's tool calls; undefined when an approval was refused or never came. */
async function runTools(ctx: ExampleTurnContext, reply: ModelReply): Promise<HistoryItem[] | undefined> {
  const outputs: HistoryItem[] = [];
  for (const call of reply.functionCalls) {
    if (scenarioShape(ctx.stall).approval && !(await approve(ctx, call.call_id))) return undefined;
    const tool = ctx.turn.startPhase(PHASE_TOOL_CALL, {
      attributes: { [ATTR_GEN_AI_TOOL_NAME]: call.name, [ATTR_GEN_AI_TOOL_CALL_ID]: call.call_id, [ATTR_TOOL_KIND]: 'function_call' },
    });
    ctx.send('tool.started', { name: call.name });
    const result = await runFakeTool(call.arguments, ctx.stall === 'tool-running' ? ctx.gate : undefined);
    tool.end({ attributes: { [ATTR_TOOL_EXIT_CODE]: result.exitCode } });
    ctx.send('tool.completed', { name: call.name, exitCode: result.exitCode });
    outputs.push({ type: 'function_call_output', call_id: call.call_id, output: result.output });
  }
  return outputs;
}

async function approve(ctx: ExampleTurnContext, callId: string): Promise<boolean> {
  const request = ctx.approvals.request();
  const approval = ctx.turn.startPhase(PHASE_APPROVAL, { attributes: { [ATTR_APPROVAL_KIND]: APPROVAL_KIND_COMMAND, [ATTR_APPROVAL_REQUEST_ID]: request.id } });
  ctx.send('approval.requested', { approvalId: request.id, callId, kind: APPROVAL_KIND_COMMAND });
  const giveUp = ctx.stall === 'unanswered-approval' ? ctx.gate.hold() : delay(APPROVAL_PATIENCE_MS, { unref: true });
  const decision = await Promise.race([request.decision, giveUp.then(() => APPROVAL_DECISION_CANCELLED)]);
  ctx.approvals.withdraw(request.id);
  approval.end({ attributes: { [ATTR_APPROVAL_DECISION]: decision } });
  ctx.send('approval.resolved', { approvalId: request.id, decision });
  return decision === APPROVAL_DECISION_APPROVED;
}
