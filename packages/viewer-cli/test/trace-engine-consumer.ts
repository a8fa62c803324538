/**
 * A real consumer of Chrome trace files: the DevTools Performance panel's trace engine
 * (`@paulirish/trace_engine`), run in Node as its own analyze-trace.mjs does.
 */
// @ts-expect-error: the package ships its runner as plain .mjs without types.
import { polyfillDOMRect } from '@paulirish/trace_engine/analyze-trace.mjs';
import * as TraceEngine from '@paulirish/trace_engine';

polyfillDOMRect();

export interface ConsumedTrace {
  /** pid → process name, from the engine's Meta handler. */
  readonly processNames: Map<number, string>;
  /** pid → tid → thread name. */
  readonly threadNames: Map<number, Map<number, string>>;
  /** Trace bounds in microseconds. */
  readonly bounds: { min: number; max: number };
  /** Each flow as the names of the events it binds, in order. */
  readonly flows: string[][];
  /** pid → tid → names of the entries the Renderer handler placed on that thread. */
  readonly entries: Map<number, Map<number, string[]>>;
}

export async function consumeTrace(traceEvents: unknown[]): Promise<ConsumedTrace> {
  const model = TraceEngine.TraceModel.Model.createWithAllHandlers();
  // The engine mutates events it reads: give it a copy.
  await model.parse(structuredClone(traceEvents) as never);
  const parsed = model.parsedTrace(0);
  if (!parsed) throw new Error('the trace engine produced no parsed trace');
  const data = parsed.data as unknown as {
    Meta: { processNames: Map<number, { args: { name: string } }>; threadsInProcess: Map<number, Map<number, { args: { name: string } }>>; traceBounds: { min: number; max: number } };
    Flows: { flows: Array<Array<{ name: string }>> };
    Renderer: { processes: Map<number, { threads: Map<number, { entries: Array<{ name: string }> }> }> };
  };
  const threadNames = new Map<number, Map<number, string>>();
  for (const [pid, threads] of data.Meta.threadsInProcess) threadNames.set(pid, new Map([...threads].map(([tid, e]) => [tid, e.args.name])));
  const entries = new Map<number, Map<number, string[]>>();
  for (const [pid, process] of data.Renderer.processes) {
    entries.set(pid, new Map([...process.threads].map(([tid, thread]) => [tid, thread.entries.map((e) => e.name)])));
  }
  return {
    processNames: new Map([...data.Meta.processNames].map(([pid, e]) => [pid, e.args.name])),
    threadNames,
    bounds: { min: data.Meta.traceBounds.min, max: data.Meta.traceBounds.max },
    flows: data.Flows.flows.map((flow) => flow.map((e) => e.name)),
    entries,
  };
}
