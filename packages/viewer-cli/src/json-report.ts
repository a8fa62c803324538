/**
 * `--json`: the classifier's report as is (the stable shape documented in docs/cli.md), with each
 * turn's `nextStep` added. Keys are only ever added.
 */
import type { Report, TurnReport } from '@stall-why/classifier';
import { nextStep } from './next-steps.js';

export interface JsonTurn extends TurnReport {
  readonly nextStep: string;
}

export interface JsonReport extends Omit<Report, 'turns'> {
  readonly turns: readonly JsonTurn[];
}

export function toJsonReport(report: Report): JsonReport {
  return { ...report, turns: report.turns.map((turn) => ({ ...turn, nextStep: nextStep(turn.verdict, turn.status) })) };
}

/** The report as printed by `--json`: two-space indented, one trailing newline; `extra` keys (a ClickHouse source's `fleet`) after the report's. */
export function formatJsonReport(report: Report, extra: Readonly<Record<string, unknown>> = {}): string {
  return `${JSON.stringify({ ...toJsonReport(report), ...extra }, null, 2)}\n`;
}
