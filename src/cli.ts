import { Command, CommanderError, type AddHelpTextContext, type AddHelpTextPosition } from 'commander';
import { COMMANDS } from './commands/registry.js';
import { exitCodeOf, type Streams } from './commands/context.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './errors.js';
import { CleanupScope, exitCodeForSignal, removeDeadTempDirs, runInScope } from './util/cleanup.js';
import { HELP_WIDTH, reflowHelpText } from './util/help-text.js';
import { redact } from './util/redact.js';

/** Commander's Command whose added help text is wrapped at the width of the rest of the help. */
class CliCommand extends Command {
  override createCommand(name?: string): CliCommand {
    return new CliCommand(name);
  }
  override addHelpText(position: AddHelpTextPosition, text: string | ((context: AddHelpTextContext) => string)): this {
    return super.addHelpText(position, (context: AddHelpTextContext) => reflowHelpText(typeof text === 'function' ? text(context) : text, HELP_WIDTH));
  }
}

export function buildProgram(streams: Streams): Command {
  const program = new CliCommand('builder-images')
    .description('Keep a repository of compiler builder images: lint, check, tag, build, push, index, bump, select.')
    // Only -V is the program's own flag: commander reads the program's flags after a command too, so a program-wide
    // --version would swallow `push --version v1.2.3` (print the version, exit 0, push nothing). A lone
    // `builder-images --version` still prints it (main).
    .version(VERSION, '-V', 'output the version number (also --version, alone)')
    .option('-C, --cwd <dir>', 'repository root to work on (default: the current directory)')
    .option('-c, --config <file>', 'config file (default: builder-images.yaml in the repository root, if present)')
    .option('--debug', 'print debug detail (secrets are always redacted)')
    .option('-q, --quiet', 'no progress lines')
    .option('--timeout <seconds>', 'registry idle limit: an attempt with no answer (or a trickle) for this long fails and is retried', '30')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `
From a checkout: node bin/builder-images.js <command> (after \`npm ci\`, which installs and builds it).
<command> --help documents every flag.`)
    .configureHelp({ helpWidth: HELP_WIDTH })
    .configureOutput({
      writeOut: (s) => streams.stdout.write(s),
      writeErr: (s) => streams.stderr.write(s),
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, streams);
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

const VERSION = '0.1.0';

/** Signals that end a run the clean way: what it created is removed, then the exit code is 128 + the signal number. */
const INTERRUPTS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * The runs under way in this process, each told of a signal. One process listener per signal serves them all
 * (and is removed with the last run), so many runs at once neither pile up listeners nor leave one behind.
 */
const runsListening = new Set<(signal: NodeJS.Signals) => void>();
function tellRuns(signal: NodeJS.Signals): void {
  for (const onSignal of [...runsListening]) onSignal(signal);
}
function listen(onSignal: (signal: NodeJS.Signals) => void): () => void {
  if (runsListening.size === 0) for (const signal of INTERRUPTS) process.on(signal, tellRuns);
  runsListening.add(onSignal);
  return () => {
    runsListening.delete(onSignal);
    if (runsListening.size === 0) for (const signal of INTERRUPTS) process.off(signal, tellRuns);
  };
}

/**
 * Run the CLI and return its exit code: 0 ok, 1 findings or failure, 2 usage error, 130/143 interrupted by
 * SIGINT/SIGTERM (then everything the run created is gone; the caller should exit right away: work that was
 * cut short may still hold sockets). Everything a run keeps lives in this call: it can run twice in a process.
 */
export async function main(argv: string[], streams: Streams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const scope = new CleanupScope();
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const interrupted = new Promise<number>((resolve) => {
    onSignal = (signal) => {
      // A second signal while cleaning up: leave now.
      if (scope.interrupted) return resolve(exitCodeForSignal(signal));
      streams.stderr.write(`\ninterrupted by ${signal}: stopping, and removing what this run created\n`);
      void scope.interrupt(signal).then(() => resolve(exitCodeForSignal(signal)));
    };
  });
  const stopListening = listen(onSignal);
  try {
    // What a killed run left in $TMPDIR (its reaper killed with it): gone before this run makes its own.
    await removeDeadTempDirs();
    const code = await Promise.race([runInScope(scope, () => run(argv, streams)), interrupted]);
    return scope.interrupted ? await interrupted : code;
  } finally {
    stopListening();
    scope.close();
  }
}

async function run(argv: string[], streams: Streams): Promise<number> {
  if (argv.length === 3 && argv[2] === '--version') {
    streams.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const program = buildProgram(streams);
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    return exitCodeOf(program);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (err instanceof CliError) {
      streams.stderr.write(`error: ${redact(err.message)}\n`);
      if (debug && err.cause) streams.stderr.write(`${redact(String((err.cause as Error).stack ?? err.cause))}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    streams.stderr.write(`error: ${redact(e?.message ?? String(err))}\n`);
    if (debug && e?.stack) streams.stderr.write(`${redact(e.stack)}\n`);
    return EXIT_FAILURE;
  }
}
