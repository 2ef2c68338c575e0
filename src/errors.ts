/**
 * Errors the CLI knows how to report. Anything else is a bug and is shown with its stack under --debug.
 * Exit codes: 0 ok, 1 findings or failure, 2 usage error.
 */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Bad flags, bad arguments, a config file that does not validate: the user must change the call. */
export class UsageError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 2, options);
    this.name = 'UsageError';
  }
}

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
