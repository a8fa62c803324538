/**
 * Rollout timestamps to epoch ms, as `Date.parse` reads them, for one line after another: Codex writes
 * `YYYY-MM-DDTHH:MM:SS.mmmZ`, and lines written in the same minute share all but the seconds. The
 * minute is parsed once and the seconds and milliseconds added; `Date.parse` on every line was the
 * importer's largest single cost on a rollout of short lines (issue 14).
 */

/** `YYYY-MM-DDTHH:MM`. */
const MINUTE_LENGTH = 16;
/** `YYYY-MM-DDTHH:MM:SS.mmmZ`. */
const ISO_MS_LENGTH = 24;
const COLON = 0x3a;
const DOT = 0x2e;
const Z = 0x5a;

export class RolloutTimestamps {
  /** The last minute parsed, and its start in epoch ms (NaN when it is not a date). */
  private minute = '';
  private minuteMs = NaN;

  /** `Date.parse(text)`. */
  ms(text: string): number {
    if (text.length !== ISO_MS_LENGTH || text.charCodeAt(16) !== COLON || text.charCodeAt(19) !== DOT || text.charCodeAt(23) !== Z) return Date.parse(text);
    const seconds = twoDigits(text, 17);
    const ms = twoDigits(text, 20) * 10 + digit(text.charCodeAt(22));
    // Second 60 and hour 24 are left to Date.parse, which decides what they mean.
    if (!(seconds < 60 && ms >= 0) || !(twoDigits(text, 11) < 24)) return Date.parse(text);
    if (!text.startsWith(this.minute) || this.minute.length === 0) {
      this.minute = text.slice(0, MINUTE_LENGTH);
      this.minuteMs = Date.parse(`${this.minute}:00.000Z`);
    }
    return this.minuteMs + seconds * 1000 + ms;
  }
}

/** A digit's value, or NaN. */
const digit = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : NaN);
const twoDigits = (text: string, at: number): number => digit(text.charCodeAt(at)) * 10 + digit(text.charCodeAt(at + 1));
