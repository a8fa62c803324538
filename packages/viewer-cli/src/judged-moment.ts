/**
 * `--now`: the moment a trace is judged at, given as ISO-8601 or epoch milliseconds. Judging a
 * recording at the moment it was taken (rather than today) is what makes an old recording of a
 * stuck turn still read as stuck.
 */

/** Epoch ms of `2026-11-24T14:52:42Z`, `2026-11-24T14:52:42.444+01:00` or `1795531962444`; undefined if neither. */
export function parseMoment(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Number(trimmed);
  // Date.parse accepts far more than ISO-8601 ("Tuesday"): require a date at least.
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return undefined;
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `14:52:42.444Z`: the time of day in UTC, as the waterfall's axis and evidence print it. */
export function formatClock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 23)}Z`;
}
