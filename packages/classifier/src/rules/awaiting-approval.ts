import { ATTR_APPROVAL_DECISION, ATTR_APPROVAL_INFERRED, ATTR_APPROVAL_KIND, ATTR_SOURCE, SOURCE_CODEX_OTEL, VERDICT_AWAITING_APPROVAL } from '@stall-why/conventions';
import { clockTime } from '../time-text.js';
import { lastOpen, type ToolView, type TurnScene } from '../model/turn-scene.js';
import type { Finding } from './finding.js';
import { LazyFinding, TOOL_WORK } from './lazy-finding.js';
import { openText, toolText } from './phase-text.js';

const INFERRED = { inferred: true } as const;

/**
 * awaiting_approval: an approval asked of a person is open. From a source that cannot see approval
 * requests (a rollout), an open tool call that the turn's policy sends for approval stands in for it,
 * with less confidence.
 */
export function awaitingApproval(scene: TurnScene): Finding | undefined {
  const approval = lastOpen(scene.approvals);
  if (approval) {
    // Replayed in an ended turn, the request was answered later (or the turn ended first): say so.
    const answeredAt = scene.replay ? approval.span.endTimeMs : undefined;
    const what = (): string => {
      const kind = approval.span.attributes[ATTR_APPROVAL_KIND];
      const decision = approval.span.attributes[ATTR_APPROVAL_DECISION];
      const outcome = answeredAt !== undefined ? `; answered${typeof decision === 'string' ? ` (${decision})` : ''} at ${clockTime(answeredAt)}` : ', no answer';
      return `approval request${typeof kind === 'string' ? ` (${kind})` : ''} ${openText(approval, scene)}${outcome}`;
    };
    if (approval.span.attributes[ATTR_SOURCE] === SOURCE_CODEX_OTEL) {
      // Its end is read from what followed (the call went on, or ended with the turn), not an answer.
      const over = answeredAt !== undefined ? ', when the call went on or ended' : ', no answer';
      return new LazyFinding(VERDICT_AWAITING_APPROVAL, 0.7, () => [
        `approval request ${openText(approval, scene)}${over}`,
        "Codex's telemetry shows that a decision was asked for (its `decide_request` span), not the request a person sees nor its answer: told answered only by what follows it",
      ]);
    }
    if (approval.span.attributes[ATTR_APPROVAL_INFERRED] !== true) return new LazyFinding(VERDICT_AWAITING_APPROVAL, 0.95, () => [what()]);
    return new LazyFinding(
      VERDICT_AWAITING_APPROVAL,
      0.6,
      () => [what(), 'inferred from the rollout, not seen as a request: how long an escalated call took to start running, from when it was written (after a quiet that may hold the model\'s own work too) or from the run time its output gives'],
      INFERRED,
    );
  }
  let tool: ToolView | undefined;
  for (const t of scene.tools) if (t.end === undefined && !t.background && t.approvalExpected) tool = t;
  if (!tool) return undefined;
  return new LazyFinding(
    VERDICT_AWAITING_APPROVAL,
    0.6,
    () => [
      `tool call ${toolText(tool)} ${openText(tool, scene)}, no result`,
      'the turn\'s approval policy sends this call to a person (it asks to escalate); the source does not record approval requests, so the open request is inferred',
    ],
    TOOL_WORK,
  );
}
