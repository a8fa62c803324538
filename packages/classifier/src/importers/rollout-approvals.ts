/**
 * Approvals in a rollout. Versions before the approval events never write a request: an approval
 * shows as a call the person rejected, as an escalated call written only once approved and run, or
 * as "Approved command prefix saved". These infer the approval span from them.
 */
import { APPROVAL_DECISION_APPROVED, APPROVAL_DECISION_DENIED, APPROVAL_KIND_COMMAND, APPROVAL_KIND_FILE_CHANGE } from '@stall-why/conventions';
import { DANGEROUS_COMMAND, DANGEROUS_POWERSHELL, ESCALATION, field } from './rollout-line-head.js';
import { patchAsksOnRequest, patchSandbox, patchText, type PatchSandbox } from './rollout-patch-safety.js';
import { SavedPrefixes } from './rollout-prefix-rules.js';
import type { RolloutSpanWriter } from './rollout-spans.js';
import { writtenWithOutput, type OpenTool, type OpenTurn } from './rollout-turn.js';

/**
 * Whether Codex asks a person before it runs a call, as far as its rollout shows: the session's
 * approval settings as last written (turn_context, 0.14x thread_settings_applied) and the prefixes a
 * person approved. The model is offered escalation only where a person can grant it: an escalated
 * call asks unless the policy never asks. Under `untrusted` every call asks; under `on-request` a
 * dangerous command (`command_might_be_dangerous`) and a patch Codex may not apply unasked
 * (`assess_patch_safety`). A command under a prefix the person approved for the session runs unasked
 * (`SavedPrefixes`), and requests handed to Codex's own reviewer (`approvals_reviewer` other than
 * `user`) ask no person.
 */
export class ApprovalSettings {
  /** The approval policy (`never`, `on-request`, `untrusted`, ...); older versions write one per request. */
  private policyNow: string | undefined;
  /** Who answers approval requests (0.14x): `user`, or Codex's own reviewer. */
  private reviewer: string | undefined;
  private sandbox: PatchSandbox | undefined;
  private readonly prefixes = new SavedPrefixes();

  get policy(): string | undefined {
    return this.policyNow;
  }

  /** A turn_context or thread_settings_applied line: what it names replaces what was known. */
  read(head: string): void {
    this.policyNow = field(head, 'approval_policy') ?? this.policyNow;
    this.reviewer = field(head, 'approvals_reviewer') ?? this.reviewer;
    if (head.includes('"sandbox_policy"')) this.sandbox = patchSandbox(head, field(head, 'cwd'));
  }

  /** "Approved command prefix saved" (0.10x+): commands under its prefixes run unasked from now on. */
  savePrefixes(text: string): void {
    this.prefixes.add(text);
  }

  /** Whether a call asks a person, about what, and whether the policy rules a person out. `payload` is read only when a patch's paths or a command's words decide it. */
  call(name: string, head: string, payload: () => Record<string, unknown> | undefined): { approvalExpected: boolean; approvalRuledOut: boolean; approvalKind: string } {
    const { policyNow: policy, reviewer, sandbox, prefixes } = this;
    const patch = name === 'apply_patch' || head.includes('*** Begin Patch');
    const escalated = ESCALATION.test(head);
    const approvalKind = patch && !escalated ? APPROVAL_KIND_FILE_CHANGE : APPROVAL_KIND_COMMAND;
    let asks: boolean;
    if (escalated) asks = policy !== 'never';
    else if (policy === 'untrusted') asks = true;
    else if (policy !== 'on-request') asks = false;
    else if (patch) asks = sandbox !== undefined && patchAsksOnRequest(sandbox, () => patchText(payload()));
    else asks = DANGEROUS_COMMAND.test(head) || DANGEROUS_POWERSHELL.test(head);
    if (asks && !patch && prefixes.cover(payload)) asks = false;
    if (reviewer !== undefined && reviewer !== 'user') asks = false;
    return { approvalExpected: asks, approvalRuledOut: policy === 'never', approvalKind };
  }
}

/**
 * A quiet this long before an escalated call written only with its output holds an approval: longer
 * than the model alone takes to write a call. Shorter, the approval cannot be told from the model's work.
 */
