import { Option, type Command } from 'commander';
import { computeTags, describeInputs, selectImages, type ImageTags } from '../app/tags.js';
import { loadRepo } from '../app/repo.js';
import { formatTable } from '../util/output.js';
import { action, collect, type Streams } from './context.js';
import { checkVersionTag, parsePairs } from './shared-options.js';

interface TagOptions {
  scheme?: 'tree' | 'commit';
  short?: boolean;
  version?: string[];
  ref?: boolean;
  image?: string[];
  buildArg?: string[];
  explain?: boolean;
  json?: boolean;
}

export function register(program: Command, streams: Streams): void {
  program
    .command('tag')
    .description('Compute image tags from git (tree hash or commit, plus latest and ref names)')
    .addOption(new Option('--scheme <scheme>', 'content tag scheme (default: config tagScheme, i.e. tree)').choices(['tree', 'commit']))
    .option('--short', 'with --scheme commit: the abbreviated commit')
    .option('--version <version>', 'extra version tag, repeatable (default: config versions, i.e. latest)', collect)
    .option('--ref', 'add the branch or tag name (GITHUB_REF_NAME in CI) as a version')
    .option('--image <dockerfile>', 'only this image (file name or path), repeatable', collect)
    .option('--build-arg <KEY=VALUE>', 'build argument, repeatable, as push or build get it (an input of the content tag)', collect)
    .option('--explain', "print each image's inputs; for one image (--image) only its input list, which `git hash-object --stdin` turns back into its tree id")
    .option('--json', 'print JSON')
    .addHelpText('after', '\nA dirty input (uncommitted or untracked) makes the tag <id>-dirty-<7 hex of the dirty content>.')
    .action(
      action<TagOptions>(async (opts, ctx) => {
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        const buildArgs = parsePairs(opts.buildArg, '--build-arg');
        const all = selectImages(await computeTags(repo, { scheme: opts.scheme, short: opts.short, versions: opts.version?.map((v) => checkVersionTag(v, '--version')), withRef: opts.ref, buildArgs }), opts.image, repo.config.imagesDir);
        if (opts.json) {
          ctx.out.json(all.map(toJson));
          return 0;
        }
        if (opts.explain) {
          // One image: stdout is exactly the hashed list, so it pipes as is into `git hash-object --stdin`; which
          // image it is goes to stderr. Several: a `==` header line before each list.
          if (all.length === 1) {
            ctx.out.progress(`== ${all[0]!.file} -> ${all[0]!.contentTag} (stdout: its inputs, as hashed)`);
            ctx.out.result(describeInputs(all[0]!.inputs).trimEnd());
            return 0;
          }
          for (const t of all) ctx.out.result(`== ${t.file} -> ${t.contentTag}\n${describeInputs(t.inputs).trimEnd()}`);
          return 0;
        }
        const rows = [['IMAGE', 'CONTENT TAG', 'OTHER TAGS']];
        for (const t of all) rows.push([t.file, t.contentTag, t.tags.slice(1).map((x) => x.slice(x.lastIndexOf('-') + 1)).join(' ')]);
        ctx.out.result(formatTable(rows));
        const dirty = all.filter((t) => t.dirty);
        ctx.out.result(`${all.length} image(s)${dirty.length ? `, ${dirty.length} dirty (${[...new Set(dirty.flatMap((d) => d.dirtyPaths))].join(', ')})` : ''}`);
        return 0;
      }, streams),
    );
}

function toJson(t: ImageTags) {
  return { file: t.file, target: t.name.target, arch: t.name.arch, gccVersions: t.name.gccVersions, version: t.version, contentTag: t.contentTag, tags: t.tags, dirty: t.dirty, dirtyPaths: t.dirtyPaths, inputs: t.inputs, dependsOn: t.dependsOn };
}
