/**
 * @stall-why/flight-record: the flight recorder's on-disk format and its reader. No OpenTelemetry
 * SDK here: the classifier and the CLI read recordings through this package, and only
 * @stall-why/instrument writes them.
 */
export * from './recorded-span.js';
export * from './recorded-log.js';
export * from './segment-format.js';
export * from './record-encoder.js';
export * from './record-decoder.js';
export * from './segment-files.js';
export * from './segment-reader.js';
export * from './flight-records.js';
export * from './upload-cursor.js';
export * from './inspect-flight-recorder.js';
export * from './otlp-values.js';
export * from './pending-span-marker.js';
export * from './secret-text.js';
export * from './process-liveness.js';
