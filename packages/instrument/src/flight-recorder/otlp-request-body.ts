/**
 * What the OTLP/HTTP traces and logs requests share: the body's two encodings, and the reading of
 * ids and untyped objects. One signal's decoder adds only its own messages.
 */
import { otlpAttributes, otlpId, type Attributes } from '@stall-why/flight-record';

/** A request body that is not an OTLP request of its signal; its message names what is wrong. */
export class OtlpRequestError extends Error {
  override readonly name = 'OtlpRequestError';
}

/**
 * The request object of an `application/json` or `application/x-protobuf` body (the latter decoded
 * by `decodeProtobuf` into the OTLP/JSON shape). Throws OtlpRequestError on anything else.
 */
export function parseOtlpRequestBody(body: Uint8Array, contentType: string, decodeProtobuf: (body: Uint8Array) => unknown): unknown {
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (type === 'application/json') {
    try {
      return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
    } catch (err) {
      throw new OtlpRequestError(`invalid JSON: ${(err as Error).message}`);
    }
  }
  if (type === 'application/x-protobuf' || type === 'application/protobuf') {
    try {
      return decodeProtobuf(body);
    } catch (err) {
      throw new OtlpRequestError(`invalid protobuf: ${(err as Error).message}`);
    }
  }
  throw new OtlpRequestError(`unsupported content type '${contentType || '(none)'}' (use application/json or application/x-protobuf)`);
}

export type Obj = Record<string, unknown>;
export const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The nesting of one signal's request: `resourceSpans` → `scopeSpans` → `spans`, or the logs' three. */
export type OtlpNesting = readonly [resourceKey: string, scopeKey: string, itemsKey: string];

/**
 * Calls `visit` for each item of a request object (throws OtlpRequestError when `request` is not an
 * object), with the resource attributes and the scope it came under. `what` names the request in that error.
 */
export function forEachOtlpItem(request: unknown, what: string, [resourceKey, scopeKey, itemsKey]: OtlpNesting, visit: (item: unknown, resource: Attributes, scope: Obj) => void): void {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) throw new OtlpRequestError(`not an ${what} object`);
  for (const r of asArray(asObj(request)[resourceKey])) {
    const resource = otlpAttributes(asObj(asObj(r).resource).attributes);
    for (const s of asArray(asObj(r)[scopeKey])) {
      const scope = asObj(asObj(s).scope);
      for (const item of asArray(asObj(s)[itemsKey])) visit(item, resource, scope);
    }
  }
}

/** An id of `bytes` bytes; all-zero ids (an exporter's "none") are no id. */
export function toHexId(value: unknown, bytes: number): string | undefined {
  const hex = otlpId(value, bytes * 2);
  return hex === undefined || /^0+$/.test(hex) ? undefined : hex;
}
