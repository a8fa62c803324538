/** Test helper: frames a changed record body with a valid checksum, so only the body decoder can refuse it. */
import { crc32 } from 'node:zlib';
import { FRAME_HEADER_BYTES } from '@stall-why/flight-record';

export function reframe(type: number, body: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from([type]), body]);
  const head = Buffer.alloc(FRAME_HEADER_BYTES);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}
