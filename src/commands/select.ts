import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { action, type Streams } from './context.js';

// Placeholder until its issue lands: the command is listed so the CLI shape is fixed early.
export function register(program: Command, streams: Streams): void {
  program
    .command('select')
    .description('Show which builder image the driver builder would pick')
    .action(
      action(async () => {
        throw new CliError('select is not implemented yet');
      }, streams),
    );
}
