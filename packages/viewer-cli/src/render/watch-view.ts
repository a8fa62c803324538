/**
 * What `stall-why watch` shows: stuck turns on top, then turns still in progress, then the rest,
 * newest first. Turns that wait are drawn in full; ended turns take one line each.
 */
import type { Report, TurnReport } from '@stall-why/classifier';
import { TURN_STATE_FAILED, TURN_STATE_IN_PROGRESS, TURN_STATE_STUCK } from '@stall-why/conventions';
import { formatClock } from '../judged-moment.js';
import type { Palette } from './palette.js';
import { terminalSafeReport } from './terminal-text.js';
import { renderTurn, renderVerdictLine } from './turn-view.js';

export interface WatchViewOptions {
  readonly palette: Palette;
  readonly title: string;
  readonly columns?: number;
  /** Lines available; the view is cut to fit. Undefined: no limit. */
  readonly rows?: number;
  /** Shown under the title when the last refresh failed, e.g. a segment being written. */
  readonly problem?: string;
}

const RANK: Record<string, number> = { [TURN_STATE_STUCK]: 0, [TURN_STATE_IN_PROGRESS]: 1, [TURN_STATE_FAILED]: 2 };

/** Stuck first, then in progress, then failed, then the rest; newest activity first within each. */
export function orderForWatch(turns: readonly TurnReport[]): TurnReport[] {
  return [...turns].sort(
    (a, b) => (RANK[a.status] ?? 3) - (RANK[b.status] ?? 3) || Date.parse(b.lastActivityAt) - Date.parse(a.lastActivityAt),
  );
}

/** The view's lines. */
export function renderWatchView(untrusted: Report, options: WatchViewOptions): string[] {
  const report = terminalSafeReport(untrusted);
  const { palette } = options;
  const judgedAtMs = Date.parse(report.judgedAt);
  const waiting = report.turns.filter((t) => t.status === TURN_STATE_STUCK || t.status === TURN_STATE_IN_PROGRESS).length;
  const n = report.turns.length;
  const lines = [
    palette.bold(options.title),
    palette.dim(`${formatClock(judgedAtMs)}  ${n} turn${n === 1 ? '' : 's'}, ${waiting} waiting`),
  ];
  if (options.problem) lines.push(palette.open(options.problem));
  if (report.turns.length === 0) lines.push('', 'no turns recorded yet');
  let endedShown = false;
  for (const turn of orderForWatch(report.turns)) {
    const waitingTurn = turn.status === TURN_STATE_STUCK || turn.status === TURN_STATE_IN_PROGRESS;
    if (waitingTurn) {
      lines.push('', ...renderTurn(turn, { judgedAtMs, palette, columns: options.columns, maxPhases: 8 }));
    } else {
      if (!endedShown) lines.push('');
      endedShown = true;
      lines.push(renderVerdictLine(turn, palette));
    }
  }
  // A line wider than the terminal would wrap and push the header off the screen: each is cut to fit.
  const fitted = options.columns !== undefined && options.columns >= 20 ? lines.map((l) => fitWidth(l, options.columns!)) : lines;
  // A pseudo-terminal may report 0 rows: treat anything implausible as unknown.
  if (options.rows !== undefined && options.rows >= 5 && fitted.length > options.rows) {
    const cut = fitted.length - options.rows + 1;
    return [...fitted.slice(0, options.rows - 1), palette.dim(`… ${cut} more lines (make the terminal taller)`)];
  }
  return fitted;
}

// SGR sequences the palette writes (colour, bold): they take no column.
const SGR = /\x1b\[[0-9;]*m/y;

/** `line` cut to `columns` visible characters (`…` at the cut), its colour codes kept whole and reset. */
export function fitWidth(line: string, columns: number): string {
  if ([...line.replace(/\x1b\[[0-9;]*m/g, '')].length <= columns) return line;
  let visible = 0;
  let i = 0;
  while (i < line.length && visible < columns - 1) {
    SGR.lastIndex = i;
    const sgr = SGR.exec(line);
    if (sgr) {
      i += sgr[0].length;
      continue;
    }
    i += line.codePointAt(i)! > 0xffff ? 2 : 1;
    visible++;
  }
  return `${line.slice(0, i)}…${line.includes('\x1b[') ? '\x1b[0m' : ''}`;
}
/** What changed for a person between two refreshes: turns, their status and verdict (not the growing quiet time). */
export function watchSignature(report: Report): string {
  return JSON.stringify(report.turns.map((t) => [t.threadId, t.turnId, t.status, t.verdict, t.lastActivityAt]));
}
