/** `--turn` and `--thread`: keep the turns asked for, and say which ids exist when none matches. */
import type { Report } from '@stall-why/classifier';

export interface TurnFilter {
  readonly turnId?: string;
  readonly threadId?: string;
}

export function filterReport(report: Report, filter: TurnFilter): Report {
  if (filter.turnId === undefined && filter.threadId === undefined) return report;
  const turns = report.turns.filter(
    (t) => (filter.turnId === undefined || t.turnId === filter.turnId) && (filter.threadId === undefined || t.threadId === filter.threadId),
  );
  return { ...report, turns };
}

/** One line for a filter that matched nothing, naming a few ids that exist. */
export function noMatchMessage(report: Report, filter: TurnFilter): string {
  const asked = [filter.turnId !== undefined ? `turn ${filter.turnId}` : '', filter.threadId !== undefined ? `thread ${filter.threadId}` : '']
    .filter(Boolean)
    .join(' in ');
  const ids = [...new Set(report.turns.map((t) => (filter.turnId !== undefined ? t.turnId : t.threadId)).filter((id) => id !== null))];
  const known = ids.length === 0 ? 'the trace has no turns' : `known: ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? `, … (${ids.length})` : ''}`;
  return `no ${asked} in the trace (${known})`;
}
