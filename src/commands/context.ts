import type { Command } from 'commander';
import { createOutput, type Output } from '../util/output.js';

/** What every command gets from the CLI: where it runs and where it writes. */
export interface CommandContext {
  /** Repository root the command works on (`--cwd`, default: the current directory). */
  cwd: string;
  /** Path of the config file given with `--config`, if any (otherwise `<cwd>/builder-images.yaml` if present). */
  configPath: string | undefined;
  out: Output;
}

/** The process streams, replaceable in tests that call main() in-process. */
export interface Streams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export type CommandAction<O> = (options: O, ctx: CommandContext, args: string[]) => Promise<number>;

/**
 * Wrap a command's action: build its context from the global options, run it, and record its exit code.
 * Errors propagate to main(), which turns them into messages and exit codes.
 */
export function action<O>(fn: CommandAction<O>, streams: Streams) {
  return async function (this: Command, ...raw: unknown[]): Promise<void> {
    const command = raw[raw.length - 1] as Command;
    const options = command.opts() as O;
    const globals = command.optsWithGlobals() as { cwd?: string; config?: string; debug?: boolean; quiet?: boolean };
    const args = command.args;
    const ctx: CommandContext = {
      cwd: globals.cwd ?? process.cwd(),
      configPath: globals.config,
      out: createOutput({ stdout: streams.stdout, stderr: streams.stderr, debug: globals.debug, quiet: globals.quiet }),
    };
    const code = await fn(options, ctx, args);
    // Kept on this run's program (main() reads it there): no state outside the run.
    let root: Command = command;
    while (root.parent) root = root.parent;
    (root as Command & { exitCode?: number }).exitCode = code;
  };
}

/** The exit code the command that `program` ran returned (0 when none ran, e.g. for --help). */
export function exitCodeOf(program: Command): number {
  return (program as Command & { exitCode?: number }).exitCode ?? 0;
}

/** Collector for repeatable options: `--tag a --tag b`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
