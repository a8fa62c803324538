/**
 * The turn reports a classification keeps: at most `maxReportedTurns` in detail, whatever the input's
 * size. Beyond it, turns are summarised (counted by status and verdict, per source) instead of listed:
 * healthy ended turns first (the common case of a long recording), then the oldest other ended turns,
 * open turns last. Below the bound every turn is listed, exactly as judged.
 */
import { TURN_STATE_COMPLETED, TURN_STATE_IN_PROGRESS, TURN_STATE_STUCK, VERDICT_HEALTHY, type TurnState, type Verdict } from '@stall-why/conventions';
import type { TurnReport, TurnsSummary } from './report.js';

/** A FIFO of reports with O(1) removal at the head. */
class ReportQueue {
  private items: TurnReport[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(report: TurnReport): void {
    this.items.push(report);
  }

  shift(): TurnReport | undefined {
    if (this.head >= this.items.length) return undefined;
    const report = this.items[this.head++];
    // Compact once half the array is dead, so the queue's memory follows its size.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return report;
  }

  values(): TurnReport[] {
    return this.items.slice(this.head);
  }
}

export class TurnReportBook {
  private readonly healthyEnded = new ReportQueue();
  private readonly otherEnded = new ReportQueue();
  private readonly open = new ReportQueue();
  private summarised = 0;
  private readonly byVerdict: Partial<Record<Verdict, number>> = {};
  private readonly byStatus: Partial<Record<TurnState, number>> = {};
  private readonly bySource = new Map<string, number>();

  constructor(private readonly maxReportedTurns: number) {}

  add(report: TurnReport): void {
    const open = report.status === TURN_STATE_IN_PROGRESS || report.status === TURN_STATE_STUCK;
    if (open) this.open.push(report);
    else if (report.status === TURN_STATE_COMPLETED && report.verdict === VERDICT_HEALTHY) this.healthyEnded.push(report);
    else this.otherEnded.push(report);
    if (this.listedCount > Math.max(0, this.maxReportedTurns)) this.summarise(this.healthyEnded.shift() ?? this.otherEnded.shift() ?? this.open.shift()!);
  }

  /** The listed reports (in no particular order). */
  listed(): TurnReport[] {
    return [...this.healthyEnded.values(), ...this.otherEnded.values(), ...this.open.values()];
  }

  /** Turns of this source (a file path) that were summarised rather than listed. */
  summarisedFrom(source: string): number {
    return this.bySource.get(source) ?? 0;
  }

  summary(): TurnsSummary {
    const listed = this.listedCount;
    const judged = listed + this.summarised;
    const healthy = this.byVerdict[VERDICT_HEALTHY] ?? 0;
    const line =
      this.summarised === 0
        ? `${judged} turn${judged === 1 ? '' : 's'} judged, all listed`
        : `${judged} turns judged: ${listed} listed, ${this.summarised} summarised (counted, not listed; ${healthy} of them healthy) to keep the report within ${this.maxReportedTurns} turns`;
    return { judged, listed, summarised: this.summarised, summarisedByVerdict: { ...this.byVerdict }, summarisedByStatus: { ...this.byStatus }, line };
  }

  private get listedCount(): number {
    return this.healthyEnded.size + this.otherEnded.size + this.open.size;
  }

  private summarise(report: TurnReport): void {
    this.summarised++;
    this.byVerdict[report.verdict] = (this.byVerdict[report.verdict] ?? 0) + 1;
    this.byStatus[report.status] = (this.byStatus[report.status] ?? 0) + 1;
    for (const source of report.sources) this.bySource.set(source, (this.bySource.get(source) ?? 0) + 1);
  }
}
