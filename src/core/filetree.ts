/**
 * An image's file system as metadata only, merged from its layers with the OCI rules, and path resolution
 * inside it as a chroot would do it. Pure: the layer reader feeds it entries.
 *
 * Layer rules (image-spec layer.md): later layers win; `.wh.<name>` deletes <name> and all beneath it in lower
 * layers; `.wh..wh..opq` hides the lower layers' children of its directory; a non-directory hides lower entries
 * beneath its path; hard links take their target's content. Paths are normalised (`./`, `//`, `..`) and never
 * leave the root.
 */

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

/** What a tar header says of a file, kept both for an entry and for the node it becomes. */
interface FileMeta {
  mode: number;
  size: number;
  uid: number;
  gid: number;
  /** Symlink target as written, or the hard link's target path. */
  linkname?: string;
  /** First bytes of the file, for files that may be executables. */
  head?: Uint8Array;
}

/** One tar header, as the layer reader hands it over. */
export interface LayerEntry extends FileMeta {
  /** Path as in the tar (any of `./usr/bin/x`, `usr/bin/x`, `/usr/bin/x`). */
  path: string;
  type: EntryType | 'hardlink';
}

export interface Node extends FileMeta {
  type: EntryType;
  /** Index of the layer that last wrote it. */
  layer: number;
  /** Set when this entry came from a hard link to that path. */
  hardlinkOf?: string;
  children?: Map<string, Node>;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** Split a path into clean components: no empty parts, no `.`, `..` resolved and clamped at the root. */
export function normalizePath(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

function joinPath(parts: string[]): string {
  return `/${parts.join('/')}`;
}

/**
 * What path resolution and the check rules need of an image's file system: an entry by exact components (no
 * symlink followed) and a directory's names. A tree merged from layers is one; a mounted root file system is another.
 */
export interface TreeView {
  lookup(parts: string[]): Node | undefined;
  list(path: string): string[];
}

const newDir = (layer: number): Node => ({ type: 'dir', mode: 0o755, size: 0, uid: 0, gid: 0, layer, children: new Map() });

export class FileTree implements TreeView {
  readonly root: Node = newDir(-1);
  private layers = 0;

  /** Apply one layer's entries on top of what is there. Whiteouts act on lower layers only. */
  applyLayer(entries: LayerEntry[]): void {
    const layer = this.layers++;
    // Whiteouts first: they describe lower layers, wherever they stand in this layer's tar.
    for (const e of entries) {
      const parts = normalizePath(e.path);
      const name = parts[parts.length - 1];
      if (!name?.startsWith(WHITEOUT)) continue;
      const dir = this.lookupDir(parts.slice(0, -1));
      if (!dir?.children) continue;
      if (name === OPAQUE) {
        for (const [childName, child] of dir.children) if (child.layer < layer) dir.children.delete(childName);
      } else {
        dir.children.delete(name.slice(WHITEOUT.length));
      }
    }
    for (const e of entries) {
      const parts = normalizePath(e.path);
      const name = parts[parts.length - 1];
      if (name === undefined || name.startsWith(WHITEOUT)) continue;
      this.add(parts, e, layer);
    }
  }

  private add(parts: string[], e: LayerEntry, layer: number): void {
    const parent = this.ensureDir(parts.slice(0, -1), layer);
    const name = parts[parts.length - 1]!;
    const existing = parent.children!.get(name);
    let node: Node;
    if (e.type === 'hardlink') {
      const target = this.lookup(normalizePath(e.linkname ?? ''));
      if (!target || target.type === 'dir') return; // a link to nothing: the tar is broken, nothing to add
      node = { ...target, children: undefined, layer, hardlinkOf: joinPath(normalizePath(e.linkname!)) };
    } else {
      node = { type: e.type, mode: e.mode, size: e.size, uid: e.uid, gid: e.gid, layer };
      if (e.linkname !== undefined) node.linkname = e.linkname;
      if (e.head) node.head = e.head;
    }
    // A directory over a directory keeps the children; anything else replaces what was there, beneath too.
    if (node.type === 'dir') node.children = existing?.type === 'dir' ? existing.children! : new Map();
    parent.children!.set(name, node);
  }

  /** Walk to a directory, creating missing ones (tars may omit parents) and replacing non-directories. */
  private ensureDir(parts: string[], layer: number): Node {
    let dir = this.root;
    for (const part of parts) {
      let next = dir.children!.get(part);
      if (!next || next.type !== 'dir') {
        next = newDir(layer);
        dir.children!.set(part, next);
      }
      dir = next;
    }
    return dir;
  }

  private lookupDir(parts: string[]): Node | undefined {
    const node = this.lookup(parts);
    return node?.type === 'dir' ? node : undefined;
  }

  /** The entry at exact components, symlinks not followed. */
  lookup(parts: string[]): Node | undefined {
    let node: Node | undefined = this.root;
    for (const part of parts) {
      node = node?.children?.get(part);
      if (!node) return undefined;
    }
    return node;
  }

  /** Names in a directory (no symlinks followed), sorted. */
  list(path: string): string[] {
    const node = this.lookup(normalizePath(path));
    return node?.children ? [...node.children.keys()].sort() : [];
  }
}

export type Resolution =
  | { ok: true; path: string; node: Node; chain: string[] }
  | { ok: false; problem: 'missing' | 'dangling' | 'loop' | 'escape' | 'not-a-directory'; chain: string[]; at: string };

const MAX_SYMLINK_HOPS = 40;

/**
 * Resolve a path in the tree as the kernel would inside a chroot: relative links against their own directory,
 * absolute links against the image root, at most 40 hops. Climbing above the root is reported as an escape.
 * `chain` lists the path and every link target followed, for messages.
 */
export function resolvePath(tree: TreeView, path: string): Resolution {
  const chain = [path];
  let pending = path.split('/');
  let current: string[] = [];
  let hops = 0;
  let followed = false;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (current.length === 0) return { ok: false, problem: 'escape', chain, at: '/' };
      current.pop();
      continue;
    }
    const candidate = [...current, part];
    const node = tree.lookup(candidate);
    if (!node) {
      return { ok: false, problem: followed ? 'dangling' : 'missing', chain, at: joinPath(candidate) };
    }
    if (node.type === 'symlink') {
      if (++hops > MAX_SYMLINK_HOPS) return { ok: false, problem: 'loop', chain, at: joinPath(candidate) };
      const target = node.linkname ?? '';
      chain.push(target);
      followed = true;
      if (target.startsWith('/')) current = [];
      pending = [...target.split('/'), ...pending];
      continue;
    }
    if (pending.some((p) => p !== '' && p !== '.') && node.type !== 'dir') {
      return { ok: false, problem: 'not-a-directory', chain, at: joinPath(candidate) };
    }
    current = candidate;
  }
  const node = tree.lookup(current)!;
  return { ok: true, path: joinPath(current), node, chain };
}
