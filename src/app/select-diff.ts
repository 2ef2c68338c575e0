/**
 * `select --diff <ref>`: which driver builds a change moves. The picks of `select --matrix` over the builder images
 * images/ held at <ref> (read from git, no checkout) against those of the working tree. Both sides use the
 * working tree's config (repository, index tags), so only what images/ changed shows.
 */
import { basename } from 'node:path';
import { listCommitted, resolveCommit } from '../adapters/git/read.js';
import { builderImages } from '../adapters/fs/images-dir.js';
import { buildIndex, type IndexEntry } from '../core/index-schema.js';
import { parseDockerfileName, type Arch, type BuilderName } from '../core/names.js';
import { diffMatrices, indexTargets, type MatrixDiff } from '../core/select-diff.js';
import { selectionMatrix } from '../core/select.js';
import type { Repo } from './repo.js';

export interface SelectDiffOptions {
  /** The git ref to compare against (a branch, tag, FETCH_HEAD, a commit). */
  ref: string;
  /** The image tag (version) the picks choose among, e.g. latest. */
  tag: string;
  arches: Arch[];
  /** Only this target (default: every target either side has). */
  target?: string;
}

export interface SelectDiff {
  ref: string;
  commit: string;
  tag: string;
  /** Cells compared: targets x arches x kernel series (core/kernel KERNEL_SERIES). */
  picks: number;
  diff: MatrixDiff;
}

/** The builder index of images/ at a git ref (read from git, nothing checked out) and of the working tree. */
export async function indexesAt(repo: Repo, ref: string, tag: string): Promise<{ commit: string; before: IndexEntry[]; after: IndexEntry[] }> {
  const commit = await resolveCommit(repo.root, ref);
  const imagesDir = repo.config.imagesDir.replace(/^\.\//, '').replace(/\/+$/, '');
  const committed = await listCommitted(repo.root, imagesDir, commit);
  const beforeNames = committed.map((e) => parseDockerfileName(basename(e.path))).filter((n): n is BuilderName => n !== null);
  const afterNames = builderImages(repo.files).map((f) => f.name);
  return { commit, before: indexOf(beforeNames, repo, tag), after: indexOf(afterNames, repo, tag) };
}

export async function diffSelect(repo: Repo, options: SelectDiffOptions): Promise<SelectDiff> {
  const { commit, before, after } = await indexesAt(repo, options.ref, options.tag);
  const targets = options.target ? [options.target] : [...new Set([...indexTargets(before), ...indexTargets(after)])].sort();
  const matrix = (entries: IndexEntry[]) => selectionMatrix(entries, targets, options.arches, options.tag);
  const diff = diffMatrices(matrix(before), matrix(after));
  return { ref: options.ref, commit, tag: options.tag, picks: diff.changed.length + diff.unchanged.length, diff };
}

function indexOf(names: BuilderName[], repo: Repo, tag: string): IndexEntry[] {
  return buildIndex(names, [repo.config.repositories[0]!], [tag]);
}
