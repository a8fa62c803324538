import { Command } from 'commander';
import { registerBufferCommand } from './commands/buffer.js';
import { registerCollectCommand } from './commands/collect.js';
import { registerExplainCommand } from './commands/explain.js';
import { registerRecordCommand } from './commands/record.js';
import { registerWatchCommand } from './commands/watch.js';
import { EXIT_USAGE } from './exit-codes.js';

export const VERSION = '0.1.0';

/** Builds the `stall-why` program. Each subcommand lives in its own module under commands/. */
export function createProgram(): Command {
  const program = new Command()
    .name('stall-why')
    .description('Why is this AI agent turn stuck? Reads what was recorded and names the wait.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });
  registerExplainCommand(program);
  registerWatchCommand(program);
  registerRecordCommand(program);
  registerCollectCommand(program);
  registerBufferCommand(program);
  return program;
}

export { EXIT_USAGE };
