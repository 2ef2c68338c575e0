/**
 * A decoder that is a child process (xz, bzip2, zstd): started as its own process group through
 * engines/process.ts (so an interruption stops it with the rest of the run), fed from an async source with
 * backpressure, read from its stdout. The contract every codec keeps:
 *  - `close()` kills the group and waits for the child to be reaped, whatever state the pipes are in: a reader
 *    that stops early, or fails, never leaves a decoder blocked on a pipe nobody reads;
 *  - `finished()` reports a failure the child notices only after its last output byte (an xz or bzip2
 *    checksum, a truncated stream), so callers that await it never take a corrupt payload for a good one.
 */
import type { Readable } from 'node:stream';
import { engineProcess, killGroup } from '../engines/process.js';

/** A decompression in progress: read `output`, then await `finished` (it throws if decoding failed). */
export interface Decompression {
  output: AsyncIterable<Buffer>;
  finished(): Promise<void>;
  /** Stop (early, or after a failure): ends the decoder and, for a child process, kills and reaps it. */
  close(): Promise<void>;
}

/** A decoder child failed: the tool, its exit status and the last line it wrote to stderr. */
export class DecoderError extends Error {
  constructor(
    readonly tool: string,
    readonly exitCode: number | undefined,
    readonly detail: string,
  ) {
    super(`${tool} failed: ${detail || `exit ${exitCode}`}`);
    this.name = 'DecoderError';
  }
}

/** What a child decoder wrote to stderr, on one line (its first two lines: the error, then its detail). */
export function stderrSummary(stderr: unknown): string {
  return String(stderr ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(0, 2)
    .join('; ');
}

export function childDecoder(tool: string, args: readonly string[], source: AsyncIterable<Buffer>): Decompression {
  const child = engineProcess(tool, args, {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    maxBuffer: { stderr: 64 * 1024 },
    reject: false,
  });
  // EPIPE when the decoder fails or is stopped: the exit status and stderr say why.
  child.stdin.on('error', () => {});
  // Once reaped, its pid (and group id) may be another process's: never signal it again.
  let reaped = false;
  void child.then(() => (reaped = true));
  const stop = () => {
    if (child.pid !== undefined && !reaped) killGroup(child.pid, 'SIGKILL');
  };
  let sourceError: unknown;
  const feeding = (async () => {
    try {
      for await (const chunk of source) {
        if (child.stdin.destroyed) return;
        if (!child.stdin.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = () => resolve();
            child.stdin.once('drain', done);
            child.stdin.once('close', done);
          });
        }
      }
      child.stdin.end();
    } catch (err) {
      sourceError = err; // the source refused (a zstd frame over its window) or failed
      stop();
    }
  })();
  const stdout = child.stdout as Readable;
  // A refused source kills the decoder: end the output with that error rather than a bare early end.
  void feeding.then(() => sourceError && stdout.destroy(sourceError as Error));
  return {
    output: stdout,
    finished: async () => {
      await feeding;
      if (sourceError) throw sourceError;
      const result = await child;
      if (result.exitCode !== 0) throw new DecoderError(tool, result.exitCode, stderrSummary(result.stderr));
    },
    close: async () => {
      stop();
      stdout.destroy();
      child.stdin.destroy();
      await feeding;
      await child;
    },
  };
}
