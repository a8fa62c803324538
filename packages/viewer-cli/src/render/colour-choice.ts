/**
 * Whether to colour output: only on a TTY, never with `NO_COLOR` (https://no-color.org: set and not
 * empty) or `--no-color`. `FORCE_COLOR` (not `0`) turns colour on where there is no TTY, as in Node
 * and most CLIs, but `NO_COLOR` and `--no-color` still win: a person who asked for none gets none.
 */

export interface ColourChoiceInput {
  /** false after `--no-color`. */
  readonly flag: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly isTTY: boolean;
}

export function shouldColour({ flag, env, isTTY }: ColourChoiceInput): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return isTTY && env.TERM !== 'dumb';
}