export const INFERRED_APPROVAL_MS = 60_000;
/**
 * A call written before it ran whose output came at least this much later than its run time accounts
 * for waited for a person first (the rest is the time to start the process and write the lines).
 */
export const APPROVAL_BEFORE_RUN_MS = 1_000;

/**
 * Versions that write a call only with its output (0.34 – 0.65 in test/corpus/wild) write an escalated call
 * once it was approved and ran: the quiet before it held the model's work, the person's approval and
 * the run. When that quiet is long (`INFERRED_APPROVAL_MS`, longer than the model alone takes to
 * write a call), the approval is read into it.
 */
export function inferredApproval(writer: RolloutSpanWriter, turn: OpenTurn, tool: OpenTool, outputAt: number, runMs: () => number | undefined): void {
  if (!tool.approvalExpected || !writtenWithOutput(tool, outputAt) || tool.start - tool.before < INFERRED_APPROVAL_MS) return;
  // The quiet held the run too (its output says how long it took): only what is left can be the
  // approval. Read only here: it may parse the whole output line.
  const end = tool.start - (runMs() ?? 0);
  if (end - tool.before < INFERRED_APPROVAL_MS) return;
  writer.approvalSpan(turn, tool.callId, { start: tool.before, kind: tool.approvalKind }, end, APPROVAL_DECISION_APPROVED, true);
}

/**
 * "exec command rejected by user": a person was asked and said no. A call written only with its
 * output was asked about in the quiet before it; one written before, while it was open.
 */
export function rejectedApproval(writer: RolloutSpanWriter, turn: OpenTurn, tool: OpenTool, outputAt: number): void {
  turn.rejectedAt = outputAt;
  const batched = writtenWithOutput(tool, outputAt);
  const approval = { start: batched ? tool.before : tool.start, kind: tool.approvalKind };
  writer.approvalSpan(turn, tool.callId, approval, batched ? tool.start : outputAt, APPROVAL_DECISION_DENIED, batched);
}

/** "Approved command prefix saved" (0.10x): the open escalated call waited for that approval until now. */
export function approvedPrefix(writer: RolloutSpanWriter, turn: OpenTurn, ts: number): void {
  const tool = [...turn.tools.values()].filter((t) => t.approvalExpected && !turn.approvals.has(t.callId)).pop();
  if (!tool) return;
  // Approved: from here the call runs, it no longer waits for a person.
  turn.tools.set(tool.callId, { ...tool, approvalExpected: false });
  writer.approvalSpan(turn, tool.callId, { start: tool.start, kind: tool.approvalKind }, ts, APPROVAL_DECISION_APPROVED);
}

/** An approval request seen for the call ends (answered, or the call ran). */
export function closeApproval(writer: RolloutSpanWriter, turn: OpenTurn, callId: string, ts: number): void {
  const approval = turn.approvals.get(callId);
  if (!approval) return;
  writer.approvalSpan(turn, callId, approval, ts);
  turn.approvals.delete(callId);
}

/**
 * Versions that write a call before it runs and its run time in the output (`Wall time: 406.9
 * seconds`; 0.80 in test/corpus/wild/third): of the time from an escalated call to its output, what the run does not account
 * for went to the person's approval, and when that is nothing the call never waited for one (a
 * command approved earlier in the session). Returns the call as it stands then: not waiting for an
 * approval, which is its own span when there was one.
 */
export function approvalBeforeRun(writer: RolloutSpanWriter, turn: OpenTurn, tool: OpenTool, outputAt: number, runMs: () => number | undefined): OpenTool {
  if (!tool.approvalExpected || writtenWithOutput(tool, outputAt) || turn.approvals.has(tool.callId)) return tool;
  // Read only here: it may parse the whole output line.
  // A run time of 0 is a command that failed to start: the whole wait was the approval's.
  const run = runMs();
  if (run === undefined || !(run >= 0)) return tool;
  const runFrom = outputAt - run;
  if (runFrom - tool.start >= APPROVAL_BEFORE_RUN_MS) {
    writer.approvalSpan(turn, tool.callId, { start: tool.start, kind: tool.approvalKind }, runFrom, APPROVAL_DECISION_APPROVED, true);
  }
  return { ...tool, approvalExpected: false };
}
