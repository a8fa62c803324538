// `npm run test:e2e`: the vitest e2e project, run inside a network namespace where only loopback
// is up. The real agents it starts reach only the fakes on 127.0.0.1; nothing leaves the machine.
//
//   node test/e2e/in-network-namespace.mjs [vitest options...]     (e.g. test/e2e/codex-otel.e2e.ts)
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { enterNetworkNamespace } from '../network-namespace.mjs';

enterNetworkNamespace('test:e2e');

const require = createRequire(import.meta.url);
const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', '--project', 'e2e', ...process.argv.slice(2)], { stdio: 'inherit' });
if (r.error) console.error(`test:e2e: vitest did not start (${r.error.message})`);
process.exit(r.status ?? 1);
