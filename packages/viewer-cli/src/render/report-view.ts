/**
 * A whole report for people: a header, each turn that needs attention, and healthy turns folded
 * into one summary line unless `--all`. Returned as chunks, one per turn, so the command can write
 * each as soon as it is ready.
 */
import type { Report, TurnReport } from '@stall-why/classifier';
import { TURN_STATE_COMPLETED, TURN_STATE_FAILED, TURN_STATE_STUCK, VERDICT_HEALTHY } from '@stall-why/conventions';
import { formatClock } from '../judged-moment.js';
import type { Palette } from './palette.js';
import { terminalSafeReport } from './terminal-text.js';
import { renderTurn } from './turn-view.js';

export interface ReportViewOptions {
  readonly palette: Palette;
  /** Show healthy turns in full too. Default false. */
  readonly all?: boolean;
  readonly columns?: number;
  readonly maxPhases?: number;
}

/** The report's text, in chunks that each end with a newline. */
export function renderReport(untrusted: Report, options: ReportViewOptions): string[] {
  const report = terminalSafeReport(untrusted);
  const { palette } = options;
  const judgedAtMs = Date.parse(report.judgedAt);
  const chunks = [`${palette.dim(headerLine(report))}\n`];
  for (const source of report.sources) for (const note of source.notes ?? []) chunks.push(`${palette.dim(`note: ${source.path}: ${note}`)}\n`);
  if (report.turns.length === 0) {
    chunks.push('no turns found in the trace\n');
    return chunks;
  }
  const folded = options.all ? [] : report.turns.filter(isFoldable);
  for (const turn of report.turns) {
    if (folded.includes(turn)) continue;
    const lines = renderTurn(turn, { judgedAtMs, palette, columns: options.columns, maxPhases: options.maxPhases });
    chunks.push(`\n${lines.join('\n')}\n`);
  }
  if (folded.length > 0) chunks.push(`\n${foldedLine(folded, palette)}\n`);
  // Very large inputs: the classifier lists a bounded number of turns and counts the rest.
  if (report.summary && report.summary.summarised > 0) chunks.push(`\n${palette.dim(report.summary.line)}\n`);
  return chunks;
}

/** Healthy turns fold; a healthy verdict on a stuck or failed turn would hide a problem, so it never does. */
function isFoldable(turn: TurnReport): boolean {
  return turn.verdict === VERDICT_HEALTHY && turn.status !== TURN_STATE_STUCK && turn.status !== TURN_STATE_FAILED;
}

function headerLine(report: Report): string {
  const counts = new Map<string, number>();
  for (const turn of report.turns) counts.set(turn.status, (counts.get(turn.status) ?? 0) + 1);
  const byStatus = [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
  const sources = report.sources.length === 1 ? `${report.sources[0].path} (${report.sources[0].format})` : `${report.sources.length} sources`;
  const turns = `${report.turns.length} turn${report.turns.length === 1 ? '' : 's'}${byStatus ? ` (${byStatus})` : ''}`;
  return `stall-why: ${turns} in ${sources}, judged at ${report.judgedAt.slice(0, 10)} ${formatClock(Date.parse(report.judgedAt))}`;
}

function foldedLine(folded: readonly TurnReport[], palette: Palette): string {
  const n = folded.length;
  return palette.status(TURN_STATE_COMPLETED, `✔ ${n} healthy turn${n === 1 ? '' : 's'} folded`) + palette.dim(' (--all shows them)');
}
