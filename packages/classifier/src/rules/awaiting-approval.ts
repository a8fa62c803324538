import { ATTR_APPROVAL_KIND, VERDICT_AWAITING_APPROVAL } from '@stall-why/conventions';
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
    return {
      verdict: VERDICT_AWAITING_APPROVAL,
      confidence: 0.95,
      evidence: [`approval request${typeof kind === 'string' ? ` (${kind})` : ''} ${openText(approval, scene)}, no answer`],
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
  };
}
