/**
 * Two builds of one image compared: which files differ between their layers, in what (content, mode, owner,
 * time, type, link target) and, where the path is a known source of non-determinism, why. Pure: the layers are
 * read by app/reproduce.ts as check reads them.
 */
import { normalizePath } from './filetree.js';

/** What a layer entry is, as the layer reader gives it with details (mtime and content hash). */
export interface FileFacts {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime?: string;
  sha256?: string;
  linkname?: string;
}

export type Difference = 'content' | 'mode' | 'owner' | 'time' | 'type' | 'link' | 'only in the first build' | 'only in the second build';

export interface FileDifference {
  /** 1-based layer number. */
  layer: number;
  path: string;
  differs: Difference[];
  /** Why such a file differs between builds, when the path is a known case. */
  cause?: string;
}

/** Paths builds are known to write differently each time, with what to do about them. */
const KNOWN_CAUSES: [RegExp, string][] = [
  [/^\/var\/log\/(apt|dpkg\.log|alternatives\.log|bootstrap\.log)/, "apt's and dpkg's logs hold the build's date: remove /var/log/apt /var/log/dpkg.log /var/log/alternatives.log at the end of the RUN"],
  [/^\/var\/log\//, 'a log written during the build: remove it at the end of the RUN that writes it'],
  [/^\/var\/cache\/ldconfig\/aux-cache$/, "ldconfig's auxiliary cache records file times and inodes: remove /var/cache/ldconfig/aux-cache at the end of the RUN"],
  [/^\/var\/(cache\/debconf|lib\/dpkg)\/.*-old$/, "dpkg's and debconf's backup copies from the previous step: remove them (/var/lib/dpkg/*-old, /var/cache/debconf/*-old)"],
  [/^\/var\/lib\/apt\/lists\/|^\/var\/cache\/apt\//, "apt's package lists and caches (fetched at build time): rm -rf /var/lib/apt/lists/* /var/cache/apt/*"],
  [/\.pyc$|\/__pycache__(\/|$)/, 'Python bytecode embeds the source files\' mtimes: remove __pycache__ or build with PYTHONDONTWRITEBYTECODE=1'],
  [/^\/etc\/machine-id$|^\/var\/lib\/dbus\/machine-id$/, 'a random machine id made at install time: empty /etc/machine-id (truncate -s 0) at the end of the RUN'],
  [/^\/etc\/(shadow|gshadow)-?$/, "shadow's last-change field is the day of the build: a user added on another day differs"],
  [/^\/var\/lib\/systemd\/(random-seed|catalog)/, 'systemd writes a random seed and a catalog at install time: remove them'],
  [/^\/(tmp|var\/tmp)\//, 'temporary files left by the build: remove them at the end of the RUN'],
  [/^\/root\/\.cache\/|^\/root\/\.wget-hsts$/, "a tool's cache in the build user's home: remove it at the end of the RUN"],
];

export function knownCause(path: string): string | undefined {
  return KNOWN_CAUSES.find(([pattern]) => pattern.test(path))?.[1];
}

/** `/`-rooted, normalised: the path two tars may write as `./a` and `a`. */
export function cleanPath(path: string): string {
  return `/${normalizePath(path).join('/')}`;
}

function differences(a: FileFacts, b: FileFacts): Difference[] {
  const out: Difference[] = [];
  if (a.type !== b.type) return ['type'];
  if (a.sha256 !== b.sha256 || a.size !== b.size) out.push('content');
  if ((a.mode & 0o7777) !== (b.mode & 0o7777)) out.push('mode');
  if (a.uid !== b.uid || a.gid !== b.gid) out.push('owner');
  if (a.mtime !== b.mtime) out.push('time');
  if ((a.linkname ?? '') !== (b.linkname ?? '')) out.push('link');
  return out;
}

/** The files of one layer (by clean path) of each build, compared; sorted by path. */
export function diffLayer(layer: number, first: Map<string, FileFacts>, second: Map<string, FileFacts>): FileDifference[] {
  const out: FileDifference[] = [];
  const add = (path: string, differs: Difference[]) => {
    const cause = knownCause(path);
    out.push(cause ? { layer, path, differs, cause } : { layer, path, differs });
  };
  for (const [path, a] of first) {
    const b = second.get(path);
    if (!b) add(path, ['only in the first build']);
    else {
      const d = differences(a, b);
      if (d.length) add(path, d);
    }
  }
  for (const path of second.keys()) if (!first.has(path)) add(path, ['only in the second build']);
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** Top-level and `config.` keys of two image configs whose values differ (history, created, labels…). */
export function diffConfigs(first: Record<string, unknown>, second: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (a: Record<string, unknown>, b: Record<string, unknown>, prefix: string, depth: number) => {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const x = a[key];
      const y = b[key];
      if (JSON.stringify(x) === JSON.stringify(y)) continue;
      const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
      if (depth < 2 && isObject(x) && isObject(y)) walk(x, y, `${prefix}${key}.`, depth + 1);
      else out.push(`${prefix}${key}`);
    }
  };
  walk(first, second, '', 0);
  return out;
}

/** A one-line summary of a difference list: how many files, how many with a known cause. */
export function summarizeDifferences(files: FileDifference[]): string {
  const known = files.filter((f) => f.cause).length;
  return `${files.length} file(s) differ${files.length ? ` (${known} with a known cause, ${files.length - known} unexplained)` : ''}`;
}
