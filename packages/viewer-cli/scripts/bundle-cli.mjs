// Bundles the CLI (dist/bin.js, after `tsc -b`) into dist/bundle/, which bin/stall-why.js runs: one
// file for the start-up path instead of some 110 ES modules to resolve and link (issue 14: the
// start-up goal is 1.5x `node -e 0`). Only our own code, the classifier's packages and commander
// are bundled; the OpenTelemetry SDK, @stall-why/instrument, ClickHouse and every other package stay
// imports resolved at run time, and commands load them lazily (`import()` becomes a chunk of its
// own). The library exports (dist/index.js and the other packages) stay unbundled.
//
// The classifier's worker is loaded by URL beside the module that starts it, so it is bundled on its
// own and written beside the CLI's files as analyze-worker.js.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const outdir = `${dist}bundle`;
const bundled = /^(commander|@stall-why\/(conventions|flight-record|classifier))(\/|$)/;

const common = {
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Less source for V8 to parse at start-up (about 7 ms of 40); `node --enable-source-maps` gives the
  // stack traces (STALL_WHY_DEBUG=1) their names back.
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: true,
  sourcemap: 'linked',
  // commander is CommonJS: its `require('node:events')` needs a require in an ES module.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  plugins: [
    {
      name: 'external-unless-bundled',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => (bundled.test(args.path) || args.path.startsWith('node:') ? undefined : { path: args.path, external: true }));
      },
    },
  ],
  logLevel: 'warning',
};

rmSync(outdir, { recursive: true, force: true });
// The CLI: what `import()` loads lazily becomes a chunk of its own, the start-up path stays one file.
await build({ ...common, entryPoints: { 'stall-why': `${dist}bin.js` }, splitting: true, chunkNames: 'chunk-[hash]' });
// The worker: a file of its own, so that it shares no chunk with the start-up path.
await build({ ...common, entryPoints: { 'analyze-worker': fileURLToPath(import.meta.resolve('@stall-why/classifier').replace(/index\.js$/, 'analyze-worker.js')) } });
