/**
 * The Trace Event Format's rules that Perfetto UI and chrome://tracing rely on, as a checker:
 * every event has a known phase, pid, tid and a ts in microseconds; X events have a dur >= 0;
 * B/E pairs balance per thread; every pid has process_name and every (pid, tid) thread_name
 * metadata; flow starts and ends pair up by id; X events on one thread nest properly.
 * Returns the violations, empty when the file keeps them all.
 */
interface AnyEvent {
  name?: unknown;
  ph?: unknown;
  pid?: unknown;
  tid?: unknown;
  ts?: unknown;
  dur?: unknown;
  id?: unknown;
  s?: unknown;
  args?: Record<string, unknown>;
}

const PHASES = new Set(['X', 'B', 'E', 'i', 'I', 's', 't', 'f', 'M', 'C', 'b', 'e', 'n']);

export function traceEventRuleViolations(file: unknown, expectedMinTsUs = 0): string[] {
  const problems: string[] = [];
  const events: AnyEvent[] = Array.isArray(file) ? file : ((file as { traceEvents?: AnyEvent[] })?.traceEvents ?? []);
  if (!Array.isArray(events) || events.length === 0) return ['no traceEvents'];
  const processNames = new Set<unknown>();
  const threadNames = new Set<string>();
  const used = new Set<string>();
  const stacks = new Map<string, number>();
  const flows = new Map<unknown, { s: number; f: number }>();
  const slices = new Map<string, Array<{ start: number; end: number; name: unknown }>>();
  events.forEach((e, i) => {
    const at = `event ${i} (${String(e.name)})`;
    if (typeof e.ph !== 'string' || !PHASES.has(e.ph)) problems.push(`${at}: unknown ph ${String(e.ph)}`);
    if (typeof e.pid !== 'number' || typeof e.tid !== 'number') problems.push(`${at}: pid/tid not numbers`);
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) problems.push(`${at}: ts not a number`);
    if (typeof e.name !== 'string') problems.push(`${at}: no name`);
    const thread = `${String(e.pid)}:${String(e.tid)}`;
    if (e.ph === 'M') {
      if (e.name === 'process_name') processNames.add(e.pid);
      if (e.name === 'thread_name') threadNames.add(thread);
      if ((e.name === 'process_name' || e.name === 'thread_name') && typeof e.args?.name !== 'string') problems.push(`${at}: metadata without args.name`);
      return;
    }
    used.add(thread);
    if (typeof e.ts === 'number' && e.ts < expectedMinTsUs) problems.push(`${at}: ts ${e.ts} is not in microseconds since the epoch`);
    if (e.ph === 'X') {
      if (typeof e.dur !== 'number' || !(e.dur >= 0)) problems.push(`${at}: X without dur >= 0`);
      else {
        const list = slices.get(thread) ?? [];
        list.push({ start: e.ts as number, end: (e.ts as number) + e.dur, name: e.name });
        slices.set(thread, list);
      }
    }
    if (e.ph === 'B') stacks.set(thread, (stacks.get(thread) ?? 0) + 1);
    if (e.ph === 'E') {
      const depth = (stacks.get(thread) ?? 0) - 1;
      if (depth < 0) problems.push(`${at}: E without B`);
      stacks.set(thread, Math.max(0, depth));
    }
    if (e.ph === 'i' && e.s !== undefined && !['t', 'p', 'g'].includes(e.s as string)) problems.push(`${at}: bad instant scope`);
    if (e.ph === 's' || e.ph === 'f') {
      const flow = flows.get(e.id) ?? { s: 0, f: 0 };
      flow[e.ph]++;
      flows.set(e.id, flow);
    }
  });
  for (const [thread, depth] of stacks) if (depth !== 0) problems.push(`thread ${thread}: ${depth} B without E`);
  for (const [id, flow] of flows) if (flow.s !== 1 || flow.f !== 1) problems.push(`flow ${String(id)}: ${flow.s} starts, ${flow.f} ends`);
  for (const thread of used) {
    if (!processNames.has(Number(thread.split(':')[0]))) problems.push(`pid of ${thread} has no process_name`);
    if (!threadNames.has(thread)) problems.push(`thread ${thread} has no thread_name`);
  }
  for (const [thread, list] of slices) {
    list.sort((a, b) => a.start - b.start || b.end - a.end);
    const stack: number[] = [];
    for (const slice of list) {
      while (stack.length > 0 && stack[stack.length - 1] <= slice.start) stack.pop();
      if (stack.length > 0 && stack[stack.length - 1] < slice.end) problems.push(`thread ${thread}: ${String(slice.name)} overlaps its parent without nesting`);
      stack.push(slice.end);
    }
  }
  return problems;
}
