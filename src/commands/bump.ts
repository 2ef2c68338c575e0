import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { action, type Streams } from './context.js';

// Placeholder until its issue lands: the command is listed so the CLI shape is fixed early.
export function register(program: Command, streams: Streams): void {
  program
    .command('bump')
    .description('Move digest-pinned FROM lines to current digests, optionally as a pull request')
    .action(
      action(async () => {
        throw new CliError('bump is not implemented yet');
      }, streams),
    );
}
