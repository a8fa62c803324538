#!/usr/bin/env node
import { CommanderError } from 'commander';
import { createProgram } from './program.js';
import { EXIT_USAGE } from './exit-codes.js';

// The one place that turns failures into exit codes: commander's own (usage) errors exit 2, and
// anything unexpected is one line on stderr, never a stack trace (set STALL_WHY_DEBUG=1 for it).
try {
  await createProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`stall-why: ${message.split('\n')[0]}\n`);
    if (process.env.STALL_WHY_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    process.exitCode = EXIT_USAGE;
  }
}
