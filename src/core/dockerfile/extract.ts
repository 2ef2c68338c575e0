/**
 * Extraction, Renovate's half of a manager that reads: the images a Dockerfile pulls and the context files it
 * reads, as sites with their source offsets. Rewriting them is edits.ts's half.
 */
import type { ParsedDockerfile } from './ast.js';
import type { ContextSource } from './context.js';
import { defaultEvaluation, evaluate } from './evaluate.js';
import { parseDockerfile } from './parse.js';
import type { ImageRefSite } from './references.js';

/**
 * Every image the Dockerfile reads, in file order. `buildArgs` (as --build-arg passes them) replace ARG defaults
 * in `resolved`; offsets still point at what is written in the file.
 */
export function extractImageReferences(parsed: ParsedDockerfile, buildArgs: Record<string, string> = {}): ImageRefSite[] {
  return (Object.keys(buildArgs).length === 0 ? defaultEvaluation(parsed) : evaluate(parsed, { buildArgs })).sites;
}

/**
 * The build-context paths each COPY/ADD reads (COPY --from reads another image, not the context).
 * `builtins` are the values BuildKit gives declared-but-empty ARGs, e.g. { TARGETARCH: 'arm64' }.
 */
export function extractContextSources(parsed: ParsedDockerfile, builtins: Record<string, string> = {}): ContextSource[] {
  return evaluate(parsed, { builtins }).contexts;
}

/**
 * The images a build of this Dockerfile pulls (FROM, COPY --from, RUN --mount from), with build args applied.
 * The `# syntax=` frontend is left out: BuildKit fetches it itself, and buildah and podman do not use it.
 */
export function pulledImages(text: string, buildArgs: Record<string, string> = {}): string[] {
  const sites = extractImageReferences(parseDockerfile(text), buildArgs);
  return [...new Set(sites.filter((s) => s.kind !== 'syntax' && s.resolved && !s.isScratch && !s.isStage).map((s) => s.resolved!))];
}
