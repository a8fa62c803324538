import { describe, expect, it } from 'vitest';
import { createPalette, shouldColour, renderWaterfall, renderReport, renderTurn, NEXT_STEPS } from 'stall-why';
import { VERDICTS } from '@stall-why/conventions';
import { JUDGED_AT, stuckReport, stuckTurnReport, T0 } from './stuck-turn-fixture.js';

const plain = createPalette(false);
const ESC = '\x1b[';

describe('renderWaterfall', () => {
  const lines = renderWaterfall(stuckTurnReport().phases, { judgedAtMs: JUDGED_AT, palette: plain, barWidth: 40, labelWidth: 28 });

  it('puts every phase on one axis from the turn start to the judged moment', () => {
    expect(lines[0]).toContain('14:52:40.000Z');
    expect(lines[0]).toContain('┊ quiet 4m 10s → 14:56:52Z');
    expect(renderWaterfall(stuckTurnReport().phases, { judgedAtMs: JUDGED_AT, palette: plain, barWidth: 90 })[0]).toContain('┊ quiet 4m 10s to 14:56:52.000Z judged');
    // headers 200 is a milestone of upstream #1: drawn on its row, not on one of its own.
    expect(lines).toHaveLength(stuckTurnReport().phases.length);
  });

  it('draws open phases to the judged moment and marks them', () => {
    const turn = lines.find((l) => l.trimStart().startsWith('turn '))!;
    const bar = turn.slice(2 + 28 + 1, 2 + 28 + 1 + 40);
    expect(bar).toMatch(/^▒{20,}┊▒+▶$/);
    expect(turn).toContain('open 4m 12s');
    const continuation = lines.find((l) => l.includes('upstream #2 (continuation)'))!;
    expect(continuation).toMatch(/▒+▶ open 4m 10s$/);
  });

  it('squeezes a long quiet stretch behind ┊ so the phases before it stay readable', () => {
    const tool = lines.find((l) => l.includes('tool exec_command'))!;
    expect(tool.match(/█/g)!.length).toBeGreaterThan(5);
    const linear = renderWaterfall(stuckTurnReport().phases, { judgedAtMs: T0 + 2_200, palette: plain, barWidth: 40 });
    expect(linear[0]).not.toContain('┊');
    expect(linear[0]).toContain('14:52:42.200Z judged');
  });

  it('draws closed phases to scale with their duration, and points as ◆', () => {
    const tool = lines.find((l) => l.includes('tool exec_command'))!;
    expect(tool).toContain('█');
    expect(tool).toMatch(/700ms$/);
    expect(lines.some((l) => l.includes('headers 200'))).toBe(false);
    const attempt = lines.find((l) => l.includes('upstream #1'))!;
    expect(attempt).toMatch(/█+◆█+/);
    const continuation = lines.find((l) => l.includes('continuation requested'))!;
    expect(continuation).toContain('◆');
    expect(continuation).not.toContain('█');
  });

  it('keeps open phases when there are more phases than rows', () => {
    const capped = renderWaterfall(stuckTurnReport().phases, { judgedAtMs: JUDGED_AT, palette: plain, maxRows: 3 });
    expect(capped.filter((l) => l.includes('▶'))).toHaveLength(2);
    expect(capped.at(-1)).toContain('3 more phases not drawn');
  });

  it('draws nothing for a turn without phases', () => {
    expect(renderWaterfall([], { judgedAtMs: T0, palette: plain })).toEqual([]);
  });
});

describe('renderTurn', () => {
  const lines = renderTurn(stuckTurnReport(), { judgedAtMs: JUDGED_AT, palette: plain, columns: 100 });

  it('starts with a one-line verdict', () => {
    expect(lines[0]).toBe('✖ STUCK 4m 10s  backend_stall  turn turn-2  thread 019a7e2f-thread  (confidence 0.90)');
  });

  it('cites the evidence and ends with the next step for the verdict', () => {
    expect(lines).toContain('    · tool exec_command returned at 14:52:42.000');
    const step = lines.slice(lines.findIndex((l) => l.includes('next step:'))).join(' ');
    expect(step).toContain('the model API is not answering the request');
    expect(step).toContain('interrupting and retrying');
  });

  it('fits the terminal width', () => {
    for (const line of renderTurn(stuckTurnReport(), { judgedAtMs: JUDGED_AT, palette: plain, columns: 80 }).slice(1)) {
      expect(line.length).toBeLessThanOrEqual(80);
    }
  });
});

describe('renderReport', () => {
  it('folds healthy turns into one line unless --all', () => {
    const text = renderReport(stuckReport(), { palette: plain }).join('');
    expect(text).toContain('✔ 1 healthy turn folded (--all shows them)');
    expect(text).not.toContain('turn turn-1');
    const all = renderReport(stuckReport(), { palette: plain, all: true }).join('');
    expect(all).toContain('✔ COMPLETED  healthy  turn turn-1');
    expect(all).not.toContain('folded');
  });

  it('says how many turns a bounded report counted instead of listing', () => {
    const line = '29012 turns judged: 500 listed, 28512 summarised (28512 healthy)';
    const summary = { judged: 29012, listed: 500, summarised: 28512, summarisedByVerdict: { healthy: 28512 }, summarisedByStatus: { completed: 28512 }, line };
    expect(renderReport({ ...stuckReport(), summary }, { palette: plain }).join('')).toContain(line);
    expect(renderReport({ ...stuckReport(), summary: { ...summary, summarised: 0 } }, { palette: plain }).join('')).not.toContain(line);
  });

  it('has no escape codes without colour, and colours the verdict with it', () => {
    expect(renderReport(stuckReport(), { palette: plain }).join('')).not.toContain(ESC);
    const coloured = renderReport(stuckReport(), { palette: createPalette(true) }).join('');
    expect(coloured).toContain(`${ESC}31m${ESC}1m✖ STUCK 4m 10s`);
  });
});

describe('shouldColour', () => {
  it('colours a TTY only, and never with NO_COLOR or --no-color', () => {
    expect(shouldColour({ flag: true, env: {}, isTTY: true })).toBe(true);
    expect(shouldColour({ flag: true, env: {}, isTTY: false })).toBe(false);
    expect(shouldColour({ flag: true, env: { NO_COLOR: '1' }, isTTY: true })).toBe(false);
    expect(shouldColour({ flag: true, env: { NO_COLOR: '' }, isTTY: true })).toBe(true);
    expect(shouldColour({ flag: false, env: {}, isTTY: true })).toBe(false);
    expect(shouldColour({ flag: true, env: { FORCE_COLOR: '1' }, isTTY: false })).toBe(true);
    expect(shouldColour({ flag: true, env: { FORCE_COLOR: '1', NO_COLOR: '1' }, isTTY: false })).toBe(false);
    expect(shouldColour({ flag: true, env: { TERM: 'dumb' }, isTTY: true })).toBe(false);
  });
});

describe('NEXT_STEPS', () => {
  it('has concrete advice for every verdict', () => {
    for (const { id } of VERDICTS) expect(NEXT_STEPS[id].length).toBeGreaterThan(30);
  });
});
