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

/** 64 bits of cyrb53's mixing (both 32-bit lanes kept) over the UTF-16 code units of `text`, as 16 hex digits. */
function hash64(text: string, seed: number): string {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
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
