import type { Command } from 'commander';
import { CONTEXT_RULE_SUMMARY, lintConflicts, lintDockerfile, lintIndex, lintNames, lintSymlinks, PIN_RULE_SUMMARY, sortFindings, type Finding } from '../core/lint-rules.js';
import { expectedIndexText, indexFileInRepository, readIndexFile } from '../app/index-file.js';
import { loadRepo } from '../app/repo.js';
import { githubAnnotation } from '../util/annotations.js';
import { action, type Streams, formatOption } from './context.js';

interface LintOptions {
  format: 'text' | 'json' | 'github';
  index: boolean;
}

const RULES_HELP =
  'Rules: name (strict builder-<target>-<arch>_gcc<X.Y.Z>….Dockerfile, with the corrected name where obvious), ' +
  'symlink (an aarch64 file may link to its x86_64 sibling), conflict (one GCC twice for a target and arch), ' +
  'parse (the Dockerfile parses as BuildKit reads it: directives, ARG/ENV expansion, stages that copy from ' +
  `themselves or from later stages), pin (${PIN_RULE_SUMMARY}), context (a warning: ${CONTEXT_RULE_SUMMARY}), ` +
  'index (index.yaml equals what `index` writes). Every finding is reported, as file:line: rule: message.';

/** Lines of at most `width` characters, broken at spaces. */
const wrap = (text: string, width = 112) => text.replace(new RegExp(`(.{1,${width}})(?: +|$)`, 'g'), '$1\n').trimEnd();

export function register(program: Command, streams: Streams): void {
  program
    .command('lint')
    .description('Check builder Dockerfile names, digest pins of every pulled image and index.yaml freshness')
    .addOption(formatOption())
    .option('--no-index', 'skip the index.yaml freshness check')
    .addHelpText('after', `\n${wrap(RULES_HELP)}\nExit 1 when there are errors.`)
    .action(
      action<LintOptions>(async (opts, ctx) => {
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        const findings: Finding[] = [
          ...lintNames(repo.files),
          ...lintSymlinks(repo.files),
          ...lintConflicts(repo.files),
          ...repo.files.flatMap(lintDockerfile),
        ];
        if (opts.index) {
          findings.push(...lintIndex(repo.config.index.file, await readIndexFile(await indexFileInRepository(repo.root, repo.config.index.file)), expectedIndexText(repo.files, repo.config)));
        }
        const sorted = sortFindings(findings);
        const errors = sorted.filter((f) => f.severity === 'error').length;
        if (opts.format === 'json') {
          ctx.out.json(sorted);
        } else {
          for (const f of sorted) {
            ctx.out.result(
              opts.format === 'github'
                ? githubAnnotation(f.severity === 'error' ? 'error' : 'warning', f.message, { file: f.file, line: f.line, title: `lint: ${f.rule}` })
                : `${f.file}:${f.line}: ${f.rule}: ${f.message}`,
            );
          }
          const summary = `${repo.files.length} file(s) in ${repo.config.imagesDir}/ checked: ${errors} error(s), ${sorted.length - errors} warning(s)`;
          if (opts.format === 'text') ctx.out.result(summary);
          else ctx.out.progress(summary);
        }
        return errors > 0 ? 1 : 0;
      }, streams),
    );
}
