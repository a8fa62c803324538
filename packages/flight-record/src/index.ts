/**
 * @stall-why/flight-record: the flight recorder's on-disk format and its reader. No OpenTelemetry
 * SDK here: the classifier and the CLI read recordings through this package, and only
 * @stall-why/instrument writes them.
 */
export * from './recorded-span.js';
