#!/usr/bin/env node
// A committed shim, so that `npm ci` can link the bin before the TypeScript build has run.
import('../dist/bin.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/bin.js')) {
    process.stderr.write('stall-why: not built yet; run `npm run build` in the repository first\n');
    process.exit(2);
  }
  throw err;
});
