import type { Command } from 'commander';

// Placeholder until its issue lands: registered so `--help` lists it.
export function registerBufferCommand(program: Command): void {
  program
    .command('buffer')
    .description('(not yet implemented)')
    .action(() => {
      process.stderr.write('stall-why buffer: not yet implemented\n');
      process.exitCode = 2;
    });
}
