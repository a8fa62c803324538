/**
 * @stall-why/conventions: the one vocabulary of stall-why. The instrumentation writes these names,
 * the classifier reads them, the CLI prints them. Import constants from here instead of writing
 * string literals.
 */
export * from './attributes.js';
export * from './metrics.js';
export * from './phases.js';
export * from './values.js';
export * from './verdicts.js';
