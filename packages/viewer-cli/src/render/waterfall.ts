/**
 * A compact waterfall: one row per phase, all on the turn's shared time axis, open phases drawn to
 * the judged moment and marked `▶ open`, point phases as `◆`.
 *
 *   phases                     14:52:40.000Z             ┊ quiet 4m 10s to 14:56:52.000Z judged
 *   turn                       ▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒┊▒▒▒▒▒▒▒▒▒▒▶ open 4m 12s
 *     upstream #1               ████████████              ┊            1.4s
 *       tool exec_command                  ███████        ┊            700ms
 */
import type { PhaseBar } from '@stall-why/classifier';
import { formatClock } from '../judged-moment.js';
import { formatDuration } from '../duration.js';
import type { Palette } from './palette.js';

export interface WaterfallOptions {
  /** Epoch ms: where open phases end. */
  readonly judgedAtMs: number;
  /** Columns of the bar area. Default 40. */
  readonly barWidth?: number;
  /** Columns of the label. Default 28. */
  readonly labelWidth?: number;
  /** Most rows drawn; open phases and depth-0 phases are kept first. Default 14. */
  readonly maxRows?: number;
  /** Spaces before every line. Default 2. */
  readonly indent?: number;
  readonly palette: Palette;
}

const CLOSED = '█';
const OPEN = '▒';
const OPEN_END = '▶';
const POINT = '◆';
const BREAK = '┊';

/** The waterfall's lines, header first; empty when there are no phases. */
export function renderWaterfall(phases: readonly PhaseBar[], options: WaterfallOptions): string[] {
  if (phases.length === 0) return [];
  const { judgedAtMs, palette } = options;
  const barWidth = Math.max(10, options.barWidth ?? 40);
  const labelWidth = Math.max(8, options.labelWidth ?? 28);
  const pad = ' '.repeat(options.indent ?? 2);
  const axis = timeAxis(phases, judgedAtMs, barWidth);
  const lines = [`${pad}${palette.dim(`${'phases'.padEnd(labelWidth)} ${axis.header}`)}`];

  const { rows, markers } = foldMilestones(phases);
  const shown = pickRows(rows, options.maxRows ?? 14);
  for (const phase of shown) {
    const label = fit(`${'  '.repeat(Math.min(phase.depth, 3))}${phase.label}`, labelWidth);
    const from = axis.column(phase.startMs);
    const bar = new BarCells(barWidth);
    let note: string;
    if (phase.kind === 'point') {
      bar.set(from, POINT, palette.dim);
      note = '';
    } else if (phase.endMs === null) {
      for (let c = from; c < barWidth - 1; c++) bar.set(c, OPEN, palette.open);
      bar.set(barWidth - 1, OPEN_END, palette.open);
      note = palette.open(`open ${formatDuration(judgedAtMs - phase.startMs)}`);
    } else {
      const to = Math.max(from + 1, axis.column(phase.endMs, true));
      for (let c = from; c < to; c++) bar.set(c, CLOSED, palette.closed);
      note = palette.dim(formatDuration(phase.endMs - phase.startMs));
    }
    for (const ms of markers.get(phase) ?? []) bar.set(axis.column(ms), POINT, palette.bold);
    if (axis.breakColumn !== undefined) bar.set(axis.breakColumn, BREAK, palette.dim);
    lines.push(`${pad}${label} ${bar.render()} ${note}`.trimEnd());
  }
  if (shown.length < rows.length) {
    lines.push(`${pad}${palette.dim(`… ${rows.length - shown.length} more phases not drawn (--json lists them all)`)}`);
  }
  return lines;
}

type Paint = (text: string) => string;
const unpainted: Paint = (text) => text;

/** One row's bar: a character and a style per column, painted in runs so a bar costs one escape pair, not one per cell. */
class BarCells {
  private readonly chars: string[];
  private readonly paints: Paint[];

  constructor(width: number) {
    this.chars = new Array<string>(width).fill(' ');
    this.paints = new Array<Paint>(width).fill(unpainted);
  }

  set(column: number, char: string, paint: Paint): void {
    this.chars[column] = char;
    this.paints[column] = paint;
  }

  render(): string {
    let out = '';
    for (let start = 0; start < this.chars.length; ) {
      let end = start + 1;
      while (end < this.chars.length && this.paints[end] === this.paints[start]) end++;
      out += this.paints[start](this.chars.slice(start, end).join(''));
      start = end;
    }
    return out;
  }
}

interface TimeAxis {
  /** The column of a moment; `end` rounds up, for the end of a bar. */
  column(ms: number, end?: boolean): number;
  /** Where a long quiet stretch is cut short, if it is. */
  readonly breakColumn?: number;
  readonly header: string;
}

