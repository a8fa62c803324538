// The cost of tracedModelFetch on a streamed model reply: reading a large SSE body from a loopback
// server through the adapter (first byte/event marks, eventsource-parser over every byte, counts)
// against reading the same body with plain fetch, measured in the same run, best of five each.
//   node bench/model-fetch.mjs [--scale 0.1]
import { createServer } from 'node:http';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { TurnTracer, tracedModelFetch } from '@stall-why/instrument';

const scaleArg = process.argv.indexOf('--scale');
const scale = scaleArg > 0 ? Number(process.argv[scaleArg + 1]) : 1;
const EVENTS = Math.max(1000, Math.round(100_000 * scale));
const event = `event: response.output_text.delta\ndata: ${JSON.stringify({ type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: 'msg_1', delta: 'a few words of text ' })}\n\n`;
const chunk = Buffer.from(event.repeat(100));
const body = { chunks: Math.ceil(EVENTS / 100), bytes: Math.ceil(EVENTS / 100) * chunk.length };

const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  let left = body.chunks;
  const pump = () => {
    while (left > 0) {
      left--;
      if (!res.write(chunk)) return res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/v1/responses`;
const turns = new TurnTracer({ tracer: new BasicTracerProvider().getTracer('bench') });

async function drain(response) {
  let bytes = 0;
  for await (const part of response.body) bytes += part.byteLength;
  if (bytes !== body.bytes) throw new Error(`read ${bytes} bytes, expected ${body.bytes}`);
}
async function timeIt(fn) {
  globalThis.gc?.();
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const plain = () => fetch(url, { method: 'POST', body: '{}' }).then(drain);
const traced = () => tracedModelFetch(turns.startTurn({ turnId: 'bench' }), url, { method: 'POST', body: '{}' }).then(drain);

await plain();
await traced();
let plainMs = Infinity;
let tracedMs = Infinity;
for (let round = 0; round < 5; round++) {
  tracedMs = Math.min(tracedMs, await timeIt(traced));
  plainMs = Math.min(plainMs, await timeIt(plain));
}
server.close();
const mbps = (ms) => (body.bytes / 1e6 / (ms / 1000)).toFixed(0);
console.log(`SSE body: ${(body.bytes / 1e6).toFixed(1)} MB, ${body.chunks * 100} events, loopback`);
console.log(`tracedModelFetch (marks + eventsource-parser): ${tracedMs.toFixed(1)} ms, ${mbps(tracedMs)} MB/s`);
console.log(`reference, plain fetch reading the same body:  ${plainMs.toFixed(1)} ms, ${mbps(plainMs)} MB/s`);
console.log(`ratio traced / plain: ${(tracedMs / plainMs).toFixed(2)}`);
