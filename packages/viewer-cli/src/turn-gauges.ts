/**
 * The values of the verdict metrics, worked out from the latest report: how many turns there are by
 * state, verdict and service (`stall_why.turns`), and how long the open turns of each of those groups
 * have been quiet (`stall_why.turn.stuck_duration`). Pure: no OpenTelemetry, no clock, so that any
 * source of a `Report` (`watch`, `collect`, a database) feeds it and a test reads it.
 *
 * The attributes are bounded: 6 states × 10 verdicts × at most `maxServices` + 1 services, whatever
 * the traffic. A turn or thread id is never an attribute.
 */
import type { Report } from '@stall-why/classifier';
import { ATTR_SERVICE_NAME, ATTR_TURN_STATE, ATTR_TURN_VERDICT, SERVICE_NAME_OTHER } from '@stall-why/conventions';

/** One value of a gauge with its attributes. */
export interface GaugePoint {
  readonly attributes: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Default cap on the services a metric names; the turns of later ones are counted under `SERVICE_NAME_OTHER`. */
export const DEFAULT_MAX_SERVICES = 10;

export class TurnGauges {
  /** The services named so far, first seen first: a service, once named, stays named (its series do not move to `_other`). */
  private readonly services = new Set<string>();
  // Every group ever reported stays reported, at 0 once empty: a cumulative reader (Prometheus) would
  // otherwise go on exporting the last value of a group that no longer has a turn.
  private readonly turns = new Map<string, GaugePoint>();
  private readonly quiet = new Map<string, GaugePoint>();

  constructor(private readonly maxServices = DEFAULT_MAX_SERVICES) {}

  /** Takes the counts and quiet times of `report`, in place of the last report's. */
  update(report: Report): void {
    zero(this.turns);
    zero(this.quiet);
    for (const turn of report.turns) {
      const attributes = this.attributesOf(turn.status, turn.verdict, turn.service);
      add(this.turns, attributes, (value) => value + 1);
      if (turn.stuckForMs !== null) add(this.quiet, attributes, (value) => Math.max(value, turn.stuckForMs! / 1000));
    }
    // Turns beyond the report's listing bound are counted by state alone: the report keeps no verdict or service for them.
    for (const [state, count] of Object.entries(report.summary?.summarisedByStatus ?? {})) {
      add(this.turns, { [ATTR_TURN_STATE]: state }, (value) => value + count);
    }
  }

  /** `stall_why.turns`: turns by state, verdict and service. */
  turnCounts(): GaugePoint[] {
    return [...this.turns.values()];
  }

  /** `stall_why.turn.stuck_duration`: the longest quiet time of the open turns of each group, in seconds. */
  stuckDurations(): GaugePoint[] {
    return [...this.quiet.values()];
  }

  private attributesOf(state: string, verdict: string, service: string | undefined): Record<string, string> {
    const attributes: Record<string, string> = { [ATTR_TURN_STATE]: state, [ATTR_TURN_VERDICT]: verdict };
    if (service === undefined) return attributes;
    if (!this.services.has(service) && this.services.size < this.maxServices) this.services.add(service);
    attributes[ATTR_SERVICE_NAME] = this.services.has(service) ? service : SERVICE_NAME_OTHER;
    return attributes;
  }
}

function zero(points: Map<string, GaugePoint>): void {
  for (const [key, point] of points) points.set(key, { attributes: point.attributes, value: 0 });
}

function add(points: Map<string, GaugePoint>, attributes: Record<string, string>, next: (value: number) => number): void {
  const key = JSON.stringify([attributes[ATTR_TURN_STATE], attributes[ATTR_TURN_VERDICT], attributes[ATTR_SERVICE_NAME]]);
  const held = points.get(key);
  points.set(key, { attributes: held?.attributes ?? attributes, value: next(held?.value ?? 0) });
}