/**
 * The shared axis. Linear from the first phase to the judged moment, except that when an open
 * turn has been quiet for more than half of it, the quiet stretch is squeezed into the last 30% of
 * the columns behind a `┊`: otherwise four minutes of silence would squash the phases that explain
 * it into one column.
 */
function timeAxis(phases: readonly PhaseBar[], judgedAtMs: number, width: number): TimeAxis {
  const anyOpen = phases.some((p) => p.kind === 'span' && p.endMs === null);
  const start = Math.min(...phases.map((p) => p.startMs));
  const lastBoundary = Math.max(...phases.map((p) => Math.max(p.startMs, p.endMs ?? p.startMs)));
  const end = anyOpen ? Math.max(judgedAtMs, lastBoundary) : lastBoundary;
  const linear = (from: number, to: number, c0: number, c1: number) => (ms: number, up = false): number => {
    const x = c0 + ((ms - from) / Math.max(to - from, 1)) * (c1 - c0);
    return Math.min(c1, Math.max(c0, up ? Math.ceil(x) : Math.floor(x)));
  };
  const quiet = end - lastBoundary;
  if (!anyOpen || quiet <= (end - start) / 2 || lastBoundary <= start) {
    const scale = linear(start, end, 0, width);
    const endLabel = `${formatClock(end)}${anyOpen ? ' judged' : ''}`;
    const gap = Math.max(1, width - formatClock(start).length - formatClock(end).length);
    return {
      column: (ms, up) => Math.min(width - (up ? 0 : 1), scale(ms, up)),
      header: `${formatClock(start)}${' '.repeat(gap)}${endLabel}`,
    };
  }
  const breakColumn = Math.round(width * 0.7);
  const before = linear(start, lastBoundary, 0, breakColumn);
  const after = linear(lastBoundary, end, breakColumn + 1, width);
  const left = formatClock(start);
  return {
    column: (ms, up) => (ms <= lastBoundary ? Math.min(breakColumn - (up ? 0 : 1), before(ms, up)) : Math.min(width - (up ? 0 : 1), after(ms, up))),
    breakColumn,
    // The header may run past the bars into the notes' column (about 14 wide), no further.
    header: fitHeader(`${left}${' '.repeat(Math.max(1, breakColumn - left.length))}`, [
      `${BREAK} quiet ${formatDuration(quiet)} to ${formatClock(end)} judged`,
      `${BREAK} quiet ${formatDuration(quiet)} → ${formatClock(end).slice(0, 8)}Z`,
      `${BREAK} quiet ${formatDuration(quiet)}`,
    ], width + 14),
  };
}

/** The left part and the longest of the right parts that fits. */
function fitHeader(left: string, rights: readonly string[], max: number): string {
  const right = rights.find((r) => left.length + r.length <= max) ?? rights[rights.length - 1];
  return `${left}${right}`;
}

/**
 * Point phases nested in a span (an attempt's request_sent, headers, first_event, ...) are drawn
 * as `◆` on their parent's row rather than on rows of their own: that keeps the waterfall compact
 * while still showing where each milestone fell. Top-level points keep their rows.
 */
function foldMilestones(phases: readonly PhaseBar[]): { rows: PhaseBar[]; markers: Map<PhaseBar, number[]> } {
  const rows: PhaseBar[] = [];
  const markers = new Map<PhaseBar, number[]>();
  const openSpans: PhaseBar[] = [];
  for (const phase of phases) {
    while (openSpans.length > 0 && openSpans[openSpans.length - 1].depth >= phase.depth) openSpans.pop();
    const parent = openSpans[openSpans.length - 1];
    if (phase.kind === 'point' && phase.depth >= 2 && parent !== undefined && parent.kind === 'span') {
      const list = markers.get(parent);
      if (list) list.push(phase.startMs);
      else markers.set(parent, [phase.startMs]);
      continue;
    }
    rows.push(phase);
    if (phase.kind === 'span') openSpans.push(phase);
  }
  return { rows, markers };
}

/** Keeps open and top-level phases first when there are too many rows, then restores start order. */
function pickRows(phases: readonly PhaseBar[], maxRows: number): PhaseBar[] {
  if (phases.length <= maxRows) return [...phases];
  const rank = (p: PhaseBar): number => (p.kind === 'span' && p.endMs === null ? 0 : p.depth === 0 ? 1 : p.kind === 'span' ? 2 : 3);
  const indexed = phases.map((phase, index) => ({ phase, index }));
  const kept = [...indexed]
    .sort((a, b) => rank(a.phase) - rank(b.phase) || b.index - a.index)
    .slice(0, maxRows)
    .sort((a, b) => a.index - b.index);
  return kept.map((k) => k.phase);
}

function fit(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`;
}
