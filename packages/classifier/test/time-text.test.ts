/**
 * The report's times: `isoTime` keeps each minute's text between calls, so it is held to
 * `Date#toISOString` on instants that cross minutes, hours, days and years, with fractions of a
 * millisecond, in any order, and outside the years it keeps a prefix for.
 */
import { isoTime } from '@stall-why/classifier';
import { describe, expect, it } from 'vitest';

/** A small deterministic generator (mulberry32): the same instants every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('isoTime', () => {
  it('is Date#toISOString for instants in and across minutes, in order and out of it', () => {
    const next = random(14);
    const base = Date.parse('2026-12-31T23:58:00.000Z');
    const instants = [0, 59_999.999, 60_000, base, base + 59_999.5, base + 60_000, base + 120_000.25, 951_782_399_999.9, 253_402_300_799_999];
    for (let i = 0; i < 20_000; i++) instants.push(base + (next() - 0.5) * (i % 2 ? 600_000 : 4e11));
    for (const ms of instants) expect(isoTime(ms), String(ms)).toBe(new Date(ms).toISOString());
  });

  it('writes years outside 1970 to 9999 as toISOString does, and throws as it does on an invalid time', () => {
    for (const ms of [-1, -62_198_755_200_000, 253_402_300_800_000, 8.64e15]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
