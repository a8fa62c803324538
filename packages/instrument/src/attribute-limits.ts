import { createHash } from 'node:crypto';
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { redactSecrets } from '@stall-why/flight-record';

/** Bounds applied to every attribute a stall-why adapter records. */
export interface AttributeLimits {
  /** Longest string value kept, in UTF-16 code units; longer ones are cut and marked. Default 1024 (1 KiB). */
  readonly maxValueLength: number;
  /** Most items kept of an array value. Default 64. */
  readonly maxArrayLength: number;
  /** Strings this long or longer that look like base64 become a placeholder. Default 256. */
  readonly base64MinLength: number;
}

export const DEFAULT_ATTRIBUTE_LIMITS: AttributeLimits = Object.freeze({
  maxValueLength: 1024,
  maxArrayLength: 64,
  base64MinLength: 256,
});

/**
 * Header and attribute names whose values are never recorded, whatever the options: they carry
 * credentials. Matched case-insensitively on the last segment of a dotted key too
 * (`http.request.header.authorization`).
 */
const SECRET_NAME = /(^|[._-])(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|openai-api-key|token|access[-_]?token|secret|password)$/i;

/** The answer for each name seen so far: attribute names are few and repeat on every span. Bounded, for hosts that make names up. */
const secretNames = new Map<string, boolean>();
const SECRET_NAMES_CACHED = 1024;

/** True for a header or attribute name that carries credentials. */
export function isSecretName(name: string): boolean {
  let secret = secretNames.get(name);
  if (secret === undefined) {
    secret = SECRET_NAME.test(name);
    if (secretNames.size < SECRET_NAMES_CACHED) secretNames.set(name, secret);
  }
  return secret;
}

const BASE64_BODY = /^[A-Za-z0-9+/_-]+={0,2}$/;

function fingerprint(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

/** The placeholder that stands for a data URI or a base64 blob: its length and a hash, never its bytes. */
export function blobPlaceholder(value: string): string {
  if (value.startsWith('data:')) {
    const comma = value.indexOf(',');
    const mediaType = comma > 5 ? value.slice(5, Math.min(comma, 5 + 100)) : 'unknown';
    return `[data:${mediaType} len=${value.length} sha256=${fingerprint(value)}]`;
  }
  return `[base64 len=${value.length} sha256=${fingerprint(value)}]`;
}

/** Bounds one string: blobs become a placeholder, long strings are cut with a marker naming the full length. */
export function limitString(raw: string, limits: AttributeLimits = DEFAULT_ATTRIBUTE_LIMITS): string {
  if (raw.startsWith('data:')) return blobPlaceholder(raw);
  // A key in an error message ("Incorrect API key provided: sk-…") is never recorded.
  const value = redactSecrets(raw);
  // A cheap length check first: the regex runs only on long values.
  if (value.length >= limits.base64MinLength && BASE64_BODY.test(value)) return blobPlaceholder(value);
  if (value.length > limits.maxValueLength) {
    return `${value.slice(0, limits.maxValueLength)}…[truncated len=${value.length}]`;
  }
  return value;
}

function limitValue(value: AttributeValue, limits: AttributeLimits): AttributeValue {
  if (typeof value === 'string') return limitString(value, limits);
  if (Array.isArray(value)) {
    const kept = value.length > limits.maxArrayLength ? value.slice(0, limits.maxArrayLength) : value;
    return kept.map((v) => (typeof v === 'string' ? limitString(v, limits) : v)) as AttributeValue;
  }
  return value;
}

/**
 * Returns attributes that respect the limits: secrets dropped, blobs replaced, strings capped,
 * `undefined` and `null` values removed. The input is not modified.
 */
export function limitAttributes(
  attributes: Readonly<Record<string, AttributeValue | undefined | null>> | undefined,
  limits: AttributeLimits = DEFAULT_ATTRIBUTE_LIMITS,
): Attributes {
  const out: Attributes = {};
  if (!attributes) return out;
  for (const key of Object.keys(attributes)) putLimitedAttribute(out, key, attributes[key], limits);
  return out;
}

/** Sets `out[key]` to the bounded value, as `limitAttributes` keeps it: not at all for an absent value or a secret name. */
export function putLimitedAttribute(out: Attributes, key: string, value: AttributeValue | undefined | null, limits: AttributeLimits): void {
  if (value === undefined || value === null || isSecretName(key)) return;
  out[key] = limitValue(value, limits);
}

/** Reads limits from options, falling back to `STALL_WHY_ATTRIBUTE_VALUE_LENGTH_LIMIT`, then the defaults. */
export function resolveAttributeLimits(options: Partial<AttributeLimits> = {}): AttributeLimits {
  const env = Number.parseInt(process.env.STALL_WHY_ATTRIBUTE_VALUE_LENGTH_LIMIT ?? '', 10);
  return Object.freeze({
    maxValueLength: options.maxValueLength ?? (Number.isFinite(env) && env > 0 ? env : DEFAULT_ATTRIBUTE_LIMITS.maxValueLength),
    maxArrayLength: options.maxArrayLength ?? DEFAULT_ATTRIBUTE_LIMITS.maxArrayLength,
    base64MinLength: options.base64MinLength ?? DEFAULT_ATTRIBUTE_LIMITS.base64MinLength,
  });
}
