/**
 * GitHub Actions workflow commands (`::error file=…,line=…,title=…::message`), escaped as the runner expects:
 * data escapes % CR LF; properties also escape : and ,.
 */
export type AnnotationLevel = 'error' | 'warning' | 'notice';

const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

export function githubAnnotation(level: AnnotationLevel, message: string, where: { file?: string; line?: number; title?: string } = {}): string {
  const props = [
    where.file !== undefined ? `file=${escapeProperty(where.file)}` : undefined,
    where.line !== undefined ? `line=${where.line}` : undefined,
    where.title !== undefined ? `title=${escapeProperty(where.title)}` : undefined,
  ].filter(Boolean);
  return `::${level}${props.length ? ' ' + props.join(',') : ''}::${escapeData(message)}`;
}
