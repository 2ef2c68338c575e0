/**
 * Dockerfile parsing for what this toolkit needs: instructions with their lines, ARG scoping and substitution,
 * every image a file builds from (FROM, COPY --from, RUN --mount=from=) with the exact source span to rewrite,
 * and the build-context files COPY/ADD read. Pure: text in, data out; it never throws on bad input but returns
 * located errors, so lint can report a broken file as a finding.
 *
 * Follows BuildKit's rules: parser directives (`# escape=`), line continuations (comment and empty lines inside
 * them are dropped), heredocs (`RUN <<EOF`), `--flag=value` options, and `$VAR`, `${VAR}`, `${VAR:-default}`,
 * `${VAR:+alt}` expansion from ARGs in scope (global ARGs before the first FROM; a stage sees a global ARG only
 * after re-declaring it).
 */

export interface DockerfileError {
  line: number;
  message: string;
}

export interface Flag {
  name: string;
  /** Undefined for a bare `--flag`. */
  value: string | undefined;
  /** Index of the value's first character in `Instruction.args` (or of the flag when it has no value). */
  valueStart: number;
}

export interface Heredoc {
  delimiter: string;
  body: string;
}

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY… */
  keyword: string;
  /** Everything after the keyword, continuations joined (escape + newline removed). */
  args: string;
  /** Source offset of each character of `args` in the original text. */
  argOffsets: number[];
  /** 1-based first and last physical line. */
  line: number;
  endLine: number;
  /** Leading `--name[=value]` options, in order. */
  flags: Flag[];
  /** Index in `args` where the arguments after the flags start. */
  restStart: number;
  heredocs: Heredoc[];
}

export interface ParsedDockerfile {
  instructions: Instruction[];
  errors: DockerfileError[];
  escape: '\\' | '`';
  /** The text the offsets refer to. */
  text: string;
}

const KNOWN = new Set([
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER',
  'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
]);

interface PhysicalLine {
  text: string;
  start: number;
  number: number;
}

function splitLines(text: string): PhysicalLine[] {
  const lines: PhysicalLine[] = [];
  let start = 0;
  let number = 1;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const content = text.slice(start, end);
    lines.push({ text: content.endsWith('\r') ? content.slice(0, -1) : content, start, number });
    if (end === text.length) break;
    start = end + 1;
    number++;
  }
  return lines;
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/;

function readDirectives(lines: PhysicalLine[], errors: DockerfileError[]): '\\' | '`' {
  let escape: '\\' | '`' = '\\';
  for (const line of lines) {
    const m = DIRECTIVE.exec(line.text);
    if (!m) break;
    if (m[1]!.toLowerCase() === 'escape') {
      if (m[2] === '`' || m[2] === '\\') escape = m[2];
      else errors.push({ line: line.number, message: `invalid escape directive "${m[2]}": use \\ or \`` });
    }
  }
  return escape;
}

