#!/usr/bin/env node
// A committed shim, so that `npm ci` can link the bin before the build has run. It runs the CLI that
// `npm run build` bundles into one CommonJS file (scripts/bundle-cli.mjs), compiled with the V8 code
// cache the build wrote beside it: without the cache, parsing and compiling the bundle was most of a
// short run's start-up (issue 14), and Node 20 caches that for no module. A cache V8 cannot use (made
// by another Node version) is rejected by V8, and the bundle is compiled as it would be without one.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const bundle = fileURLToPath(new URL('../dist/bundle/stall-why.cjs', import.meta.url));
const codeCache = `${bundle}.code-cache`;

let source;
try {
  source = readFileSync(bundle, 'utf8');
} catch (err) {
  if (err?.code !== 'ENOENT') throw err;
  process.stderr.write('stall-why: not built yet; run `npm run build` in the repository first\n');
  process.exit(2);
}
let cachedData;
try {
  cachedData = readFileSync(codeCache);
} catch {
  // No cache (a build that could not make one): compiled as usual.
}
// The bundle runs as CommonJS would run it: in a function given its module's variables.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData });
// Only the build sets this: it runs the CLI on a few inputs and keeps what they compiled.
if (process.env.STALL_WHY_WRITE_CODE_CACHE === '1') process.on('exit', () => writeFileSync(codeCache, script.createCachedData()));
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
