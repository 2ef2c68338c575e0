import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { action, type Streams } from './context.js';

// Placeholder until its issue lands: the command is listed so the CLI shape is fixed early.
export function register(program: Command, streams: Streams): void {
  program
    .command('tag')
    .description('Compute image tags from git (tree hash or commit, plus latest and ref names)')
    .action(
      action(async () => {
        throw new CliError('tag is not implemented yet');
      }, streams),
    );
}
