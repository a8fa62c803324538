import { ATTR_APPROVAL_KIND, ATTR_SOURCE, SOURCE_ROLLOUT, VERDICT_AWAITING_APPROVAL } from '@stall-why/conventions';
import type { TurnScene } from '../model/turn-scene.js';
import type { Finding } from './finding.js';
import { openText, toolText } from './phase-text.js';

/**
 * awaiting_approval: an approval asked of a person is open. From a source that cannot see approval
 * requests (a rollout), an open tool call that the turn's policy sends for approval stands in for it,
 * with less confidence.
 */
export function awaitingApproval(scene: TurnScene): Finding | undefined {
  const open = scene.approvals.filter((a) => a.end === undefined);
  const approval = open[open.length - 1];
  if (approval) {
    const kind = approval.span.attributes[ATTR_APPROVAL_KIND];
    const what = `approval request${typeof kind === 'string' ? ` (${kind})` : ''} ${openText(approval, scene)}, no answer`;
    if (approval.span.attributes[ATTR_SOURCE] !== SOURCE_ROLLOUT) return { verdict: VERDICT_AWAITING_APPROVAL, confidence: 0.95, evidence: [what] };
    // A rollout records no approval request: this one is read from how the call was answered or written.
    return {
      verdict: VERDICT_AWAITING_APPROVAL,
      confidence: 0.7,
      evidence: [what, 'read from the rollout, which records no approval requests: the call was rejected by the person, or was written only once approved and run, after a long quiet (the model\'s own work is in it too)'],
      inferred: true,
    };
  }
  const tool = scene.tools.filter((t) => t.end === undefined && t.approvalExpected).pop();
  if (!tool) return undefined;
  return {
    verdict: VERDICT_AWAITING_APPROVAL,
    confidence: 0.6,
    evidence: [
      `tool call ${toolText(tool)} ${openText(tool, scene)}, no result`,
      'the turn\'s approval policy sends this call to a person (it asks to escalate); the source does not record approval requests, so the open request is inferred',
    ],
    toolWork: true,
  };
}