const isBlankOrComment = (s: string) => /^\s*(#.*)?$/.test(s);

/** Does the line continue on the next one (ends with the escape character, trailing white space ignored)? */
function continues(text: string, escape: string): number {
  const trimmed = text.replace(/[ \t]+$/, '');
  return trimmed.endsWith(escape) ? trimmed.length - 1 : -1;
}

const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

export function parseDockerfile(text: string): ParsedDockerfile {
  const errors: DockerfileError[] = [];
  const lines = splitLines(text);
  const escape = readDirectives(lines, errors);
  const instructions: Instruction[] = [];

  let i = 0;
  while (i < lines.length) {
    const first = lines[i]!;
    if (isBlankOrComment(first.text)) {
      i++;
      continue;
    }
    // Join the logical line, remembering where each character came from.
    let joined = '';
    const offsets: number[] = [];
    let current: PhysicalLine | undefined = first;
    let endLine = first.number;
    while (current) {
      const cut = continues(current.text, escape);
      const part = cut >= 0 ? current.text.slice(0, cut) : current.text;
      for (let k = 0; k < part.length; k++) {
        joined += part[k];
        offsets.push(current.start + k);
      }
      endLine = current.number;
      i++;
      if (cut < 0) break;
      // Comment and empty lines inside a continuation are dropped.
      while (i < lines.length && isBlankOrComment(lines[i]!.text)) i++;
      current = lines[i];
    }

    const lead = /^\s*/.exec(joined)![0].length;
    const keywordMatch = /^(\S+)/.exec(joined.slice(lead));
    const keyword = keywordMatch![1]!.toUpperCase();
    let argsStart = lead + keywordMatch![1]!.length;
    while (argsStart < joined.length && /\s/.test(joined[argsStart]!)) argsStart++;
    const args = joined.slice(argsStart).replace(/\s+$/, '');
    const argOffsets = offsets.slice(argsStart, argsStart + args.length);

    const instruction: Instruction = {
      keyword,
      args,
      argOffsets,
      line: first.number,
      endLine,
      flags: [],
      restStart: 0,
      heredocs: [],
    };
    parseFlags(instruction);

    if (!KNOWN.has(keyword)) {
      errors.push({ line: first.number, message: `unknown instruction "${keywordMatch![1]}"` });
    }
    if (['RUN', 'COPY', 'ADD'].includes(keyword)) {
      for (const m of args.matchAll(HEREDOC)) {
        const delimiter = m[3]!;
        const stripTabs = m[1] === '-';
        const body: string[] = [];
        let closed = false;
        while (i < lines.length) {
          const raw = lines[i]!.text;
          i++;
          if ((stripTabs ? raw.replace(/^\t+/, '') : raw) === delimiter) {
            closed = true;
            break;
          }
          body.push(raw);
        }
        instruction.endLine = lines[Math.min(i, lines.length) - 1]!.number;
        if (!closed) errors.push({ line: first.number, message: `heredoc <<${delimiter} is never closed` });
        instruction.heredocs.push({ delimiter, body: body.join('\n') });
      }
    }
    instructions.push(instruction);
  }

  checkStructure(instructions, errors);
  errors.sort((a, b) => a.line - b.line);
  return { instructions, errors, escape, text };
}

function parseFlags(ins: Instruction): void {
  const re = /--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?/y;
  let pos = 0;
  for (;;) {
    re.lastIndex = pos;
    const m = re.exec(ins.args);
    if (!m) break;
    const end = pos + m[0].length;
    if (end < ins.args.length && !/\s/.test(ins.args[end]!)) break;
    ins.flags.push({
      name: m[1]!.toLowerCase(),
      value: m[2],
      valueStart: m[2] !== undefined ? pos + 3 + m[1]!.length : pos,
    });
    pos = end;
    while (pos < ins.args.length && /\s/.test(ins.args[pos]!)) pos++;
  }
  ins.restStart = pos;
}

function checkStructure(instructions: Instruction[], errors: DockerfileError[]): void {
  let seenFrom = false;
  let reportedEarly = false; // one "before FROM" finding is enough: every later line would repeat it
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      seenFrom = true;
      if (ins.args.slice(ins.restStart).trim() === '') errors.push({ line: ins.line, message: 'FROM needs an image' });
    } else if (!seenFrom && !reportedEarly && ins.keyword !== 'ARG' && KNOWN.has(ins.keyword)) {
      errors.push({ line: ins.line, message: `${ins.keyword} before the first FROM (only ARG may come before FROM)` });
      reportedEarly = true;
    }
  }
  if (!seenFrom) {
    errors.push({ line: instructions[0]?.line ?? 1, message: 'no FROM instruction: a Dockerfile must build from an image or scratch' });
  }
}

/** Text of the arguments after the flags. */
function restOf(ins: Instruction): string {
  return ins.args.slice(ins.restStart);
}

function flagValue(ins: Instruction, name: string): string | undefined {
  return ins.flags.find((f) => f.name === name)?.value;
}

// ---------------------------------------------------------------------------------------------------------------
// ARG scoping and substitution

/** One `NAME=value` of an ARG instruction. */
export interface ArgDefinition {
  name: string;
  /** Unquoted default value, undefined for `ARG NAME` without one. */
  value: string | undefined;
  line: number;
  /** Source span of the value as written, quotes excluded (for rewriting). */
  valueSpan: SourceSpan | undefined;
}

/** A contiguous range of the original text. */
export interface SourceSpan {
  start: number;
  end: number;
  line: number;
}

