/** Exit codes, as ESLint has them. */
import type { Report } from '@stall-why/classifier';
import { TURN_STATE_FAILED, TURN_STATE_STUCK } from '@stall-why/conventions';

/** No turn stuck or failed. */
export const EXIT_OK = 0;
/** At least one turn stuck or failed. */
export const EXIT_PROBLEMS = 1;
/** The tool could not do its job: bad usage, unreadable input. */
export const EXIT_USAGE = 2;

/** 1 when any turn of the report is stuck or failed, else 0. */
export function exitCodeFor(report: Report): typeof EXIT_OK | typeof EXIT_PROBLEMS {
  return report.turns.some((t) => t.status === TURN_STATE_STUCK || t.status === TURN_STATE_FAILED) ? EXIT_PROBLEMS : EXIT_OK;
}
