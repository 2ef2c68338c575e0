/**
 * A builder index is a small file: one past the byte or entry cap is refused with the file named, before the
 * expensive work (YAML of 300,000 entries took 148 s and 2.6 GB in `select`).
 */
import { describe, expect, it } from 'vitest';
import { MAX_INDEX_BYTES, MAX_INDEX_ENTRIES, parseIndex } from '../../src/core/index-schema.js';

const entry = (i: number) => `  - {name: "r/b:t${i}-x86_64_gcc12.0.0-latest", target: t${i}, arch: x86_64, tag: latest, gcc_versions: [12.0.0]}`;
const indexOf = (n: number) => ['images:', ...Array.from({ length: n }, (_, i) => entry(i))].join('\n') + '\n';

describe('builder index bounds', () => {
  it('takes exactly the entry cap, refuses one more, naming the file', () => {
    expect(parseIndex(indexOf(MAX_INDEX_ENTRIES), 'idx.yaml')).toHaveLength(MAX_INDEX_ENTRIES);
    expect(() => parseIndex(indexOf(MAX_INDEX_ENTRIES + 1), 'idx.yaml')).toThrow(
      `idx.yaml:1: refused: ${MAX_INDEX_ENTRIES + 1} images, over the ${MAX_INDEX_ENTRIES} a builder index may list: is it the right file?`,
    );
  });

  it('takes exactly the byte cap, refuses one byte more, counting bytes, not characters', () => {
    const head = indexOf(1);
    const padded = (bytes: number) => head + '#'.repeat(bytes - Buffer.byteLength(head) - 1) + '\n';
    expect(parseIndex(padded(MAX_INDEX_BYTES), 'idx.yaml')).toHaveLength(1);
    expect(() => parseIndex(padded(MAX_INDEX_BYTES + 1), 'idx.yaml')).toThrow(`idx.yaml:1: refused: ${MAX_INDEX_BYTES + 1} bytes, over the 512 KiB a builder index may have`);
    // 'é' is two bytes: fewer characters than the cap, more bytes.
    const wide = head + '#' + 'é'.repeat(MAX_INDEX_BYTES / 2) + '\n';
    expect(wide.length).toBeLessThan(MAX_INDEX_BYTES);
    expect(() => parseIndex(wide, 'idx.yaml')).toThrow(/refused: \d+ bytes/);
  });
});
