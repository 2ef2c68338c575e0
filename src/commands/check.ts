import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { action, type Streams } from './context.js';

// Placeholder until its issue lands: the command is listed so the CLI shape is fixed early.
export function register(program: Command, streams: Streams): void {
  program
    .command('check')
    .description('Prove every declared /usr/bin/gcc-X.Y.Z exists in built images, read from their layers')
    .action(
      action(async () => {
        throw new CliError('check is not implemented yet');
      }, streams),
    );
}
