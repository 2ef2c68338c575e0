import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';

const DIR = join(import.meta.dirname, '../../.github/workflows');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yml'));
const program = buildProgram({ stdout: process.stdout, stderr: process.stderr });
const makeTargets = new Set([...readFileSync(join(import.meta.dirname, '../../Makefile'), 'utf8').matchAll(/^([a-z][\w-]*):/gm)].map((m) => m[1]!));

/** Every `run:` script of a workflow. */
function runScripts(text: string): string[] {
  const wf = parse(text) as { jobs: Record<string, { steps?: { run?: string }[] }> };
  return Object.values(wf.jobs).flatMap((j) => (j.steps ?? []).map((s) => s.run).filter((r): r is string => Boolean(r)));
}

interface Workflow {
  permissions?: Record<string, string> | string;
  concurrency?: { group?: string };
  jobs: Record<string, { permissions?: Record<string, string> | string; steps?: { run?: string }[] }>;
}

/** The write scopes a job's scripts need: packages to publish images, contents to push commits, pull-requests to open one, id-token for cosign's keyless signing. */
function neededWrites(scripts: string): string[] {
  const needs = new Set<string>();
  if (/\bmake push\b|builder-images push\b|builder-images verify\b[\s\S]*--record\b/.test(scripts)) needs.add('packages');
  if (/\bgit push\b|bump --open-pr/.test(scripts)) needs.add('contents');
  if (/bump --open-pr|--comment-pr\b/.test(scripts)) needs.add('pull-requests');
  if (/\bcosign sign\b/.test(scripts)) needs.add('id-token');
  return [...needs].sort();
}

describe('GitHub workflows', () => {
  it('there are lint, push and bump workflows', () => {
    expect(files.sort()).toEqual(['bump.yml', 'lint.yml', 'push.yml']);
  });

  it.each(files)('%s is a valid workflow (GitHub\'s own parser)', async (file) => {
    const content = readFileSync(join(DIR, file), 'utf8');
    const result = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
    expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    const template = await convertWorkflowTemplate(result.context, result.value!);
    expect(template.errors?.map((e) => e.Message) ?? []).toEqual([]);
    expect(template.jobs.length).toBeGreaterThan(0);
  });

  it.each(files)('%s sets least-privilege permissions and a concurrency group', (file) => {
    const wf = parse(readFileSync(join(DIR, file), 'utf8')) as Workflow;
    // The workflow's default is read-only; a job that writes says so itself.
    expect(typeof wf.permissions, `${file}: permissions must be a map (never read-all/write-all)`).toBe('object');
    expect(Object.entries(wf.permissions!).filter(([, v]) => v !== 'read' && v !== 'none'), `${file}: workflow-level write permissions`).toEqual([]);
    for (const [name, job] of Object.entries(wf.jobs)) {
      const scripts = (job.steps ?? []).map((st) => st.run ?? '').join('\n');
      const granted = job.permissions ?? wf.permissions!;
      expect(typeof granted, `${file}: job ${name}: permissions must be a map`).toBe('object');
      const writes = Object.entries(granted).filter(([, v]) => v === 'write').map(([k]) => k).sort();
      expect(writes, `${file}: job ${name} may write only what its steps need`).toEqual(neededWrites(scripts));
    }
    expect(wf.concurrency?.group).toBeTruthy();
  });

  it.each(files)('%s only runs builder-images commands, flags and make targets that exist', (file) => {
    for (const script of runScripts(readFileSync(join(DIR, file), 'utf8'))) {
      for (const m of script.matchAll(/builder-images\s+([a-z-]+)([^\n|;&)]*)/g)) {
        const command = program.commands.find((c) => c.name() === m[1]);
        expect(command, `${file}: builder-images ${m[1]}`).toBeDefined();
        for (const flag of m[2]!.match(/--[a-z-]+/g) ?? []) {
          expect(command!.options.some((o) => o.long === flag || o.long === flag.replace(/^--no-/, '--')), `${file}: ${m[1]} ${flag}`).toBe(true);
        }
      }
      for (const m of script.matchAll(/\bmake\s+([a-z][\w-]*)/g)) expect(makeTargets.has(m[1]!), `${file}: make ${m[1]}`).toBe(true);
    }
  });
});
