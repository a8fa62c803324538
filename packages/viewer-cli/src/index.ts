/**
 * stall-why (the CLI package): the program, and the pieces it is made of for those who embed them:
 * terminal rendering, the `--json` report, the Chrome trace export, next steps, exit codes, and the
 * incremental flight-recorder reader behind `watch`, and the verdict metrics' values. The metrics
 * SDK side, `VerdictMetrics`, is its own entry point, `stall-why/verdict-metrics`, so that importing
 * this one does not load it.
 */
export { createProgram, VERSION } from './program.js';
export * from './exit-codes.js';
export { parseDuration, formatDuration } from './duration.js';
export { parseMoment, formatClock } from './judged-moment.js';
export { NEXT_STEPS, AFTER_END_STEPS, nextStep } from './next-steps.js';
export { toJsonReport, formatJsonReport, type JsonReport, type JsonTurn } from './json-report.js';
export { AmbiguousIdError, filterReport, type TurnFilter } from './report-filter.js';
export { shouldColour, type ColourChoiceInput } from './render/colour-choice.js';
export { createPalette, type Palette } from './render/palette.js';
export { renderWaterfall, type WaterfallOptions } from './render/waterfall.js';
export { renderTurn, renderVerdictLine, type TurnViewOptions } from './render/turn-view.js';
export { renderReport, type ReportViewOptions } from './render/report-view.js';
export { renderWatchView, orderForWatch, watchSignature, type WatchViewOptions } from './render/watch-view.js';
export { buildChromeTrace, OPEN_MARK, type ChromeExportOptions } from './chrome/chrome-export.js';
export { assignLanes, type Interval } from './chrome/track-lanes.js';
export { TRACE_CATEGORY, type ChromeTrace, type TraceEvent } from './chrome/trace-event.js';
export { ProgressLine, type ProgressLineOptions, type ProgressUpdate } from './progress-line.js';
export { LiveRecording, DEFAULT_LIVE_WINDOW_MS, DEFAULT_LIVE_MAX_ENDED_TURNS, type LiveRecordingStats } from './live-recording.js';
export { TurnGauges, DEFAULT_MAX_SERVICES, type GaugePoint } from './turn-gauges.js';
export { TraceJudge, type TraceJudgeOptions } from './trace-judge.js';
export { PeriodicJudgement, type PeriodicJudgementOptions } from './periodic-judgement.js';
