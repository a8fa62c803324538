/** `--turn` and `--thread`: keep the turns asked for, and say which ids exist when none matches. */
import type { Report } from '@stall-why/classifier';

export interface TurnFilter {
  readonly turnId?: string;
  readonly threadId?: string;
}

/**
 * The id `asked` names among `ids`: itself, else the one id it is a prefix of (as git takes a short
 * commit id). Undefined when it names none; the candidates when it is a prefix of several.
 */
function resolveId(asked: string | undefined, ids: ReadonlyArray<string | null>): string | undefined | string[] {
  if (asked === undefined) return undefined;
  const known = [...new Set(ids.filter((id): id is string => id !== null))];
  if (known.includes(asked)) return asked;
  const candidates = known.filter((id) => id.startsWith(asked));
  return candidates.length === 1 ? candidates[0] : candidates.length > 1 ? candidates : asked;
}

/** `--turn` or `--thread` named the start of several ids. */
export class AmbiguousIdError extends Error {
  override readonly name = 'AmbiguousIdError';
}

/**
 * The turns asked for by `--turn` and `--thread`, each a whole id or a unique prefix of one; a prefix
 * of several ids throws an AmbiguousIdError that lists them.
 */
export function filterReport(report: Report, filter: TurnFilter): Report {
  if (filter.turnId === undefined && filter.threadId === undefined) return report;
  const threadId = resolveId(filter.threadId, report.turns.map((t) => t.threadId));
  const inThread = report.turns.filter((t) => threadId === undefined || t.threadId === threadId);
  const turnId = resolveId(filter.turnId, inThread.map((t) => t.turnId));
  for (const [what, got] of [['thread', threadId], ['turn', turnId]] as const) {
    if (Array.isArray(got)) {
      throw new AmbiguousIdError(`${what} ${what === 'turn' ? filter.turnId : filter.threadId} is the start of ${got.length} ids (${got.slice(0, 5).join(', ')}${got.length > 5 ? ', …' : ''}): give more of it`);
    }
  }
  const turns = inThread.filter((t) => turnId === undefined || t.turnId === turnId);
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
