/**
 * The width of every --help: commander wraps option and command descriptions at it, and the free text commands
 * add after their options (reflowHelpText) is brought to the same width, so no help line is wider than a terminal.
 */
export const HELP_WIDTH = 80;

/**
 * Re-wrap free help text at `width`. Prose (lines starting at column 0, up to a blank line or a one-word heading
 * such as "Examples:") is reflowed only where a line is too wide, so text already within the width keeps its own breaks. An
 * indented line is a command or a listing: never joined with others, and when too wide it is split at spaces with
 * ` \` continuations, so it still pastes into a shell.
 */
export function reflowHelpText(text: string, width = HELP_WIDTH): string {
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.some((line) => line.length > width)) out.push(...wrapWords(paragraph.join(' '), width, '', ''));
    else out.push(...paragraph);
    paragraph = [];
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      flush();
      out.push(line);
    } else if (/^\s/.test(line)) {
      flush();
      out.push(...(line.length > width ? wrapCommand(line, width) : [line]));
    } else if (/^\S+:$/.test(line)) {
      flush();
      out.push(line);
    } else paragraph.push(line);
  }
  flush();
  return out.join('\n');
}

/** Words of `text` in lines of at most `width` (a longer word gets a line of its own). */
function wrapWords(text: string, width: number, indent: string, suffix: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.trim().split(/\s+/)) {
    const next = current === '' ? indent + word : `${current} ${word}`;
    if (current !== '' && next.length + suffix.length > width) {
      lines.push(current);
      current = indent + word;
    } else current = next;
  }
  if (current !== '') lines.push(current);
  return lines;
}

/** An indented command line split at spaces: ` \` ends every line but the last; continuations indent 2 more. */
function wrapCommand(line: string, width: number): string[] {
  const indent = /^\s*/.exec(line)![0];
  const [first, ...rest] = wrapWords(line, width, indent, ' \\');
  const lines = [first!];
  if (rest.length > 0) lines.push(...wrapWords(rest.join(' '), width, `${indent}  `, ' \\'));
  return lines.map((l, i) => (i < lines.length - 1 ? `${l} \\` : l));
}
