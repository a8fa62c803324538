/**
 * The verdict metrics that `stall-why collect` and `stall-why watch` publish (OTLP metrics, a
 * Prometheus scrape endpoint): names, units and attribute keys. Both are gauges of the latest
 * judgement. Their attributes are bounded (turn state × verdict × a capped set of services), never
 * a turn or thread id.
 */

/** Gauge: how many turns the latest judgement holds, by `ATTR_TURN_STATE`, `ATTR_TURN_VERDICT` and `service.name`. */
export const METRIC_TURNS = 'stall_why.turns';
/** Unit of `METRIC_TURNS`: a count of turns (UCUM annotation). */
export const METRIC_TURNS_UNIT = '{turn}';
/**
 * Gauge: the longest that an open turn of the group (state, verdict, service) has been quiet at the
 * latest judgement, the report's `stuckForMs`, in seconds; 0 once no open turn is left in the group.
 */
export const METRIC_TURN_STUCK_DURATION = 'stall_why.turn.stuck_duration';
/** Unit of `METRIC_TURN_STUCK_DURATION`: seconds. */
export const METRIC_TURN_STUCK_DURATION_UNIT = 's';
/** Metric attribute: the turn's state as the classifier judged it (the report's `status`): see `TURN_STATE_*`. */
export const ATTR_TURN_STATE = 'stall_why.turn.state';
/** Metric attribute: the turn's verdict: see `VERDICT_*`. */
export const ATTR_TURN_VERDICT = 'stall_why.turn.verdict';
/** The `service.name` a metric gives the turns of services beyond its cap of named services. */
export const SERVICE_NAME_OTHER = '_other';
