/**
 * The README's `bump --dry-run` sample is what the command prints: the e2e situation (the repository's GCC 11
 * Dockerfile pinned to a local multi-arch base, then a new base pushed) run for real, its registry address and
 * digests swapped for the sample's, compared line for line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { parseReference } from '../../src/core/reference.js';
import { makeRepo, runCli } from '../support/cli.js';
import { gitInitCommit } from '../support/git.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushIndex, pushRandomImage } from '../support/synthetic-images.js';

const PROJECT = join(import.meta.dirname, '../..');
const FILE = 'builder-any-x86_64_gcc11.0.0.Dockerfile';

/** The sample block: the lines after `$ builder-images bump --dry-run` up to the closing fence. */
function readmeSample(): string[] {
  const readme = readFileSync(join(PROJECT, 'README.md'), 'utf8');
  const m = /^\$ builder-images bump --dry-run\n([\s\S]*?)^```$/m.exec(readme);
  if (!m) throw new Error('README.md has no `$ builder-images bump --dry-run` sample');
  return m[1]!.replace(/\n$/, '').split('\n');
}

describe('README: the bump --dry-run sample', () => {
  let reg: TestRegistry;
  const client = new RegistryClient();
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => {
    await reg?.stop();
  });

  async function pushBase(version: string): Promise<string> {
    const children = [];
    for (const architecture of ['amd64', 'arm64'] as const) {
      const platform = { os: 'linux', architecture };
      const image = await pushRandomImage(client, parseReference(`${reg.host}/debian:bookworm-${architecture}-${version}`), { platform });
      children.push({ digest: image.digest, size: image.bytes.length, platform });
    }
    return pushIndex(client, parseReference(`${reg.host}/debian:bookworm`), children);
  }

  it('matches what the command prints, line for line', async () => {
    const sample = readmeSample();
    const old = pushBase('1');
    const before = await old;
    const dockerfile = readFileSync(join(PROJECT, 'images', FILE), 'utf8').replace(/^ARG BASE_IMAGE=.*$/m, `ARG BASE_IMAGE=${reg.host}/debian:bookworm@${before}`);
    const { root, cleanup } = makeRepo({ 'builder-images.yaml': `repositories: [${reg.host}/builders]\n`, [`images/${FILE}`]: dockerfile });
    try {
      gitInitCommit(root);
      const after = await pushBase('2');
      const out = await runCli(['bump', '--dry-run'], root);
      expect(out.code, out.stderr).toBe(0);
      // The sample's registry and digests, read from its own diff lines.
      const pinned = (sign: string) => new RegExp(`^\\${sign}ARG BASE_IMAGE=(\\S+)/debian:bookworm@(sha256:[0-9a-f]{64})$`).exec(sample.find((l) => l.startsWith(`${sign}ARG BASE_IMAGE=`)) ?? '');
      const [oldPin, newPin] = [pinned('-'), pinned('+')];
      expect(oldPin, 'the sample has a -ARG BASE_IMAGE=<host>/debian:bookworm@sha256:<64 hex> line').toBeTruthy();
      expect(newPin).toBeTruthy();
      const swapped = out.stdout
        .replaceAll(reg.host, oldPin![1]!)
        .replaceAll(before, oldPin![2]!)
        .replaceAll(after, newPin![2]!)
        .replaceAll(before.slice(7, 14), oldPin![2]!.slice(7, 14))
        .replaceAll(after.slice(7, 14), newPin![2]!.slice(7, 14));
      expect(swapped.replace(/\n$/, '').split('\n')).toEqual(sample);
    } finally {
      cleanup();
    }
  });
});
