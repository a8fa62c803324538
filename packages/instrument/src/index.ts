/**
 * @stall-why/instrument: turn-phase spans over @opentelemetry/api, adapters that put them around
 * existing app-servers, and the flight recorder.
 */
export * from './attribute-limits.js';
export * from './content-attributes.js';
export * from './recordable-log.js';
export * from './turn-tracer.js';
export * from './adapters/index.js';
export * from './jsonrpc/index.js';
export * from './flight-recorder/index.js';
