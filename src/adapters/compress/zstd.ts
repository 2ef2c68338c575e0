/**
 * zstd layers, decompressed as a stream with backpressure so memory stays flat whatever the content size.
 *
 * The decoder is the `zstd` binary as a child process where it is installed (native speed: fzstd decodes about
 * 60 times slower, see bench/check-scan.ts), else fzstd fed small slices so that no single push can expand into
 * more than a few MiB (an RLE block of 4 bytes expands to 128 KiB). Every frame's window is checked as the
 * compressed bytes flow, before any decoder sees the frame: above the limit (128 MiB by default, the `zstd`
 * tool's own) the stream is refused, since the window is memory the decoder must hold.
 */
import { Decompress } from 'fzstd';
import { execFileSync } from 'node:child_process';
import { childDecoder, type Decompression } from './child.js';

export const DEFAULT_ZSTD_WINDOW = 128 * 1024 * 1024;
/** The largest window zstd itself supports (--long=31). */
export const MAX_ZSTD_WINDOW = 2 ** 31;

export type ZstdDecoder = 'zstd' | 'fzstd';

export interface ZstdOptions {
  /** Largest frame window accepted, in bytes. */
  maxWindow?: number;
  /** Force a decoder (tests, bench); default: the binary when present, else fzstd. */
  decoder?: ZstdDecoder;
}

