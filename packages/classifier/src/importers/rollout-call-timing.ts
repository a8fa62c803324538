/**
 * When a call ran, in rollouts that write a call only once it has run (Codex 0.34 - 0.65: the call and
 * its output together). The model's response that made the call ended at its token_count, and the
 * call ran from then; at the end of a file, such a response with nothing written since made a call
 * that runs still, unwritten.
 */
import { APPROVAL_KIND_COMMAND } from '@stall-why/conventions';
import { TOTAL_TOKEN_USAGE } from './rollout-line-head.js';
import { writtenWithOutput, type OpenTool, type OpenTurn } from './rollout-turn.js';
import { stableIdAfter } from './stable-id.js';

/** The name of a call a rollout has not written yet (see `unwrittenCall`). */
const UNWRITTEN_CALL = '(call not written yet: this Codex version writes a call once it has run)';

export class RolloutCallTiming {
  /** The latest token_count with new usage totals: a model response completed then. */
  private responseEnd: number | undefined;
  private lastTotals: string | undefined;
  /** Calls written with their output, and calls written before it. */
  private callsWithOutput = 0;
  private callsBeforeOutput = 0;

  /** A token_count with usage. Codex also writes the last totals again as the next request begins: only new totals end a response. */
  tokenCount(head: string, ts: number): void {
    const totals = TOTAL_TOKEN_USAGE.exec(head)?.[0];
    if (totals === undefined || totals !== this.lastTotals) this.responseEnd = ts;
    this.lastTotals = totals;
  }

  /** When the response that made a call written now ended, if that came after the last line written before it (`lastMeaningfulTs`). */
  responseEndSince(lastMeaningfulTs: number | undefined): number | undefined {
    return this.responseEnd !== undefined && this.responseEnd > (lastMeaningfulTs ?? -Infinity) ? this.responseEnd : undefined;
  }

  /** The call as its output at `outputAt` shows it ran: written with its output, from the end of the response that made it. */
  ran(tool: OpenTool, outputAt: number): OpenTool {
    if (!writtenWithOutput(tool, outputAt)) {
      this.callsBeforeOutput++;
      return tool;
    }
    this.callsWithOutput++;
    return tool.responseEnd === undefined ? tool : { ...tool, start: tool.responseEnd };
  }

  /**
   * In a rollout that writes each call only once it has run, a model response that completed after
   * the last line written, with no answer since, made a call that is running (or waiting for a
   * person) at the end of the file: the call the rollout will write.
   */
  unwrittenCall(turn: OpenTurn, lastMeaningfulTs: number | undefined, approvalPolicy: string | undefined): OpenTool | undefined {
    const writesCallsLate = this.callsWithOutput > 0 && this.callsBeforeOutput === 0;
    const responseEnd = this.responseEndSince(lastMeaningfulTs);
    if (!writesCallsLate || responseEnd === undefined || responseEnd < turn.start) return undefined;
    if (turn.tools.size > 0 || turn.answeredAt !== undefined || turn.compactionStart !== undefined) return undefined;
    const callId = `unwritten-${responseEnd}`;
    return {
      spanId: stableIdAfter(turn.ids, `tool/${callId}`), start: responseEnd, name: UNWRITTEN_CALL, callId,
      approvalExpected: approvalPolicy === 'untrusted', approvalKind: APPROVAL_KIND_COMMAND, before: responseEnd, responseEnd,
    };
  }
}
