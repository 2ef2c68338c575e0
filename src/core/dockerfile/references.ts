/**
 * What an image pulls: each place a Dockerfile names an image (the `# syntax=` frontend, FROM, COPY --from,
 * RUN --mount from), with the reference as written, as expanded, and the source offset of each character, so an
 * update can rewrite exactly what is written. `COPY --from` and `RUN --mount=from=` name a stage (by name, COPY also
 * by index) or an image, never with variables.
 */
import { flagValue, type DockerfileError, type Flag, type Instruction, type ParsedDockerfile, type Word } from './ast.js';
import { csvFields } from './flags.js';
import { slicePiece } from './piece.js';
import { processWord, traced, type LexResult, type Traced } from './shell-lex.js';
import type { StageDependency, Stages } from './stages.js';

export type ImageRefKind = 'syntax' | 'from' | 'copy-from' | 'mount-from';

export interface ImageRefSite {
  kind: ImageRefKind;
  /** Line of the instruction (or directive) that uses the image. */
  line: number;
  /** The reference as written (may contain variables). */
  raw: string;
  /** After expansion; null when a variable it needs has no value. */
  resolved: string | null;
  /** Source offset of each character of `resolved` (-1 where it was not written as such). */
  offsets: number[];
  /** Where a digest goes when the reference has none: after the written word, or after the one ARG default it is. */
  insertAt: number | undefined;
  unresolved: string[];
  isScratch: boolean;
  /** Names a build stage (by name or index), not an image. */
  isStage: boolean;
  /** FROM --platform value as written. */
  platform?: string;
  /** FROM … AS name. */
  stageName?: string;
}

/** Variables in scope, each value with its source offsets. */
export type Env = Map<string, Traced>;

/** Expands a word of an instruction in a scope, reporting a failure as `what: …`. */
export type Expand = (scope: Env, ins: Instruction, word: Word, what: string) => LexResult;

/** The frontend image of `# syntax=`. */
export function syntaxSite(syntax: NonNullable<ParsedDockerfile['syntax']>): ImageRefSite {
  const { value, start, line } = syntax;
  const offsets = traced(value, start).offsets;
  return { kind: 'syntax', line, raw: value, resolved: value, offsets, insertAt: start + value.length, unresolved: [], isScratch: false, isStage: false };
}

const SINGLE_VARIABLE = /^\$(?:\{[A-Za-z_][A-Za-z0-9_]*(?::?[-+][^}$]*)?\}|[A-Za-z_][A-Za-z0-9_]*)$/;

/** FROM's image (or stage), expanded with the global ARGs. */
export function fromSite(ins: Instruction, global: Env, stage: number, stages: Stages, expandIn: Expand): ImageRefSite | undefined {
  const word = ins.words[0];
  if (!word) return undefined;
  const r = expandIn(global, ins, word, `FROM ${word.value}`);
  const resolved = r.ok && r.missing.length === 0 ? r.value : null;
  const offsets = r.ok ? r.offsets : [];
  // `FROM ${BASE}`: a digest goes into BASE's default (when it has one); otherwise after the word in the FROM line.
  const lastResolved = offsets[offsets.length - 1] ?? -1;
  const insertAt = SINGLE_VARIABLE.test(word.value) && lastResolved >= 0 ? lastResolved + 1 : ins.argOffsets[word.start + word.value.length - 1]! + 1;
  const site: ImageRefSite = {
    kind: 'from',
    line: ins.line,
    raw: word.value,
    resolved,
    offsets,
    insertAt,
    unresolved: r.ok ? r.missing : [],
    isScratch: resolved === 'scratch',
    isStage: resolved !== null && stages.index(resolved) >= 0 && stages.index(resolved) < stage,
  };
  const platform = flagValue(ins, 'platform');
  if (platform !== undefined) site.platform = platform;
  if (ins.words.length === 3 && ins.words[1]!.value.toLowerCase() === 'as') site.stageName = ins.words[2]!.value;
  return site;
}

function literalSite(kind: ImageRefKind, ins: Instruction, value: string, offsets: number[], isStage: boolean): ImageRefSite {
  const last = offsets[offsets.length - 1]; // flag values are written: undefined only for an empty one
  return {
    kind,
    line: ins.line,
    raw: value,
    resolved: value,
    offsets,
    insertAt: last === undefined ? undefined : last + 1,
    unresolved: [],
    isScratch: value === 'scratch',
    isStage,
  };
}

/** COPY --from: a stage by name or index, or an image; BuildKit expands no variables there. */
export function copyFromSite(ins: Instruction, from: Flag, stage: number, stages: Stages, deps: StageDependency[], errors: DockerfileError[]): ImageRefSite | undefined {
  const value = from.value!;
  const plain = processWord(value, new Map());
  if (!plain.ok || plain.value !== value) {
    errors.push({ line: ins.line, message: `COPY --from=${value}: variable expansion is not supported for --from; define a stage with FROM using an ARG from the global scope instead` });
    return undefined;
  }
  let target: number;
  if (/^[+-]?\d+$/.test(value)) {
    target = Number(value);
    if (target < 0 || target >= stages.names.length) {
      errors.push({ line: ins.line, message: `COPY --from=${value}: invalid stage index ${target}` });
      return undefined;
    }
  } else target = stages.index(value.toLowerCase());
  if (target >= 0) deps.push({ from: stage, to: target, line: ins.line, what: 'copy', name: value });
  return literalSite('copy-from', ins, value, from.valueOffsets, target >= 0);
}

/** RUN --mount=…,from=<stage or image>: a stage by name only, no variables. */
export function mountSites(ins: Instruction, stage: number, stages: Stages, deps: StageDependency[], errors: DockerfileError[]): ImageRefSite[] {
  const sites: ImageRefSite[] = [];
  for (const flag of ins.flags.filter((f) => f.name === 'mount' && f.value !== undefined)) {
    for (const field of csvFields(flag.value!, flag.valueOffsets)) {
      const eq = field.text.indexOf('=');
      if (eq < 0 || field.text.slice(0, eq).toLowerCase() !== 'from') continue;
      const value = slicePiece(field, eq + 1);
      const dollar = value.text.indexOf('$');
      if (dollar >= 0 && dollar !== value.text.length - 1) {
        errors.push({ line: ins.line, message: `RUN --mount from=${value.text}: 'from' doesn't support variable expansion, define alias stage instead` });
        continue;
      }
      const target = stages.index(value.text.toLowerCase());
      if (target >= 0) deps.push({ from: stage, to: target, line: ins.line, what: 'mount', name: value.text });
      if (value.text !== '') sites.push(literalSite('mount-from', ins, value.text, value.offsets, target >= 0));
    }
  }
  return sites;
}
