/** The rules, in the order they are tried on a wait. */
import { awaitingApproval } from './awaiting-approval.js';
import { upstreamSilent, modelSilent } from './backend-stall.js';
import { compactionInProgress, compactionDominated } from './compaction.js';
import type { Rule } from './finding.js';
import { hydrationInProgress, hydrationDominated } from './hydration.js';
import { postToolContinuationLost } from './post-tool-continuation-lost.js';
import { toolRunning } from './tool-running.js';
import { transportRetrying, retriesDominated } from './transport-retry.js';

export type { Finding, Rule } from './finding.js';
export { rendererDetached } from './renderer-detached.js';
export { hydrationEntry } from './hydration.js';
export { sourceLimits } from './source-limits.js';

/**
 * What an open turn waits on, most specific first: a person, then a compaction or a history load the
 * turn sits inside, then a tool, then the model request (failing, silent), then a lost continuation,
 * then a model silent as far as a source without upstream spans can tell.
 */
export const WAIT_RULES: readonly Rule[] = [
  awaitingApproval,
  compactionInProgress,
  hydrationInProgress,
  toolRunning,
  transportRetrying,
  upstreamSilent,
  postToolContinuationLost,
  modelSilent,
];

/** What dominated an ended turn, tried after the renderer and the longest quiet stretch. */
export const DOMINANCE_RULES: readonly Rule[] = [retriesDominated, compactionDominated, hydrationDominated];
