import { Option, type Command } from 'commander';
import { planImages, type PlannedImage } from '../app/plan.js';
import { registryAccess } from '../app/registry-client.js';
import { loadRepo } from '../app/repo.js';
import { formatTable, type Output } from '../util/output.js';
import { action, collect, type Streams, insecureOption } from './context.js';
import { checkRepository, parsePairs } from './shared-options.js';

interface PlanOptions {
  repo?: string;
  format: 'text' | 'json' | 'github-matrix';
  all?: boolean;
  buildArg?: string[];
  insecure?: string[];
}

export function register(program: Command, streams: Streams): void {
  program
    .command('plan')
    .description('List the images that need building, e.g. as a GitHub Actions matrix')
    .option('--repo <repository>', 'repository to compare with (default: the first configured one)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'github-matrix']).default('text'))
    .option('--all', 'list every image, built or not')
    .option('--build-arg <KEY=VALUE>', 'build argument, repeatable, as push gets it (it changes the content tags)', collect)
    .addOption(insecureOption())
    .addHelpText(
      'after',
      `
An image needs building when its content tag is not in the registry: the same question push asks (a HEAD of the
content tag; only "not found" means absent). github-matrix prints {"include":[{dockerfile, image, arch, platform,
runner, tag}, …]} for a matrix over native runners (config runners: x86_64 -> ubuntu-24.04, aarch64 ->
ubuntu-24.04-arm); then \`push --manifests-only\`.`,
    )
    .action(
      action<PlanOptions>(async (opts, ctx) => {
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        const { client } = registryAccess(repo, { insecure: opts.insecure, debug: ctx.out.debug, idleTimeoutMs: ctx.idleTimeoutMs });
        const rows = await planImages(repo, client, { repository: opts.repo === undefined ? undefined : checkRepository(opts.repo), buildArgs: parsePairs(opts.buildArg, '--build-arg') });
        print(ctx.out, rows, opts.all ? rows : rows.filter((r) => !r.built), opts.format);
        return 0;
      }, streams),
    );
}

function print(out: Output, rows: PlannedImage[], shown: PlannedImage[], format: PlanOptions['format']): void {
  if (format === 'github-matrix') {
    out.result(JSON.stringify({ include: shown.map(({ built: _built, ...r }) => r) }));
  } else if (format === 'json') {
    out.json(shown);
  } else {
    const table = [['IMAGE', 'PLATFORM', 'RUNNER', 'CONTENT TAG', 'STATE']];
    for (const r of shown) table.push([r.dockerfile, r.platform, r.runner, r.tag, r.built ? 'built' : 'needs build']);
    out.result(formatTable(table));
    out.result(`${rows.filter((r) => !r.built).length} of ${rows.length} image(s) need building`);
  }
}
