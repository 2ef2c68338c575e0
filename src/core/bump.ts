/**
 * Deciding and presenting digest updates, Renovate style. Pure: the caller resolves digests and reads files.
 *
 * An update rewrites only the reference text at its span (the instruction, or the ARG default it comes from),
 * so formatting, comments and line endings stay as they were.
 */
import { type ParsedDockerfile } from './dockerfile/ast.js';
import { applyEdits, editPlace, writtenSpan, type SourceSpan } from './dockerfile/edits.js';
import { type ImageRefSite } from './dockerfile/references.js';

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
  via: 'instruction' | 'arg' | 'directive';
  /** The image as written, without tag or digest: the Package column. */
  packageName: string;
  /** Dockerfile dependency type: final (last FROM), stage (earlier FROM), copy-from, mount-from, syntax. */
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

/** An update and the span of the file it replaces; `refused` says why a reference cannot be rewritten in place. */
export type UpdatePlan = { update: PlannedUpdate; span: SourceSpan } | { refused: string } | undefined;

/**
 * The update for one site, or undefined when nothing changes. The edit lands where the reference is written: the
 * whole reference when it is one piece of text (in the instruction, or in the ARG default it comes from), else just
 * the digest (or tag and digest) where they are written, e.g. `ARG VARIANT="1.60.0-bullseye@sha256:…"` for
 * `FROM rust:${VARIANT}`, or the FROM line of `FROM ubuntu:$IMAGE_TAG@sha256:…`. A digest that is not written as one
 * piece anywhere is refused.
 */
export function planUpdate(file: string, parsed: ParsedDockerfile, site: ImageRefSite, depType: string, resolution: Resolution): UpdatePlan {
  if (site.resolved === null) return undefined;
  const reference = site.resolved;
  const old = splitReferenceText(reference);
  const next = { name: old.name, tag: resolution.tag ?? old.tag, digest: resolution.digest };
  const newReference = formatReferenceText(next);
  if (newReference === reference) return undefined;
  const edit = placeEdit(parsed, site, old, next, newReference);
  if (typeof edit === 'string') return { refused: edit };
  const place = editPlace(parsed, edit.span.start);
  const update: PlannedUpdate = {
    file,
    line: site.line,
    editLine: place.line,
    via: place.via,
    packageName: old.name,
    depType,
    type: resolution.type,
    oldText: parsed.text.slice(edit.span.start, edit.span.end),
    newText: edit.replacement,
    oldDigest: old.digest,
    newDigest: resolution.digest,
    oldTag: old.tag,
    newTag: next.tag,
    platform: resolution.platform,
  };
  return { update, span: edit.span };
}

type Parts = { name: string; tag?: string; digest?: string };

/** The smallest written span that carries the change, and its replacement; or why there is none. */
function placeEdit(parsed: ParsedDockerfile, site: ImageRefSite, old: Parts, next: Parts, newReference: string): { span: SourceSpan; replacement: string } | string {
  const reference = site.resolved!;
  const span = (from: number, to: number) => writtenSpan(parsed.text, reference, site.offsets, from, to);
  const whole = span(0, reference.length);
  if (whole) return { span: whole, replacement: newReference };
  const tagStart = old.name.length + 1;
  const tagEnd = old.tag === undefined ? old.name.length : tagStart + old.tag.length;
  const tagChanges = next.tag !== old.tag;
  if (tagChanges && old.tag === undefined) return `${reference} has no tag written in it to change: write image:tag in one place`;
  if (old.digest !== undefined) {
    const from = tagChanges ? tagStart : tagEnd + 1;
    const s = span(from, reference.length);
    if (s) return { span: s, replacement: tagChanges ? `${next.tag}@${next.digest}` : next.digest! };
    return `the ${tagChanges ? 'tag and digest are' : 'digest is'} not written as one piece of text (it is assembled from several variables or split by a line continuation), so it cannot be rewritten in place: write ${tagChanges ? 'tag@digest' : 'the digest'} in one place, in the instruction or in one ARG default`;
  }
  if (tagChanges) {
    const s = span(tagStart, tagEnd);
    if (s) return { span: s, replacement: `${next.tag}@${next.digest}` };
    return `its tag is not written as one piece of text, so it cannot be rewritten in place: write the tag in one place`;
  }
  if (site.insertAt === undefined) return 'the reference does not end in written text, so there is no place to add its digest: write the reference in the instruction or in one ARG default';
  return { span: { start: site.insertAt, end: site.insertAt }, replacement: `@${next.digest}` };
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
    // The tag it ends on (the new one when it moved).
    return `chore(deps): update ${u.packageName}${u.newTag ? `:${u.newTag}` : ''} digest to ${short(u.newDigest)}`;
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
