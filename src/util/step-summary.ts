/**
 * GitHub Actions' job summary: Markdown a step appends to the file $GITHUB_STEP_SUMMARY names, shown on the run's
 * page. push, check --all and select --diff write theirs through here when the variable is set; elsewhere
 * nothing happens. Redacted like every other output.
 */
import { appendFile } from 'node:fs/promises';
import { redact } from './redact.js';

/** GitHub refuses a step's summary above 1 MiB; stay under it and say what was cut. */
export const STEP_SUMMARY_LIMIT = 1024 * 1024 - 1024;

/** Append `markdown` to the job summary; returns the file written, or undefined when not in GitHub Actions. */
export async function appendStepSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return undefined;
  let text = redact(markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  if (Buffer.byteLength(text) > STEP_SUMMARY_LIMIT) {
    const note = '\n\n_(cut here: the job summary is limited to 1 MiB; the step log has everything)_\n';
    text = Buffer.from(text).subarray(0, STEP_SUMMARY_LIMIT - note.length).toString('utf8').replace(/\uFFFD$/, '') + note;
  }
  await appendFile(file, `${text}\n`);
  return file;
}

/** A Markdown table cell: pipes escaped, line breaks folded, so one value can never break the table. */
export function markdownCell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A Markdown table (first row is the header). */
export function markdownTable(rows: string[][]): string {
  if (rows.length === 0) return '';
  const line = (row: string[]) => `| ${row.map(markdownCell).join(' | ')} |`;
  return [line(rows[0]!), `|${rows[0]!.map(() => ' --- ').join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
