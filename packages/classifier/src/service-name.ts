/**
 * Which service a turn ran in: the `service.name` resource attribute of its spans. A report names it
 * so that verdicts can be counted per service (`stall_why.turns`) without the spans at hand.
 */
import { ATTR_SERVICE_NAME } from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';

/** The first `service.name` among `spans` (a turn's own span first, when the caller puts it there); undefined when none carries one. */
export function serviceNameOf(spans: Iterable<RecordedSpan | undefined>): string | undefined {
  for (const span of spans) {
    const name = span?.resource?.[ATTR_SERVICE_NAME];
    if (typeof name === 'string' && name !== '') return name;
  }
  return undefined;
}
