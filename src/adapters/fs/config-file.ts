import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { configSchema, DEFAULT_CONFIG_FILE, type Config } from '../../core/config.js';
import { UsageError } from '../../errors.js';

/**
 * Load builder-images.yaml: `explicit` when given (it must exist), else `<root>/builder-images.yaml` when present,
 * else the defaults. A file that does not validate is a UsageError naming the file, line and key.
 */
export async function loadConfig(root: string, explicit?: string): Promise<{ config: Config; file?: string }> {
  const file = explicit ?? join(root, DEFAULT_CONFIG_FILE);
  if (!existsSync(file)) {
    if (explicit) throw new UsageError(`config file ${explicit} does not exist`);
    return { config: configSchema.parse({}) };
  }
  const shown = relative(root, file) || file;
  const text = await readFile(file, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length) {
    const err = doc.errors[0]!;
    throw new UsageError(`${shown}:${lineCounter.linePos(err.pos[0]).line}: not valid YAML: ${err.message.split('\n')[0]}`);
  }
  const result = configSchema.safeParse(plainValue(doc, shown) ?? {});
  if (result.success) return { config: result.data, file };

  const issue = result.error.issues[0]!;
  // Point at the offending key: zod's path, or the unknown key it names.
  const keys = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  const node = doc.getIn(keys.map(String), true) as { range?: number[] } | undefined;
  const keyNode = findKeyNode(doc.contents, keys.map(String));
  const offset = keyNode ?? node?.range?.[0] ?? 0;
  const line = lineCounter.linePos(offset).line;
  const where = keys.join('.');
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown key "${where}" (see the config reference in README.md)`
      : `"${where}": ${issue.message}`;
  throw new UsageError(`${shown}:${line}: ${message}`);
}

/** How far YAML aliases may expand (the yaml library's default bound, stated): a "billion laughs" is refused. */
const MAX_ALIAS_COUNT = 100;

function plainValue(doc: Document, shown: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (/alias/i.test((err as Error).message)) throw new UsageError(`${shown}: refused: its YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} times): write the values out`);
    throw err;
  }
}

function findKeyNode(contents: unknown, path: string[]): number | undefined {
  let node = contents;
  let offset: number | undefined;
  for (const key of path) {
    if (!isMap(node)) return offset;
    const pair = node.items.find((p) => String((p.key as { value?: unknown })?.value) === key);
    if (!pair) return offset;
    offset = (pair.key as { range?: number[] }).range?.[0];
    node = pair.value;
  }
  return offset;
}
