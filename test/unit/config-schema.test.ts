// builder-images.yaml schema: the paths it names must stay inside the repository.
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/core/config.js';

const imagesDir = (value: string) => configSchema.safeParse({ imagesDir: value });
const indexFile = (value: string) => configSchema.safeParse({ index: { file: value } });

describe('config paths', () => {
  it.each(['images', 'a/b', './images', 'a/..b', '..a', 'a..', 'C-drive/x', 'ab:/c', 'a/b:/c'])('takes %s', (path) => {
    expect(imagesDir(path).success).toBe(true);
    expect(indexFile(path).success).toBe(true);
  });

  it.each(['/abs', '\\abs', 'C:/x', 'c:\\x', '..', '../x', 'a/../b', 'a\\..\\b', 'a//..', 'a/..'])('refuses %s, saying why', (path) => {
    for (const r of [imagesDir(path), indexFile(path)]) {
      expect(r.success).toBe(false);
      expect(r.error!.issues[0]!.message).toBe('must be a path inside the repository (relative, without ..)');
    }
  });

  it('fills the defaults', () => {
    const c = configSchema.parse({});
    expect(c.imagesDir).toBe('images');
    expect(c.index).toEqual({ file: 'index.yaml', tags: ['latest'] });
  });
});
