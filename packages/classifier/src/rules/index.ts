/** The rules, in the order they are tried on a wait. */
import { compactionDominated } from './compaction.js';
import type { Rule } from './finding.js';
import { hydrationDominated } from './hydration.js';
import { retriesDominated } from './transport-retry.js';

export type { Finding, Rule } from './finding.js';
export { acpQuirkLines, emptyEndAfterSilence } from './acp-quirks.js';
export { rendererDetached } from './renderer-detached.js';
export { hydrationEntry } from './hydration.js';
export { sourceLimits } from './source-limits.js';
export { WAIT_RULES, waitFinding } from './wait-finding.js';
export { accountWaits, type WaitAccount, type WaitShare } from './wait-account.js';
export { waitAtEnd } from './wait-at-end.js';

/**
 * What dominated an ended turn by each phase's own measure (retries with their backoff, compaction and
 * history-load spans), tried when the replayed waits name none.
 */
export const DOMINANCE_RULES: readonly Rule[] = [retriesDominated, compactionDominated, hydrationDominated];
