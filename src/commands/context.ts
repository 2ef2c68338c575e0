import { statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { createOutput, type Output } from '../util/output.js';

/** What every command gets from the CLI: where it runs and where it writes. */
export interface CommandContext {
  /** Repository root the command works on (`--cwd`, default: the current directory). */
  cwd: string;
  /** Path of the config file given with `--config`, if any (otherwise `<cwd>/builder-images.yaml` if present). */
  configPath: string | undefined;
  out: Output;
  /** `--timeout`: a registry attempt with no answer (or a trickle) for this long fails and is retried. */
  idleTimeoutMs: number;
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
    const globals = command.optsWithGlobals() as { cwd?: string; config?: string; debug?: boolean; quiet?: boolean; timeout?: string };
    const args = command.args;
    if (globals.cwd !== undefined && !isDirectory(globals.cwd)) throw new UsageError(`--cwd ${globals.cwd}: no such directory (give the repository's root)`);
    const ctx: CommandContext = {
      cwd: globals.cwd ?? process.cwd(),
      configPath: globals.config,
      idleTimeoutMs: parseTimeout(globals.timeout),
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

/** `--timeout <seconds>`: a positive number of seconds (fractions allowed), at most a day. */
export function parseTimeout(value: string | undefined): number {
  if (value === undefined) return 30_000;
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(seconds > 0) || seconds > 86_400) {
    throw new UsageError(`--timeout ${value}: expected a number of seconds greater than 0 (at most 86400)`);
  }
  return Math.round(seconds * 1000);
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** `--insecure <host>`, repeatable: the same flag and help wherever a command speaks to a registry. */
export function insecureOption(help = 'registry spoken to over plain HTTP (loopback ones always are), repeatable'): Option {
  return new Option('--insecure <host>', help).argParser(collect);
}

/** `-f, --format text|json|github`, default text (`--json` stays each command's own shorthand). */
export function formatOption(help = 'output format'): Option {
  return new Option('-f, --format <format>', help).choices(['text', 'json', 'github']).default('text');
}
