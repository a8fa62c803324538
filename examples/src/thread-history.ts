/** One stored item of a thread's history, in the Responses API's input shape. */
export interface HistoryItem {
  readonly type: string;
  readonly role?: string;
  readonly content?: unknown;
  readonly [key: string]: unknown;
}

/** How many items a new thread starts with: enough that hydration has bytes to read. */
const SEED_ITEMS = 24;

/**
 * The example's thread store: history kept serialised, as a rollout file would be, so that
 * loading it has a real size in bytes and items.
 */
export class ThreadHistory {
  private readonly threads = new Map<string, string>();

  /** Reads a thread's history (seeding a new thread with a short conversation). */
  load(threadId: string): { items: HistoryItem[]; bytes: number } {
    let stored = this.threads.get(threadId);
    if (stored === undefined) {
      stored = JSON.stringify(seedConversation());
      this.threads.set(threadId, stored);
    }
    return { items: JSON.parse(stored) as HistoryItem[], bytes: Buffer.byteLength(stored) };
  }

  save(threadId: string, items: readonly HistoryItem[]): void {
    this.threads.set(threadId, JSON.stringify(items));
  }
}

function seedConversation(): HistoryItem[] {
  return Array.from({ length: SEED_ITEMS }, (_, i) => ({
    type: 'message',
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: [{ type: i % 2 === 0 ? 'input_text' : 'output_text', text: `earlier message ${i + 1}` }],
  }));
}

/** Compaction: the history is summarised into one item, as Codex's `contextCompaction` does. */
export function compactHistory(items: readonly HistoryItem[]): HistoryItem[] {
  return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: `summary of ${items.length} earlier items` }] }];
}