/** A frame whose window is above the limit: the data (window, limit) for the command to word its hint. */
export class ZstdWindowError extends Error {
  constructor(
    readonly window: number,
    readonly limit: number,
  ) {
    super(`a zstd frame needs a ${mib(window)} window, above the ${mib(limit)} limit`);
    this.name = 'ZstdWindowError';
  }
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes % 2 ** 20 ? 1 : 0)} MiB`;

let binaryPresent: boolean | undefined;
export function zstdBinaryPresent(): boolean {
  if (binaryPresent === undefined) {
    try {
      execFileSync('zstd', ['--version'], { stdio: 'ignore', timeout: 10_000 });
      binaryPresent = true;
    } catch {
      binaryPresent = false;
    }
  }
  return binaryPresent;
}

/** The decoder: as asked, else BUILDER_IMAGES_ZSTD_DECODER (zstd or fzstd: tests, bench), else the binary when present. */
export function chooseZstdDecoder(options: ZstdOptions = {}): ZstdDecoder {
  const fromEnv = process.env.BUILDER_IMAGES_ZSTD_DECODER;
  if (options.decoder) return options.decoder;
  if (fromEnv === 'zstd' || fromEnv === 'fzstd') return fromEnv;
  return zstdBinaryPresent() ? 'zstd' : 'fzstd';
}

/** Decompress a zstd stream; the source is consumed at the pace the output is read. */
export function zstdDecompress(source: AsyncIterable<Buffer>, options: ZstdOptions = {}): Decompression {
  const limit = Math.min(options.maxWindow ?? DEFAULT_ZSTD_WINDOW, MAX_ZSTD_WINDOW);
  const guarded = guardFrames(source, limit);
  // --memory: the binary refuses a window above the limit too (the frame walk below already did).
  if (chooseZstdDecoder(options) === 'zstd') return childDecoder('zstd', ['-d', '-c', '-q', `--memory=${Math.ceil(limit / 1024)}KB`], guarded);
  const output = viaFzstd(guarded);
  return { output, finished: async () => {}, close: async () => void (await output.return(undefined).catch(() => {})) };
}

/** Input slice for fzstd: 512 bytes hold at most 170 RLE blocks, so a push yields at most ~21 MiB. */
const FZSTD_SLICE = 512;

async function* viaFzstd(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let out: Buffer[] = [];
  const decoder = new Decompress((chunk) => {
    if (chunk.length) out.push(Buffer.from(chunk)); // a copy: the decoder may reuse its output buffer
  });
  for await (const chunk of source) {
    for (let i = 0; i < chunk.length; i += FZSTD_SLICE) {
      decoder.push(chunk.subarray(i, i + FZSTD_SLICE));
      if (out.length) {
        const ready = out;
        out = [];
        yield* ready;
      }
    }
  }
  decoder.push(new Uint8Array(0), true);
  yield* out;
}

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * Walk zstd frames as the compressed bytes pass (headers and block headers only; block contents are skipped),
 * refusing a frame whose window is above the limit before the decoder sees it.
 */
async function* guardFrames(source: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Buffer> {
  const walker = new FrameWalker(limit);
  for await (const chunk of source) {
    walker.push(chunk);
    yield chunk;
  }
}

type WalkState = 'magic' | 'fhd' | 'fheader' | 'skippable-size' | 'block' | 'skip';

class FrameWalker {
  private state: WalkState = 'magic';
  private need = 4;
  private bytes: number[] = [];
  private skip = 0;
  private afterSkip: WalkState = 'magic';
  private fhd = 0;
  private checksum = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'skip') {
        const take = Math.min(this.skip, chunk.length - at);
        this.skip -= take;
        at += take;
        if (this.skip === 0) this.enter(this.afterSkip);
        continue;
      }
      this.bytes.push(chunk[at++]!);
      if (this.bytes.length === this.need) this.onField(this.bytes);
    }
  }

  private enter(state: WalkState, need = 0): void {
    this.state = state;
    this.bytes = [];
    this.need = state === 'magic' ? 4 : state === 'fhd' ? 1 : state === 'skippable-size' ? 4 : state === 'block' ? 3 : need;
    if (state !== 'skip' && this.need === 0) this.onField([]);
  }

  private skipThen(bytes: number, next: WalkState): void {
    if (bytes === 0) return this.enter(next);
    this.skip = bytes;
    this.afterSkip = next;
    this.state = 'skip';
  }

  private onField(b: number[]): void {
    switch (this.state) {
      case 'magic': {
        const magic = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
        if (magic === ZSTD_MAGIC) return this.enter('fhd');
        if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) return this.enter('skippable-size');
        throw new Error('not a zstd frame (bad magic number)');
      }
      case 'skippable-size':
        return this.skipThen((b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0, 'magic');
      case 'fhd': {
        const fhd = b[0]!;
        this.fhd = fhd;
        const single = (fhd >> 5) & 1;
        const fcsFlag = fhd >> 6;
        const didLen = [0, 1, 2, 4][fhd & 3]!;
        const fcsLen = fcsFlag === 0 ? single : [0, 2, 4, 8][fcsFlag]!;
        this.checksum = ((fhd >> 2) & 1) === 1;
        return this.enter('fheader', (single ? 0 : 1) + didLen + fcsLen);
      }
      case 'fheader': {
        const single = (this.fhd >> 5) & 1;
        let window: number;
        if (!single) {
          const wd = b[0]!;
          const base = 2 ** (10 + (wd >> 3));
          window = base + (base / 8) * (wd & 7);
        } else {
          const fcsLen = b.length - [0, 1, 2, 4][this.fhd & 3]!;
          let fcs = 0;
          for (let i = 0; i < fcsLen; i++) fcs += b[b.length - fcsLen + i]! * 2 ** (8 * i);
          window = fcsLen === 2 ? fcs + 256 : fcs;
        }
        if (window > this.limit) throw new ZstdWindowError(window, this.limit);
        return this.enter('block');
      }
      case 'block': {
        const header = b[0]! | (b[1]! << 8) | (b[2]! << 16);
        const last = header & 1;
        const type = (header >> 1) & 3;
        const size = header >>> 3;
        if (type === 3) throw new Error('corrupt zstd block (reserved block type)');
        const next: WalkState = last ? 'magic' : 'block';
        const body = type === 1 ? 1 : size;
        if (last && this.checksum) {
          // skip the block body, then the 4-byte content checksum
          this.skipThen(body + 4, next);
          return;
        }
        return this.skipThen(body, next);
      }
      default:
        return;
    }
  }
}
