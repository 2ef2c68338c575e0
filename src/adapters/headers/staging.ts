/**
 * A staging tree that archives from outside are unpacked into: every path is checked before it is written (no
 * absolute path, no `..`, never through a symlink the archive made), sizes and entry counts are bounded, and
 * modes are kept (Kbuild's host programs must stay executable). Symlinks are written as they are: they are only
 * followed inside the container, where the trees sit at the same absolute paths as on the distro.
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

export class StagingTree {
  /** Every path written, relative to the root (for the layout detection). */
  readonly files: string[] = [];
  private readonly symlinks = new Set<string>();
  private readonly written = new Set<string>();
  /** Directories known to exist: one mkdir per directory, not per file. */
  private readonly made = new Set<string>();
  private bytes = 0;

  constructor(
    readonly root: string,
    private readonly what: string,
    private readonly limits: StagingLimits = DEFAULT_STAGING_LIMITS,
  ) {}

  /** A member path made relative and checked: `./usr/src/x` -> `usr/src/x`; undefined for the root itself. */
  private checked(name: string): string | undefined {
    const rel = posix.normalize(name.replace(/^(\.\/|\/)+/, '')).replace(/\/$/, '');
    if (rel === '.' || rel === '') return undefined;
    if (rel === '..' || rel.startsWith('../') || rel.includes('\0')) throw new UnsafeArchiveError(`${this.what}: member "${name}" would be written outside the staging tree`);
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.symlinks.has(prefix)) throw new UnsafeArchiveError(`${this.what}: member "${name}" goes through the symlink ${prefix}`);
    }
    if (this.files.length >= this.limits.maxEntries) throw new UnsafeArchiveError(`${this.what}: more than ${this.limits.maxEntries} entries`);
    return rel;
  }

  private record(rel: string): void {
    if (!this.written.has(rel)) this.files.push(rel);
    this.written.add(rel);
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
    await mkdir(join(this.root, rel), { recursive: true });
    this.made.add(join(this.root, rel));
    await chmod(join(this.root, rel), (mode & 0o777) | 0o700);
    this.record(rel);
  }

  async file(name: string, body: Readable | Uint8Array, mode = 0o644): Promise<void> {
    const rel = this.checked(name);
    if (!rel) return;
    if (this.symlinks.has(rel)) throw new UnsafeArchiveError(`${this.what}: member "${name}" would be written through a symlink`);
    const path = join(this.root, rel);
    await this.parentOf(path);
    if (body instanceof Uint8Array) {
      this.bytes += body.byteLength;
      if (this.bytes > this.limits.maxBytes) throw new UnsafeArchiveError(`${this.what}: unpacks to more than ${this.limits.maxBytes} bytes`);
      await writeFile(path, body, { mode: mode & 0o777 });
      if ((mode & 0o777) !== 0o644) await chmod(path, mode & 0o777);
      this.record(rel);
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
    this.record(rel);
  }

  async symlink(name: string, target: string): Promise<void> {
    const rel = this.checked(name);
    if (!rel) return;
    if (target.includes('\0')) throw new UnsafeArchiveError(`${this.what}: symlink "${name}" has a bad target`);
    await this.parentOf(join(this.root, rel));
    await symlink(target, join(this.root, rel));
    this.symlinks.add(rel);
    this.record(rel);
  }

  /** A hard link to a member written before (tar's `link`), checked like any path. */
  async hardlink(name: string, existing: string): Promise<void> {
    const rel = this.checked(name);
    const from = this.checked(existing);
    if (!rel || !from || !this.written.has(from) || this.symlinks.has(from)) throw new UnsafeArchiveError(`${this.what}: hard link "${name}" -> "${existing}" names no file of the archive`);
    await mkdir(dirname(join(this.root, rel)), { recursive: true });
    await link(join(this.root, from), join(this.root, rel));
    this.record(rel);
  }
}
