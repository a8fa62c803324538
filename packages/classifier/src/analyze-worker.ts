/** The analysis worker: runs `analyzeInThisThread` on the task it was started with and posts the outcome. */
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeInThisThread } from './analyze-traces.js';
import type { WorkerMessage, WorkerTask } from './analyze-worker-client.js';
import { TraceInputError } from './trace-input-error.js';

const { paths, options } = workerData as WorkerTask;
const post = (m: WorkerMessage): void => parentPort!.postMessage(m);
try {
  const analysis = await analyzeInThisThread(paths, {
    ...options,
    onProgress: options.progress ? (p) => post({ kind: 'progress', ...p }) : undefined,
  });
  post({ kind: 'done', analysis });
} catch (error) {
  if (error instanceof TraceInputError) post({ kind: 'input-error', file: error.file, position: error.position, reason: error.reason });
  else post({ kind: 'error', message: (error as Error).message, stack: (error as Error).stack });
}
