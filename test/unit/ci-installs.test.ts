import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const PROJECT = join(import.meta.dirname, '../..');
const DIR = join(PROJECT, '.github/workflows');
/** The make targets whose job runs the tools they install. */
const INSTALLING_TARGETS = new Set(['test', 'e2e', 'bench']);

function jobs(file: string): [string, string[]][] {
  const wf = parse(readFileSync(join(DIR, file), 'utf8')) as { jobs: Record<string, { steps?: { run?: string }[] }> };
  return Object.entries(wf.jobs).map(([name, job]) => [name, (job.steps ?? []).map((s) => s.run).filter((r): r is string => Boolean(r))]);
}

/** What `make <target>` would run with every prerequisite remade: the whole chain, nothing executed. */
function makeChain(target: string): string {
  const r = spawnSync('make', ['--no-print-directory', '-n', '-B', '-C', PROJECT, target], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('CI installs only what a job runs', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yml'));

  it.each(files)('%s: no step installs system packages itself', (file) => {
    for (const [, scripts] of jobs(file)) {
      for (const script of scripts) expect(script).not.toMatch(/\bapt(-get)?\s+install|ensure-system-deps|dpkg -i|enable-binfmt/);
    }
  });

  it.each(files)('%s: a make target installs system tools only in a job that runs them (test, e2e, bench)', (file) => {
    for (const [job, scripts] of jobs(file)) {
      for (const target of scripts.flatMap((s) => [...s.matchAll(/\bmake\s+([a-z][\w-]*)/g)].map((m) => m[1]!))) {
        const installs = /ensure-system-deps/.test(makeChain(target));
        expect(installs, `${file} job ${job}: make ${target}`).toBe(INSTALLING_TARGETS.has(target));
      }
    }
  });

  it('the CLI targets need no system package: lint, index, plan and push', () => {
    for (const target of ['lint', 'index', 'plan', 'push']) expect(makeChain(target)).not.toMatch(/ensure-system-deps|apt/);
  });
});
