/**
 * Options that `stall-why <trace...>` and `stall-why watch` share: the input format and the
 * classifier's thresholds, each parsed with a one-line error for a bad value.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
// The subpaths, not the package: defining the options must not load the classifier (start-up, issue 14).
import { DEFAULT_THRESHOLDS, type Thresholds } from '@stall-why/classifier/thresholds';
import { DEFAULT_MAX_LINE_BYTES, TRACE_FORMATS, type TraceFormat } from '@stall-why/classifier/trace-format';
import { formatDuration, parseDuration } from './duration.js';
import { parseMoment } from './judged-moment.js';

export interface AnalysisOptionValues {
  format?: TraceFormat;
  stuckAfter?: number;
  slowPhase?: number;
  slowStretch?: number;
  silentModel?: number;
  abandonedAfter?: number;
  slowHydration?: number;
  rendererGrace?: number;
  dominantShare?: number;
  maxLineBytes?: number;
  color: boolean;
}

/** commander parser for a duration option: `90s`, `2m`, `1500` (ms). */
export function durationArgument(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError(`not a duration: use e.g. 90s, 2m, 1h30m, 250ms or milliseconds`);
  return ms;
}

/** commander parser for `--now`: ISO-8601 or epoch milliseconds. */
export function momentArgument(value: string): number {
  const ms = parseMoment(value);
  if (ms === undefined) throw new InvalidArgumentError('not a moment: use ISO-8601 (2026-11-24T14:52:42Z) or epoch milliseconds');
  return ms;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1e3, mb: 1e6, gb: 1e9 };

/** commander parser for a size: `128MiB`, `1GiB`, `500MB` or bytes. */
export function byteSizeArgument(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i.exec(value.trim());
  const bytes = match ? Math.floor(Number(match[1]) * BYTE_UNITS[(match[2] ?? '').toLowerCase()]!) : NaN;
  if (!(bytes > 0)) throw new InvalidArgumentError('not a size: use e.g. 128MiB, 1GiB or bytes');
  return bytes;
}

function shareArgument(value: string): number {
  const share = Number(value);
  if (!Number.isFinite(share) || share < 0 || share > 1) throw new InvalidArgumentError('not a share: use a number from 0 to 1, e.g. 0.5');
  return share;
}

/** Adds `--format`, the threshold options and `--no-color` to a command. */
export function addAnalysisOptions(command: Command): Command {
  return command
    .addOption(new Option('--format <format>', 'read every input as this format instead of detecting it').choices(TRACE_FORMATS))
    .option('--stuck-after <duration>', `open turns: quiet this long is stuck (default ${formatDuration(DEFAULT_THRESHOLDS.stuckAfterMs)}); ended turns are not judged by it`, durationArgument)
    .option('--slow-phase <duration>', `ended turns: least time a wait must take to be named the cause of a delay (default ${formatDuration(DEFAULT_THRESHOLDS.slowPhaseMs)})`, durationArgument)
    .option('--slow-stretch <duration>', `ended turns: one quiet stretch this long in a wait (not the model at work) names it (default ${formatDuration(DEFAULT_THRESHOLDS.slowStretchMs)})`, durationArgument)
    .option('--silent-model <duration>', `interrupted turns: the model silent this long before it is a backend stall (default ${formatDuration(DEFAULT_THRESHOLDS.silentModelMs)})`, durationArgument)
    .option('--abandoned-after <duration>', `an open turn whose source was not written for this long is abandoned (default ${formatDuration(DEFAULT_THRESHOLDS.abandonedAfterMs)})`, durationArgument)
    .option('--slow-hydration <duration>', `a hydration outside a turn is reported when it took this long (default ${formatDuration(DEFAULT_THRESHOLDS.slowHydrationMs)})`, durationArgument)
    .option('--renderer-grace <duration>', `a renderer that detached less than this ago may come back (default ${formatDuration(DEFAULT_THRESHOLDS.rendererGraceMs)})`, durationArgument)
    .option('--dominant-share <share>', `share of a turn a phase must take to dominate it (default ${DEFAULT_THRESHOLDS.dominantShare})`, shareArgument)
    .option('--max-line-bytes <size>', `longest line (JSON lines, rollouts) or single JSON value read (default ${DEFAULT_MAX_LINE_BYTES / 1024 ** 2}MiB)`, byteSizeArgument)
    .option('--no-color', 'no colour, even on a terminal (NO_COLOR is honoured too)');
}

/** The threshold overrides the options asked for. */
export function thresholdsFrom(values: AnalysisOptionValues): Partial<Thresholds> {
  const out: { -readonly [K in keyof Thresholds]?: number } = {};
  if (values.stuckAfter !== undefined) out.stuckAfterMs = values.stuckAfter;
  if (values.slowPhase !== undefined) out.slowPhaseMs = values.slowPhase;
  if (values.slowStretch !== undefined) out.slowStretchMs = values.slowStretch;
  if (values.silentModel !== undefined) out.silentModelMs = values.silentModel;
  if (values.abandonedAfter !== undefined) out.abandonedAfterMs = values.abandonedAfter;
  if (values.slowHydration !== undefined) out.slowHydrationMs = values.slowHydration;
  if (values.rendererGrace !== undefined) out.rendererGraceMs = values.rendererGrace;
  if (values.dominantShare !== undefined) out.dominantShare = values.dominantShare;
  return out;
}
