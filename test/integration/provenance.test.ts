import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitProvenance } from '../../src/app/build-image.js';
import { makeRepo } from '../support/cli.js';
import { git, gitInitCommit } from '../support/git.js';

describe('org.opencontainers.image.source: a real git checkout with and without a remote', () => {
  let root: string;
  let cleanup: () => void;
  const github = { GITHUB_SERVER_URL: 'https://github.example', GITHUB_REPOSITORY: 'org/builders' };

  beforeAll(() => {
    ({ root, cleanup } = makeRepo({ 'images/x': 'x' }));
    gitInitCommit(root);
  });
  afterAll(() => cleanup?.());

  it('without a remote: the config source, else GitHub Actions variables, else none', async () => {
    const head = git(root, 'rev-parse', 'HEAD').trim();
    expect(await gitProvenance(root, { env: {} })).toEqual({ source: undefined, revision: head });
    expect(await gitProvenance(root, { env: github })).toEqual({ source: 'https://github.example/org/builders', revision: head });
    expect((await gitProvenance(root, { source: 'https://code.example/builders', env: github })).source).toBe('https://code.example/builders');
    // Malformed variables give no label rather than a wrong one.
    expect((await gitProvenance(root, { env: { GITHUB_SERVER_URL: 'https://u:p@github.example', GITHUB_REPOSITORY: 'org/builders' } })).source).toBeUndefined();
  });

  it('with a remote: the remote as https without credentials, unless the config says otherwise', async () => {
    git(root, 'remote', 'add', 'origin', 'https://token@github.example/org/builders.git');
    expect((await gitProvenance(root, { env: github })).source).toBe('https://github.example/org/builders');
    expect((await gitProvenance(root, { source: 'https://code.example/builders' })).source).toBe('https://code.example/builders');
    git(root, 'remote', 'set-url', 'origin', 'git@github.example:org/other.git');
    expect((await gitProvenance(root, { env: {} })).source).toBe('https://github.example/org/other');
  });
});
