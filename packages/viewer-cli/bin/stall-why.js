#!/usr/bin/env node
// A committed shim, so that `npm ci` can link the bin before the build has run. It runs the bundle
// that `npm run build` makes (scripts/bundle-cli.mjs): the CLI starts faster from one file.
import('../dist/bundle/stall-why.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/bundle/stall-why.js')) {
    process.stderr.write('stall-why: not built yet; run `npm run build` in the repository first\n');
    process.exit(2);
  }
  throw err;
});
