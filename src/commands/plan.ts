import { Option, type Command } from 'commander';
import { RegistryClient, NotFoundError } from '../adapters/registry/index.js';
import { loadRepo } from '../app/repo.js';
import { computeTags } from '../app/tags.js';
import { platformString } from '../core/names.js';
import { parseReference } from '../core/reference.js';
import { formatTable } from '../util/output.js';
import { action, collect, type Streams } from './context.js';

interface PlanOptions {
  repo?: string;
  format: 'text' | 'json' | 'github-matrix';
  all?: boolean;
  insecure?: string[];
}

export function register(program: Command, streams: Streams): void {
  program
    .command('plan')
    .description('List the images that need building, e.g. as a GitHub Actions matrix')
    .option('--repo <repository>', 'repository to compare with (default: the first configured one)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'github-matrix']).default('text'))
    .option('--all', 'list every image, built or not')
    .option('--insecure <host>', 'registry spoken to over plain HTTP (loopback ones always are), repeatable', collect)
    .addHelpText(
      'after',
      `
An image needs building when its content tag is not in the registry (one tag listing per repository).
github-matrix prints {"include":[{dockerfile, image, arch, platform, runner, tag}, …]} for a matrix over native
runners (config runners: x86_64 -> ubuntu-24.04, aarch64 -> ubuntu-24.04-arm); then \`push --manifests-only\`.`,
    )
    .action(
      action<PlanOptions>(async (opts, ctx) => {
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        const repository = parseReference(opts.repo ?? repo.config.repositories[0]!);
        const client = new RegistryClient({ insecureRegistries: [...repo.config.insecureRegistries, ...(opts.insecure ?? [])], debug: ctx.out.debug, idleTimeoutMs: ctx.idleTimeoutMs });
        const [tags, existing] = await Promise.all([
          computeTags(repo),
          // Only "not found" means an empty repository; any other failure stops the plan.
          client.listTags(repository).catch((err: unknown) => {
            if (err instanceof NotFoundError) return [] as string[];
            throw err;
          }),
        ]);
        const present = new Set(existing);
        const rows = tags.map((t) => ({
          dockerfile: t.file,
          image: t.file.split('/').pop()!.replace(/\.Dockerfile$/, ''),
          arch: t.name.arch,
          platform: platformString(t.name.arch),
          runner: repo.config.runners[t.name.arch],
          tag: t.contentTag,
          built: present.has(t.contentTag),
        }));
        const todo = opts.all ? rows : rows.filter((r) => !r.built);
        if (opts.format === 'github-matrix') {
          ctx.out.result(JSON.stringify({ include: todo.map(({ built: _b, ...r }) => r) }));
        } else if (opts.format === 'json') {
          ctx.out.json(todo);
        } else {
          const table = [['IMAGE', 'PLATFORM', 'RUNNER', 'CONTENT TAG', 'STATE']];
          for (const r of todo) table.push([r.dockerfile, r.platform, r.runner, r.tag, r.built ? 'built' : 'needs build']);
          ctx.out.result(formatTable(table));
          ctx.out.result(`${rows.filter((r) => !r.built).length} of ${rows.length} image(s) need building`);
        }
        return 0;
      }, streams),
    );
}
