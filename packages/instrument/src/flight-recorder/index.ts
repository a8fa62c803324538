// The flight recorder's writer side: span processor, ring-buffer writer, OTLP uploader, OTLP receiver (traces and logs).
export * from './flight-recorder-processor.js';
export * from './flight-recorder-uploader.js';
export * from './ring-buffer-writer.js';
export * from './span-record-encoding.js';
export * from './recorded-to-readable-span.js';
export * from './recorded-to-readable-log.js';
export { OtlpRequestError } from './otlp-request-body.js';
export * from './otlp-trace-request.js';
export * from './otlp-logs-request.js';
export * from './otlp-receiver.js';
