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

/** One tar header, as the layer reader hands it over. */
export interface LayerEntry {
  /** Path as in the tar (any of `./usr/bin/x`, `usr/bin/x`, `/usr/bin/x`). */
  path: string;
  type: EntryType | 'hardlink';
  mode: number;
  size: number;
  uid: number;
  gid: number;
  /** Symlink target as written, or the hard link's target path. */
  linkname?: string;
  /** First bytes of the file, for files that may be executables. */
  head?: Uint8Array;
  /** Only when the reader was asked for details (reproduce, sbom): the mtime as written, content sha256, body. */
  mtime?: string;
  sha256?: string;
  body?: Uint8Array;
}

/**
 * What the tree keeps of an entry: only what path resolution and the check rules read, so that a node costs a
 * few dozen bytes (an image may hold millions of entries).
 */
export interface Node {
  type: EntryType;
  mode: number;
  /** Index of the layer that last wrote it. */
  layer: number;
  /** Symlink target as written. */
  linkname?: string;
  /** First bytes of the file, for files that may be executables (shared by its hard links). */
  head?: Uint8Array;
  children?: Map<string, Node>;
}

/** A layer the runtimes cannot apply (a hard link to nothing). */
export class TreeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TreeError';
  }
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
  lookup(parts: readonly string[]): Node | undefined;
  list(path: string): string[];
  /** The entry `name` in the directory `dir`, which stands at the components `at`; symlinks not followed. */
  child(dir: Node, name: string, at: readonly string[]): Node | undefined;
}

const newDir = (layer: number): Node => ({ type: 'dir', mode: 0o755, layer, children: new Map() });

/**
 * Nodes other than directories are never changed once made, so identical ones are shared: a plain file node per
 * (type, mode) and layer, and one node per hard-link target and layer. Millions of empty files or hard links then
 * cost a map slot and a name each.
 */
export class FileTree implements TreeView {
  readonly root: Node = newDir(-1);
  private layer = -1;
  private plainNodes = new Map<string, Node>();
  private linkCopies = new Map<Node, Node>();

  /** Start the next layer: the entries added from now on are its own. */
  beginLayer(): number {
    this.plainNodes.clear();
    this.linkCopies.clear();
    return ++this.layer;
  }

  /** Apply one layer's entries on top of what is there. */
  applyLayer(entries: Iterable<LayerEntry>): void {
    this.beginLayer();
    for (const e of entries) this.add(e);
  }

  /**
   * Apply one entry of the current layer, in tar order, as it streams. A whiteout acts on lower layers only:
   * `.wh.<name>` removes a lower <name> (not one this layer wrote before it), `.wh..wh..opq` removes the lower
   * children of its directory, wherever it stands in the layer.
   */
  add(e: LayerEntry): void {
    const parts = normalizePath(e.path);
    const name = parts.pop();
    if (name === undefined) return;
    if (name.startsWith(WHITEOUT)) {
      const dir = this.lookup(parts);
      if (!dir?.children) return;
      if (name === OPAQUE) {
        for (const [childName, child] of dir.children) if (child.layer < this.layer) dir.children.delete(childName);
      } else {
        const victim = dir.children.get(name.slice(WHITEOUT.length));
        if (victim && victim.layer < this.layer) dir.children.delete(name.slice(WHITEOUT.length));
      }
      return;
    }
    const parent = this.ensureDir(parts);
    const existing = parent.children!.get(name);
    let node: Node;
    if (e.type === 'hardlink') {
      const target = this.lookup(normalizePath(e.linkname ?? ''));
      // link(2) needs an existing non-directory: the runtimes fail to unpack such a layer.
      if (!target || target.type === 'dir') {
        throw new TreeError(`the hard link ${e.path} points to ${e.linkname ?? ''}, which ${target ? 'is a directory' : 'does not exist'} (a runtime cannot unpack it)`);
      }
      node = target.layer === this.layer ? target : this.linkCopies.get(target) ?? this.copyForLayer(target);
    } else if (e.type !== 'dir' && e.type !== 'symlink' && !e.head) {
      const key = `${e.type} ${e.mode & 0o7777}`;
      node = this.plainNodes.get(key) ?? { type: e.type, mode: e.mode & 0o7777, layer: this.layer };
      this.plainNodes.set(key, node);
    } else {
      node = { type: e.type, mode: e.mode & 0o7777, layer: this.layer };
      if (e.linkname !== undefined && e.type === 'symlink') node.linkname = e.linkname;
      if (e.head) node.head = e.head;
    }
    // A directory over a directory keeps the children; anything else replaces what was there, beneath too.
    if (node.type === 'dir') node.children = existing?.type === 'dir' ? existing.children! : new Map();
    parent.children!.set(name, node);
  }

  private copyForLayer(target: Node): Node {
    const node: Node = { type: target.type, mode: target.mode, layer: this.layer };
    if (target.linkname !== undefined) node.linkname = target.linkname;
    if (target.head) node.head = target.head;
    this.linkCopies.set(target, node);
    return node;
  }

  /** Walk to a directory, creating missing ones (tars may omit parents) and replacing non-directories. */
  private ensureDir(parts: string[]): Node {
    let dir = this.root;
    for (const part of parts) {
      let next = dir.children!.get(part);
      if (!next || next.type !== 'dir') {
        next = newDir(this.layer);
        dir.children!.set(part, next);
      }
      dir = next;
    }
    return dir;
  }

  /** The entry at exact components, symlinks not followed. */
  lookup(parts: readonly string[]): Node | undefined {
    let node: Node | undefined = this.root;
    for (const part of parts) {
      node = node?.children?.get(part);
    }
    return node;
  }

  child(dir: Node, name: string): Node | undefined {
    return dir.children?.get(name);
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
 *
 * Linear in the length of the path and the targets followed: the walk keeps the stack of directories it stands
 * in (`..` pops one), and each link target is a frame read from left to right, never copied or shifted.
 */
export function resolvePath(tree: TreeView, path: string): Resolution {
  const chain = [path];
  const names: string[] = [];
  const nodes: Node[] = [tree.lookup([])!];
  const frames: { parts: string[]; next: number }[] = [{ parts: path.split('/'), next: 0 }];
  let hops = 0;
  let followed = false;
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    if (frame.next >= frame.parts.length) {
      frames.pop();
      continue;
    }
    const part = frame.parts[frame.next++]!;
    if (part === '' || part === '.') continue;
    const here = nodes[nodes.length - 1]!;
    if (here.type !== 'dir') return { ok: false, problem: 'not-a-directory', chain, at: joinPath(names) };
    if (part === '..') {
      if (names.length === 0) return { ok: false, problem: 'escape', chain, at: '/' };
      names.pop();
      nodes.pop();
      continue;
    }
    const node = tree.child(here, part, names);
    if (!node) return { ok: false, problem: followed ? 'dangling' : 'missing', chain, at: joinPath([...names, part]) };
    if (node.type === 'symlink') {
      if (++hops > MAX_SYMLINK_HOPS) return { ok: false, problem: 'loop', chain, at: joinPath([...names, part]) };
      const target = node.linkname ?? '';
      chain.push(target);
      followed = true;
      if (target.startsWith('/')) {
        names.length = 0;
        nodes.length = 1;
      }
      frames.push({ parts: target.split('/'), next: 0 });
      continue;
    }
    names.push(part);
    nodes.push(node);
  }
  return { ok: true, path: joinPath(names), node: nodes[nodes.length - 1]!, chain };
}
