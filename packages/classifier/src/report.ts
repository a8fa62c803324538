/**
 * The classifier's output: the stable shape behind `stall-why --json`. Keys may be added; none
 * are removed or renamed without a major version.
 */
import type { TurnState, Verdict } from '@stall-why/conventions';

/** One bar of a turn's waterfall: a phase on the shared time axis. */
export interface PhaseBar {
  /** Phase span name (a `PHASE_*` constant) or another span's name. */
  readonly name: string;
  /** Short label for people, e.g. `upstream #2 (continuation)`, `tool exec_command`. */
  readonly label: string;
  readonly kind: 'span' | 'point';
  /** Epoch ms. */
  readonly startMs: number;
  /** Epoch ms; null while open (drawn to the judged moment). */
  readonly endMs: number | null;
  /** Nesting depth for display (0 = turn). */
  readonly depth: number;
  /** The span behind the bar, `traceId/spanId`: a bar's identity (two phases may share a name and a start). */
  readonly span?: string;
}

export interface TurnReport {
  readonly threadId: string | null;
  /** null for a wait with no turn yet, such as a resume still loading. */
  readonly turnId: string | null;
  /**
   * The `service.name` resource attribute of the turn's spans (its turn span's first): the service
   * the turn ran in. Absent when no span carries one (a Codex rollout, a Chrome trace).
   */
  readonly service?: string;
  readonly status: TurnState;
  readonly verdict: Verdict;
  /** In [0, 1]. */
  readonly confidence: number;
  /** ISO-8601. */
  readonly startedAt: string;
  /** ISO-8601: the last phase boundary seen. */
  readonly lastActivityAt: string;
  /** How long the turn has been quiet at the judged moment; null for ended turns. */
  readonly stuckForMs: number | null;
  /** Lines naming the phases and gaps that decide, with timestamps, and what the source could not show. */
  readonly evidence: readonly string[];
  /** ISO-8601; null while the turn is open. */
  readonly endedAt: string | null;
  /** The sources the turn was read from (file paths or formats). */
  readonly sources: readonly string[];
  /** The turn's phases for a waterfall, in start order. */
  readonly phases: readonly PhaseBar[];
  /** A sub-agent's turn: the thread that spawned it (a Codex rollout's `parent_thread_id`). */
  readonly parentThreadId?: string;
  /** A sub-agent's name as its parent knows it. */
  readonly agentName?: string;
  /**
   * An open turn whose tool waits for its sub-agents (Codex's `wait_agent`): its evidence then says
   * what each sub-agent's latest turn in the report is doing, if their rollouts were among the inputs.
   */
  readonly waitingOnSubAgents?: boolean;
}

export interface SourceSummary {
  readonly path: string;
  readonly format: string;
  readonly spans: number;
  /** Lines or records skipped because their type is unknown. */
  readonly skipped: number;
  /** Records skipped because they were corrupt (flight recorder checksums). */
  readonly corrupt: number;
  /**
   * Turns of this source judged but not listed in `turns` (beyond `maxReportedTurns`): counted in
   * `Report.summary`. Always set by `analyzeTraces`.
   */
  readonly turnsSummarised?: number;
  /** What a person should know about this source to read its turns (or their absence) right. */
  readonly notes?: readonly string[];
}

/**
 * How many turns were judged and how many are listed. A report lists at most `maxReportedTurns`
 * turns; beyond it, healthy ended turns are summarised first, then the oldest other ended turns, then
 * open ones: counted here by status and verdict instead of listed.
 */
export interface TurnsSummary {
  /** Every turn (and turnless hydration entry) judged: `listed + summarised`. */
  readonly judged: number;
  /** Entries in `turns`. */
  readonly listed: number;
  readonly summarised: number;
  readonly summarisedByVerdict: Readonly<Partial<Record<Verdict, number>>>;
  readonly summarisedByStatus: Readonly<Partial<Record<TurnState, number>>>;
  /** One line for people, e.g. `29012 turns judged: 1000 listed, 28012 summarised (…)`. */
  readonly line: string;
}

export interface Report {
  /** ISO-8601: the moment the trace was judged at. */
  readonly judgedAt: string;
  readonly turns: readonly TurnReport[];
  readonly sources: readonly SourceSummary[];
  /** Judged vs listed turns; always set by `classifySpans` and `analyzeTraces`. */
  readonly summary?: TurnsSummary;
}
