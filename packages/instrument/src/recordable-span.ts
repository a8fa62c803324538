import type { Attributes as OtelAttributes } from '@opentelemetry/api';
import type { RecordedSpan } from '@stall-why/flight-record';
import { limitAttributes, limitString } from './attribute-limits.js';
import { withoutContent } from './content-attributes.js';
import type { RecordableLogOptions } from './recordable-log.js';

const limited = (attributes: RecordedSpan['attributes'], options: RecordableLogOptions): RecordedSpan['attributes'] =>
  limitAttributes((options.recordContent ? attributes : withoutContent(attributes)) as OtelAttributes, options.limits) as RecordedSpan['attributes'];

/**
 * What the flight recorder keeps of a received span: its attributes, its events' and its status
 * message bounded as an adapter's are (credentials dropped, secrets redacted, blobs replaced, strings
 * capped), content attribute values dropped unless asked for. A span with a 5 MB attribute is kept,
 * cut, rather than refused whole by the 4 MiB record limit while the sender is told it was stored.
 */
export function recordableSpan(span: RecordedSpan, options: RecordableLogOptions): RecordedSpan {
  return {
    ...span,
    attributes: limited(span.attributes, options),
    ...(span.events ? { events: span.events.map((e) => ({ ...e, name: limitString(e.name, options.limits), attributes: limited(e.attributes ?? {}, options) })) } : {}),
    ...(span.status?.message !== undefined ? { status: { ...span.status, message: limitString(span.status.message, options.limits) } } : {}),
  };
}
