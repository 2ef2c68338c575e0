import { redact } from './redact.js';

/**
 * Where commands write. Results go to stdout; progress and diagnostics to stderr, so `--json` output stays
 * clean for machines. Progress is plain lines when stderr is not a TTY (CI logs), and everything is redacted.
 */
export interface Output {
  /** A result line for people (stdout). */
  result(line: string): void;
  /** A machine-readable result (stdout), pretty-printed JSON. */
  json(value: unknown): void;
  /** Progress of long work (stderr). */
  progress(line: string): void;
  /** A warning (stderr). */
  warn(line: string): void;
  /** Debug detail, only with --debug (stderr). */
  debug(line: string): void;
  readonly isTTY: boolean;
  readonly debugEnabled: boolean;
}

export interface OutputOptions {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  debug?: boolean;
  quiet?: boolean;
}

export function createOutput(options: OutputOptions = {}): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const isTTY = Boolean((stderr as NodeJS.WriteStream).isTTY);
  const debugEnabled = Boolean(options.debug);
  const write = (stream: NodeJS.WritableStream, text: string) => stream.write(`${redact(text)}\n`);
  return {
    isTTY,
    debugEnabled,
    result: (line) => write(stdout, line),
    json: (value) => write(stdout, JSON.stringify(value, null, 2)),
    progress: (line) => {
      if (!options.quiet) write(stderr, line);
    },
    warn: (line) => write(stderr, `warning: ${line}`),
    debug: (line) => {
      if (debugEnabled) write(stderr, `debug: ${line}`);
    },
  };
}

/** Render rows as an aligned text table (first row is the header). */
export function formatTable(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}
