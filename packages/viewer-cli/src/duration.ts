/**
 * Durations as people type and read them: `90s`, `2m`, `1h30m`, `250ms`, or a bare number of
 * milliseconds; printed back as `4m 12s`, `1.2s`, `850ms`.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Parses `90s`, `2m`, `1h30m`, `1.5s`, `250ms` or `1500` (milliseconds); undefined when it is none of these. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (trimmed === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const start = PART.lastIndex;
    const match = PART.exec(trimmed);
    if (!match || match.index !== start) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]];
  }
  return total;
}

/** Short human form: `850ms`, `4.2s`, `4m 12s`, `2h 05m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs < 1_000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 10_000) return `${sign}${(abs / 1_000).toFixed(1)}s`;
  if (abs < 60_000) return `${sign}${Math.round(abs / 1_000)}s`;
  const totalSeconds = Math.round(abs / 1_000);
  if (totalSeconds < 3_600) return `${sign}${Math.floor(totalSeconds / 60)}m ${String(totalSeconds % 60).padStart(2, '0')}s`;
  const totalMinutes = Math.floor(totalSeconds / 60);
  return `${sign}${Math.floor(totalMinutes / 60)}h ${String(totalMinutes % 60).padStart(2, '0')}m`;
}
