import type { Attributes as OtelAttributes } from '@opentelemetry/api';
import type { RecordedLog } from '@stall-why/flight-record';
import { limitAttributes, limitString, type AttributeLimits } from './attribute-limits.js';
import { withoutContent } from './content-attributes.js';

export interface RecordableLogOptions {
  readonly limits: AttributeLimits;
  /** Keep the values of content attributes (prompts, tool arguments and output). Default false. */
  readonly recordContent?: boolean;
}

/**
 * What the flight recorder keeps of a received log record: attributes bounded as an adapter's are
 * (credential-named keys dropped, key-like secrets redacted, blobs replaced, strings capped), content
 * attribute values dropped unless asked for, and the body bounded like an attribute value: it is
 * usually the message, so it is kept.
 */
export function recordableLog(log: RecordedLog, options: RecordableLogOptions): RecordedLog {
  // Content first, so a dropped value's length is its full length, not the capped one's.
  const attributes = options.recordContent ? log.attributes : withoutContent(log.attributes);
  return {
    ...log,
    // Mixed arrays (OTLP allows them, the OpenTelemetry API types do not) are bounded item by item all the same.
    attributes: limitAttributes(attributes as OtelAttributes, options.limits) as RecordedLog['attributes'],
    body: log.body === undefined ? undefined : limitString(log.body, options.limits),
  };
}
