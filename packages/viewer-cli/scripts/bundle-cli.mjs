// Bundles the CLI (dist/bin.js, after `tsc -b`) into dist/bundle/, which bin/stall-why.js runs (issue 14:
// the start-up goal is 1.5x `node -e 0`). Only our own code, the classifier's packages, commander and
// the ClickHouse address parser are bundled; the OpenTelemetry SDK, @stall-why/instrument, the rest of
// ClickHouse and every other package stay imports resolved at run time, and commands load them when
// they run. The library exports (dist/index.js and the other packages) stay unbundled.
//
// The CLI is one CommonJS file, compiled by bin/stall-why.js with a V8 code cache written here: most
// of a short run was V8 parsing and compiling the bundle, and Node 20 caches that for no module (ES
// modules not at all). A module a command loads lazily is still evaluated only when it runs (esbuild
// wraps it), so `--version` does not run the classifier's module code; its compiled code comes from
// the cache. The cache is made by running the built CLI on a few inputs of the repository (below).
//
// The classifier's worker is loaded by URL beside the module that starts it, so it is bundled on its
// own, as an ES module, and written beside the CLI as analyze-worker.js.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const bin = fileURLToPath(new URL('../bin/stall-why.js', import.meta.url));
const repository = fileURLToPath(new URL('../../../', import.meta.url));
const outdir = `${dist}bundle`;
// The ClickHouse address parser is bundled too (a few lines the start-up path needs); the rest of
// @stall-why/clickhouse stays an import resolved at run time.
const bundled = /^(commander$|@stall-why\/(conventions|flight-record|classifier)(\/|$)|@stall-why\/clickhouse\/address$)/;

const common = {
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  // Less source for V8 to parse (about 7 ms of 40 before the code cache); `node --enable-source-maps`
  // gives the stack traces (STALL_WHY_DEBUG=1) their names back.
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: true,
  sourcemap: 'linked',
  logLevel: 'warning',
};

const externalUnlessBundled = {
  name: 'external-unless-bundled',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (bundled.test(args.path) || args.path.startsWith('node:') ? undefined : { path: args.path, external: true }));
  },
};

// commander requires node:child_process (and with it net and dgram) only to spawn an executable
// subcommand, which stall-why has none of: it gets the module when it first spawns, not at start-up.
const childProcessOnFirstSpawn = {
  name: 'child-process-on-first-spawn',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) => (args.importer.includes('/node_modules/commander/') ? { path: 'child-process', namespace: 'on-first-spawn' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'on-first-spawn' }, () => ({
      contents: "module.exports = { spawn: (...args) => process.getBuiltinModule('node:child_process').spawn(...args) };",
      loader: 'js',
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { 'stall-why': `${dist}bin.js` },
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  // `import()` of a package left outside becomes `require()` (Node >= 20.19 requires ES modules): a
  // dynamic import in a script compiled from a code cache has no loader to call.
  supported: { 'dynamic-import': false },
  // The worker's URL is found beside the bundle.
  define: { 'import.meta.url': 'bundleUrl' },
  banner: { js: "const bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [childProcessOnFirstSpawn, externalUnlessBundled],
});
// bin.ts's `#!` line would be a syntax error inside the function the shim compiles the bundle in: made a
// comment, the lines (and the source map) unchanged.
const cli = `${outdir}/stall-why.cjs`;
writeFileSync(cli, readFileSync(cli, 'utf8').replace(/^#!/, '//'));
await build({
  ...common,
  entryPoints: { 'analyze-worker': fileURLToPath(import.meta.resolve('@stall-why/classifier').replace(/index\.js$/, 'analyze-worker.js')) },
  format: 'esm',
  // commander is not in the worker, but a bundled CommonJS dependency would need a require in an ES module.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  plugins: [externalUnlessBundled],
});

// The code cache: each run below compiles what it runs, and writes the cache with what the previous
// runs compiled. Inputs of every format from the repository's corpus (absent from a packed copy: then
// the cache holds what `--help` runs, and the rest is compiled when first run).
const warmUps = [['--help'], ['--version'], ['test/corpus/example', '--json', '--now', '1795581819116'], ['test/corpus/codex/tool_running.rollout.jsonl', '--all', '--now', '1795581819116']];
for (const args of warmUps) {
  if (args[0].startsWith('test/') && !existsSync(`${repository}${args[0]}`)) continue;
  const run = spawnSync(process.execPath, [bin, ...args], { cwd: repository, env: { ...process.env, STALL_WHY_WRITE_CODE_CACHE: '1', NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  // 1 is a stuck or failed turn found; anything on stderr is a failure of the run.
  if ((run.status !== 0 && run.status !== 1) || run.stderr !== '') throw new Error(`stall-why ${args.join(' ')} exited ${run.status} while making the code cache: ${run.stderr}`);
}
