export { createProgram, VERSION } from './program.js';
export * from './exit-codes.js';
