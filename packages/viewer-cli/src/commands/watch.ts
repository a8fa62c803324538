import type { Command } from 'commander';

// Placeholder until its issue lands: registered so `--help` lists it.
export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description('(not yet implemented)')
    .action(() => {
      process.stderr.write('stall-why watch: not yet implemented\n');
      process.exitCode = 2;
    });
}