/** Map a range of `ins.args` to the source, or undefined when a continuation splits it. */
function spanOf(ins: Instruction, start: number, end: number): SourceSpan | undefined {
  if (end <= start) return undefined;
  const s = ins.argOffsets[start]!;
  const e = ins.argOffsets[end - 1]!;
  if (e - s !== end - 1 - start) return undefined;
  return { start: s, end: e + 1, line: ins.line };
}

/** Split arguments at white space, honouring quotes; positions index into `text` from `base`. */
function tokens(text: string, base = 0): { value: string; start: number; end: number }[] {
  const out: { value: string; start: number; end: number }[] = [];
  const re = /(?:"[^"]*"|'[^']*'|[^\s"']+)+/g;
  for (const m of text.matchAll(re)) out.push({ value: m[0], start: base + m.index!, end: base + m.index! + m[0].length });
  return out;
}

function parseArgInstruction(ins: Instruction): ArgDefinition[] {
  const defs: ArgDefinition[] = [];
  for (const tok of tokens(restOf(ins), ins.restStart)) {
    const eq = tok.value.indexOf('=');
    if (eq < 0) {
      defs.push({ name: tok.value, value: undefined, line: ins.line, valueSpan: undefined });
      continue;
    }
    let vStart = tok.start + eq + 1;
    let vEnd = tok.end;
    const quote = ins.args[vStart];
    if ((quote === '"' || quote === "'") && ins.args[vEnd - 1] === quote && vEnd - vStart >= 2) {
      vStart++;
      vEnd--;
    }
    defs.push({
      name: tok.value.slice(0, eq),
      value: ins.args.slice(vStart, vEnd),
      line: ins.line,
      valueSpan: vEnd > vStart ? spanOf(ins, vStart, vEnd) : undefined,
    });
  }
  return defs;
}

export type ArgScope = Map<string, ArgDefinition>;

export interface Expansion {
  /** The expanded text, or null when a variable it needs has no value. */
  value: string | null;
  unresolved: string[];
}

const VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Expand `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}` and `${VAR+alt}` from a scope. */
export function expand(text: string, scope: ArgScope): Expansion {
  const unresolved: string[] = [];
  const value = text.replace(VARIABLE, (_m, braced?: string, op?: string, word?: string, bare?: string) => {
    const name = (braced ?? bare)!;
    const def = scope.get(name);
    const isSet = def !== undefined && def.value !== undefined;
    const isEmpty = !isSet || def.value === '';
    switch (op) {
      case ':-':
        return isEmpty ? word! : def!.value!;
      case '-':
        return isSet ? def!.value! : word!;
      case ':+':
        return isEmpty ? '' : word!;
      case '+':
        return isSet ? word! : '';
      default:
        if (!isSet) unresolved.push(name);
        return isSet ? def!.value! : '';
    }
  });
  return { value: unresolved.length ? null : value, unresolved };
}

// ---------------------------------------------------------------------------------------------------------------
// Image references

export type ImageRefKind = 'from' | 'copy-from' | 'mount-from';

/** Where the literal reference text lives, so an update edits exactly that and nothing else. */
export interface ReferenceEdit extends SourceSpan {
  via: 'instruction' | 'arg';
  /** The ARG whose default is edited, when via is 'arg'. */
  argName?: string;
  /** The text currently at the span. */
  text: string;
}

export interface ImageRefSite {
  kind: ImageRefKind;
  /** Line of the instruction that uses the image. */
  line: number;
  /** The reference as written in the instruction (may contain variables). */
  raw: string;
  /** After ARG substitution; null when a variable has no value. */
  resolved: string | null;
  unresolved: string[];
  isScratch: boolean;
  /** Names an earlier build stage (by name or index), not an image. */
  isStage: boolean;
  /** FROM --platform value as written. */
  platform?: string;
  /** FROM … AS name. */
  stageName?: string;
  /** The span to rewrite, or null when the reference is assembled from several pieces. */
  edit: ReferenceEdit | null;
}

interface ScopeState {
  global: ArgScope;
  stage: ArgScope;
  stages: string[];
}

/**
 * Every image the Dockerfile reads, in file order. `buildArgs` (as --build-arg passes them) replace ARG defaults
 * in `resolved`; edits still point at the defaults written in the file.
 */
