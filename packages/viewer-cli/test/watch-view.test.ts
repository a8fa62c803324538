/** `stall-why watch` on an 80x24 terminal: every line fits the width, the header stays, counts read right. */
import { classifySpans } from '@stall-why/classifier';
import { describe, expect, it } from 'vitest';
import { createPalette } from '../src/render/palette.js';
import { fitWidth, renderWatchView } from '../src/render/watch-view.js';
import { JUDGED_AT, stuckTurnSpans } from './stuck-turn-fixture.js';

const visible = (s: string): number => [...s.replace(/\x1b\[[0-9;]*m/g, '')].length;

describe('the watch view', () => {
  it.each([false, true])('fits 80 columns and 24 rows, the header first (colour %s)', (colour) => {
    const report = classifySpans(stuckTurnSpans(), { now: JUDGED_AT });
    const lines = renderWatchView(report, { palette: createPalette(colour), title: 'stall-why watch /a/very/long/path/'.padEnd(120, 'x'), columns: 80, rows: 24 });
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const line of lines) expect(visible(line), line).toBeLessThanOrEqual(80);
    expect(lines[0]).toContain('stall-why watch');
    expect(lines[1]).toMatch(/2 turns, 1 waiting/);
  });

  it('says "1 turn" for one', () => {
    const spans = stuckTurnSpans().filter((s) => s.attributes['stall_why.turn.id'] === 'turn-2');
    const lines = renderWatchView(classifySpans(spans, { now: JUDGED_AT }), { palette: createPalette(false), title: 't', columns: 80, rows: 24 });
    expect(lines[1]).toMatch(/ 1 turn, 1 waiting$/);
  });

  it('cuts a coloured line by what shows, keeping its colour codes whole', () => {
    const line = `\x1b[31m${'a'.repeat(100)}\x1b[0m`;
    const cut = fitWidth(line, 20);
    expect(visible(cut)).toBe(20);
    expect(cut.endsWith('…\x1b[0m')).toBe(true);
    expect(fitWidth('short', 20)).toBe('short');
  });
});
