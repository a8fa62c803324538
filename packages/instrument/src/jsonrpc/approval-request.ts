import {
  APPROVAL_DECISION_APPROVED,
  APPROVAL_DECISION_CANCELLED,
  APPROVAL_DECISION_DENIED,
  APPROVAL_KIND_COMMAND,
  APPROVAL_KIND_ELICITATION,
  APPROVAL_KIND_FILE_CHANGE,
  APPROVAL_KIND_PERMISSIONS,
  APPROVAL_KIND_USER_INPUT,
  type ApprovalKind,
} from '@stall-why/conventions';

/**
 * Server→client requests that wait on a person, by method (0.169 v2 names, plus the v1
 * `execCommandApproval`/`applyPatchApproval` that older clients still receive).
 */
const KIND_BY_METHOD: ReadonlyMap<string, ApprovalKind> = new Map([
  ['item/commandExecution/requestApproval', APPROVAL_KIND_COMMAND],
  ['execCommandApproval', APPROVAL_KIND_COMMAND],
  ['item/fileChange/requestApproval', APPROVAL_KIND_FILE_CHANGE],
  ['applyPatchApproval', APPROVAL_KIND_FILE_CHANGE],
  ['item/permissions/requestApproval', APPROVAL_KIND_PERMISSIONS],
  ['item/tool/requestUserInput', APPROVAL_KIND_USER_INPUT],
  ['mcpServer/elicitation/request', APPROVAL_KIND_ELICITATION],
]);

/** The approval kind of a server→client request method, or undefined when the method asks no person. */
export function approvalKind(method: string): ApprovalKind | undefined {
  return KIND_BY_METHOD.get(method);
}

/** A decision value (string or single-key object, as serde writes enums) reduced to its name. */
function decisionName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return Object.keys(value)[0];
  return undefined;
}

/** v2 `accept*`, v1 `approved*` and elicitation `accept` grant; `decline`/`denied` refuse; `cancel`/`abort`/`timed_out` withdraw. */
function decisionOf(name: string | undefined): string {
  if (name === undefined) return APPROVAL_DECISION_APPROVED;
  if (name.startsWith('accept') || name.startsWith('approved') || name.startsWith('apply') || name.endsWith('_amendment')) {
    return APPROVAL_DECISION_APPROVED;
  }
  if (name === 'decline' || name === 'denied') return APPROVAL_DECISION_DENIED;
  return APPROVAL_DECISION_CANCELLED;
}

/**
 * How the client's result resolved an approval. Results without a decision field (a permissions
 * grant, the answers to a user-input question) count as approved: the person answered.
 * A permissions grant with no permission in it is a refusal.
 */
export function approvalDecision(kind: ApprovalKind, result: unknown): string {
  const fields = result !== null && typeof result === 'object' ? (result as Record<string, unknown>) : {};
  if (kind === APPROVAL_KIND_ELICITATION) return decisionOf(decisionName(fields.action));
  if (kind === APPROVAL_KIND_PERMISSIONS) {
    const granted = fields.permissions;
    const empty = granted === null || typeof granted !== 'object' || Object.keys(granted).length === 0;
    return empty ? APPROVAL_DECISION_DENIED : APPROVAL_DECISION_APPROVED;
  }
  if (kind === APPROVAL_KIND_USER_INPUT) return APPROVAL_DECISION_APPROVED;
  return decisionOf(decisionName(fields.decision));
}
