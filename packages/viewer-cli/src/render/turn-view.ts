/**
 * One turn for people: a verdict line, what the verdict means, the evidence, the waterfall, and the
 * next step.
 */
import type { TurnReport } from '@stall-why/classifier';
import {
  TURN_STATE_ABANDONED,
  TURN_STATE_COMPLETED,
  TURN_STATE_FAILED,
  TURN_STATE_IN_PROGRESS,
  TURN_STATE_STUCK,
  VERDICTS,
  type TurnState,
} from '@stall-why/conventions';
import { formatDuration } from '../duration.js';
import { nextStep } from '../next-steps.js';
import type { Palette } from './palette.js';
import { renderWaterfall } from './waterfall.js';

export interface TurnViewOptions {
  readonly judgedAtMs: number;
  readonly palette: Palette;
  /** Terminal columns; the waterfall and wrapped text fit in them. Default 100. */
  readonly columns?: number;
  /** Most waterfall rows. Default 14. */
  readonly maxPhases?: number;
}

const MEANING = new Map(VERDICTS.map((v) => [v.id, v.meaning]));

/** The verdict line alone: `✖ STUCK 4m 12s  backend_stall  turn 3  thread 019a…  (confidence 0.90)`. */
export function renderVerdictLine(turn: TurnReport, palette: Palette): string {
  const quiet = turn.stuckForMs !== null && turn.status !== TURN_STATE_COMPLETED ? ` ${formatDuration(turn.stuckForMs)}` : '';
  const head = palette.status(turn.status, `${statusMark(turn.status)} ${turn.status.toUpperCase()}${quiet}`);
  const where = [turn.turnId !== null ? `turn ${turn.turnId}` : 'no turn yet', turn.threadId !== null ? `thread ${turn.threadId}` : null]
    .filter((part) => part !== null)
    .join('  ');
  return `${head}  ${palette.bold(turn.verdict)}  ${where}  ${palette.dim(`(confidence ${turn.confidence.toFixed(2)})`)}`;
}

/** Every line of one turn's view. */
export function renderTurn(turn: TurnReport, options: TurnViewOptions): string[] {
  const { palette } = options;
  const columns = Math.max(60, options.columns ?? 100);
  const lines = [renderVerdictLine(turn, palette)];
  const meaning = MEANING.get(turn.verdict);
  if (meaning) lines.push(`  ${palette.dim(meaning)}`);
  if (turn.evidence.length > 0) {
    lines.push('  evidence');
    for (const line of turn.evidence) lines.push(...wrap(line, columns - 6).map((part, i) => `${i === 0 ? '    · ' : '      '}${part}`));
  }
  const labelWidth = Math.min(30, Math.max(16, Math.floor(columns * 0.28)));
  lines.push(
    ...renderWaterfall(turn.phases, {
      judgedAtMs: options.judgedAtMs,
      palette,
      labelWidth,
      barWidth: Math.max(10, columns - labelWidth - 2 - 2 - 14),
      maxRows: options.maxPhases,
    }),
  );
  const step = wrap(nextStep(turn.verdict, turn.status), columns - 14);
  lines.push(...step.map((part, i) => (i === 0 ? `  ${palette.bold('next step:')} ${part}` : `             ${part}`)));
  return lines;
}

function statusMark(status: TurnState): string {
  if (status === TURN_STATE_STUCK || status === TURN_STATE_FAILED) return '✖';
  if (status === TURN_STATE_IN_PROGRESS) return '◌';
  if (status === TURN_STATE_ABANDONED) return '⊘';
  if (status === TURN_STATE_COMPLETED) return '✔';
  return '■';
}

/** Greedy word wrap; a word longer than the width stays whole on its own line. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
