import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseMoment } from 'stall-why';

describe('parseDuration', () => {
  it('reads what people type', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration('1500')).toBe(1_500);
  });

  it('refuses what it cannot read', () => {
    for (const bad of ['', 'soon', '2 minutes', '-5s', '5x', 's']) expect(parseDuration(bad)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('prints short forms', () => {
    expect([850, 4_210, 42_000, 252_000, 7_500_000].map(formatDuration)).toEqual(['850ms', '4.2s', '42s', '4m 12s', '2h 05m']);
  });
});

describe('parseMoment', () => {
  it('reads ISO-8601 and epoch milliseconds, and nothing else', () => {
    expect(parseMoment('2026-11-24T14:52:42.444Z')).toBe(Date.parse('2026-11-24T14:52:42.444Z'));
    expect(parseMoment('2026-11-24T15:52:42+01:00')).toBe(Date.parse('2026-11-24T14:52:42Z'));
    expect(parseMoment('1795531962444')).toBe(1795531962444);
    expect(parseMoment('Tuesday')).toBeUndefined();
    expect(parseMoment('2026-13-45T99:00:00Z')).toBeUndefined();
  });
});