export function extractImageReferences(parsed: ParsedDockerfile, buildArgs: Record<string, string> = {}): ImageRefSite[] {
  const sites: ImageRefSite[] = [];
  const state: ScopeState = { global: new Map(), stage: new Map(), stages: [] };
  let inStage = false;

  for (const ins of parsed.instructions) {
    switch (ins.keyword) {
      case 'ARG':
        for (const def of parseArgInstruction(ins)) declareArg(state, inStage, def.name in buildArgs ? { ...def, value: buildArgs[def.name] } : def);
        break;
      case 'FROM': {
        const site = fromSite(parsed, ins, state);
        if (site) sites.push(site);
        inStage = true;
        state.stage = new Map();
        state.stages.push((site?.stageName ?? '').toLowerCase());
        break;
      }
      case 'COPY': {
        const from = ins.flags.find((f) => f.name === 'from');
        if (from?.value) sites.push(flagSite(parsed, ins, 'copy-from', from.value, from.valueStart, state));
        break;
      }
      case 'RUN':
        for (const flag of ins.flags.filter((f) => f.name === 'mount' && f.value)) {
          const m = /(?:^|,)from=([^,]+)/.exec(flag.value!);
          if (m) sites.push(flagSite(parsed, ins, 'mount-from', m[1]!, flag.valueStart + m.index + m[0].indexOf('=') + 1, state));
        }
        break;
    }
  }
  return sites;
}

function declareArg(state: ScopeState, inStage: boolean, def: ArgDefinition): void {
  if (!inStage) {
    state.global.set(def.name, def);
    return;
  }
  // `ARG NAME` in a stage without a value takes the global default (BuildKit's rule).
  const inherited = def.value === undefined ? state.global.get(def.name) : undefined;
  state.stage.set(def.name, inherited ?? def);
}

function fromSite(parsed: ParsedDockerfile, ins: Instruction, state: ScopeState): ImageRefSite | null {
  const toks = tokens(restOf(ins), ins.restStart);
  const image = toks[0];
  if (!image) return null;
  const site = referenceSite(parsed, ins, 'from', image.value, image.start, state.global, state.stages);
  const platform = flagValue(ins, 'platform');
  if (platform !== undefined) site.platform = platform;
  if (toks.length >= 3 && toks[1]!.value.toLowerCase() === 'as') site.stageName = toks[2]!.value;
  return site;
}

function flagSite(parsed: ParsedDockerfile, ins: Instruction, kind: ImageRefKind, value: string, start: number, state: ScopeState): ImageRefSite {
  // Inside a stage only its own ARGs are visible (a global one must be re-declared, see declareArg).
  const scope = state.stage;
  const stagesBefore = state.stages.slice(0, -1);
  const site = referenceSite(parsed, ins, kind, value, start, scope, stagesBefore);
  if (/^\d+$/.test(site.resolved ?? '') && Number(site.resolved) < stagesBefore.length) site.isStage = true;
  return site;
}

function referenceSite(
  parsed: ParsedDockerfile,
  ins: Instruction,
  kind: ImageRefKind,
  raw: string,
  start: number,
  scope: ArgScope,
  earlierStages: string[],
): ImageRefSite {
  const { value, unresolved } = expand(raw, scope);
  const lower = value?.toLowerCase();
  return {
    kind,
    line: ins.line,
    raw,
    resolved: value,
    unresolved,
    isScratch: lower === 'scratch',
    isStage: lower !== undefined && lower !== '' && earlierStages.includes(lower),
    edit: editFor(parsed, ins, raw, start, scope),
  };
}

const WHOLE_VARIABLE = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))$/;

function editFor(parsed: ParsedDockerfile, ins: Instruction, raw: string, start: number, scope: ArgScope): ReferenceEdit | null {
  const literal = (s: number, e: number): ReferenceEdit | null => {
    const span = spanOf(ins, s, e);
    return span ? { ...span, via: 'instruction', text: parsed.text.slice(span.start, span.end) } : null;
  };
  if (!raw.includes('$')) return literal(start, start + raw.length);
  const m = WHOLE_VARIABLE.exec(raw);
  if (!m) return null;
  const name = (m[1] ?? m[3])!;
  const def = scope.get(name);
  if (def?.value !== undefined && def.value !== '' && def.valueSpan) {
    return { ...def.valueSpan, via: 'arg', argName: name, text: parsed.text.slice(def.valueSpan.start, def.valueSpan.end) };
  }
  if (m[2] !== undefined && m[2] !== '') {
    const defaultStart = start + raw.indexOf(m[2], raw.indexOf(name) + name.length);
    return literal(defaultStart, defaultStart + m[2].length);
  }
  return null;
}

