/**
 * A deterministic hex id of `hexDigits` digits for a synthesised span or trace: the same text gives
 * the same id in every run, so a phase keeps its identity (`traceId/spanId`) between reports. Not a
 * cryptographic hash: the text is no secret and an id only needs to differ from the others of one
 * input. It was SHA-1, whose per-call cost (a Hash object, a digest) showed in the profile of a long
 * rollout: a span id per item, tool call and point (issue 14).
 */
export function stableId(text: string, hexDigits: 16 | 32): string {
  return hexDigits === 16 ? hash64(text, 0) : hash64(text, 0) + hash64(text, 1);
}

/**
 * The 16-digit ids of texts that share a prefix (the spans of one rollout turn, each
 * `<traceId>/<kind>/<key>`): the prefix is hashed once, each id hashes only its rest, and
 * `stableIdAfter(idPrefix(p), r)` is `stableId(p + r, 16)` (the hash reads the text in order).
 */
export interface IdPrefix {
  readonly h1: number;
  readonly h2: number;
}

/** The hash lanes after `prefix`, for `stableIdAfter`. */
export function idPrefix(prefix: string): IdPrefix {
  return mix(prefix, 0xdeadbeef, 0x41c6ce57);
}

/** `stableId(prefix + rest, 16)`, hashing only `rest`. */
export function stableIdAfter(prefix: IdPrefix, rest: string): string {
  const { h1, h2 } = mix(rest, prefix.h1, prefix.h2);
  return finish(h1, h2);
}

/** 64 bits of cyrb53's mixing (both 32-bit lanes kept) over the UTF-16 code units of `text`, as 16 hex digits. */
function hash64(text: string, seed: number): string {
  const { h1, h2 } = mix(text, 0xdeadbeef ^ seed, 0x41c6ce57 ^ seed);
  return finish(h1, h2);
}

/** cyrb53's per-character step from lanes `h1`, `h2` over `text`. */
function mix(text: string, h1: number, h2: number): IdPrefix {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  return { h1, h2 };
}

/** cyrb53's final avalanche of the two lanes, as 16 hex digits. */
function finish(h1: number, h2: number): string {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return hex8(h2) + hex8(h1);
}

const BYTE_HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** `n`'s 32 bits as 8 hex digits (a table per byte: `toString(16).padStart` cost as much as the hash). */
function hex8(n: number): string {
  return BYTE_HEX[(n >>> 24) & 255]! + BYTE_HEX[(n >>> 16) & 255]! + BYTE_HEX[(n >>> 8) & 255]! + BYTE_HEX[n & 255]!;
}
