import type { Verdict } from '@stall-why/conventions';
import type { Finding } from './finding.js';

/** What a finding says of its wait besides the verdict (see `Finding`). */
export interface FindingFlags {
  readonly atWork?: boolean;
  readonly toolWork?: boolean;
  readonly inferred?: boolean;
}

/** Flags most lazy findings carry, shared rather than made per finding. */
export const AT_WORK: FindingFlags = { atWork: true };
export const NOT_AT_WORK: FindingFlags = { atWork: false };
export const TOOL_WORK: FindingFlags = { toolWork: true };

/**
 * A finding whose evidence lines are written when they are first read. An ended turn is replayed at
 * every quiet stretch, and only the longest stretch of a wait is ever reported: writing every
 * stretch's lines (clock times, durations) was a fifth of judging a 1 GB OTLP input (issue 14). The
 * lines are the same as written at once: they are made from the scene, which never changes.
 */
export class LazyFinding implements Finding {
  readonly atWork: boolean | undefined;
  readonly toolWork: boolean | undefined;
  readonly inferred: boolean | undefined;
  #write: (() => readonly string[]) | undefined;
  #lines: readonly string[] | undefined;

  constructor(
    readonly verdict: Verdict,
    readonly confidence: number,
    write: () => readonly string[],
    flags?: FindingFlags,
  ) {
    this.atWork = flags?.atWork;
    this.toolWork = flags?.toolWork;
    this.inferred = flags?.inferred;
    this.#write = write;
  }

  get evidence(): readonly string[] {
    if (this.#write !== undefined) {
      this.#lines = this.#write();
      this.#write = undefined;
    }
    return this.#lines!;
  }
}
