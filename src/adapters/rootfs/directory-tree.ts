/**
 * A mounted image root (an engine's `image mount`, an unpacked root file system) seen as the check rules see a
 * tree merged from layers. Read lazily: a check looks at /usr/bin and a few link chains, not at every file.
 *
 * Nothing on the host is ever followed: each component is lstat'ed and must be a real directory before the
 * next is looked at, so a link in the image (absolute, or climbing with ..) cannot lead outside `root`;
 * resolution of links is the core's job, inside the image.
 */
import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { OS_RELEASE_MAX_BYTES, OS_RELEASE_PATHS } from '../../core/driver-contract.js';
import { ELF_HEAD_BYTES } from '../../core/elf.js';
import { normalizePath, type EntryType, type Node, type TreeView } from '../../core/filetree.js';

export class DirectoryTree implements TreeView {
  constructor(readonly root: string) {}

  lookup(parts: readonly string[]): Node | undefined {
    let host = this.root;
    let stats: Stats | undefined = lstatSync(host, { throwIfNoEntry: false });
    for (const part of parts) {
      if (!stats?.isDirectory()) return undefined;
      host = join(host, part);
      stats = lstatSync(host, { throwIfNoEntry: false });
    }
    return stats ? toNode(host, stats, parts) : undefined;
  }

  /** `dir` was reached by lookup or child, so it is a real directory at `at`: one lstat. */
  child(_dir: Node, name: string, at: readonly string[]): Node | undefined {
    const host = join(this.root, ...at, name);
    const stats = lstatSync(host, { throwIfNoEntry: false });
    return stats ? toNode(host, stats, [...at, name]) : undefined;
  }

  list(path: string): string[] {
    const dir = this.lookup(normalizePath(path));
    if (dir?.type !== 'dir') return [];
    return readdirSync(join(this.root, ...normalizePath(path))).sort();
  }
}

function typeOf(stats: Stats): EntryType {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'other';
}

/** The text files the check reads whole (os-release tells the distro). */
const CONTENT_FILES = new Set<string>(OS_RELEASE_PATHS);

function toNode(host: string, stats: Stats, parts: readonly string[]): Node {
  const node: Node = { type: typeOf(stats), mode: stats.mode & 0o7777, layer: 0 };
  if (node.type === 'symlink') node.linkname = readlinkSync(host);
  // Like the layer reader: the first bytes of files that may be executables, for the ELF check, and os-release.
  if (node.type === 'file' && stats.size > 0) {
    if (CONTENT_FILES.has(`/${parts.join('/')}`)) node.head = readHead(host, OS_RELEASE_MAX_BYTES);
    else if ((node.mode & 0o111) !== 0) node.head = readHead(host, ELF_HEAD_BYTES);
  }
  return node;
}

function readHead(host: string, bytes: number): Uint8Array {
  const fd = openSync(host, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    return buf.subarray(0, readSync(fd, buf, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}
