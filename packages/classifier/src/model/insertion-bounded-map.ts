/**
 * A Map that holds at most `max` keys and forgets the earliest added first: the bound the timeline
 * puts on what it remembers of spans not placed yet.
 *
 * Why not `map.delete(map.keys().next().value)`: V8 leaves a deleted entry as a hole until the table
 * is next rebuilt, and a new iterator walks every hole before the first live key, so forgetting the
 * oldest of 10 000 keys on each insert costs thousands of steps (`bench/bounded-map.mjs`: about 30
 * times this class's time for 1 M inserts). Here the keys' order is kept in an array with a moving head.
 */
export class InsertionBoundedMap<K, V> {
  private readonly entries = new Map<K, V>();
  /** Keys in the order they were added; those before `head` are forgotten. */
  private order: K[] = [];
  private head = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  /** Adds or replaces the value of `key`; a key already held keeps its place, as in a Map. */
  set(key: K, value: V): void {
    const held = this.entries.has(key);
    this.entries.set(key, value);
    if (held) return;
    this.order.push(key);
    if (this.entries.size > this.max) this.forgetOldest();
  }

  private forgetOldest(): void {
    this.entries.delete(this.order[this.head]!);
    this.head++;
    // Drop the forgotten keys from the array once they are half of it: amortised O(1) per key.
    if (this.head * 2 >= this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
