/**
 * @stall-why/classifier: reads span timelines and labels each stuck turn with a verdict,
 * confidence and evidence. The core is pure: data in, data out.
 */
export type * from './report.js';
