import { describe, expect, it } from 'vitest';
import { reflowHelpText } from '../../src/util/help-text.js';

const words = (text: string) => text.replace(/\\\n/g, ' ').split(/\s+/).filter(Boolean);

describe('reflowHelpText', () => {
  it('leaves text within the width exactly as written', () => {
    const text = '\nShort prose,\nbroken by hand.\nExamples:\n  tool run --fast\n';
    expect(reflowHelpText(text, 40)).toBe(text);
  });

  it('reflows a too-wide paragraph to the width, keeping every word and the blank lines and headings around it', () => {
    const text = `\n${'alpha beta gamma delta '.repeat(6).trim()}\nend of it.\n\nExamples:\n  x\n`;
    const out = reflowHelpText(text, 30);
    expect(out.split('\n').every((l) => l.length <= 30)).toBe(true);
    expect(words(out)).toEqual(words(text));
    expect(out).toMatch(/\n\nExamples:\n {2}x\n$/);
  });

  it('splits a too-wide indented command at spaces with backslash continuations, never joining it to prose', () => {
    const out = reflowHelpText('Examples:\n  tool check --name some-long-name --gcc 12.0.0 --exec\nafter', 30);
    expect(out).toBe('Examples:\n  tool check --name \\\n    some-long-name --gcc \\\n    12.0.0 --exec\nafter');
  });

  it('gives a word longer than the width a line of its own', () => {
    expect(reflowHelpText(`a ${'x'.repeat(12)} b`, 10)).toBe(`a\n${'x'.repeat(12)}\nb`);
  });
});
