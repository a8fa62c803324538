/**
 * The calling side of the analysis worker: starts `analyze-worker.js` with V8 resource limits, relays
 * progress, and turns its last message back into an Analysis or a TraceInputError.
 */
import type { AnalyzeOptions, Analysis } from './analyze-traces.js';
import { TraceInputError } from './trace-input-error.js';

/** What the worker posts. */
export type WorkerMessage =
  | { readonly kind: 'progress'; readonly path: string; readonly bytesRead: number; readonly totalBytes: number }
  | { readonly kind: 'done'; readonly analysis: Analysis }
  | { readonly kind: 'input-error'; readonly file: string; readonly position: string | undefined; readonly reason: string }
  | { readonly kind: 'error'; readonly message: string; readonly stack: string | undefined };

/** What the worker gets: the options without the callback (progress comes back as messages). */
export interface WorkerTask {
  readonly paths: string[];
  readonly options: Omit<AnalyzeOptions, 'onProgress'> & { readonly progress: boolean };
}

/**
 * Runs the analysis in a worker whose old generation is capped at `heapLimitMb`, with a 16 MB young
 * generation (about 5 MB semispaces): with 1 MB semispaces, the scavenges of the short-lived scenes and
 * findings of judging took about half of it on a 1 GB OTLP input (issue 14); the peak RSS stays under
 * 150 MB. Resolves undefined when the worker ran out of that heap: the caller says so (it never reads the
 * input again uncapped).
 */
export function analyzeInWorker(paths: string[], options: AnalyzeOptions, heapLimitMb: number): Promise<Analysis | undefined> {
  const { onProgress, ...rest } = options;
  const task: WorkerTask = { paths, options: { ...rest, progress: onProgress !== undefined } };
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void): void => {
      if (!settled) {
        settled = true;
        f();
      }
    };
    // Loaded here, not imported: most inputs are judged in the calling thread, and the CLI's start-up
    // does not pay for the module (issue 14).
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const worker = new Worker(new URL('./analyze-worker.js', import.meta.url), {
      workerData: task,
      resourceLimits: { maxOldGenerationSizeMb: heapLimitMb, maxYoungGenerationSizeMb: 16 },
      stdout: false,
      stderr: false,
    });
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'progress') onProgress?.({ path: m.path, bytesRead: m.bytesRead, totalBytes: m.totalBytes });
      else if (m.kind === 'done') settle(() => resolve(m.analysis));
      else if (m.kind === 'input-error') settle(() => reject(new TraceInputError(m.file, m.position, m.reason)));
      else settle(() => reject(Object.assign(new Error(m.message), { stack: m.stack })));
    });
    worker.on('error', (error: NodeJS.ErrnoException) => {
      settle(() => (error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? resolve(undefined) : reject(error)));
    });
    worker.on('exit', (code) => settle(() => reject(new Error(`the analysis worker exited with code ${code} before answering`))));
  });
}
