/**
 * Build stages: BuildKit's instruction-level rules (FROM first, its forms, stage names) and the stage graph (a
 * stage copying or mounting from itself, round a loop or from a later stage cannot be built).
 */
import { KNOWN_INSTRUCTIONS, type DockerfileError, type Instruction, type ParsedDockerfile } from './ast.js';

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** The file's stages: names ('' when unnamed) and the first stage of a name (-1: none). */
export interface Stages {
  names: string[];
  index: (name: string) => number;
}

export interface StageDependency {
  from: number;
  to: number;
  line: number;
  what: 'copy' | 'mount';
  name: string;
}

/** Instruction-level rules of BuildKit's instructions.Parse, added to `parsed.errors`. */
export function checkStructure(parsed: ParsedDockerfile): void {
  const { instructions, errors } = parsed;
  let seenFrom = false;
  let reportedEarly = false; // one "before FROM" finding is enough: every later line would repeat it
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      seenFrom = true;
      const n = ins.words.length;
      if (n === 0) errors.push({ line: ins.line, message: 'FROM needs an image' });
      else if (n === 3 && ins.words[1]!.value.toLowerCase() === 'as') {
        if (!STAGE_NAME.test(ins.words[2]!.value.toLowerCase())) {
          errors.push({ line: ins.line, message: `invalid name for build stage: "${ins.words[2]!.value}", name can't start with a number or contain symbols` });
        }
      } else if (n !== 1) errors.push({ line: ins.line, message: 'FROM requires either one or three arguments (image [AS name])' });
    } else if (!seenFrom && !reportedEarly && ins.keyword !== 'ARG' && KNOWN_INSTRUCTIONS.has(ins.keyword)) {
      errors.push({ line: ins.line, message: `${ins.keyword} before the first FROM (only ARG may come before FROM)` });
      reportedEarly = true;
    }
  }
  if (instructions.length > 0 && !seenFrom) {
    errors.push({ line: instructions[0]!.line, message: 'no FROM instruction: a Dockerfile must build from an image or scratch' });
  }
}

/** FROM's stage name, lower case as BuildKit keeps it. */
function stageNameOf(ins: Instruction): string | undefined {
  return ins.words.length === 3 && ins.words[1]!.value.toLowerCase() === 'as' ? ins.words[2]!.value.toLowerCase() : undefined;
}

/** The stages of a file's instructions. */
export function stagesOf(instructions: Instruction[]): Stages {
  const froms = instructions.filter((i) => i.keyword === 'FROM');
  const names = froms.map((f) => stageNameOf(f) ?? '');
  // Each name's first stage, in a Map (a file may have very many stages); unnamed stages are found by index only.
  const firstStage = new Map<string, number>();
  names.forEach((name, i) => {
    if (name !== '' && !firstStage.has(name)) firstStage.set(name, i);
  });
  return { names, index: (name) => firstStage.get(name) ?? -1 };
}

/** A stage that needs itself (directly or round a loop) or a later stage cannot be built. */
export function stageGraphErrors(deps: StageDependency[], stageNames: string[]): DockerfileError[] {
  const errors: DockerfileError[] = [];
  const label = (i: number) => stageNames[i] || `stage-${i}`;
  const component = stronglyConnected(stageNames.length, deps);
  for (const d of deps) {
    if (component[d.from] === component[d.to]) {
      const via = d.from === d.to ? 'it copies from itself' : `it needs stage "${label(d.to)}", which needs it in turn`;
      errors.push({ line: d.line, message: `circular dependency detected on stage: ${label(d.from)} (${d.what === 'copy' ? 'COPY' : 'RUN --mount'} --from=${d.name}: ${via})` });
      // Stryker disable next-line EqualityOperator: d.to === d.from (a stage needing itself) is in one component, reported above
    } else if (d.to > d.from) {
      errors.push({ line: d.line, message: `cannot ${d.what} from stage "${label(d.to)}", it needs to be defined before current stage "${label(d.from)}"` });
    }
  }
  return errors;
}

/**
 * Tarjan's strongly connected components, without recursion (a file may have very many stages): stages in one
 * component need each other, so a dependency inside one is on a cycle.
 */
function stronglyConnected(count: number, deps: StageDependency[]): number[] {
  const edges: number[][] = Array.from({ length: count }, () => []);
  for (const d of deps) edges[d.from]!.push(d.to);
  const index = new Array<number>(count).fill(-1);
  const low = new Array<number>(count).fill(0);
  const component = new Array<number>(count).fill(-1);
  const onStack = new Array<boolean>(count).fill(false);
  const stack: number[] = [];
  let next = 0;
  for (let root = 0; root < count; root++) {
    if (index[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    while (work.length) {
      const frame = work[work.length - 1]!;
      const [v, i] = frame;
      if (i === 0) {
        // first time here: a stage is pushed only while unvisited, and visited right away
        index[v] = low[v] = next++;
        stack.push(v);
        onStack[v] = true;
      }
      if (i < edges[v]!.length) {
        frame[1]++;
        const w = edges[v]![i]!;
        if (index[w] === -1) work.push([w, 0]);
        else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]![0];
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = false;
          component[w] = v;
        } while (w !== v);
      }
    }
  }
  return component;
}
