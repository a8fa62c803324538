/**
 * A trace that cannot be read: its message is ONE line, `<file>:<line or byte offset>: <what is
 * wrong>`, fit to print as is (the CLI exits 2 with it, never with a stack trace).
 */
export class TraceInputError extends Error {
  override readonly name = 'TraceInputError';
  /** The file (or directory) that could not be read. */
  readonly file: string;
  /** Where in it: `12` (a line number) or `@4096` (a byte offset); undefined for the whole file. */
  readonly position: string | undefined;
  /** What is wrong, without the file and position. */
  readonly reason: string;

  constructor(file: string, position: string | number | undefined, reason: string) {
    const where = position === undefined ? '' : `:${position}`;
    const oneLine = reason.replace(/\s*[\r\n]+\s*/g, ' ');
    super(`${file}${where}: ${oneLine}`);
    this.file = file;
    this.position = position === undefined ? undefined : String(position);
    this.reason = oneLine;
  }
}

/** A line position for a TraceInputError: the 1-based line number. */
export function linePosition(line: number): string {
  return String(line);
}

/** A byte position for a TraceInputError: `@offset`. */
export function bytePosition(offset: number): string {
  return `@${offset}`;
}
