import { describe, expect, it } from 'vitest';
import { InsertionBoundedMap } from '../src/model/insertion-bounded-map.js';

/** The bound as a Map that deletes its first key keeps it: the behaviour the class replaces. */
function reference<K, V>(max: number) {
  const map = new Map<K, V>();
  return {
    map,
    set(key: K, value: V) {
      map.set(key, value);
      if (map.size > max) map.delete(map.keys().next().value!);
    },
  };
}

describe('InsertionBoundedMap', () => {
  it('holds the same keys and values as a Map that forgets its first key, whatever the order of adds and replaces', () => {
    for (const max of [0, 1, 3, 50]) {
      const ours = new InsertionBoundedMap<string, number>(max);
      const theirs = reference<string, number>(max);
      let seed = max + 1;
      for (let n = 0; n < 5_000; n++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        // Keys repeat often enough that replaces of held and forgotten keys both happen.
        const key = `k${seed % (max * 3 + 2)}`;
        ours.set(key, n);
        theirs.set(key, n);
        expect(ours.size).toBe(theirs.map.size);
      }
      for (let k = 0; k < max * 3 + 2; k++) {
        expect(ours.has(`k${k}`)).toBe(theirs.map.has(`k${k}`));
        expect(ours.get(`k${k}`)).toBe(theirs.map.get(`k${k}`));
      }
    }
  });

  it('forgets the earliest added key first, and a replaced key keeps its place', () => {
    const map = new InsertionBoundedMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 3);
    map.set('c', 4);
    expect([map.has('a'), map.has('b'), map.has('c')]).toEqual([false, true, true]);
  });
});
