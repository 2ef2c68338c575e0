/**
 * Lint rules over the files of images/ and index.yaml. Pure: the caller reads the files.
 * Every rule reports all it finds, each finding located at a file and line.
 */
import type { ParsedDockerfile } from './dockerfile/ast.js';
import { climbsOut, contextPath } from './dockerfile/context.js';
import { extractContextSources, extractImageReferences } from './dockerfile/extract.js';
import { parseDockerfile, tooLargeMessage } from './dockerfile/parse.js';
import { diagnoseDockerfileName, formatDockerfileName, sameImageSet, type BuilderName } from './names.js';
import { isSha256Digest, parseReference, InvalidReferenceError } from './reference.js';

export type Severity = 'error' | 'warning';
export type LintRule = 'name' | 'symlink' | 'conflict' | 'parse' | 'pin' | 'context' | 'index';

export interface Finding {
  file: string;
  line: number;
  rule: LintRule;
  severity: Severity;
  message: string;
}

/** What the rules need to know of one file in images/. */
export interface LintFile {
  path: string;
  fileName: string;
  name: BuilderName | null;
  linkTarget?: string;
  content?: string;
  /** Size in bytes of a file too large to read. */
  oversize?: number;
}

export function lintNames(files: LintFile[]): Finding[] {
  const findings: Finding[] = [];
  for (const f of files) {
    if (f.name) continue;
    const d = diagnoseDockerfileName(f.fileName);
    if (!d) continue;
    const hint = d.suggestion ? ` Rename it to ${d.suggestion}.` : '';
    findings.push({
      file: f.path,
      line: 1,
      rule: 'name',
      severity: 'error',
      message: `"${f.fileName}" is not a builder name: ${d.problems.join('; ')}.${hint} Expected builder-<target>-<arch>_gcc<X.Y.Z>[_gcc<X.Y.Z>…].Dockerfile`,
    });
  }
  return findings;
}

/** A symlinked Dockerfile serves another arch of the same image: it must point at a valid sibling of the same set. */
export function lintSymlinks(files: LintFile[]): Finding[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const findings: Finding[] = [];
  for (const f of files) {
    if (!f.linkTarget || !f.name) continue;
    const target = byPath.get(f.linkTarget);
    const problem = !target
      ? `points at ${f.linkTarget}, which is not a Dockerfile in the images folder (dangling or outside it)`
      : !target.name
        ? `points at ${f.linkTarget}, which is not a valid builder name`
        : target.linkTarget
          ? `points at ${f.linkTarget}, which is itself a link: point at the real file`
          : !sameImageSet(f.name, target.name)
            ? `points at ${f.linkTarget}, an image with a different target or GCC list; expected ${formatDockerfileName({ ...f.name, arch: target.name.arch })}`
            : undefined;
    if (problem) findings.push({ file: f.path, line: 1, rule: 'symlink', severity: 'error', message: `symlink ${problem}` });
  }
  return findings;
}

/** Two images of one target and arch that both provide a GCC make the driver builder's choice ambiguous. */
export function lintConflicts(files: LintFile[]): Finding[] {
  const findings: Finding[] = [];
  const seen = new Map<string, LintFile>();
  for (const f of files) {
    if (!f.name) continue;
    for (const gcc of f.name.gccVersions) {
      const key = `${f.name.target}/${f.name.arch}/${gcc}`;
      const first = seen.get(key);
      if (!first) {
        seen.set(key, f);
        continue;
      }
      findings.push({
        file: f.path,
        line: 1,
        rule: 'conflict',
        severity: 'error',
        message: `GCC ${gcc} for ${f.name.target}/${f.name.arch} is provided by both ${first.path} and ${f.path}: selection would be ambiguous; keep it in one of them`,
      });
    }
  }
  return findings;
}

/** What the pin rule checks, worded once for `lint --help` and the README (test/unit/lint.test.ts keeps them equal). */
export const PIN_RULE_SUMMARY =
  'every image a build pulls: the `# syntax=` frontend, `FROM`, `COPY --from` and `RUN --mount=…,from=` images, each as `image:tag@sha256:<64 hex>` after ARG expansion as BuildKit does it; `scratch` and build stages are not images';

