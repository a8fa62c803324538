/**
 * Credentials that reach an error message (a provider's "Incorrect API key provided: sk-proj-…", a
 * URL with a token in it) are never recorded or shown: each key-like string is replaced by its kind
 * and a short, non-reversible tail. Applied to every attribute the adapters record, to the messages
 * importers keep, and to what the CLI prints.
 */

// The shapes of common API keys and tokens: long enough that ordinary words and ids do not match.
const SECRETS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{16,}/g, 'sk-'],
  [/\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}/g, 'github token '],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, 'slack token '],
  [/\bAKIA[0-9A-Z]{16}\b/g, 'aws key '],
  [/\bAIza[0-9A-Za-z_-]{30,}/g, 'google key '],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{16,}/gi, '$1 '],
];

/**
 * A literal that every pattern above needs in its match (case-folded, so it finds a superset): a
 * text without any is returned untouched after one scan instead of six. Every attribute of every
 * span the adapters record passes here (a turn id is a 36-character UUID), so this is their hot path.
 */
const SECRET_PREFIX = /sk-|gh[opsur]_|github_pat_|xox[abposr]-|akia|aiza|bearer|basic/i;

/** `text` with every key-like string replaced by `<kind>…[redacted]`. */
export function redactSecrets(text: string): string {
  if (text.length < 16 || !SECRET_PREFIX.test(text)) return text;
  let out = text;
  for (const [pattern, kind] of SECRETS) out = out.replace(pattern, (_match, group?: string) => `${typeof group === 'string' ? `${group} ` : kind}…[redacted]`);
  return out;
}
