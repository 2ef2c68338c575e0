/**
 * A staging tree that archives from outside are unpacked into: every path is checked before it is written (no
 * absolute path, no `..`), and resolved against what staging itself wrote, never against the disk: a member
 * never goes through, onto or over a symlink the archive made (`esc -> /etc` then a directory `esc` would chmod
 * /etc), nor turns a file into a directory or back. Sizes and entry counts are bounded, skipped entries (fifos,
 * devices) counted too, and a size is checked before its bytes are read. Modes are kept (Kbuild's host
 * programs must stay executable). Symlinks are written as they are: they are only followed inside the
 * container, where the trees sit at the same absolute paths as on the distro.
 */
import { createWriteStream } from 'node:fs';
import { chmod, link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export class UnsafeArchiveError extends Error {}

export interface StagingLimits {
  /** Bytes written in all, across every archive of the staging tree. */
  maxBytes: number;
  maxEntries: number;
}

export const DEFAULT_STAGING_LIMITS: StagingLimits = { maxBytes: 4 * 1024 ** 3, maxEntries: 500_000 };

type Kind = 'dir' | 'file' | 'symlink';

export class StagingTree {
  /** Every path written, relative to the root (for the layout detection). */
  readonly files: string[] = [];
  /** What staging wrote at each path: the only truth paths are resolved against. */
  private readonly kinds = new Map<string, Kind>();
  /** Directories known to exist: one mkdir per directory, not per file. */
  private readonly made = new Set<string>();
  private bytes = 0;
  private entries = 0;

  constructor(
    readonly root: string,
    private readonly what: string,
    private readonly limits: StagingLimits = DEFAULT_STAGING_LIMITS,
  ) {}

  /** A member path made relative and checked: `./usr/src/x` -> `usr/src/x`; undefined for the root itself. */
  private checked(name: string, counted = true): string | undefined {
    const rel = posix.normalize(name.replace(/^(\.\/|\/)+/, '')).replace(/\/$/, '');
    if (rel === '.' || rel === '') return undefined;
    if (rel === '..' || rel.startsWith('../') || rel.includes('\0')) throw new UnsafeArchiveError(`${this.what}: member "${name}" would be written outside the staging tree`);
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const kind = this.kinds.get(prefix);
      if (kind === 'symlink') throw new UnsafeArchiveError(`${this.what}: member "${name}" goes through the symlink ${prefix}`);
      if (kind === 'file') throw new UnsafeArchiveError(`${this.what}: member "${name}" goes through the file ${prefix}`);
    }
    if (counted) this.count();
    return rel;
  }

  /** One more entry, written or not. */
  private count(): void {
    if (++this.entries > this.limits.maxEntries) throw new UnsafeArchiveError(`${this.what}: more than ${this.limits.maxEntries} entries`);
  }

  /** The member may be written as `kind`: nothing, or the same kind of thing (a symlink never), is there. */
  private claim(rel: string, name: string, kind: Kind): void {
    const there = this.kinds.get(rel);
    if (there === 'symlink') throw new UnsafeArchiveError(`${this.what}: member "${name}" would be written over the symlink the archive made there`);
    if (there && there !== kind) throw new UnsafeArchiveError(`${this.what}: member "${name}" is a ${kind}, but the archive made a ${there} there`);
  }

  private record(rel: string, kind: Kind): void {
    if (!this.kinds.has(rel)) this.files.push(rel);
    this.kinds.set(rel, kind);
  }

  /** An entry not written (a fifo, a device): it counts against the entry limit all the same. */
  skip(): void {
    this.count();
  }

  /** Refuse a body of `size` bytes before reading it when it would take the tree past its byte limit. */
  reserve(size: number, name: string): void {
    if (!Number.isSafeInteger(size) || size < 0 || this.bytes + size > this.limits.maxBytes) {
      throw new UnsafeArchiveError(`${this.what}: member "${name}" claims ${size} bytes, which would unpack to more than ${this.limits.maxBytes} bytes`);
    }
  }

  private async parentOf(path: string): Promise<void> {
    const dir = dirname(path);
    if (this.made.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.made.add(dir);
  }

  async dir(name: string, mode = 0o755): Promise<void> {
    const rel = this.checked(name);
    if (!rel) return;
    this.claim(rel, name, 'dir');
    await mkdir(join(this.root, rel), { recursive: true });
    this.made.add(join(this.root, rel));
    await chmod(join(this.root, rel), (mode & 0o777) | 0o700);
    this.record(rel, 'dir');
  }

  async file(name: string, body: Readable | Uint8Array, mode = 0o644): Promise<void> {
    const rel = this.checked(name);
    if (!rel) return;
    this.claim(rel, name, 'file');
    const path = join(this.root, rel);
    await this.parentOf(path);
    if (body instanceof Uint8Array) {
      this.bytes += body.byteLength;
      if (this.bytes > this.limits.maxBytes) throw new UnsafeArchiveError(`${this.what}: unpacks to more than ${this.limits.maxBytes} bytes`);
      await writeFile(path, body, { mode: mode & 0o777 });
      if ((mode & 0o777) !== 0o644) await chmod(path, mode & 0o777);
      this.record(rel, 'file');
      return;
    }
    const count = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.bytes += chunk.length;
        if (this.bytes > this.limits.maxBytes) return done(new UnsafeArchiveError(`${this.what}: unpacks to more than ${this.limits.maxBytes} bytes`));
        done(null, chunk);
      },
    });
    await pipeline(body, count, createWriteStream(path, { mode: mode & 0o777 }));
    await chmod(path, mode & 0o777);
    this.record(rel, 'file');
  }

  async symlink(name: string, target: string): Promise<void> {
    const rel = this.checked(name);
    if (!rel) return;
    if (target.includes('\0')) throw new UnsafeArchiveError(`${this.what}: symlink "${name}" has a bad target`);
    if (this.kinds.has(rel)) throw new UnsafeArchiveError(`${this.what}: symlink "${name}" would replace the ${this.kinds.get(rel)} the archive made there`);
    await this.parentOf(join(this.root, rel));
    await symlink(target, join(this.root, rel));
    this.record(rel, 'symlink');
  }

  /** A hard link to a member written before (tar's `link`), checked like any path. */
  async hardlink(name: string, existing: string): Promise<void> {
    const rel = this.checked(name);
    const from = this.checked(existing, false);
    if (!rel || !from || this.kinds.get(from) !== 'file') throw new UnsafeArchiveError(`${this.what}: hard link "${name}" -> "${existing}" names no file of the archive`);
    if (this.kinds.has(rel)) throw new UnsafeArchiveError(`${this.what}: hard link "${name}" would replace the ${this.kinds.get(rel)} the archive made there`);
    await this.parentOf(join(this.root, rel));
    await link(join(this.root, from), join(this.root, rel));
    this.record(rel, 'file');
  }
}
