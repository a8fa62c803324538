/**
 * The fleet report for people: where a ClickHouse source's turns come from (per service and host,
 * counts by status and verdict) and the longest-stuck turns first with their first evidence line.
 */
import type { FleetSummary } from '@stall-why/clickhouse';
import { TURN_STATE_STUCK } from '@stall-why/conventions';
import { formatDuration } from '../duration.js';
import type { Palette } from './palette.js';
import { terminalText } from './terminal-text.js';

/** The fleet summary's text, ending with a newline. */
export function renderFleet(fleet: FleetSummary, palette: Palette): string {
  const lines = [palette.dim(searchLine(fleet))];
  for (const group of fleet.groups) lines.push(`  ${groupLine(group, palette)}`);
  if (fleet.longestStuck.length > 0) {
    lines.push('', palette.bold('longest stuck:'));
    for (const turn of fleet.longestStuck) {
      const where = terminalText(turn.host ? `${turn.service}@${turn.host}` : turn.service || '(no service.name)');
      const which = terminalText(`${turn.threadId ?? '-'} / ${turn.turnId ?? '-'}`);
      lines.push(`  ${palette.status(TURN_STATE_STUCK, `stuck ${formatDuration(turn.stuckForMs)}`)}  ${where}  ${which}  ${turn.verdict} (${turn.confidence.toFixed(2)})`);
      if (turn.evidence[0]) lines.push(`      ${palette.dim(terminalText(turn.evidence[0]))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function searchLine(fleet: FleetSummary): string {
  const cut = fleet.candidateLimitReached ? ' (the limit: more may exist, narrow with --service/--since)' : '';
  return `fleet: ${terminalText(fleet.source)}: ${fleet.candidateTraces} candidate trace${fleet.candidateTraces === 1 ? '' : 's'}${cut} since ${fleet.windowStart}` +
    ` (open turns since ${fleet.openWindowStart}), ${fleet.spansRead} spans and ${fleet.logRecordsRead} log records read`;
}

function groupLine(group: FleetSummary['groups'][number], palette: Palette): string {
  const where = terminalText(group.host ? `${group.service}@${group.host}` : group.service || '(no service.name)');
  const statuses = Object.entries(group.byStatus).map(([status, n]) => `${n} ${status}`).join(', ');
  const verdicts = Object.entries(group.byVerdict).map(([verdict, n]) => `${n} ${verdict}`).join(', ');
  return `${palette.bold(where)}: ${group.turns} turn${group.turns === 1 ? '' : 's'} (${statuses}); ${verdicts}`;
}
