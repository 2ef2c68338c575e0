/**
 * Evaluation: the ARG and ENV scopes a build walks through, and what each instruction reads in them. Global ARGs
 * (before the first FROM) are expanded in order with the ARGs before them and are what FROM sees; in a stage, ARG
 * and ENV values are expanded with the stage's variables, and `ARG NAME` without a value takes the global one.
 * A FROM of an earlier stage starts with that stage's variables.
 */
import { offsetsOf, type DockerfileError, type Instruction, type ParsedDockerfile, type Word } from './ast.js';
import { contextSource, type ContextSource } from './context.js';
import { copyFromSite, fromSite, mountSites, syntaxSite, type Env, type ImageRefSite } from './references.js';
import { processWord, traced, type LexResult, type Traced } from './shell-lex.js';
import { stageGraphErrors, stagesOf, type StageDependency } from './stages.js';

export interface EvaluateOptions {
  /** --build-arg values: they replace ARG defaults. */
  buildArgs?: Record<string, string>;
  /** Values BuildKit gives before any ARG (TARGETARCH…): a declared ARG without a value takes them. */
  builtins?: Record<string, string>;
}

export interface Evaluation {
  sites: ImageRefSite[];
  contexts: ContextSource[];
  errors: DockerfileError[];
}

/** The build args BuildKit sets for a target platform (`linux/arm64/v8` -> TARGETARCH=arm64, …). */
export function platformBuildArgs(platform: string): Record<string, string> {
  const [os = 'linux', arch = 'amd64', variant = ''] = platform.split('/');
  return { TARGETPLATFORM: platform, TARGETOS: os, TARGETARCH: arch, TARGETVARIANT: variant };
}

export function evaluate(parsed: ParsedDockerfile, options: EvaluateOptions): Evaluation {
  const buildArgs = options.buildArgs ?? {};
  const out: Evaluation = { sites: [], contexts: [], errors: [] };
  const stages = stagesOf(parsed.instructions);
  const global: Env = new Map(Object.entries(options.builtins ?? {}).map(([k, v]) => [k, traced(v)]));
  const stageEnvs: Env[] = [];
  const deps: StageDependency[] = [];
  let stage = -1;
  let env: Env = global;

  if (parsed.syntax) out.sites.push(syntaxSite(parsed.syntax));

  const expandIn = (scope: Env, ins: Instruction, word: Word, what: string): LexResult => {
    const result = processWord(word.value, scope, { escapeToken: parsed.escape }, offsetsOf(ins, word));
    if (!result.ok) out.errors.push({ line: ins.line, message: `${what}: ${result.error}` });
    return result;
  };

  for (const ins of parsed.instructions) {
    switch (ins.keyword) {
      case 'ARG':
        for (const word of ins.words) {
          const eq = word.value.indexOf('=');
          const name = eq < 0 ? word.value : word.value.slice(0, eq);
          let value: Traced | undefined;
          if (Object.hasOwn(buildArgs, name)) value = traced(buildArgs[name]!);
          else if (eq < 0) value = global.get(name); // in the global scope: itself, or a builtin
          else {
            const r = expandIn(env, ins, { value: word.value.slice(eq + 1), start: word.start + eq + 1 }, `ARG ${name}`);
            if (r.ok) value = r;
          }
          if (value) env.set(name, { value: value.value, offsets: value.offsets });
        }
        break;
      case 'ENV': {
        if (stage < 0) break;
        // BuildKit expands the whole instruction with the variables before it: `ENV A=1 B=$A` gives B the old A.
        const before = new Map(env);
        for (let k = 0; k < ins.words.length; k += 3) {
          const r = expandIn(before, ins, ins.words[k + 1]!, `ENV ${ins.words[k]!.value}`);
          if (r.ok) env.set(ins.words[k]!.value, r);
        }
        break;
      }
      case 'FROM': {
        stage++;
        if (stage > 0) stageEnvs[stage - 1] = env;
        const site = fromSite(ins, global, stage, stages, expandIn);
        // FROM an earlier stage starts with its variables; any other FROM (an image, or a stage not yet done, whose
        // scope is not in stageEnvs) with none.
        env = new Map(stageEnvs[stages.index(site?.resolved ?? '')]);
        if (site) out.sites.push(site);
        break;
      }
      case 'COPY':
      case 'ADD': {
        const from = ins.keyword === 'COPY' ? ins.flags.find((f) => f.name === 'from') : undefined;
        if (from?.value !== undefined && stage >= 0) {
          const site = copyFromSite(ins, from, stage, stages, deps, out.errors);
          if (site) out.sites.push(site);
        } else if (stage >= 0) out.contexts.push(contextSource(ins, env, parsed.escape));
        break;
      }
      case 'RUN':
        if (stage >= 0) out.sites.push(...mountSites(ins, stage, stages, deps, out.errors));
        break;
    }
  }
  for (const e of stageGraphErrors(deps, stages.names)) out.errors.push(e);
  return out;
}

/** The evaluation without build args, done once per parse (its errors are parse errors). */
const defaultEvaluations = new WeakMap<ParsedDockerfile, Evaluation>();

/** The evaluation with no build args or builtins, computed once for a parse. */
export function defaultEvaluation(parsed: ParsedDockerfile): Evaluation {
  let evaluation = defaultEvaluations.get(parsed);
  if (!evaluation) {
    evaluation = evaluate(parsed, {});
    defaultEvaluations.set(parsed, evaluation);
  }
  return evaluation;
}