const PIN_SITE_LABEL = { syntax: '# syntax=', from: 'FROM ', 'copy-from': 'COPY --from ', 'mount-from': 'RUN --mount from ' } as const;

/**
 * The Dockerfile parses (as BuildKit reads it), and every image a build pulls is pinned as
 * image:tag@sha256:<64 hex>: the `# syntax=` frontend, FROM, COPY --from and RUN --mount=…,from= images; scratch
 * and build stages are not images.
 */
export function lintDockerfile(file: LintFile): Finding[] {
  if (file.linkTarget) return []; // a link is linted through its target
  if (file.oversize !== undefined) return [{ file: file.path, line: 1, rule: 'parse', severity: 'error', message: tooLargeMessage(file.oversize, 'bytes') }];
  if (file.content === undefined) return [];
  const parsed = parseDockerfile(file.content);
  const findings: Finding[] = parsed.errors.map((e) => ({
    file: file.path,
    line: e.line,
    rule: 'parse' as const,
    severity: 'error' as const,
    message: `Dockerfile does not parse: ${e.message}`,
  }));
  for (const site of extractImageReferences(parsed)) {
    if (site.isScratch || site.isStage) continue;
    const what = PIN_SITE_LABEL[site.kind];
    const at = (message: string) => findings.push({ file: file.path, line: site.line, rule: 'pin', severity: 'error', message });
    if (site.resolved === null && site.unresolved.length === 0) continue; // the expansion failed: a parse finding says why
    if (site.resolved === null) {
      at(`${what}${site.raw}: cannot resolve ${site.unresolved.map((v) => '$' + v).join(', ')}; declare it with a pinned default (ARG ${site.unresolved[0]}=image:tag@sha256:…) before the first FROM, where FROM sees it`);
      continue;
    }
    let ref;
    try {
      ref = parseReference(site.resolved);
    } catch (err) {
      at(`${what}${site.raw}: ${err instanceof InvalidReferenceError ? err.message : String(err)}`);
      continue;
    }
    if (!ref.digest || !isSha256Digest(ref.digest)) {
      at(`${what}${site.resolved} is not pinned by digest: write image:tag@sha256:<64 hex> (\`builder-images bump --pin\` adds it)`);
    } else if (!ref.tag) {
      at(`${what}${site.resolved} has a digest but no tag: keep the tag next to the digest (image:tag@sha256:…) so updates know what to follow`);
    }
  }
  findings.push(...lintContextSources(file.path, parsed));
  return findings;
}

/** What the context rule checks, worded once for `lint --help` and the README. */
export const CONTEXT_RULE_SUMMARY = 'a COPY/ADD source that climbs out of the build context (`../x`): the engines read the context\'s own `x` instead';

/** COPY/ADD sources written as if they left the build context: the engines clamp them to it, reading another file. */
function lintContextSources(path: string, parsed: ParsedDockerfile): Finding[] {
  const findings: Finding[] = [];
  for (const entry of extractContextSources(parsed)) {
    for (const source of entry.sources.filter(climbsOut)) {
      const message = `${entry.keyword} ${source} climbs out of the build context: the engines clamp it and read ${contextPath(source)} of the context instead; write that path (or move the file into the context)`;
      findings.push({ file: path, line: entry.line, rule: 'context', severity: 'warning', message });
    }
  }
  return findings;
}

/** index.yaml must equal what `index` would write now. */
export function lintIndex(indexFile: string, current: string | undefined, expected: string): Finding[] {
  if (current === expected) return [];
  const message =
    current === undefined
      ? `${indexFile} is missing: run \`builder-images index\` and commit it`
      : `${indexFile} is out of date with images/: run \`builder-images index\` and commit it (\`index --check\` shows the diff)`;
  return [{ file: indexFile, line: 1, rule: 'index', severity: 'error', message }];
}

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}