/** Replace spans of the original text; spans must not overlap. Everything else stays byte for byte. */
export function applyEdits(text: string, edits: { start: number; end: number; replacement: string }[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  let out = text;
  let limit = Infinity;
  for (const e of sorted) {
    if (e.end > limit) throw new Error(`overlapping edits at offset ${e.start}`);
    out = out.slice(0, e.start) + e.replacement + out.slice(e.end);
    limit = e.start;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Build-context inputs

export interface ContextSource {
  keyword: 'COPY' | 'ADD';
  line: number;
  /** Source paths as written (after ARG expansion when possible), relative to the build context. */
  sources: string[];
  /** Sources that cannot be hashed from the context (URLs, git repositories, unresolved variables). */
  external: string[];
}

/**
 * The build-context paths each COPY/ADD reads (COPY --from reads another image, not the context).
 * `builtins` are the values BuildKit gives declared-but-empty ARGs, e.g. { TARGETARCH: 'arm64' }.
 */
/** The build args BuildKit sets for a target platform (`linux/arm64/v8` -> TARGETARCH=arm64, …). */
export function platformBuildArgs(platform: string): Record<string, string> {
  const [os = 'linux', arch = 'amd64', variant = ''] = platform.split('/');
  return { TARGETPLATFORM: platform, TARGETOS: os, TARGETARCH: arch, TARGETVARIANT: variant };
}

/** The images a build of this Dockerfile pulls (FROM, COPY --from, RUN --mount from), with build args applied. */
export function pulledImages(text: string, buildArgs: Record<string, string> = {}): string[] {
  const sites = extractImageReferences(parseDockerfile(text), buildArgs);
  return [...new Set(sites.filter((s) => s.resolved && !s.isScratch && !s.isStage).map((s) => s.resolved!))];
}

export function extractContextSources(parsed: ParsedDockerfile, builtins: Record<string, string> = {}): ContextSource[] {
  const out: ContextSource[] = [];
  const global: ArgScope = new Map();
  let stage: ArgScope = new Map();
  let inStage = false;
  const withBuiltin = (def: ArgDefinition): ArgDefinition =>
    def.value === undefined && builtins[def.name] !== undefined ? { ...def, value: builtins[def.name] } : def;
  for (const ins of parsed.instructions) {
    if (ins.keyword === 'ARG') {
      for (const raw of parseArgInstruction(ins)) {
        const def = withBuiltin(raw);
        if (!inStage) global.set(def.name, def);
        else stage.set(def.name, raw.value === undefined ? (global.get(def.name) ?? def) : def);
      }
      continue;
    }
    if (ins.keyword === 'FROM') {
      inStage = true;
      stage = new Map();
      continue;
    }
    if ((ins.keyword !== 'COPY' && ins.keyword !== 'ADD') || flagValue(ins, 'from') !== undefined) continue;
    const paths = argumentList(restOf(ins));
    paths.pop(); // the destination
    const entry: ContextSource = { keyword: ins.keyword, line: ins.line, sources: [], external: [] };
    for (const p of paths) {
      if (p.startsWith('<<')) continue; // heredoc: content lives in the Dockerfile itself
      const expanded = expand(p, stage).value;
      if (expanded === null || /^[a-z][a-z0-9+.-]*:\/\//i.test(expanded) || expanded.startsWith('git@')) entry.external.push(p);
      else entry.sources.push(expanded);
    }
    out.push(entry);
  }
  return out;
}

/** COPY/ADD arguments in shell form (`a b dest`) or JSON form (`["a", "b", "dest"]`). */
function argumentList(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const list = JSON.parse(trimmed) as unknown;
      if (Array.isArray(list) && list.every((x) => typeof x === 'string')) return list as string[];
    } catch {
      // fall through to shell form
    }
  }
  return tokens(trimmed).map((t) => t.value.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1'));
}
