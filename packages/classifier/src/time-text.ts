/**
 * How evidence lines write times and durations. Clock times are UTC (`14:02:11.250`) so two
 * evidence lines from different machines compare; the report's ISO fields carry the full date.
 */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `HH:MM:SS.mmm` in UTC. */
export function clockTime(epochMs: number): string {
  const d = new Date(Math.round(epochMs));
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** A duration for people: `340 ms`, `2.5 s`, `94 s`, `3 min 12 s`, `2 h 5 min`. */
export function duration(ms: number): string {
  const v = Math.max(0, ms);
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 10_000) return `${(Math.round(v / 100) / 10).toFixed(1)} s`;
  if (v < 120_000) return `${Math.round(v / 1000)} s`;
  if (v < 7_200_000) {
    // Rounded to the second first, so 239 999 ms is `4 min`, not `3 min 60 s`.
    const total = Math.round(v / 1000);
    const min = Math.floor(total / 60);
    const s = total - min * 60;
    return s ? `${min} min ${s} s` : `${min} min`;
  }
  const totalMin = Math.round(v / 60_000);
  const h = Math.floor(totalMin / 60);
  const min = totalMin - h * 60;
  return min ? `${h} h ${min} min` : `${h} h`;
}

/** `at 14:02:11.250 (94 s before the judged moment)`: a moment, and how long ago it was. */
export function agoText(epochMs: number, now: number): string {
  return `${duration(now - epochMs)} ago (${clockTime(epochMs)})`;
}

/** Years 1970 to 9999: `toISOString` writes them with four digits, so a minute's prefix can be kept. */
const ISO_PLAIN_BEFORE_MS = 253_402_300_800_000;
/** The minute of the last `isoTime`, and its `YYYY-MM-DDTHH:MM:` text. */
let isoMinute = NaN;
let isoMinuteText = '';

/**
 * ISO-8601, the report's format for instants: exactly `Date#toISOString`. A report writes three per
 * turn, mostly in the same minute as the one before, so the date and minute are formatted once per
 * minute (a `Date` and its formatting per instant showed in profiles of long rollouts, issue 14).
 */
export function isoTime(epochMs: number): string {
  const ms = Math.trunc(epochMs);
  if (!(ms >= 0 && ms < ISO_PLAIN_BEFORE_MS)) return new Date(epochMs).toISOString();
  const minute = Math.floor(ms / 60_000);
  if (minute !== isoMinute) {
    isoMinute = minute;
    isoMinuteText = new Date(minute * 60_000).toISOString().slice(0, 17);
  }
  const inMinute = ms - minute * 60_000;
  const s = Math.floor(inMinute / 1000);
  return `${isoMinuteText}${s < 10 ? '0' : ''}${s}.${pad(inMinute - s * 1000, 3)}Z`;
}
