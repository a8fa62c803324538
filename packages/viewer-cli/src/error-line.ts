/**
 * Every error the CLI prints goes through here: one line on stderr, `stall-why: ` first, so it is
 * told apart from what a wrapped server prints and found by one search in a log, and with control
 * characters shown as escapes, since a message may quote a file name, an argument or a trace.
 */
import { terminalText } from './render/terminal-text.js';

export const ERROR_PREFIX = 'stall-why: ';

/** `message` as the CLI prints an error: commander's `error: ` is replaced by the prefix. */
export function errorLine(message: string): string {
  const text = message.trimEnd().replace(/^(?:stall-why: )?(?:error: )?/, '');
  return `${ERROR_PREFIX}${terminalText(text)}\n`;
}

export function writeError(message: string): void {
  process.stderr.write(errorLine(message));
}
