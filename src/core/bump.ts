/**
 * Deciding and presenting digest updates, Renovate style. Pure: the caller resolves digests and reads files.
 *
 * An update rewrites only the reference text at its span (the instruction, or the ARG default it comes from),
 * so formatting, comments and line endings stay as they were.
 */
import { applyEdits, type ImageRefSite, type ReferenceEdit } from './dockerfile.js';

export type UpdateType = 'digest' | 'pin' | 'rebuild';

/** What the resolver found for one reference site. */
export interface Resolution {
  /** New digest to pin. */
  digest: string;
  /** New tag, for the repository's own images whose content tag moved. */
  tag?: string;
  type: UpdateType;
  /** Pinned platform kept, e.g. linux/arm64, when the pin was one platform's manifest. */
  platform?: string;
}

export interface PlannedUpdate {
  file: string;
  line: number;
  /** Where the edit lands (the ARG line for `FROM ${BASE}`). */
  editLine: number;
  via: 'instruction' | 'arg';
  /** The image as written, without tag or digest: the Package column. */
  packageName: string;
  /** Dockerfile dependency type: final (last FROM), stage (earlier FROM), copy-from, mount-from. */
  depType: string;
  type: UpdateType;
  oldText: string;
  newText: string;
  oldDigest?: string;
  newDigest: string;
  oldTag?: string;
  newTag?: string;
  platform?: string;
}

/** Split `name:tag@digest` as written (familiar or full) into its parts, keeping the name exactly. */
export function splitReferenceText(text: string): { name: string; tag?: string; digest?: string } {
  const at = text.indexOf('@');
  const nameTag = at >= 0 ? text.slice(0, at) : text;
  const digest = at >= 0 ? text.slice(at + 1) : undefined;
  const colon = nameTag.lastIndexOf(':');
  const hasTag = colon > nameTag.lastIndexOf('/');
  return { name: hasTag ? nameTag.slice(0, colon) : nameTag, tag: hasTag ? nameTag.slice(colon + 1) : undefined, digest };
}

export function formatReferenceText(parts: { name: string; tag?: string; digest?: string }): string {
  return `${parts.name}${parts.tag ? `:${parts.tag}` : ''}${parts.digest ? `@${parts.digest}` : ''}`;
}

export function depTypeOf(site: ImageRefSite, isLastFrom: boolean): string {
  if (site.kind === 'from') return isLastFrom ? 'final' : 'stage';
  return site.kind;
}

/** The update for one site, or undefined when nothing changes. */
export function planUpdate(file: string, site: ImageRefSite & { edit: ReferenceEdit }, depType: string, resolution: Resolution): PlannedUpdate | undefined {
  const old = splitReferenceText(site.edit.text);
  const next = { name: old.name, tag: resolution.tag ?? old.tag, digest: resolution.digest };
  const newText = formatReferenceText(next);
  if (newText === site.edit.text) return undefined;
  return {
    file,
    line: site.line,
    editLine: site.edit.line,
    via: site.edit.via,
    packageName: old.name,
    depType,
    type: resolution.type,
    oldText: site.edit.text,
    newText,
    oldDigest: old.digest,
    newDigest: resolution.digest,
    oldTag: old.tag,
    newTag: next.tag,
    platform: resolution.platform,
  };
}

/** Apply a file's updates; several sites sharing one ARG span are edited once. */
export function applyUpdates(text: string, updates: PlannedUpdate[], spans: Map<PlannedUpdate, { start: number; end: number }>): string {
  const seen = new Map<string, string>();
  const edits: { start: number; end: number; replacement: string }[] = [];
  for (const u of updates) {
    const span = spans.get(u)!;
    const key = `${span.start}:${span.end}`;
    const previous = seen.get(key);
    if (previous !== undefined) {
      if (previous !== u.newText) throw new Error(`${u.file}:${u.editLine}: two uses of one reference want different updates (${previous} and ${u.newText})`);
      continue;
    }
    seen.set(key, u.newText);
    edits.push({ ...span, replacement: u.newText });
  }
  return applyEdits(text, edits);
}

const short = (digest?: string) => (digest ? digest.replace(/^sha256:/, '').slice(0, 7) : '');

/** Renovate's commit/PR title. */
export function updateTitle(updates: PlannedUpdate[]): string {
  const packages = [...new Set(updates.map((u) => u.packageName))];
  if (packages.length === 1 && new Set(updates.map((u) => u.newDigest)).size === 1) {
    const u = updates[0]!;
    const what = u.newTag && u.newTag !== u.oldTag ? `${u.packageName}:${u.newTag}` : `${u.packageName}${u.newTag ? `:${u.newTag}` : ''}`;
    return `chore(deps): update ${what} digest to ${short(u.newDigest)}`;
  }
  return 'chore(deps): update builder image digests';
}

/** The table of updates: Package | Type | Update | Change. */
export function updateTable(updates: PlannedUpdate[]): string[][] {
  const rows = [['Package', 'Type', 'Update', 'Change']];
  for (const u of dedupe(updates)) {
    const change =
      u.type === 'pin'
        ? `\`${u.oldTag ?? ''}\` → \`${short(u.newDigest)}\``
        : u.type === 'rebuild'
          ? `\`${u.oldTag}@${short(u.oldDigest)}\` → \`${u.newTag}@${short(u.newDigest)}\``
          : `\`${short(u.oldDigest)}\` → \`${short(u.newDigest)}\``;
    rows.push([u.packageName + (u.platform ? ` (${u.platform})` : ''), u.depType, u.type, change]);
  }
  return rows;
}

/** One row per distinct change (several files may pin the same image the same way). */
function dedupe(updates: PlannedUpdate[]): PlannedUpdate[] {
  const seen = new Set<string>();
  return updates.filter((u) => {
    const key = `${u.packageName} ${u.depType} ${u.oldText} ${u.newText}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function markdownTable(rows: string[][]): string {
  const [head, ...body] = rows;
  return [`| ${head!.join(' | ')} |`, `|${head!.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function pullRequestBody(updates: PlannedUpdate[], files: string[]): string {
  return [
    'This PR contains the following updates:',
    '',
    markdownTable(updateTable(updates)),
    '',
    `Files: ${files.map((f) => `\`${f}\``).join(', ')}`,
    '',
    '---',
    'Generated by `builder-images bump`. Re-running it updates this pull request in place.',
  ].join('\n');
}
