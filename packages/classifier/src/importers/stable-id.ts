import { createHash } from 'node:crypto';

/** A deterministic hex id of `hexDigits` digits for a synthesised span or trace. */
export function stableId(text: string, hexDigits: 16 | 32): string {
  return createHash('sha1').update(text).digest('hex').slice(0, hexDigits);
}
