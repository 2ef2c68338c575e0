/**
 * One file out of a distro package, without dpkg or rpm and without unpacking the rest: a kernel image package
 * holds the image and hundreds of MiB of modules, and Debian puts `./boot/` first in its data.tar, so the reading
 * stops (and the decompressor is stopped) as soon as the best member has been read. The ar and RPM framing and
 * the cpio reader are the headers adapter's (src/adapters/headers/packages.ts); RPM payloads are read to the end
 * (cpio has no order to rely on) into a tree that keeps only the wanted members.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { packageKind, readAr, rpmPayloadOffset, sniffCompression, uncpio } from '../headers/packages.js';
import { StagingTree } from '../headers/staging.js';
import { decompress } from '../compress/decompress.js';
import { onInterrupt } from '../../util/cleanup.js';

export class PackageMemberError extends Error {}

/** Ranks a member name: 0 is the best (reading stops there), undefined is not wanted. */
export type MemberRank = (name: string) => number | undefined;

export interface Extracted {
  /** The member's name in the package. */
  name: string;
  data: Buffer;
}

const MAX_PACKAGE_BYTES = 1024 ** 3;

interface Stream {
  output: Readable;
  close(): Promise<void>;
}

/** The headers adapter's decompression contract (src/adapters/compress): bounded, its child closed with it. */
function decompressed(data: Buffer): Stream {
  const d = decompress(Readable.from([data]), sniffCompression(data));
  return { output: Readable.from(d.output), close: () => d.close() };
}

/** The best-ranked regular file of a tar stream (each bounded by maxBytes), read until rank 0 or the end. */
async function fromTar(input: Stream, rank: MemberRank, maxBytes: number, what: string): Promise<Extracted | undefined> {
  const extract = tar.extract();
  let best: (Extracted & { rank: number }) | undefined;
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('close', resolve);
    extract.on('error', reject);
    input.output.on('error', reject);
  });
  extract.on('entry', (header, stream, next) => {
    const r = header.type === 'file' || header.type === 'contiguous-file' ? rank(header.name) : undefined;
    if (r === undefined || (best && best.rank <= r)) {
      stream.on('end', next).resume();
      return;
    }
    if ((header.size ?? 0) > maxBytes) {
      extract.destroy(new PackageMemberError(`${what}: ${header.name} is ${header.size} bytes, over the ${maxBytes}-byte limit`));
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      best = { name: header.name.replace(/^\.\//, ''), data: Buffer.concat(chunks), rank: r };
      if (r === 0) extract.destroy(); // the best there is: stop reading
      else next();
    });
  });
  input.output.pipe(extract);
  try {
    await done;
  } finally {
    input.output.unpipe(extract);
    await input.close();
  }
  return best && { name: best.name, data: best.data };
}

/** A tree that writes only the wanted members (for the cpio reader, which writes everything it reads). */
class WantedTree extends StagingTree {
  constructor(root: string, what: string, private readonly rank: MemberRank, private readonly maxBytes: number) {
    super(root, what);
  }
  override async file(name: string, body: Readable | Uint8Array, mode?: number): Promise<void> {
    const size = body instanceof Uint8Array ? body.byteLength : 0;
    if (this.rank(name) === undefined || size > this.maxBytes) {
      if (!(body instanceof Uint8Array)) body.resume();
      return;
    }
    return super.file(name, body, mode);
  }
  override async dir(): Promise<void> {}
  override async symlink(): Promise<void> {}
  override async hardlink(): Promise<void> {}
}

async function fromRpm(bytes: Buffer, rank: MemberRank, maxBytes: number, what: string): Promise<Extracted | undefined> {
  const payload = bytes.subarray(rpmPayloadOffset(bytes, what));
  const root = await mkdtemp(join(tmpdir(), 'bi-rpm-member-'));
  const removal = onInterrupt(() => rm(root, { recursive: true, force: true }));
  try {
    const tree = new WantedTree(root, what, rank, maxBytes);
    const input = decompressed(payload);
    try {
      await uncpio(input.output, tree, what);
    } finally {
      await input.close();
    }
    const ranked = tree.files.map((f) => ({ f, r: rank(f) ?? Infinity })).sort((a, b) => a.r - b.r);
    const best = ranked[0];
    return best ? { name: best.f, data: await readFile(join(root, best.f)) } : undefined;
  } finally {
    await removal.runNow();
  }
}

/** The best-ranked file of a .deb or .rpm at `path`, or undefined when it has none. */
export async function extractMember(path: string, rank: MemberRank, options: { what: string; maxBytes: number }): Promise<Extracted | undefined> {
  const { what, maxBytes } = options;
  const size = (await stat(path)).size;
  if (size > MAX_PACKAGE_BYTES) throw new PackageMemberError(`${what}: ${size} bytes is over the ${MAX_PACKAGE_BYTES}-byte package limit`);
  const bytes = await readFile(path);
  const kind = packageKind(bytes.subarray(0, 8));
  if (kind === 'rpm') return fromRpm(bytes, rank, maxBytes, what);
  if (kind !== 'deb') throw new PackageMemberError(`${what}: neither a .deb nor an .rpm`);
  const data = readAr(bytes, what).find((m) => /^data\.tar(\.[a-z0-9]+)?$/.test(m.name));
  if (!data) throw new PackageMemberError(`${what}: no data.tar member`);
  return fromTar(decompressed(data.data), rank, maxBytes, what);
}
