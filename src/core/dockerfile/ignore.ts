/**
 * Ignore files: what each engine leaves out of the build context. Each engine reads the first ignore file it
 * finds (the order found by building with each: buildah 1.28 and podman 4.3 read the per-Dockerfile ones and
 * `.containerignore`, BuildKit the per-Dockerfile `.dockerignore`, the classic docker builder only the root
 * `.dockerignore`). Patterns follow moby's patternmatcher (`**`, `!` exceptions, a pattern matching a parent
 * directory excludes what is beneath it, case-sensitive), through @balena/dockerignore, a port of it.
 */
import dockerignore from '@balena/dockerignore';

// (A CommonJS module whose typings declare an ES default: its function is also its own `default`.)
const ignore = dockerignore.default;

/** The ignore files one engine looks for, first found wins; paths relative to the context root. */
function ignoreFileOrder(dockerfile: string): string[][] {
  return [
    [`${dockerfile}.dockerignore`, '.dockerignore'], // BuildKit (docker buildx)
    ['.dockerignore'], // the classic docker builder
    [`${dockerfile}.dockerignore`, `${dockerfile}.containerignore`, '.containerignore', '.dockerignore'], // buildah, podman
  ];
}

/** Every ignore file some engine reads for a Dockerfile (context-relative path), in a stable order. */
export function ignoreFileCandidates(dockerfile: string): string[] {
  return [...new Set(ignoreFileOrder(dockerfile).flat())].sort();
}

/** Characters moby's patternmatcher escapes that the port would pass to a RegExp as they are. */
const REGEX_ONLY = new Set(['+', '(', ')', '|', '{', '}']);

function escapeRegexOnly(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      out += ch + (pattern[i + 1] ?? '');
      i++;
    } else out += REGEX_ONLY.has(ch) ? `\\${ch}` : ch;
  }
  return out;
}

/** A predicate saying which context paths an ignore file's text excludes; undefined when a pattern is invalid. */
export function ignoreMatcher(text: string): ((path: string) => boolean) | undefined {
  const patterns = text.split(/\r?\n/).map(escapeRegexOnly);
  const matcher = ignore({ ignorecase: false }).add(patterns);
  try {
    matcher.ignores('.'); // compiles every pattern
    return (path) => matcher.ignores(path);
  } catch {
    return undefined; // (buildah refuses the build; BuildKit may read it otherwise: exclude nothing)
  }
}

/**
 * The context files (relative paths) that no engine can read for `dockerfile`: those every engine's chosen
 * ignore file excludes. `ignoreFiles` maps the ignore files present to their text. Anything an engine might
 * copy stays in: an input too many only makes a tag change more often.
 */
export function ignoredByEveryEngine(dockerfile: string, ignoreFiles: ReadonlyMap<string, string>, files: string[]): Set<string> {
  const matchers = ignoreFileOrder(dockerfile).map((order) => {
    const chosen = order.find((name) => ignoreFiles.has(name));
    return chosen === undefined ? undefined : ignoreMatcher(ignoreFiles.get(chosen)!);
  });
  if (matchers.some((m) => m === undefined)) return new Set();
  return new Set(files.filter((f) => matchers.every((m) => m!(f))));
}
