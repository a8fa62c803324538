/**
 * The fleet report: what a ClickHouse source's judged turns add up to per `service.name` and host,
 * and the longest-stuck turns first with their evidence. Pure: a report and where each source runs.
 */
import { TURN_STATE_STUCK, type TurnState, type Verdict } from '@stall-why/conventions';
import type { Report, TurnReport } from '@stall-why/classifier';

/** Where a source (one service on one host) runs. */
export interface FleetOrigin {
  readonly service: string;
  readonly host: string;
}

/** The turns of one service on one host. */
export interface FleetGroup extends FleetOrigin {
  readonly turns: number;
  readonly byStatus: Readonly<Partial<Record<TurnState, number>>>;
  readonly byVerdict: Readonly<Partial<Record<Verdict, number>>>;
}

/** A stuck turn, longest quiet first. */
export interface FleetStuckTurn extends FleetOrigin, Pick<TurnReport, 'threadId' | 'turnId' | 'verdict' | 'confidence' | 'startedAt' | 'evidence'> {
  readonly stuckForMs: number;
}

/** The `fleet` object of `--json` for a ClickHouse source (docs/cli.md). */
export interface FleetSummary {
  /** The address, without credentials. */
  readonly source: string;
  /** ISO-8601: ended turns are searched from here to `judgedAt`. */
  readonly windowStart: string;
  /** ISO-8601: open turns are searched from here (their markers carry their start). */
  readonly openWindowStart: string;
  /** Traces ClickHouse found worth judging, and whether the `limit` cut them short. */
  readonly candidateTraces: number;
  readonly candidateLimitReached: boolean;
  /** Spans and log records read for them. */
  readonly spansRead: number;
  readonly logRecordsRead: number;
  /**
   * How the window was read (null when a thread or turn was asked for: no window pass):
   * ClickHouse's estimate of the rows the pass reads (null when the server gave none), and whether
   * the pass returned the candidates' spans (the window read once) or their ids alone (spans fetched
   * by id after it, the window's granules read twice; see `onePassRows`).
   */
  readonly windowPass: WindowPassFacts | null;
  /** Per service and host, most turns first. */
  readonly groups: readonly FleetGroup[];
  /** Stuck turns, longest quiet first, at most `maxStuckListed`. */
  readonly longestStuck: readonly FleetStuckTurn[];
}

export interface WindowPassFacts {
  readonly estimatedRows: number | null;
  readonly returnedSpans: boolean;
}

export interface FleetSearchFacts {
  readonly source: string;
  readonly windowStartMs: number;
  readonly openWindowStartMs: number;
  readonly candidateTraces: number;
  readonly candidateLimitReached: boolean;
  readonly spansRead: number;
  readonly logRecordsRead: number;
  readonly windowPass?: WindowPassFacts;
}

/** Default length of `longestStuck`. */
export const DEFAULT_MAX_STUCK_LISTED = 20;

const UNKNOWN_ORIGIN: FleetOrigin = { service: '', host: '' };

/** The fleet summary of `report`; `origins` names where each of its sources runs. */
export function fleetSummary(report: Report, origins: ReadonlyMap<string, FleetOrigin>, facts: FleetSearchFacts, maxStuckListed = DEFAULT_MAX_STUCK_LISTED): FleetSummary {
  // A turn's sources also name its spans' `stall_why.source` (http, fetch): the origin is the one that is a service.
  const originOf = (turn: TurnReport): FleetOrigin => origins.get(turn.sources.find((s) => origins.has(s)) ?? '') ?? UNKNOWN_ORIGIN;
  const groups = new Map<string, { service: string; host: string; turns: number; byStatus: Record<string, number>; byVerdict: Record<string, number> }>();
  for (const turn of report.turns) {
    const origin = originOf(turn);
    const key = `${origin.service}\u0000${origin.host}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ...origin, turns: 0, byStatus: {}, byVerdict: {} }));
    group.turns++;
    group.byStatus[turn.status] = (group.byStatus[turn.status] ?? 0) + 1;
    group.byVerdict[turn.verdict] = (group.byVerdict[turn.verdict] ?? 0) + 1;
  }
  const longestStuck = report.turns
    .filter((t) => t.status === TURN_STATE_STUCK)
    .sort((a, b) => (b.stuckForMs ?? 0) - (a.stuckForMs ?? 0))
    .slice(0, maxStuckListed)
    .map((t): FleetStuckTurn => ({
      ...originOf(t), threadId: t.threadId, turnId: t.turnId, verdict: t.verdict, confidence: t.confidence, stuckForMs: t.stuckForMs ?? 0, startedAt: t.startedAt, evidence: t.evidence,
    }));
  return {
    source: facts.source,
    windowStart: new Date(facts.windowStartMs).toISOString(),
    openWindowStart: new Date(facts.openWindowStartMs).toISOString(),
    candidateTraces: facts.candidateTraces,
    candidateLimitReached: facts.candidateLimitReached,
    spansRead: facts.spansRead,
    logRecordsRead: facts.logRecordsRead,
    windowPass: facts.windowPass ?? null,
    groups: [...groups.values()].sort((a, b) => b.turns - a.turns || a.service.localeCompare(b.service) || a.host.localeCompare(b.host)),
    longestStuck,
  };
}
